#include "server/prompts.hpp"

#include <gtest/gtest.h>

#include <sstream>

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

// The tool calls a prompt's text tells the agent to make, `find {...}` / `do {...}` lines.
std::vector<std::pair<std::string, json::object>> calls_in(const json::object& prompt) {
  std::vector<std::pair<std::string, json::object>> calls;
  std::istringstream text(
      std::string(prompt.at("messages").at(0).at("content").at("text").as_string()));
  std::string line;
  while (std::getline(text, line)) {
    auto start = line.find_first_not_of(' ');
    if (start == std::string::npos) continue;
    for (std::string tool : {"find", "get", "do"})
      if (line.compare(start, tool.size() + 2, tool + " {") == 0)
        calls.emplace_back(tool, json::parse(line.substr(start + tool.size() + 1)).as_object());
  }
  return calls;
}

// Fills the "<...>" placeholders as an agent would: ids with the experiment's id, variant keys
// with a real key, anything else with sample text.
void fill(json::value& value, const std::string& id) {
  if (value.is_object()) {
    for (auto& entry : value.as_object()) fill(entry.value(), id);
  } else if (value.is_array()) {
    for (auto& item : value.as_array()) fill(item, id);
  } else if (value.is_string() && value.as_string().starts_with("<")) {
    std::string placeholder(value.as_string());
    value = placeholder.find("id") != std::string::npos            ? json::value(id)
            : placeholder.find("variant key") != std::string::npos ? json::value("control")
                                                                   : json::value("Sample");
  }
}

json::object run_call(DispatcherHarness& harness, const std::string& tool, json::object arguments,
                      const std::string& id) {
  json::value filled = std::move(arguments);
  fill(filled, id);
  json::object result = harness.call_tool(tool, filled.as_object());
  EXPECT_FALSE(result.contains("isError"))
      << tool << " " << json::serialize(filled) << ": " << json::serialize(result);
  return result;
}

// Regression: design-experiment told the agent to call addVariant without `type`, which is
// refused; every call a prompt spells out must run as written.
TEST(PromptsTest, DesignInstructionsRunAsWritten) {
  for (bool with_metric : {true, false}) {
    DispatcherHarness harness;
    json::object arguments{{"hypothesis", "a \"shorter\" form raises signups"}};
    if (with_metric) arguments["metric"] = "signup_rate";
    auto calls = calls_in(harness.result(
        "prompts/get",
        DispatcherHarness::current({{"name", "design-experiment"}, {"arguments", arguments}})));
    ASSERT_EQ(calls.size(), 5u);
    std::string id;
    for (auto& [tool, call] : calls) {
      json::object result = run_call(harness, tool, call, id);
      if (id.empty() && call.contains("verb"))
        id = std::string(DispatcherHarness::text_of(result).at("id").as_string());
    }
    json::object experiment = harness.engine.get("Experiment", id);
    EXPECT_EQ(experiment.at("status"), "Started");
    EXPECT_EQ(experiment.at("variants").as_array().size(), 2u);
    EXPECT_EQ(experiment.at("hypothesis"), "a \"shorter\" form raises signups");
  }
}

TEST(PromptsTest, AnalyzeInstructionsRunAsWritten) {
  DispatcherHarness probe;
  std::string probe_id = probe.create_experiment("Probe");
  auto calls = calls_in(probe.result(
      "prompts/get", DispatcherHarness::current({{"name", "analyze-experiment"},
                                                 {"arguments", {{"experiment", probe_id}}}})));
  ASSERT_EQ(calls.size(), 3u);
  // Each alternative runs on a fresh running experiment of its own.
  for (auto& [tool, call] : calls) {
    DispatcherHarness harness;
    auto created = harness.engine.execute(
        {.noun = "Experiment",
         .verb = "create",
         .data = {{"name", "Probe"},
                  {"primaryMetric", "signup"},
                  // Not the random id: its split would fire SRM (no winner) 1 run in 1000.
                  {"seed", "probe-1"},
                  {"variants", json::array{{{"key", "control"}}, {{"key", "green"}}}}}});
    std::string id(created.at("id").as_string());
    harness.engine.execute({.noun = "Experiment", .verb = "start", .id = id});
    // A clear winner (10% against 30%), so the conclude the prompt offers has an analysis to
    // adopt; its first instruction is that analysis.
    json::array units;
    for (int i = 0; i < 2000; ++i) units.push_back(json::object{{"unit", "u" + std::to_string(i)}});
    auto assigned = harness.engine.execute(
        {.noun = "Experiment", .verb = "assign", .id = id, .data = {{"units", units}}});
    json::array events;
    int index = 0;
    for (const auto& assignment : assigned.at("assignments").as_array()) {
      int percent = assignment.at("variant") == "green" ? 30 : 10;
      if (index % 100 < percent)
        events.push_back(json::object{{"unit", units[index].at("unit")}, {"metric", "signup"}});
      ++index;
    }
    harness.engine.execute(
        {.noun = "Experiment", .verb = "track", .id = id, .data = {{"events", events}}});
    harness.engine.execute({.noun = "Experiment", .verb = "analyze", .id = id});
    EXPECT_EQ(call.at("id"), json::value(probe_id));
    json::value arguments = call;
    arguments.as_object()["id"] = id;  // the prompt names the probe experiment's id
    run_call(harness, tool, arguments.as_object(), id);
  }
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
