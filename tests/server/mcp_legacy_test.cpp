#include "server/dispatcher.hpp"

#include <gtest/gtest.h>

#include "tests/server/dispatcher_harness.hpp"

namespace verdict::server {
namespace {

using testing::DispatcherHarness;
namespace json = boost::json;

json::object call(DispatcherHarness& harness, std::string_view name, json::object arguments,
                  json::object meta = {}) {
  json::object params{{"name", name}, {"arguments", std::move(arguments)}};
  if (!meta.empty()) params["_meta"] = std::move(meta);
  return harness.result("tools/call", std::move(params));
}

TEST(McpLegacyTest, InitializeEchoesEverySupportedVersion) {
  for (const char* version : {"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"}) {
    DispatcherHarness harness;
    json::object result = harness.initialize(version);
    EXPECT_EQ(result.at("protocolVersion"), version);
    EXPECT_EQ(harness.session.protocol_version, version);
  }
}

TEST(McpLegacyTest, InitializeAnswersTheLatestForAnUnknownVersion) {
  DispatcherHarness harness;
  EXPECT_EQ(harness.initialize("2099-01-01").at("protocolVersion"), "2025-11-25");
  EXPECT_EQ(harness.initialize("2026-07-28").at("protocolVersion"), "2025-11-25");
}

TEST(McpLegacyTest, InitializeDescribesTheServer) {
  DispatcherHarness harness;
  json::object result = harness.initialize();
  EXPECT_EQ(result.at("serverInfo").at("name"), "verdict");
  for (const char* capability : {"tools", "resources", "prompts", "logging"})
    EXPECT_TRUE(result.at("capabilities").as_object().contains(capability)) << capability;
  EXPECT_NE(std::string(result.at("instructions").as_string()).find("Experiment"),
            std::string::npos);
  EXPECT_FALSE(result.contains("resultType"));
  EXPECT_EQ(harness.session.client_name, "harness");
}

TEST(McpLegacyTest, InitializeWithoutAVersionNamesTheParam) {
  DispatcherHarness harness;
  json::object error = harness.error("initialize", {{"capabilities", json::object{}}});
  EXPECT_EQ(error.at("code"), -32602);
  EXPECT_NE(std::string(error.at("message").as_string()).find("protocolVersion"),
            std::string::npos);
}

TEST(McpLegacyTest, RequestsBeforeInitializeWithoutMetaAreRefused) {
  DispatcherHarness harness;
  json::object error = harness.error("tools/list");
  EXPECT_EQ(error.at("code"), -32602);
  EXPECT_NE(std::string(error.at("message").as_string()).find("initialize"), std::string::npos);
  EXPECT_TRUE(harness.result("ping").empty());
}

TEST(McpLegacyTest, OutputSchemaAndStructuredContentStartWith20250618) {
  for (const auto& [version, structured] :
       std::vector<std::pair<std::string, bool>>{{"2024-11-05", false},
                                                 {"2025-03-26", false},
                                                 {"2025-06-18", true},
                                                 {"2025-11-25", true}}) {
    DispatcherHarness harness;
    harness.initialize(version);
    json::object listed = harness.result("tools/list");
    for (const auto& tool : listed.at("tools").as_array())
      EXPECT_EQ(tool.as_object().contains("outputSchema"), structured) << version;
    json::object result = call(harness, "find", {{"type", "Experiment"}});
    EXPECT_EQ(result.contains("structuredContent"), structured) << version;
    EXPECT_EQ(DispatcherHarness::text_of(result), (json::object{{"items", json::array{}}}));
    EXPECT_FALSE(result.contains("resultType"));
  }
}

TEST(McpLegacyTest, LoggingFollowsSetLevel) {
  DispatcherHarness harness;
  harness.initialize();
  std::string id = harness.create_experiment("Logged");
  call(harness, "do", {{"type", "Experiment"}, {"verb", "start"}, {"id", id}});
  EXPECT_TRUE(harness.notifications.empty());  // no level set: no messages

  EXPECT_TRUE(harness.result("logging/setLevel", {{"level", "warning"}}).empty());
  call(harness, "do", {{"type", "Experiment"}, {"verb", "pause"}, {"id", id}});
  EXPECT_TRUE(harness.notifications.empty());  // info is below warning
  call(harness, "do", {{"type", "Experiment"}, {"verb", "start"}, {"id", id}});
  ASSERT_EQ(harness.notifications.size(), 1u);
  EXPECT_EQ(harness.notifications[0].at("method"), "notifications/message");
  EXPECT_EQ(harness.notifications[0].at("params").at("level"), "warning");

  EXPECT_EQ(harness.error("logging/setLevel", {{"level", "loud"}}).at("code"), -32602);
}

TEST(McpLegacyTest, ProgressNotificationsCarryTheToken) {
  DispatcherHarness harness;
  harness.initialize();
  call(harness, "find", {{"type", "Experiment"}});
  EXPECT_TRUE(harness.notifications.empty());
  call(harness, "find", {{"type", "Experiment"}}, {{"progressToken", "p1"}});
  ASSERT_EQ(harness.notifications.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& params = harness.notifications[i].at("params");
    EXPECT_EQ(harness.notifications[i].at("method"), "notifications/progress");
    EXPECT_EQ(params.at("progressToken"), "p1");
    EXPECT_EQ(params.at("progress").to_number<double>(), static_cast<double>(i));
    EXPECT_EQ(params.at("total"), 1);
  }
}

TEST(McpLegacyTest, UnknownResourceIsResourceNotFound) {
  DispatcherHarness harness;
  harness.initialize();
  EXPECT_EQ(harness.error("resources/read", {{"uri", "verdict://Experiment/nope"}}).at("code"),
            -32002);
}

TEST(McpLegacyTest, TheEventLogRecordsTheClientName) {
  DispatcherHarness harness;
  harness.initialize();
  json::object created =
      DispatcherHarness::text_of(
          call(harness, "do",
               {{"type", "Experiment"}, {"verb", "create"}, {"data", {{"name", "Actor"}}}}))
          .as_object();
  json::object fetched = harness.engine.get("Experiment", created.at("id").as_string(), true);
  EXPECT_EQ(fetched.at("history").at(0).at("actor"), "stdio/harness");
}

}  // namespace
}  // namespace verdict::server
