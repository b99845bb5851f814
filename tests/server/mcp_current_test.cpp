#include "server/dispatcher.hpp"

#include <gtest/gtest.h>

#include "core/json_style.hpp"
#include "tests/server/dispatcher_harness.hpp"
#include "verdict/version.hpp"

namespace verdict::server {
namespace {

using testing::DispatcherHarness;
namespace json = boost::json;

std::string message_of(const json::object& error) {
  return std::string(error.at("message").as_string());
}

TEST(McpCurrentTest, DiscoverDescribesTheServer) {
  DispatcherHarness harness;
  json::object result = harness.result("server/discover", DispatcherHarness::current());
  EXPECT_EQ(result.at("supportedVersions"), (json::array{"2026-07-28"}));
  EXPECT_TRUE(result.at("capabilities").as_object().contains("tools"));
  EXPECT_FALSE(result.at("instructions").as_string().empty());
  EXPECT_EQ(result.at("resultType"), "complete");
  EXPECT_EQ(result.at("_meta").at("io.modelcontextprotocol/serverInfo").at("name"), "verdict");
  EXPECT_GT(result.at("ttlMs").as_int64(), 0);
  EXPECT_EQ(result.at("cacheScope"), "public");
  EXPECT_TRUE(harness.session.protocol_version.empty());  // stateless
}

// The era's members are spliced into results as text: the exact bytes, member order included.
TEST(McpCurrentTest, RepliesEndWithTheEraMembersInOrder) {
  DispatcherHarness harness;
  std::string id = harness.create_experiment("Say \"hi\"");
  std::string entity = harness.engine.get_json(Caller::local_operator(), "Experiment", id);
  std::string server_info =
      R"("resultType":"complete","_meta":{"io.modelcontextprotocol/serverInfo":{"name":"verdict",)"
      R"("title":"Verdict","version":")" +
      std::string(kVersion) + R"("}})";
  std::string literal;
  append_json_string(literal, entity);
  harness.call_tool("get", {{"type", "Experiment"}, {"id", id}});
  EXPECT_EQ(harness.last.line,
            R"({"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":)" + literal +
                R"(}],"structuredContent":)" + entity + "," + server_info + "}}");
  harness.request("ping", DispatcherHarness::current());
  EXPECT_EQ(harness.last.line, R"({"jsonrpc":"2.0","id":2,"result":{)" + server_info + "}}");
  harness.request("tools/list", DispatcherHarness::current());
  EXPECT_TRUE(harness.last.line.ends_with("]," + server_info +
                                          R"(,"ttlMs":300000,"cacheScope":"public"}})"))
      << harness.last.line;
}

TEST(McpCurrentTest, MissingMetaKeysAreInvalidParams) {
  DispatcherHarness harness;
  json::object no_version = harness.error("tools/list", {{"_meta", json::object{}}});
  EXPECT_EQ(no_version.at("code"), -32602);
  EXPECT_NE(message_of(no_version).find("io.modelcontextprotocol/protocolVersion"),
            std::string::npos);
  json::object no_capabilities = harness.error(
      "tools/list", {{"_meta", {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"}}}});
  EXPECT_EQ(no_capabilities.at("code"), -32602);
  EXPECT_NE(message_of(no_capabilities).find("clientCapabilities"), std::string::npos);
}

TEST(McpCurrentTest, UnsupportedVersionsListTheSupportedOnes) {
  DispatcherHarness harness;
  for (const char* version : {"2027-01-01", "2025-11-25"}) {
    json::object params = DispatcherHarness::current();
    params["_meta"].as_object()["io.modelcontextprotocol/protocolVersion"] = version;
    json::object error = harness.error("tools/list", std::move(params));
    EXPECT_EQ(error.at("code"), -32022);
    EXPECT_EQ(error.at("data").at("supported"), (json::array{"2026-07-28"}));
    EXPECT_EQ(error.at("data").at("requested"), version);
  }
}

TEST(McpCurrentTest, ListResultsCarryCacheHints) {
  DispatcherHarness harness;
  for (const char* method :
       {"tools/list", "resources/list", "resources/templates/list", "prompts/list"}) {
    json::object result = harness.result(method, DispatcherHarness::current());
    EXPECT_EQ(result.at("resultType"), "complete") << method;
    EXPECT_GE(result.at("ttlMs").as_int64(), 0) << method;
    EXPECT_TRUE(result.at("cacheScope") == "public" || result.at("cacheScope") == "private");
  }
  json::object call = harness.call_tool("find", {{"type", "Experiment"}});
  EXPECT_EQ(call.at("resultType"), "complete");
  EXPECT_FALSE(call.contains("ttlMs"));
  EXPECT_TRUE(call.contains("structuredContent"));
  EXPECT_TRUE(harness.result("tools/list", DispatcherHarness::current())
                  .at("tools")
                  .at(0)
                  .as_object()
                  .contains("outputSchema"));
}

TEST(McpCurrentTest, EntityReadsArePrivateAndUncached) {
  DispatcherHarness harness;
  std::string id = harness.create_experiment("Cached");
  json::object read = harness.result(
      "resources/read", DispatcherHarness::current({{"uri", "verdict://Experiment/" + id}}));
  EXPECT_EQ(read.at("ttlMs"), 0);
  EXPECT_EQ(read.at("cacheScope"), "private");
  EXPECT_EQ(harness
                .error("resources/read",
                       DispatcherHarness::current({{"uri", "verdict://Experiment/nope"}}))
                .at("code"),
            -32602);
}

TEST(McpCurrentTest, MissingResourceErrorsNameTheUri) {
  DispatcherHarness harness;
  for (const char* uri : {"verdict://Experiment/experiment_00000000", "test://nowhere"}) {
    json::object error =
        harness.error("resources/read", DispatcherHarness::current({{"uri", uri}}));
    EXPECT_EQ(error.at("code"), -32602) << uri;
    EXPECT_EQ(error.at("data").at("uri"), uri) << "SEP-2164";
  }
}

TEST(McpCurrentTest, ConformanceFixturesOnlyWhenAskedFor) {
  auto tool_names = [](DispatcherHarness& harness) {
    std::vector<std::string> names;
    json::object listed = harness.result("tools/list", DispatcherHarness::current({}));
    for (const auto& tool : listed.at("tools").as_array())
      names.emplace_back(tool.at("name").as_string());
    return names;
  };
  DispatcherHarness normal;
  EXPECT_EQ(tool_names(normal), (std::vector<std::string>{"find", "get", "do"}));
  EXPECT_FALSE(normal.result("server/discover", DispatcherHarness::current({}))
                   .at("capabilities")
                   .as_object()
                   .contains("completions"));

  DispatcherOptions options;
  options.conformance = true;
  DispatcherHarness fixtures(options);
  auto names = tool_names(fixtures);
  EXPECT_NE(std::find(names.begin(), names.end(), "test_simple_text"), names.end());
  json::object missing =
      fixtures.error("tools/call", DispatcherHarness::current({{"name", "test_missing_capability"},
                                                               {"arguments", json::object{}}}));
  EXPECT_EQ(missing.at("code"), -32021);
  EXPECT_TRUE(missing.at("data").at("requiredCapabilities").as_object().contains("sampling"));
  json::object text = fixtures.result(
      "resources/read", DispatcherHarness::current({{"uri", "test://template/42/data"}}));
  EXPECT_EQ(text.at("contents").at(0).at("text"),
            R"({"id":"42","templateTest":true,"data":"Data for ID: 42"})");
}

TEST(McpCurrentTest, LogLevelInMetaOptsIntoMessages) {
  DispatcherHarness harness;
  harness.call_tool("find", {{"type", "Experiment"}});
  EXPECT_TRUE(harness.notifications.empty());
  harness.result("tools/call", DispatcherHarness::current(
                                   {{"name", "find"}, {"arguments", {{"type", "Experiment"}}}},
                                   {{"io.modelcontextprotocol/logLevel", "debug"}}));
  ASSERT_EQ(harness.notifications.size(), 1u);
  EXPECT_EQ(harness.notifications[0].at("params").at("level"), "debug");
  EXPECT_EQ(harness
                .error("tools/list", DispatcherHarness::current(
                                         {}, {{"io.modelcontextprotocol/logLevel", "chatty"}}))
                .at("code"),
            -32602);
  EXPECT_EQ(
      harness.error("logging/setLevel", DispatcherHarness::current({{"level", "info"}})).at("code"),
      -32601);
}

TEST(McpCurrentTest, ClientInfoNamesTheActorPerRequest) {
  DispatcherHarness harness;
  json::object result = harness.result(
      "tools/call",
      DispatcherHarness::current(
          {{"name", "do"},
           {"arguments",
            {{"type", "Experiment"}, {"verb", "create"}, {"data", {{"name", "Who"}}}}}},
          {{"io.modelcontextprotocol/clientInfo", {{"name", "agent-7"}, {"version", "1"}}}}));
  std::string id(result.at("structuredContent").at("id").as_string());
  EXPECT_EQ(harness.engine.get("Experiment", id, true).at("history").at(0).at("actor"),
            "stdio/agent-7");
}

TEST(McpCurrentTest, APerRequestVersionWinsOverALegacySession) {
  DispatcherHarness harness;
  harness.initialize("2025-03-26");
  EXPECT_FALSE(harness.result("tools/list").at("tools").at(0).as_object().contains("outputSchema"));
  json::object current = harness.result("tools/list", DispatcherHarness::current());
  EXPECT_TRUE(current.at("tools").at(0).as_object().contains("outputSchema"));
  EXPECT_EQ(current.at("resultType"), "complete");
}

}  // namespace
}  // namespace verdict::server
