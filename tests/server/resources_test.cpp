#include "server/resources.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "tests/server/dispatcher_harness.hpp"

namespace verdict::server {
namespace {

using testing::DispatcherHarness;
namespace json = boost::json;

TEST(ResourcesTest, EveryNounHasASchemaResource) {
  Engine engine(test_support::fresh_store());
  json::array resources = list_resources(engine.schema());
  ASSERT_EQ(resources.size(), engine.schema().nouns().size());
  EXPECT_EQ(resources[0].at("uri").as_string(),
            "verdict://schema/" + engine.schema().nouns()[0]->name);
  EXPECT_EQ(resources[0].at("mimeType"), "application/json");
}

TEST(ResourcesTest, TemplatesCoverSchemasAndEntities) {
  json::array templates = list_resource_templates();
  ASSERT_EQ(templates.size(), 2u);
  EXPECT_EQ(templates[0].at("uriTemplate"), "verdict://schema/{type}");
  EXPECT_EQ(templates[1].at("uriTemplate"), "verdict://{type}/{id}");
}

TEST(ResourcesTest, ReadsSchemasAndEntitiesByIdOrSlug) {
  Engine engine(test_support::fresh_store());
  json::array schema =
      read_resource(engine, Caller::local_operator(), "verdict://schema/Experiment");
  json::value described = json::parse(schema.at(0).at("text").as_string());
  EXPECT_TRUE(described.at("verbs").as_object().contains("addVariant"));
  auto created =
      engine.execute({.noun = "Experiment", .verb = "create", .data = {{"name", "Read me"}}});
  std::string id(created.at("id").as_string());
  for (const std::string& key : {id, std::string("read-me")}) {
    json::array contents =
        read_resource(engine, Caller::local_operator(), entity_uri("Experiment", key));
    EXPECT_EQ(contents.at(0).at("uri").as_string(), "verdict://Experiment/" + key);
    EXPECT_EQ(json::parse(contents.at(0).at("text").as_string()).at("id").as_string(), id);
  }
}

TEST(ResourcesTest, BadUrisSayWhatIsExpected) {
  Engine engine(test_support::fresh_store());
  auto code_of = [&](std::string_view uri) {
    try {
      read_resource(engine, Caller::local_operator(), uri);
    } catch (const Error& error) {
      return error.code();
    }
    return ErrorCode::kInternal;
  };
  EXPECT_EQ(code_of("https://example.com"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code_of("verdict://Experiment"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code_of("verdict://Experiment/"), ErrorCode::kInvalidArgument);
  EXPECT_EQ(code_of("verdict://schema/Spaceship"), ErrorCode::kNotFound);
  EXPECT_EQ(code_of("verdict://Spaceship/x"), ErrorCode::kNotFound);
}

TEST(ResourcesTest, ListPagesThroughTheDispatcher) {
  DispatcherHarness harness({.list_page_size = 4});
  json::object page = harness.result("resources/list", DispatcherHarness::current());
  EXPECT_EQ(page.at("resources").as_array().size(), 4u);
  std::size_t listed = page.at("resources").as_array().size();
  while (page.contains("nextCursor")) {
    page = harness.result("resources/list",
                          DispatcherHarness::current({{"cursor", page.at("nextCursor")}}));
    listed += page.at("resources").as_array().size();
  }
  EXPECT_EQ(listed, harness.engine.schema().nouns().size());
  EXPECT_EQ(harness.error("resources/read", DispatcherHarness::current()).at("code"), -32602);
}

}  // namespace
}  // namespace verdict::server
