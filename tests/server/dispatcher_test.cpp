#include "server/dispatcher.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/server/dispatcher_harness.hpp"

namespace verdict::server {
namespace {

using testing::DispatcherHarness;
namespace json = boost::json;

std::int64_t code_of(const json::value& reply) {
  return reply.at("error").at("code").as_int64();
}

TEST(DispatcherTest, MalformedJsonIsAParseErrorWithNullId) {
  DispatcherHarness harness;
  json::value reply = harness.send(R"({"jsonrpc":"2.0","id":1,"method":)");
  EXPECT_EQ(code_of(reply), -32700);
  EXPECT_TRUE(reply.at("id").is_null());
  EXPECT_FALSE(harness.last.close);
}

TEST(DispatcherTest, NestingBeyondTheDepthLimitIsAParseError) {
  DispatcherHarness harness({.max_depth = 4});
  EXPECT_EQ(
      code_of(harness.send(R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":[[[[1]]]]}})")),
      -32700);
  EXPECT_TRUE(harness.send(R"({"jsonrpc":"2.0","id":1,"method":"ping"})").at("result").is_object());
}

TEST(DispatcherTest, OversizedLinesAreRefusedAndTheSessionStaysUsable) {
  DispatcherHarness harness({.max_message_bytes = 64});
  std::string line = R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":")" +
                     std::string(100, 'x') + "\"}}";
  json::value reply = harness.send(line);
  EXPECT_EQ(code_of(reply), -32600);
  EXPECT_NE(std::string(reply.at("error").at("message").as_string()).find("64 bytes"),
            std::string::npos);
  EXPECT_FALSE(harness.last.close);
  EXPECT_EQ(json::parse(Dispatcher::oversized_reply(10)).at("error").at("code"), -32600);
  EXPECT_TRUE(
      harness.send(R"({"jsonrpc":"2.0","id":2,"method":"ping"})").as_object().contains("result"));
}

TEST(DispatcherTest, BatchesAndNonObjectsAreInvalidRequests) {
  DispatcherHarness harness;
  json::value batch = harness.send(R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])");
  EXPECT_EQ(code_of(batch), -32600);
  EXPECT_NE(std::string(batch.at("error").at("message").as_string()).find("batch"),
            std::string::npos);
  EXPECT_EQ(code_of(harness.send("42")), -32600);
  EXPECT_EQ(code_of(harness.send(R"("ping")")), -32600);
}

TEST(DispatcherTest, EnvelopeErrorsAreInvalidRequests) {
  DispatcherHarness harness;
  json::value wrong_version = harness.send(R"({"jsonrpc":"1.0","id":7,"method":"ping"})");
  EXPECT_EQ(code_of(wrong_version), -32600);
  EXPECT_EQ(wrong_version.at("id"), 7);
  for (const char* id : {"1.5", "{}", "null", "true", "[1]"}) {
    json::value reply =
        harness.send(std::string(R"({"jsonrpc":"2.0","method":"ping","id":)") + id + "}");
    EXPECT_EQ(code_of(reply), -32600) << id;
    EXPECT_TRUE(reply.at("id").is_null()) << id;
  }
  EXPECT_EQ(code_of(harness.send(R"({"jsonrpc":"2.0","id":1})")), -32600);
  EXPECT_EQ(code_of(harness.send(R"({"jsonrpc":"2.0","id":1,"method":5})")), -32600);
}

TEST(DispatcherTest, StringAndIntegerIdsAreEchoed) {
  DispatcherHarness harness;
  EXPECT_EQ(harness.send(R"({"jsonrpc":"2.0","id":"abc","method":"ping"})").at("id"), "abc");
  EXPECT_EQ(harness.send(R"({"jsonrpc":"2.0","id":-3,"method":"ping"})").at("id"), -3);
}

TEST(DispatcherTest, UnknownMethodsAndBadParams) {
  DispatcherHarness harness;
  json::object error = harness.error("tools/frobnicate", DispatcherHarness::current());
  EXPECT_EQ(error.at("code"), -32601);
  EXPECT_NE(std::string(error.at("message").as_string()).find("tools/frobnicate"),
            std::string::npos);
  EXPECT_EQ(code_of(harness.send(R"({"jsonrpc":"2.0","id":1,"method":"ping","params":[1]})")),
            -32602);
  EXPECT_EQ(
      code_of(harness.send(R"({"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":3}})")),
      -32602);
}

TEST(DispatcherTest, NotificationsAndClientResponsesGetNoReply) {
  DispatcherHarness harness;
  EXPECT_TRUE(harness.send(R"({"jsonrpc":"2.0","method":"notifications/initialized"})").is_null());
  EXPECT_TRUE(harness.send(R"({"jsonrpc":"2.0","method":"no/such/thing"})").is_null());
  EXPECT_TRUE(harness.send(R"({"jsonrpc":"2.0","id":9,"result":{}})").is_null());
}

// Regression: a `do` sent as a notification (fire-and-forget tracking) was dropped unexecuted.
TEST(DispatcherTest, DoNotificationsRunWithoutAReply) {
  DispatcherHarness harness;
  EXPECT_TRUE(
      harness
          .send(
              R"({"jsonrpc":"2.0","method":"do","params":{"type":"Organization","verb":"create","data":{"name":"Acme"}}})")
          .is_null());
  EXPECT_TRUE(
      harness
          .send(
              R"({"jsonrpc":"2.0","method":"tools/call","params":{"name":"do","arguments":{"type":"Organization","verb":"create","data":{"name":"Beta"}},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}})")
          .is_null());
  EXPECT_EQ(harness.engine.find("Organization", {}).items.size(), 2u);
  EXPECT_TRUE(harness.notifications.empty());
}

TEST(DispatcherTest, FailedDoNotificationsAreLogged) {
  DispatcherHarness harness;
  ::testing::internal::CaptureStderr();
  EXPECT_TRUE(
      harness.send(R"({"jsonrpc":"2.0","method":"do","params":{"type":"Nope"}})").is_null());
  EXPECT_TRUE(
      harness
          .send(
              R"({"jsonrpc":"2.0","method":"tools/call","params":{"name":"do","arguments":{"type":"Organization","verb":"create","data":{}},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}})")
          .is_null());
  std::string logged = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(logged, ::testing::HasSubstr("notification do failed"));
  EXPECT_THAT(logged, ::testing::HasSubstr("Nope"));
  EXPECT_THAT(logged, ::testing::HasSubstr("notification tools/call failed"));
  EXPECT_THAT(logged, ::testing::HasSubstr("name: is required"));
  EXPECT_EQ(harness.engine.find("Organization", {}).items.size(), 0u);
}

TEST(DispatcherTest, CancelledRequestsThatHaveNotStartedGetNoResponse) {
  DispatcherHarness harness;
  harness.send(R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5}})");
  harness.send(
      R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"s","reason":"x"}})");
  EXPECT_TRUE(harness.send(R"({"jsonrpc":"2.0","id":5,"method":"ping"})").is_null());
  EXPECT_TRUE(harness.send(R"({"jsonrpc":"2.0","id":"s","method":"ping"})").is_null());
  EXPECT_TRUE(harness.session.cancelled.empty());
  // The cancellation is used up: a later request reusing the id is answered.
  EXPECT_FALSE(harness.send(R"({"jsonrpc":"2.0","id":5,"method":"ping"})").is_null());
}

TEST(DispatcherTest, PlainMethodsReturnPlainJson) {
  DispatcherHarness harness;
  json::object created = harness.result(
      "do", {{"type", "Experiment"}, {"verb", "create"}, {"data", {{"name", "Plain one"}}}});
  EXPECT_EQ(created.at("status"), "Draft");
  json::object fetched = harness.result("get", {{"type", "Experiment"}, {"id", "plain-one"}});
  EXPECT_EQ(fetched.at("id"), created.at("id"));
  json::object found =
      harness.result("find", {{"type", "Experiment"}, {"filter", {{"status", "Draft"}}}});
  EXPECT_EQ(found.at("items").as_array().size(), 1u);
  EXPECT_FALSE(found.contains("nextCursor"));
  EXPECT_FALSE(found.contains("resultType"));
}

// REST's ETag is the version a plain `get` names beside its reply (Session::answered_version):
// the entity's own, also when a JSON field holds a "version" of its own, and from the cache as
// from the row. Any other answer names none.
TEST(DispatcherTest, APlainGetNamesTheVersionOfTheEntityItAnswered) {
  DispatcherHarness harness;
  json::object created = harness.result(
      "do", {{"type", "FeatureFlag"},
             {"verb", "create"},
             {"data",
              {{"name", "etag flag"}, {"key", "etag-flag"}, {"defaultValue", {{"version", 42}}}}}});
  std::string id(created.at("id").as_string());
  harness.result("do", {{"type", "FeatureFlag"},
                        {"verb", "update"},
                        {"id", id},
                        {"data", {{"defaultValue", {{"version", 43}, {"list", {1, 2}}}}}}});
  EXPECT_FALSE(harness.session.answered_version) << "a do names none";
  for (int served = 0; served < 2; ++served) {
    json::object fetched = harness.result("get", {{"type", "FeatureFlag"}, {"id", id}});
    EXPECT_EQ(fetched.at("defaultValue").at("version"), 43);
    EXPECT_EQ(harness.session.answered_version, fetched.at("version").as_int64());
    EXPECT_EQ(harness.session.answered_version, 2);
  }
  harness.result("find", {{"type", "FeatureFlag"}});
  EXPECT_FALSE(harness.session.answered_version) << "a find names none";
  harness.result("get", {{"type", "FeatureFlag"}, {"id", id}});
  harness.error("get", {{"type", "FeatureFlag"}, {"id", "missing"}});
  EXPECT_FALSE(harness.session.answered_version) << "a failed get names none";
}

TEST(DispatcherTest, PlainMethodsMapDomainErrorsToDocumentedCodes) {
  DispatcherHarness harness;
  std::string id = harness.create_experiment("Codes");
  json::object invalid =
      harness.error("do", {{"type", "Experiment"}, {"verb", "create"}, {"bogus", 1}});
  EXPECT_EQ(invalid.at("code"), -32602);
  EXPECT_EQ(invalid.at("data").at("field"), "bogus");
  EXPECT_EQ(invalid.at("data").at("code"), "invalid_argument");
  EXPECT_EQ(harness.error("get", {{"type", "Experiment"}, {"id", "missing"}}).at("code"), -32004);
  EXPECT_EQ(
      harness.error("do", {{"type", "Experiment"}, {"verb", "conclude"}, {"id", id}}).at("code"),
      -32010);
  EXPECT_EQ(harness
                .error("do", {{"type", "Experiment"},
                              {"verb", "update"},
                              {"id", id},
                              {"data", {{"version", 99}, {"name", "x"}}}})
                .at("code"),
            -32009);
}

TEST(DispatcherTest, TokenSessionsMustAuthenticateFirstOrAreClosed) {
  DispatcherHarness harness({.token = "s3cret"});
  harness.session.transport = "tcp";
  harness.session.requires_token = true;
  json::value refused = harness.send(R"({"jsonrpc":"2.0","id":1,"method":"ping"})");
  EXPECT_EQ(code_of(refused), -32001);
  EXPECT_TRUE(harness.last.close);

  harness.send(R"({"jsonrpc":"2.0","id":2,"method":"auth","params":{"token":"s3cre"}})");
  EXPECT_TRUE(harness.last.close);
  EXPECT_FALSE(harness.session.authenticated);

  json::value accepted =
      harness.send(R"({"jsonrpc":"2.0","id":3,"method":"auth","params":{"token":"s3cret"}})");
  EXPECT_EQ(accepted.at("result").at("authenticated"), true);
  EXPECT_FALSE(harness.last.close);
  EXPECT_TRUE(harness.session.authenticated);
  EXPECT_TRUE(
      harness.send(R"({"jsonrpc":"2.0","id":4,"method":"ping"})").as_object().contains("result"));
}

TEST(DispatcherTest, TokenInMetaAuthenticatesTheFirstRequest) {
  DispatcherHarness harness({.token = "s3cret"});
  harness.session.requires_token = true;
  json::value reply = harness.send(
      R"({"jsonrpc":"2.0","id":1,"method":"find","params":{"type":"Experiment","_meta":{"io.verdict/token":"s3cret"}}})");
  EXPECT_TRUE(reply.at("result").at("items").is_array());
  EXPECT_TRUE(harness.session.authenticated);
}

TEST(DispatcherTest, NoConfiguredTokenNeverAuthenticates) {
  DispatcherHarness harness;
  harness.session.requires_token = true;
  harness.send(R"({"jsonrpc":"2.0","id":1,"method":"auth","params":{"token":""}})");
  EXPECT_TRUE(harness.last.close);
  EXPECT_FALSE(harness.session.authenticated);
}

TEST(DispatcherTest, AuthOnAnOpenSessionWithAWrongTokenKeepsItOpen) {
  DispatcherHarness harness({.token = "s3cret"});
  json::object error = harness.error("auth", {{"token", "nope"}});
  EXPECT_EQ(error.at("code"), -32001);
  EXPECT_FALSE(harness.last.close);
  EXPECT_EQ(harness.error("auth", {}).at("code"), -32602);
}

}  // namespace
}  // namespace verdict::server
