// Seed inputs and lookups as a new user writes them: variants by name, flags by key, relation
// filters by slug.
#include <gtest/gtest.h>

#include "core/engine.hpp"
#include "core/error.hpp"
#include "tests/support/test_store.hpp"

namespace verdict {
namespace {

namespace json = boost::json;

class LookupTest : public ::testing::Test {
 protected:
  json::object create(const std::string& noun, json::object data) {
    return engine_.execute({.noun = noun, .verb = "create", .data = std::move(data)}).as_object();
  }
  Error error_of(const std::function<void()>& action) {
    try {
      action();
    } catch (const Error& error) {
      return error;
    }
    ADD_FAILURE() << "no error";
    return Error(ErrorCode::kInternal, "none");
  }

  Engine engine_{test_support::fresh_store()};
};

// Regression: seed 000's {name, weight} variants were refused by create
// ("variants[0].key: must be a non-empty string") although addVariant derives the key.
TEST_F(LookupTest, CreateDerivesVariantKeysFromNamesAsAddVariantDoes) {
  auto experiment =
      create("Experiment", {{"name", "Seed"},
                            {"variants", json::array{{{"name", "Control"}, {"weight", 50}},
                                                     {{"name", "Green Button"}, {"weight", 50}},
                                                     {{"name", "Red"}, {"key", "r"}}}}});
  const auto& variants = experiment.at("variants").as_array();
  EXPECT_EQ(variants[0].at("key"), "control");
  EXPECT_EQ(variants[1].at("key"), "green-button");
  EXPECT_EQ(variants[2].at("key"), "r");
  std::string id(experiment.at("id").as_string());
  auto added = engine_.execute(
      {.noun = "Experiment", .verb = "addVariant", .id = id, .data = {{"name", "Blue Sky"}}});
  EXPECT_EQ(added.at("variants").at(3).at("key"), "blue-sky");
  auto updated =
      engine_.execute({.noun = "Experiment",
                       .verb = "update",
                       .id = id,
                       .data = {{"variants", json::array{{{"name", "A"}}, {{"name", "B"}}}}}});
  EXPECT_EQ(updated.at("variants").at(1).at("key"), "b");

  Error nameless = error_of([&] {
    create("Experiment", {{"name", "x"}, {"variants", json::array{{{"weight", 50}}}}});
  });
  EXPECT_EQ(nameless.field(), "variants[0].key");
  Error twins = error_of([&] {
    create("Experiment",
           {{"name", "x"}, {"variants", json::array{{{"name", "A b"}}, {{"name", "a-B"}}}}});
  });
  EXPECT_NE(std::string(twins.what()).find("duplicate key 'a-b'"), std::string::npos)
      << twins.what();
  EXPECT_EQ(engine_.find("Experiment", {}).items.size(), 1u);
}

// Regression: `get` with a flag's key said there was no such flag.
TEST_F(LookupTest, FeatureFlagsAreFoundByKeyWhereverAnIdIs) {
  auto flag = create("FeatureFlag", {{"key", "new-checkout"}, {"name", "New checkout"}});
  EXPECT_EQ(engine_.get("FeatureFlag", "new-checkout").at("id"), flag.at("id"));
  auto enabled = engine_.execute({.noun = "FeatureFlag", .verb = "enable", .id = "new-checkout"});
  EXPECT_EQ(enabled.at("status"), "Enabled");
  EXPECT_EQ(enabled.at("id"), flag.at("id"));
  Error missing = error_of([&] { engine_.get("FeatureFlag", "old-checkout"); });
  EXPECT_EQ(missing.code(), ErrorCode::kNotFound);
  EXPECT_NE(std::string(missing.what()).find("no FeatureFlag with id or key 'old-checkout'"),
            std::string::npos)
      << missing.what();
}

// Regression: a relation filter given a slug matched nothing and said nothing.
TEST_F(LookupTest, RelationFiltersResolveSlugsOrSayNothingIsThere) {
  auto experiment = create("Experiment", {{"name", "Signup button"}});
  create("Experiment", {{"name", "Other"}});
  auto flag =
      create("FeatureFlag",
             {{"key", "signup-green"}, {"name", "Green"}, {"experiment", experiment.at("id")}});
  create("FeatureFlag", {{"key", "unrelated"}, {"name", "Unrelated"}});
  auto by_slug = engine_.find("FeatureFlag", {.filter = {{"experiment", "signup-button"}}}).items;
  ASSERT_EQ(by_slug.size(), 1u);
  EXPECT_EQ(by_slug[0].at("id"), flag.at("id"));
  EXPECT_EQ(
      engine_
          .find("FeatureFlag",
                {.filter = {{"$or",
                             json::array{{{"experiment", {{"$in", json::array{"signup-button"}}}}},
                                         {{"key", "nothing"}}}}}})
          .items.size(),
      1u);
  EXPECT_EQ(engine_.find("FeatureFlag", {.filter = {{"experiment", {{"$ne", "signup-button"}}}}})
                .items.size(),
            1u);
  EXPECT_EQ(engine_.store().count(*engine_.schema().find("FeatureFlag"),
                                  {{"experiment", "signup-button"}}),
            1);
  Error missing = error_of([&] {
    engine_.find("FeatureFlag", {.filter = {{"experiment", "signup-buton"}}});
  });
  EXPECT_EQ(missing.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(missing.field(), "filter.experiment");
  EXPECT_NE(std::string(missing.what()).find("no Experiment with id or slug 'signup-buton'"),
            std::string::npos)
      << missing.what();
  // Ids are used as given: a deleted experiment's flags can still be listed.
  EXPECT_EQ(
      engine_.find("FeatureFlag", {.filter = {{"experiment", "experiment_gone1234"}}}).items.size(),
      0u);
}

}  // namespace
}  // namespace verdict
