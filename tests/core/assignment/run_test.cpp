#include "core/assignment/run.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/error.hpp"

namespace verdict::assignment {
namespace {

namespace json = boost::json;

RunResult run_json(std::string_view context, std::string_view experiment) {
  return run(parse_run_context(json::parse(context)),
             parse_experiment_spec(json::parse(experiment)));
}

std::string parse_error(std::string_view context, std::string_view experiment) {
  try {
    run_json(context, experiment);
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
    return error.what();
  }
  return "accepted";
}

TEST(RunTest, RefusesTargetingItDoesNotImplement) {
  const char* experiment = R"({"key": "k", "variations": [0, 1]})";
  EXPECT_EQ(parse_error(R"({"overrides": {}})", experiment), "overrides: not supported");
  EXPECT_EQ(parse_error(R"({"groups": {}})", experiment), "groups: not supported");
  EXPECT_EQ(parse_error("{}", R"({"key": "k", "variations": [0, 1], "include": 1})"),
            "include: not supported");
}

TEST(RunTest, RejectsMalformedOverridesAndPrerequisites) {
  const char* experiment = R"({"key": "k", "variations": [0, 1]})";
  EXPECT_EQ(parse_error(R"({"forcedVariations": {"k": "1"}})", experiment),
            "forcedVariations.k: must be a number");
  EXPECT_EQ(parse_error(R"({"forcedVariations": {"k": 1.5}})", experiment),
            "forcedVariations.k: must be an integer");
  EXPECT_EQ(parse_error(R"({"forcedVariations": [1]})", experiment),
            "forcedVariations: must be an object");
  EXPECT_EQ(parse_error(R"({"qaMode": "yes"})", experiment), "qaMode: must be a boolean");
  EXPECT_EQ(parse_error(R"({"url": 1})", experiment), "url: must be a string");
  EXPECT_EQ(parse_error("{}", R"({"key": "k", "variations": [0, 1], "parentConditions": [{}]})"),
            "parentConditions: each parent condition needs an `id` naming a flag");
  EXPECT_EQ(parse_error("{}", R"({"key": "k", "variations": [0, 1],
                                  "parentConditions": [{"id": "p", "condition": true}]})"),
            "parentConditions.condition: must be an object");
}

// GrowthBook serves context overrides before the experiment's status: QA previews a variation
// of an experiment that is not running, and the query string wins over forcedVariations.
TEST(RunTest, ContextOverridesComeBeforeStatusAndTargeting) {
  const char* inactive =
      R"({"key": "k", "variations": ["a", "b", "c"], "active": false, "condition": {"x": 1}})";
  const RunResult forced = run_json(
      R"({"attributes": {"id": "u"}, "forcedVariations": {"k": 2}, "url": "http://h/?k=1"})",
      inactive);
  EXPECT_EQ(forced.value, "b");
  EXPECT_TRUE(forced.in_experiment);
  EXPECT_FALSE(forced.hash_used);
  EXPECT_FALSE(forced.bucket.has_value());
  EXPECT_EQ(forced.hash_attribute, "id");
  EXPECT_EQ(forced.hash_value, "u");

  // A query string outside the variations is no override, so forcedVariations applies.
  EXPECT_EQ(run_json(R"({"forcedVariations": {"k": 2}, "url": "http://h/?k=3"})", inactive).value,
            "c");
  // A forced index outside the variations puts the unit out, on the baseline.
  const RunResult out = run_json(R"({"attributes": {"id": "u"}, "forcedVariations": {"k": 3}})",
                                 R"({"key": "k", "variations": ["a", "b"]})");
  EXPECT_FALSE(out.in_experiment);
  EXPECT_EQ(out.value, "a");
  // Another experiment's overrides change nothing.
  EXPECT_TRUE(run_json(R"({"attributes": {"id": "u"}, "forcedVariations": {"other": 1},
                           "url": "http://h/?kk=1&k"})",
                       R"({"key": "k", "variations": ["a", "b"]})")
                  .hash_used);
}

TEST(RunTest, QaModeServesOnlyForcedVariationsAndStoresNothing) {
  StickyBucketDocs docs;
  RunContext context = parse_run_context(json::parse(R"({"attributes": {"id": "1"}})"));
  context.sticky_buckets = &docs;
  const ExperimentSpec experiment =
      parse_experiment_spec(json::parse(R"({"key": "my-test", "variations": [0, 1]})"));
  ASSERT_TRUE(run(context, experiment).in_experiment);
  ASSERT_FALSE(docs.empty());

  docs.clear();
  context.qa_mode = true;
  EXPECT_FALSE(run(context, experiment).in_experiment);
  EXPECT_TRUE(docs.empty()) << json::serialize(docs);
  context.forced_variations = {{"my-test", 1}};
  EXPECT_EQ(run(context, experiment).value, 1);
}

// Raising bucketVersion and minBucketVersion together re-buckets everyone once: assignments
// under the earlier versions are blocked, the ones made under the current version stay sticky.
TEST(RunTest, MinBucketVersionBlocksOnlyEarlierVersions) {
  StickyBucketDocs docs;
  RunContext context = parse_run_context(json::parse(R"({"attributes": {"id": "1"}})"));
  context.sticky_buckets = &docs;
  const ExperimentSpec experiment = parse_experiment_spec(json::parse(
      R"({"key": "k", "variations": [0, 1], "bucketVersion": 1, "minBucketVersion": 1,
          "meta": [{"key": "a"}, {"key": "b"}]})"));
  ASSERT_TRUE(run(context, experiment).in_experiment);
  ASSERT_TRUE(docs.at("id||1").at("assignments").as_object().contains("k__1"));
  const RunResult again = run(context, experiment);
  EXPECT_TRUE(again.in_experiment);
  EXPECT_TRUE(again.sticky_bucket_used);

  docs["id||1"].as_object()["assignments"].as_object()["k__0"] = "a";
  EXPECT_FALSE(run(context, experiment).in_experiment);
}

TEST(RunTest, PrerequisitesGateTheExperiment) {
  RunContext context = parse_run_context(json::parse(R"({"attributes": {"id": "1"}})"));
  const ExperimentSpec experiment = parse_experiment_spec(json::parse(
      R"({"key": "my-test", "variations": [0, 1],
          "parentConditions": [{"id": "parent", "condition": {"value": {"$exists": false}}}]})"));
  // Without an evaluator every parent is an unknown flag, whose value is null.
  EXPECT_TRUE(run(context, experiment).in_experiment);

  std::vector<std::string> asked;
  Prerequisite parent{json::value(true), false};
  context.prerequisites = [&](std::string_view flag, const RunContext& seen) {
    asked.emplace_back(flag);
    EXPECT_EQ(&seen, &context);
    return parent;
  };
  EXPECT_FALSE(run(context, experiment).in_experiment);
  EXPECT_EQ(asked, std::vector<std::string>{"parent"});
  parent = {nullptr, true};  // null would pass, but a cycle excludes
  EXPECT_FALSE(run(context, experiment).in_experiment);
  parent = {nullptr, false};
  EXPECT_TRUE(run(context, experiment).in_experiment);
}

TEST(RunTest, RejectsWrongTypes) {
  EXPECT_EQ(parse_error("{}", R"({"key": "k", "variations": [0, 1], "weights": ["a", 1]})"),
            "weights: must be a number");
  EXPECT_EQ(parse_error("{}", R"({"key": "k", "variations": [0, 1], "force": 0.5})"),
            "force: must be an integer");
  EXPECT_EQ(parse_error("{}", R"({"key": "k", "variations": [0, 1], "namespace": ["n", 0]})"),
            "namespace: must be [id, start, end]");
}

TEST(RunTest, ExcludesDraftAndStoppedExperiments) {
  const char* context = R"({"attributes": {"id": "1"}})";
  EXPECT_TRUE(run_json(context, R"({"key": "my-test", "variations": [0, 1]})").in_experiment);
  EXPECT_FALSE(run_json(context, R"({"key": "my-test", "variations": [0, 1], "status": "draft"})")
                   .in_experiment);
  EXPECT_FALSE(run_json(context, R"({"key": "my-test", "variations": [0, 1], "status": "stopped"})")
                   .in_experiment);
}

TEST(RunTest, FilterOnAMissingAttributeExcludes) {
  const RunResult result = run_json(
      R"({"attributes": {"id": "1"}})",
      R"({"key": "k", "variations": [0, 1], "filters": [{"seed": "s", "attribute": "anonId", "ranges": [[0, 1]]}]})");
  EXPECT_FALSE(result.in_experiment);
}

TEST(RunTest, EmptyRangesExcludeEveryone) {
  EXPECT_FALSE(run_json(R"({"attributes": {"id": "1"}})",
                        R"({"key": "k", "variations": [0, 1], "ranges": []})")
                   .in_experiment);
}

TEST(RunTest, NumericHashAttributesHashAsTheirString) {
  const char* experiment = R"({"key": "my-test", "variations": [0, 1]})";
  const RunResult number = run_json(R"({"attributes": {"id": 8}})", experiment);
  const RunResult text = run_json(R"({"attributes": {"id": "8"}})", experiment);
  EXPECT_EQ(number.bucket, text.bucket);
  EXPECT_FALSE(run_json(R"({"attributes": {"id": 0}})", experiment).in_experiment);  // falsy
}

}  // namespace
}  // namespace verdict::assignment
