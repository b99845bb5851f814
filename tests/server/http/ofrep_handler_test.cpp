#include "server/http/ofrep_handler.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cstdio>
#include <fstream>

#include "tests/support/flag_server.hpp"

// OFREP end to end: `verdict serve --listen http://` as a child process, flags made over MCP,
// evaluated with raw HTTP so every status, errorCode and header OFREP fixes is checked.

namespace verdict::server::http {
namespace {

namespace json = boost::json;
using test_support::FlagServerTest;
using test_support::Headers;
using test_support::kJson;

TEST_F(FlagServerTest, SingleEvaluationFollowsTheFlagsState) {
  start();
  std::string id = create_flag(
      {{"key", "new-nav"},
       {"type", "String"},
       {"defaultValue", "old"},
       {"variants",
        json::array{{{"key", "old"}, {"value", "old"}}, {{"key", "new"}, {"value", "new"}}}},
       {"targetingRules",
        json::array{{{"id", "beta"}, {"condition", {{"beta", true}}}, {"force", "new"}}}}});
  const std::string beta = R"({"context":{"targetingKey":"u1","beta":true}})";
  auto off = post("/ofrep/v1/evaluate/flags/new-nav", beta);
  ASSERT_TRUE(off);
  EXPECT_EQ(off->result_int(), 200u);
  EXPECT_EQ(json::parse(off->body()),
            json::parse(R"({"key":"new-nav","reason":"DISABLED","value":"old","variant":"old"})"));

  act({{"type", "FeatureFlag"}, {"verb", "enable"}, {"id", id}});
  auto on = post("/ofrep/v1/evaluate/flags/new-nav", beta);
  ASSERT_TRUE(on);
  EXPECT_EQ(json::parse(on->body()),
            json::parse(R"({"key":"new-nav","reason":"TARGETING_MATCH","value":"new",)"
                        R"("variant":"new","metadata":{"ruleId":"beta"}})"));
  auto other = post("/ofrep/v1/evaluate/flags/new-nav", R"({"context":{"targetingKey":"u2"}})");
  ASSERT_TRUE(other);
  EXPECT_EQ(json::parse(other->body()).at("value"), "old");
  EXPECT_EQ(json::parse(other->body()).at("reason"), "STATIC") << "OFREP has no DEFAULT reason";
}

TEST_F(FlagServerTest, ErrorsUseOfrepCodes) {
  start();
  create_flag({{"key", "f"}, {"type", "Boolean"}, {"defaultValue", false}});
  auto expect_error = [&](const std::string& path, const std::string& body, unsigned status,
                          const char* code) {
    auto response = post(path, body);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->result_int(), status) << body;
    auto parsed = json::parse(response->body()).as_object();
    EXPECT_EQ(parsed.at("errorCode"), code) << body;
    EXPECT_TRUE(parsed.at("errorDetails").is_string());
  };
  expect_error("/ofrep/v1/evaluate/flags/missing", R"({"context":{"targetingKey":"u"}})", 404,
               "FLAG_NOT_FOUND");
  expect_error("/ofrep/v1/evaluate/flags/f", "{not json", 400, "PARSE_ERROR");
  expect_error("/ofrep/v1/evaluate/flags/f", R"({"context":{}})", 400, "TARGETING_KEY_MISSING");
  expect_error("/ofrep/v1/evaluate/flags/f", R"({"context":{"targetingKey":7}})", 400,
               "INVALID_CONTEXT");
  expect_error("/ofrep/v1/evaluate/flags/f", R"({"context":[]})", 400, "INVALID_CONTEXT");
  expect_error("/ofrep/v1/evaluate/flags", R"({})", 400, "INVALID_CONTEXT");
  auto missing = post("/ofrep/v1/evaluate/flags/missing", R"({"context":{"targetingKey":"u"}})");
  EXPECT_EQ(json::parse(missing->body()).at("key"), "missing");
}

// A running experiment's variants edited after its flag was linked leave a unit the flag has no
// value for: an evaluation failure the provider answers with its own default, never a 500.
TEST_F(FlagServerTest, AnErrorEvaluationIsAnEvaluationFailureNotAServerError) {
  start();
  const std::string experiment(
      act({{"type", "Experiment"},
           {"verb", "create"},
           {"data",
            {{"name", "Colors"},
             {"primaryMetric", "buy"},
             {"variants", json::array{{{"key", "control"}}, {{"key", "green"}}}}}}})
          .at("id")
          .as_string());
  const std::string id =
      create_flag({{"key", "color"},
                   {"type", "String"},
                   {"defaultValue", "blue"},
                   {"experiment", experiment},
                   {"variants", json::array{{{"key", "control"}, {"value", "blue"}},
                                            {{"key", "green"}, {"value", "green"}}}}});
  act({{"type", "FeatureFlag"}, {"verb", "enable"}, {"id", id}});
  act({{"type", "Experiment"}, {"verb", "start"}, {"id", experiment}});
  act({{"type", "Experiment"}, {"verb", "run"}, {"id", experiment}});
  act({{"type", "Experiment"},
       {"verb", "update"},
       {"id", experiment},
       {"data",
        {{"variants",
          json::array{{{"key", "control"}, {"weight", 0}}, {{"key", "red"}, {"weight", 100}}}}}}});
  const std::string body = R"({"context":{"targetingKey":"u1"}})";
  auto single = post("/ofrep/v1/evaluate/flags/color", body);
  ASSERT_TRUE(single);
  EXPECT_EQ(single->result_int(), 400u);
  const auto failure = json::parse(single->body()).as_object();
  EXPECT_EQ(failure.at("key"), "color");
  EXPECT_EQ(failure.at("errorCode"), "GENERAL");
  EXPECT_NE(std::string(failure.at("errorDetails").as_string()).find("'red'"), std::string::npos);
  auto bulk = post("/ofrep/v1/evaluate/flags", body);
  ASSERT_TRUE(bulk);
  EXPECT_EQ(bulk->result_int(), 200u);
  EXPECT_EQ(json::parse(bulk->body()).at("flags").at(0).at("errorCode"), "GENERAL");
}

TEST_F(FlagServerTest, BulkEvaluationCarriesAnEtagAndAnswers304UntilAFlagChanges) {
  start();
  std::string id = create_flag({{"key", "a"}, {"type", "Boolean"}, {"defaultValue", false}});
  create_flag({{"key", "b"}, {"type", "Number"}, {"defaultValue", 3}});
  const std::string body = R"({"context":{"targetingKey":"u1"}})";
  auto first = post("/ofrep/v1/evaluate/flags", body);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->result_int(), 200u);
  std::string etag((*first)[beast_http::field::etag]);
  ASSERT_FALSE(etag.empty());
  auto flags = json::parse(first->body()).at("flags").as_array();
  ASSERT_EQ(flags.size(), 2u);
  EXPECT_EQ(flags[0].at("key"), "a");
  EXPECT_EQ(flags[1].at("value"), 3);

  Headers conditional = kJson;
  conditional["If-None-Match"] = etag;
  auto cached = post("/ofrep/v1/evaluate/flags", body, conditional);
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->result_int(), 304u);
  EXPECT_TRUE(cached->body().empty());

  act({{"type", "FeatureFlag"}, {"verb", "rollout"}, {"id", id}});
  auto changed = post("/ofrep/v1/evaluate/flags", body, conditional);
  ASSERT_TRUE(changed);
  EXPECT_EQ(changed->result_int(), 200u);
  EXPECT_NE((*changed)[beast_http::field::etag], etag);
  EXPECT_EQ(json::parse(changed->body()).at("flags").at(0).at("value"), true);
}

TEST_F(FlagServerTest, ANonLoopbackListenerNeedsTheBearerToken) {
  std::string token_file = test_support::token_file("ofrep", "0123456789abcdef0123");
  start({"--token-file", token_file}, "0.0.0.0");
  const std::string body = R"({"context":{"targetingKey":"u1"}})";
  auto refused = post("/ofrep/v1/evaluate/flags", body);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result_int(), 401u);
  Headers authorized = kJson;
  authorized["Authorization"] = "Bearer 0123456789abcdef0123";
  auto allowed = post("/ofrep/v1/evaluate/flags", body, authorized);
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->result_int(), 200u);
  std::remove(token_file.c_str());
}

}  // namespace
}  // namespace verdict::server::http
