#include "core/assignment/run.hpp"

#include <string>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

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
  EXPECT_EQ(parse_error(R"({"qaMode": true})", experiment), "qaMode: not supported");
  EXPECT_EQ(parse_error(R"({"url": "http://x?k=1"})", experiment), "url: not supported");
  EXPECT_EQ(parse_error("{}", R"({"key": "k", "variations": [0, 1], "parentConditions": []})"),
            "parentConditions: not supported");
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
