#include "server/http/rest/openapi.hpp"

#include <gtest/gtest.h>

#include "core/engine.hpp"
#include "server/http/rest/rest_schema.hpp"

namespace verdict::server::http::rest {
namespace {

namespace json = boost::json;

// What the JSON-RPC `schema` method answers for `engine`.
json::object schema_of(Engine& engine) {
  json::array nouns;
  for (const auto& noun : engine.schema().nouns()) nouns.push_back(describe(*noun));
  return {{"nouns", std::move(nouns)}};
}

TEST(RestPluralTest, FollowsEnglishSpelling) {
  EXPECT_EQ(plural_of("Experiment"), "experiments");
  EXPECT_EQ(plural_of("FeatureFlag"), "featureFlags");
  EXPECT_EQ(plural_of("Activity"), "activities");
  EXPECT_EQ(plural_of("Survey"), "surveys");
  EXPECT_EQ(plural_of("Address"), "addresses");
  EXPECT_EQ(plural_of("Box"), "boxes");
  EXPECT_EQ(plural_of("Batch"), "batches");
}

TEST(OpenApiTest, EveryNounAndVerbHasItsPath) {
  Engine engine(":memory:");
  json::object document = openapi_document(schema_of(engine));
  EXPECT_EQ(document.at("openapi"), "3.1.0");
  const json::object& paths = document.at("paths").as_object();
  for (const char* path :
       {"/~{project}/experiments", "/~{project}/experiments/{id}",
        "/~{project}/experiments/{id}/events", "/~{project}/experiments/{id}/start",
        "/~{project}/experiments/{id}/assign", "/~{project}/experiments/summary",
        "/~{project}/featureFlags/{id}/rollout", "/~{project}/activities"})
    EXPECT_TRUE(paths.contains(path)) << path;
  // CRUD verbs are the collection and item methods, not verb paths.
  EXPECT_FALSE(paths.contains("/~{project}/experiments/{id}/update"));
  const json::object& experiment =
      document.at("components").at("schemas").at("Experiment").as_object();
  EXPECT_EQ(experiment.at("properties").at("status").at("enum").as_array().front(), "Draft");
  EXPECT_EQ(experiment.at("properties").at("winner").at("readOnly"), true);
  EXPECT_EQ(experiment.at("properties").at("trafficAllocation").at("maximum").to_number<double>(),
            100);
  // Fields only verbs write are not input.
  EXPECT_FALSE(document.at("components")
                   .at("schemas")
                   .at("ExperimentCreate")
                   .at("properties")
                   .as_object()
                   .contains("winner"));
  const json::object& start = paths.at("/~{project}/experiments/{id}/start").at("post").as_object();
  for (const char* status : {"409", "422", "404", "401"})
    EXPECT_TRUE(start.at("responses").as_object().contains(status)) << status;
  // An alias the handler serves is in the document too, as its own operation.
  ASSERT_TRUE(paths.contains("/~{project}/experiments/{id}/launch"));
  const json::object& launch =
      paths.at("/~{project}/experiments/{id}/launch").at("post").as_object();
  EXPECT_EQ(launch.at("operationId"), "launchExperiment");
  EXPECT_EQ(launch.at("responses"), start.at("responses"));
  // The history pages: its limit and cursor are parameters.
  const json::object& events =
      paths.at("/~{project}/experiments/{id}/events").at("get").as_object();
  EXPECT_EQ(events.at("parameters").as_array().size(), 2u);
}

TEST(OpenApiTest, TheAdminApiIsDocumentedToo) {
  Engine engine(":memory:");
  json::object document = openapi_document(schema_of(engine));
  const json::object& paths = document.at("paths").as_object();
  for (const char* path :
       {"/v1/admin/experiments", "/v1/admin/experiments/{id}",
        "/v1/admin/experiments/{id}/variants", "/v1/admin/experiments/{id}/launch",
        "/v1/admin/experiments/{id}/stop", "/v1/admin/experiments/{id}/analyze"})
    EXPECT_TRUE(paths.contains(path)) << path;
  const json::object& launch = paths.at("/v1/admin/experiments/{id}/launch").at("post").as_object();
  EXPECT_TRUE(launch.at("responses").as_object().contains("409"));
  const json::object& schemas = document.at("components").at("schemas").as_object();
  EXPECT_TRUE(schemas.contains("AdminExperiment"));
  EXPECT_EQ(schemas.at("AdminExperimentInput").at("additionalProperties"), false);
}

TEST(OpenApiTest, ANounAddedToTheSchemaNeedsNoRestCode) {
  Engine engine(":memory:");
  Noun survey;
  survey.name = "Survey";
  survey.fields.push_back(parse_field("title", "string!"));
  engine.schema().add_noun(std::move(survey));
  json::object document = openapi_document(schema_of(engine));
  EXPECT_TRUE(document.at("paths").as_object().contains("/~{project}/surveys/{id}"));
  EXPECT_EQ(document.at("components").at("schemas").at("SurveyCreate").at("required"),
            json::array{"title"});
}

}  // namespace
}  // namespace verdict::server::http::rest
