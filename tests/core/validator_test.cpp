#include "core/validator.hpp"

#include <gtest/gtest.h>

#include <set>

#include "core/error.hpp"
#include "tests/support/error_matchers.hpp"

namespace verdict {
namespace {

using test_support::ThrowsError;

namespace json = boost::json;

class ValidatorTest : public ::testing::Test {
 protected:
  Schema schema_ = Schema::builtin();
  std::set<std::string> existing_ = {"contact_AAAAAAAA", "organization_BBBBBBBB"};

  void check(std::string_view noun, const json::object& entity) {
    validate_entity(schema_, schema_.noun(noun), entity, [this](const Noun&, std::string_view id) {
      return existing_.contains(std::string(id));
    });
  }

  // Validates and returns the error's field, or "" when the entity was accepted.
  std::string rejected_field(std::string_view noun, const json::object& entity) {
    try {
      check(noun, entity);
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument) << error.what();
      EXPECT_TRUE(std::string(error.what()).starts_with(error.field())) << error.what();
      return error.field();
    }
    return "";
  }
};

TEST_F(ValidatorTest, AcceptsAValidExperiment) {
  EXPECT_EQ(rejected_field("Experiment", {{"id", "experiment_12345678"},
                                          {"version", 1},
                                          {"name", "x"},
                                          {"type", "ABTest"},
                                          {"trafficAllocation", 100},
                                          {"banditEnabled", true},
                                          {"startAt", "2026-01-31T12:00:00Z"},
                                          {"owner", "contact_AAAAAAAA"},
                                          {"variants", json::array{{{"key", "a"}, {"weight", 50}},
                                                                   {{"key", "b"}, {"weight", 0}}}},
                                          {"winner", "b"}}),
            "");
}

TEST_F(ValidatorTest, RejectsWrongTypes) {
  EXPECT_EQ(rejected_field("Experiment", {{"name", 5}}), "name");
  EXPECT_EQ(rejected_field("Experiment", {{"name", "x"}, {"trafficAllocation", "50"}}),
            "trafficAllocation");
  EXPECT_EQ(rejected_field("Experiment", {{"name", "x"}, {"banditEnabled", 1}}), "banditEnabled");
  EXPECT_EQ(rejected_field("Experiment", {{"name", "x"}, {"startAt", 1700000000}}), "startAt");
  EXPECT_EQ(rejected_field("Experiment", {{"name", "x"}, {"type", 3}}), "type");
}

TEST_F(ValidatorTest, RejectsMissingRequiredFields) {
  EXPECT_EQ(rejected_field("Experiment", {{"hypothesis", "h"}}), "name");
  EXPECT_EQ(rejected_field("Experiment", {{"name", nullptr}}), "name");
  EXPECT_EQ(rejected_field("Experiment", {{"name", ""}}), "name");
  EXPECT_EQ(rejected_field("FeatureFlag", {{"name", "n"}}), "key");
}

TEST_F(ValidatorTest, RejectsUnknownFieldsAndListsKnownOnes) {
  try {
    check("Experiment", {{"name", "x"}, {"colour", "red"}});
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.field(), "colour");
    EXPECT_NE(std::string(error.what()).find("hypothesis"), std::string::npos);
  }
}

TEST_F(ValidatorTest, RejectsOutOfRangeNumbers) {
  EXPECT_EQ(rejected_field("Experiment", {{"name", "x"}, {"trafficAllocation", 100.5}}),
            "trafficAllocation");
  EXPECT_EQ(rejected_field("Experiment", {{"name", "x"}, {"trafficAllocation", -1}}),
            "trafficAllocation");
  EXPECT_EQ(rejected_field("Experiment", {{"name", "x"}, {"trafficAllocation", 0}}), "");
  EXPECT_EQ(rejected_field("Experiment", {{"name", "x"}, {"confidence", 101}}), "confidence");
  EXPECT_EQ(
      rejected_field("FeatureFlag", {{"key", "k"}, {"name", "n"}, {"rolloutPercentage", 200}}),
      "rolloutPercentage");
  EXPECT_EQ(rejected_field("Experiment", {{"name", "x"}, {"sampleSize", -5}}), "sampleSize");
}

TEST_F(ValidatorTest, RejectsNonFiniteNumbers) {
  Field field = parse_field("value", "number");
  EXPECT_THAT([&] { validate_value(field, json::value(INFINITY), "value"); },
              ThrowsError(ErrorCode::kInvalidArgument, "value"));
  EXPECT_THAT([&] { validate_value(field, json::value(NAN), "value"); },
              ThrowsError(ErrorCode::kInvalidArgument, "value"));
}

TEST_F(ValidatorTest, RejectsBadVariants) {
  auto with = [](json::array variants) {
    return json::object{{"name", "x"}, {"variants", std::move(variants)}};
  };
  EXPECT_EQ(rejected_field("Experiment", with({{{"key", "a"}, {"weight", 101}}})),
            "variants[0].weight");
  EXPECT_EQ(rejected_field("Experiment", with({{{"key", "a"}, {"weight", -1}}})),
            "variants[0].weight");
  EXPECT_EQ(rejected_field("Experiment", with({{{"key", "a"}, {"weight", "10"}}})),
            "variants[0].weight");
  EXPECT_EQ(rejected_field("Experiment", with({{{"key", "a"}}, {{"key", "a"}}})),
            "variants[1].key");
  EXPECT_EQ(rejected_field("Experiment", with({{{"name", "no key"}}})), "variants[0].key");
  EXPECT_EQ(rejected_field("Experiment", with({"a"})), "variants[0]");
  EXPECT_EQ(rejected_field("Experiment", with({{{"key", "a"}, {"colour", "red"}}})),
            "variants[0].colour");
  EXPECT_EQ(rejected_field("Experiment", {{"name", "x"}, {"variants", "a,b"}}), "variants");
}

TEST_F(ValidatorTest, RejectsBadEnumValuesListingTheAllowedOnes) {
  try {
    check("Experiment", {{"name", "x"}, {"type", "Bogus"}});
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.field(), "type");
    EXPECT_NE(std::string(error.what()).find("ABTest"), std::string::npos);
  }
  EXPECT_EQ(rejected_field("Experiment", {{"name", "x"}, {"type", "abtest"}}), "type");
}

TEST_F(ValidatorTest, RejectsRelationsToMissingEntities) {
  EXPECT_EQ(rejected_field("Experiment", {{"name", "x"}, {"owner", "contact_ZZZZZZZZ"}}), "owner");
  // An existing id of another noun is not a Contact.
  EXPECT_EQ(rejected_field("Experiment", {{"name", "x"}, {"owner", "organization_BBBBBBBB"}}),
            "owner");
  EXPECT_EQ(
      rejected_field("Experiment", {{"name", "x"}, {"organization", "organization_BBBBBBBB"}}), "");
  // `-> *` resolves the noun from the id prefix.
  EXPECT_EQ(rejected_field("Event", {{"type", "t"}, {"subject", "contact_AAAAAAAA"}}), "");
  EXPECT_EQ(rejected_field("Event", {{"type", "t"}, {"subject", "widget_AAAAAAAA"}}), "subject");
}

TEST_F(ValidatorTest, RejectsBadDatetimes) {
  for (const char* bad : {"yesterday", "2026-13-01", "2026-02-30T00:00:00Z", "2026-01-01T25:00:00Z",
                          "2026-01-01T12:00:00+02:00", "2026-01-01 12:00:00"})
    EXPECT_EQ(rejected_field("Experiment", {{"name", "x"}, {"startAt", bad}}), "startAt") << bad;
}

TEST_F(ValidatorTest, RejectsWinnerThatIsNotAVariantKey) {
  json::array variants{{{"key", "a"}}, {{"key", "b"}}};
  EXPECT_EQ(rejected_field("Experiment", {{"name", "x"}, {"variants", variants}, {"winner", "c"}}),
            "winner");
  EXPECT_EQ(rejected_field("Experiment", {{"name", "x"}, {"variants", variants}, {"winner", "a"}}),
            "");
  EXPECT_EQ(rejected_field("Experiment", {{"name", "x"}, {"winner", "a"}}), "winner");
}

TEST_F(ValidatorTest, IgnoresMetaFields) {
  EXPECT_TRUE(is_meta_field("id"));
  EXPECT_TRUE(is_meta_field("version"));
  EXPECT_TRUE(is_meta_field("createdAt"));
  EXPECT_TRUE(is_meta_field("updatedAt"));
  EXPECT_FALSE(is_meta_field("name"));
}

TEST_F(ValidatorTest, BoundsStringAndJsonSizes) {
  EXPECT_EQ(rejected_field("Experiment", {{"name", std::string(64 * 1024 + 1, 'x')}}), "name");
  EXPECT_EQ(rejected_field("Experiment", {{"name", "x"}, {"results", std::string(1100000, 'x')}}),
            "results");
}

}  // namespace
}  // namespace verdict
