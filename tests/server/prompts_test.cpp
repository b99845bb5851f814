#include "server/prompts.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "tests/server/dispatcher_harness.hpp"

namespace verdict::server {
namespace {

using testing::DispatcherHarness;
namespace json = boost::json;

TEST(PromptsTest, ListsBothPromptsWithTheirArguments) {
  json::array prompts = list_prompts();
  ASSERT_EQ(prompts.size(), 2u);
  EXPECT_EQ(prompts[0].at("name"), "design-experiment");
  EXPECT_EQ(prompts[0].at("arguments").at(0).at("name"), "hypothesis");
  EXPECT_EQ(prompts[0].at("arguments").at(0).at("required"), true);
  EXPECT_EQ(prompts[1].at("name"), "analyze-experiment");
}

TEST(PromptsTest, DesignTurnsTheHypothesisIntoInstructions) {
  DispatcherHarness harness;
  json::object result = harness.result(
      "prompts/get",
      DispatcherHarness::current(
          {{"name", "design-experiment"},
           {"arguments", {{"hypothesis", "shorter forms convert"}, {"metric", "signup_rate"}}}}));
  std::string text(result.at("messages").at(0).at("content").at("text").as_string());
  EXPECT_NE(text.find("shorter forms convert"), std::string::npos);
  EXPECT_NE(text.find("signup_rate"), std::string::npos);
  EXPECT_EQ(result.at("messages").at(0).at("role"), "user");
}

TEST(PromptsTest, AnalyzeEmbedsTheExperiment) {
  DispatcherHarness harness;
  std::string id = harness.create_experiment("Analyze me");
  json::object result = harness.result(
      "prompts/get", DispatcherHarness::current({{"name", "analyze-experiment"},
                                                 {"arguments", {{"experiment", "analyze-me"}}}}));
  const auto& resource = result.at("messages").at(1).at("content");
  EXPECT_EQ(resource.at("type"), "resource");
  EXPECT_EQ(resource.at("resource").at("uri").as_string(), "verdict://Experiment/" + id);
}

TEST(PromptsTest, BadRequestsAreInvalidParams) {
  DispatcherHarness harness;
  std::vector<json::object> bad = {
      {{"name", "write-poem"}},
      {{"name", "design-experiment"}},
      {{"name", "design-experiment"}, {"arguments", {{"hypothesis", 5}}}},
      {{"name", "design-experiment"}, {"arguments", {{"hypothesis", "h"}, {"mood", "x"}}}},
      {{"name", "analyze-experiment"}, {"arguments", {{"experiment", "missing"}}}},
  };
  for (auto& params : bad) {
    std::string shown = json::serialize(params);
    EXPECT_EQ(
        harness.error("prompts/get", DispatcherHarness::current(std::move(params))).at("code"),
        -32602)
        << shown;
  }
}

}  // namespace
}  // namespace verdict::server
