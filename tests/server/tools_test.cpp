#include "server/tools.hpp"

#include <gtest/gtest.h>

#include "core/json_style.hpp"
#include "tests/server/dispatcher_harness.hpp"

namespace verdict::server {
namespace {

using testing::DispatcherHarness;
namespace json = boost::json;

std::string error_text(const json::object& result) {
  EXPECT_EQ(result.if_contains("isError") ? *result.if_contains("isError") : json::value(false),
            true)
      << json::serialize(result);
  return std::string(result.at("content").at(0).at("text").as_string());
}

bool mentions(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

json::array tools_of(DispatcherHarness& harness) {
  return harness.result("tools/list", DispatcherHarness::current()).at("tools").as_array();
}

const json::object& tool(const json::array& tools, std::string_view name) {
  for (const auto& t : tools)
    if (t.at("name").as_string() == name) return t.as_object();
  throw std::runtime_error("no tool " + std::string(name));
}

TEST(ToolsTest, ListIsStableWithAnnotations) {
  DispatcherHarness harness;
  json::array tools = tools_of(harness);
  ASSERT_EQ(tools.size(), 3u);
  EXPECT_EQ(tools[0].at("name"), "find");
  EXPECT_EQ(tools[1].at("name"), "get");
  EXPECT_EQ(tools[2].at("name"), "do");
  EXPECT_EQ(tools[0].at("annotations").at("readOnlyHint"), true);
  EXPECT_EQ(tools[1].at("annotations").at("readOnlyHint"), true);
  EXPECT_EQ(tools[2].at("annotations").at("readOnlyHint"), false);
  EXPECT_EQ(tools[2].at("annotations").at("destructiveHint"), true);
  EXPECT_EQ(tools, tools_of(harness));
}

TEST(ToolsTest, ListPagesWithOpaqueCursors) {
  DispatcherHarness harness({.list_page_size = 2});
  json::object first = harness.result("tools/list", DispatcherHarness::current());
  ASSERT_EQ(first.at("tools").as_array().size(), 2u);
  json::object second = harness.result(
      "tools/list", DispatcherHarness::current({{"cursor", first.at("nextCursor")}}));
  ASSERT_EQ(second.at("tools").as_array().size(), 1u);
  EXPECT_EQ(second.at("tools").at(0).at("name"), "do");
  EXPECT_FALSE(second.contains("nextCursor"));
  for (const char* cursor : {"offset:9", "garbage", "offset:1x"})
    EXPECT_EQ(
        harness.error("tools/list", DispatcherHarness::current({{"cursor", cursor}})).at("code"),
        -32602)
        << cursor;
}

TEST(ToolsTest, SchemasAreGeneratedFromTheNounsAndVerbs) {
  DispatcherHarness harness;
  json::array tools = tools_of(harness);
  const auto& input = tool(tools, "do").at("inputSchema").as_object();
  const auto& types = input.at("properties").at("type").at("enum").as_array();
  for (const auto& noun : harness.engine.schema().noun_names())
    EXPECT_NE(std::find(types.begin(), types.end(), json::value(noun)), types.end()) << noun;
  const auto& verbs = input.at("properties").at("verb").at("enum").as_array();
  for (const char* verb : {"create", "addVariant", "start", "launch", "rollout"})
    EXPECT_NE(std::find(verbs.begin(), verbs.end(), json::value(verb)), verbs.end()) << verb;
  std::string description(tool(tools, "do").at("description").as_string());
  EXPECT_TRUE(mentions(description, "start (Draft -> Started; alias launch)"));
  EXPECT_TRUE(mentions(description, "addVariant (in Draft; data {name!, weight, key})"))
      << description;
  EXPECT_EQ(input.at("additionalProperties"), false);
}

TEST(ToolsTest, VerbsAddedAtRunTimeAreListedAndCallable) {
  DispatcherHarness harness;
  tools_of(harness);  // fills the cache before the schema grows
  Verb tally = make_verb("tally", VerbKind::kCustom, "Tallied", "count experiments");
  tally.needs_entity = false;
  harness.engine.add_custom_verb(
      "Experiment", tally,
      [](Engine& engine, const Noun&, const VerbRequest&, json::object*) -> json::value {
        return {{"count", engine.find("Experiment", {}).items.size()}};
      });
  json::array tools = tools_of(harness);
  const auto& verbs =
      tool(tools, "do").at("inputSchema").at("properties").at("verb").at("enum").as_array();
  EXPECT_NE(std::find(verbs.begin(), verbs.end(), json::value("tally")), verbs.end());
  harness.create_experiment("One");
  json::object result = harness.call_tool("do", {{"type", "Experiment"}, {"verb", "tally"}});
  EXPECT_EQ(result.at("structuredContent").at("count"), 1);
}

TEST(ToolsTest, BadArgumentsAreToolErrorsNamingTheArgument) {
  DispatcherHarness harness;
  struct Case {
    std::string tool;
    json::object arguments;
    std::string expected;
  };
  std::vector<Case> cases = {
      {"find", {{"type", "Experiment"}, {"colour", 1}}, "colour: unknown argument"},
      {"find", {{"type", "Experiment"}, {"limit", "ten"}}, "limit: expected an integer"},
      {"find", {{"type", "Experiment"}, {"limit", 0}}, "limit: must be between 1 and 1000"},
      {"find", {{"type", "Experiment"}, {"limit", 1.5}}, "limit: expected an integer"},
      {"find", {{"type", "Experiment"}, {"filter", "status=Draft"}}, "filter: expected an object"},
      {"find", {{"type", "Experiment"}, {"filter", {{"colour", "red"}}}}, "filter.colour"},
      {"find", {}, "type: required"},
      {"get", {{"type", "Experiment"}}, "id: required"},
      {"get",
       {{"type", "Experiment"}, {"id", "x"}, {"include", {"everything"}}},
       "include[0]: unknown value 'everything'"},
      {"get", {{"type", "Spaceship"}, {"id", "x"}}, "type: unknown value 'Spaceship'"},
      {"do", {{"type", "Experiment"}}, "verb: required"},
      {"do", {{"verb", "create"}}, "type: required"},
      {"do", {{"type", "Experiment"}, {"verb", "fly"}}, "verb: unknown value 'fly'"},
      {"do", {{"type", "Experiment"}, {"verb", "rollout"}, {"id", "x"}}, "has no verb 'rollout'"},
      {"do", {{"type", "Experiment"}, {"verb", "create"}, {"data", {{"name", 5}}}}, "name"},
      {"do",
       {{"type", "Experiment"}, {"verb", "create"}, {"data", json::array{}}},
       "data: expected an object"},
  };
  for (const auto& c : cases) {
    std::string text = error_text(harness.call_tool(c.tool, c.arguments));
    EXPECT_TRUE(mentions(text, c.expected))
        << c.tool << " " << json::serialize(c.arguments) << ": " << text;
  }
}

TEST(ToolsTest, RefusedVerbsAreToolErrorsWithTheReason) {
  DispatcherHarness harness;
  std::string id = harness.create_experiment("Refused");
  std::string text = error_text(
      harness.call_tool("do", {{"type", "Experiment"}, {"verb", "conclude"}, {"id", id}}));
  EXPECT_TRUE(mentions(text, "cannot conclude")) << text;
  EXPECT_TRUE(
      mentions(error_text(harness.call_tool("get", {{"type", "Experiment"}, {"id", "nope"}})),
               "no Experiment"));
  EXPECT_TRUE(
      mentions(error_text(harness.call_tool("do", {{"type", "Experiment"},
                                                   {"verb", "update"},
                                                   {"id", id},
                                                   {"data", {{"version", 7}, {"name", "x"}}}})),
               "version"));
}

TEST(ToolsTest, UnknownToolsAndNonObjectArgumentsAreProtocolErrors) {
  DispatcherHarness harness;
  json::object unknown = harness.error(
      "tools/call",
      DispatcherHarness::current({{"name", "launch"}, {"arguments", json::object{}}}));
  EXPECT_EQ(unknown.at("code"), -32602);
  EXPECT_TRUE(mentions(std::string(unknown.at("message").as_string()), "unknown tool 'launch'"));
  EXPECT_EQ(
      harness.error("tools/call", DispatcherHarness::current({{"name", "find"}, {"arguments", 3}}))
          .at("code"),
      -32602);
  EXPECT_EQ(harness.error("tools/call", DispatcherHarness::current()).at("code"), -32602);
}

TEST(ToolsTest, FindPagesThroughTheStore) {
  DispatcherHarness harness;
  for (const char* name : {"A", "B", "C"}) harness.create_experiment(name);
  json::object first =
      harness.call_tool("find", {{"type", "Experiment"}, {"limit", 2}, {"sort", {{"name", "asc"}}}})
          .at("structuredContent")
          .as_object();
  ASSERT_EQ(first.at("items").as_array().size(), 2u);
  ASSERT_TRUE(first.contains("nextCursor"));
  json::object second = harness
                            .call_tool("find", {{"type", "Experiment"},
                                                {"limit", 2},
                                                {"sort", {{"name", "asc"}}},
                                                {"cursor", first.at("nextCursor")}})
                            .at("structuredContent")
                            .as_object();
  ASSERT_EQ(second.at("items").as_array().size(), 1u);
  EXPECT_EQ(second.at("items").at(0).at("name"), "C");
  EXPECT_FALSE(second.contains("nextCursor"));
}

TEST(ToolsTest, GetIncludesHistoryOnRequest) {
  DispatcherHarness harness;
  std::string id = harness.create_experiment("History");
  json::object plain = harness.call_tool("get", {{"type", "Experiment"}, {"id", id}});
  EXPECT_FALSE(plain.at("structuredContent").as_object().contains("history"));
  json::object full = harness.call_tool(
      "get", {{"type", "Experiment"}, {"id", "history"}, {"include", {"history"}}});
  EXPECT_EQ(full.at("structuredContent").at("history").at(0).at("type"), "Experiment.Created");
}

// A long history is paged, oldest first, never cut to its newest events without a word.
TEST(ToolsTest, GetPagesALongHistoryOldestFirst) {
  DispatcherHarness harness;
  std::string id = harness.create_experiment("Long");
  for (int i = 1; i <= 104; ++i)
    harness.engine.execute({.noun = "Experiment",
                            .verb = "update",
                            .id = id,
                            .data = {{"name", "v" + std::to_string(i)}}});
  json::object query{{"type", "Experiment"}, {"id", id}, {"include", {"history"}}};
  json::object first = harness.call_tool("get", query).at("structuredContent").as_object();
  const json::array& page = first.at("history").as_array();
  ASSERT_EQ(page.size(), 100u);
  EXPECT_EQ(page.front().at("type"), "Experiment.Created");
  EXPECT_EQ(page.back().at("data").at("name"), "v99");
  ASSERT_TRUE(first.contains("historyNextCursor"));
  query["cursor"] = first.at("historyNextCursor");
  query["limit"] = 3;
  json::object second = harness.call_tool("get", query).at("structuredContent").as_object();
  ASSERT_EQ(second.at("history").as_array().size(), 3u);
  EXPECT_EQ(second.at("history").at(0).at("data").at("name"), "v100");
  query["cursor"] = second.at("historyNextCursor");
  json::object last = harness.call_tool("get", query).at("structuredContent").as_object();
  ASSERT_EQ(last.at("history").as_array().size(), 2u);
  EXPECT_EQ(last.at("history").at(1).at("data").at("name"), "v104");
  EXPECT_FALSE(last.contains("historyNextCursor"));

  auto refused = [&](json::object arguments) {
    json::object result = harness.call_tool("get", std::move(arguments));
    EXPECT_TRUE(result.contains("isError")) << json::serialize(result);
    return json::serialize(result);
  };
  EXPECT_NE(refused({{"type", "Experiment"}, {"id", id}, {"include", {"history"}}, {"cursor", "x"}})
                .find("cursor"),
            std::string::npos);
  EXPECT_NE(refused({{"type", "Experiment"}, {"id", id}, {"limit", 5}}).find("include"),
            std::string::npos);
}

json::value echo_script(Engine&, const std::string& source, const std::string& actor,
                        const Caller&) {
  return json::array{source, actor};
}

TEST(ToolsTest, ScriptsRunOnStdioAndNonObjectResultsAreWrapped) {
  DispatcherHarness harness({}, echo_script);
  json::object result = harness.call_tool("do", {{"script", "return 1"}});
  EXPECT_EQ(result.at("structuredContent"), (json::object{{"result", {"return 1", "stdio"}}}));
  EXPECT_EQ(DispatcherHarness::text_of(result), (json::array{"return 1", "stdio"}));
  EXPECT_TRUE(
      mentions(error_text(harness.call_tool("do", {{"script", "x"}, {"type", "Experiment"}})),
               "script: runs alone"));
}

TEST(ToolsTest, ScriptsOnSocketsNeedAnAuthenticatedSession) {
  DispatcherHarness harness({.token = "t0k"}, echo_script);
  harness.session.transport = "tcp";
  EXPECT_TRUE(mentions(error_text(harness.call_tool("do", {{"script", "x"}})), "auth"));
  harness.result("auth", {{"token", "t0k"}});
  EXPECT_FALSE(harness.call_tool("do", {{"script", "x"}}).contains("isError"));
}

TEST(ToolsTest, ScriptsCanBeDisabledEverywhere) {
  DispatcherHarness harness({.scripts_enabled = false}, echo_script);
  EXPECT_FALSE(tool(tools_of(harness), "do")
                   .at("inputSchema")
                   .at("properties")
                   .as_object()
                   .contains("script"));
  EXPECT_TRUE(
      mentions(error_text(harness.call_tool("do", {{"script", "x"}})), "script: unknown argument"));
}

TEST(ToolsTest, StdioScriptsCanRequireTheToken) {
  DispatcherHarness harness({.script_on_stdio = false}, echo_script);
  EXPECT_TRUE(mentions(error_text(harness.call_tool("do", {{"script", "x"}})), "authenticated"));
}

TEST(ToolsTest, GetRepliesSpliceTheEntityTextAndShowEveryChange) {
  DispatcherHarness harness;
  std::string id = harness.create_experiment("Spliced \"name\"");
  for (int version = 1; version <= 3; ++version) {
    std::string entity = to_json_text(harness.engine.get("Experiment", id));
    // Plain JSON-RPC get: the entity text is the result, byte for byte.
    harness.request("get", {{"type", "Experiment"}, {"id", id}});
    EXPECT_EQ(harness.last.line, R"({"jsonrpc":"2.0","id":)" + std::to_string(harness.next_id) +
                                     R"(,"result":)" + entity + "}");
    // tools/call get: the same text as the content item and as structuredContent.
    json::object result = harness.call_tool("get", {{"type", "Experiment"}, {"id", id}});
    EXPECT_EQ(DispatcherHarness::text_of(result), json::parse(entity));
    EXPECT_EQ(result.at("structuredContent"), json::parse(entity));
    EXPECT_EQ(result.at("resultType"), "complete");
    EXPECT_NE(harness.last.line.find(R"("structuredContent":)" + entity + ","), std::string::npos)
        << harness.last.line;
    EXPECT_EQ(result.at("structuredContent").at("version"), version);
    harness.call_tool("do", {{"type", "Experiment"},
                             {"verb", "update"},
                             {"id", id},
                             {"data", {{"name", "v" + std::to_string(version + 1)}}}});
  }
  json::object with_history = harness.call_tool(
      "get", {{"type", "Experiment"}, {"id", id}, {"include", json::array{"history"}}});
  EXPECT_EQ(with_history.at("structuredContent").at("history").as_array().size(), 4u);
}

}  // namespace
}  // namespace verdict::server
