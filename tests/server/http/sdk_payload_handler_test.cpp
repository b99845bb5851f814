#include "server/http/sdk_payload_handler.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cstdio>

#include "tests/support/flag_server.hpp"

// GET /api/features/{clientKey} against `verdict serve` as a child process: who may read it,
// its ETag, and a payload whose rules are what GrowthBook's SDKs evaluate.

namespace verdict::server::http {
namespace {

namespace json = boost::json;
using test_support::FlagServerTest;
using test_support::Headers;

constexpr const char* kToken = "0123456789abcdef0123";

class SdkPayloadTest : public FlagServerTest {
 protected:
  void start_with_token(std::string host = "127.0.0.1") {
    token_file_ = test_support::token_file("sdk", kToken);
    start({"--token-file", token_file_}, std::move(host));
  }
  void TearDown() override {
    if (!token_file_.empty()) std::remove(token_file_.c_str());
    FlagServerTest::TearDown();
  }
  std::string token_file_;
};

TEST_F(SdkPayloadTest, TheClientKeyIsTheListenersTokenAndAnythingElseIsRefused) {
  start_with_token("0.0.0.0");
  auto served = get(std::string("/api/features/") + kToken);
  ASSERT_TRUE(served);
  EXPECT_EQ(served->result_int(), 200u) << "no Authorization header: the key is in the path";
  auto payload = json::parse(served->body()).as_object();
  EXPECT_TRUE(payload.at("features").as_object().empty());
  EXPECT_EQ(payload.at("status"), 200);

  auto wrong = get("/api/features/0123456789abcdef0124");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->result_int(), 401u);
  EXPECT_EQ(json::parse(wrong->body()).at("status"), 401);
  auto none = get("/api/features/");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->result_int(), 404u);
  auto nested = get(std::string("/api/features/") + kToken + "/x");
  ASSERT_TRUE(nested);
  EXPECT_EQ(nested->result_int(), 404u);
  // The exemption is for this path only: OFREP still needs the header.
  auto ofrep = post("/ofrep/v1/evaluate/flags", R"({"context":{"targetingKey":"u1"}})");
  ASSERT_TRUE(ofrep);
  EXPECT_EQ(ofrep->result_int(), 401u);
}

TEST_F(SdkPayloadTest, AListenerWithoutATokenHasNoClientKey) {
  start();
  auto refused = get("/api/features/anything");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result_int(), 401u);
}

TEST_F(SdkPayloadTest, PayloadHasAnEtagAnd304UntilAFlagChanges) {
  start_with_token();
  const std::string path = std::string("/api/features/") + kToken;
  std::string id = create_flag({{"key", "dark-mode"},
                                {"type", "Boolean"},
                                {"defaultValue", false},
                                {"rolloutPercentage", 30}});
  auto first = get(path);
  ASSERT_TRUE(first);
  const std::string etag((*first)[beast_http::field::etag]);
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(json::parse(first->body()).at("features").at("dark-mode"),
            json::parse(R"({"defaultValue":false,"rules":[]})"))
      << "a Draft flag serves its default";
  auto cached = get(path, {{"If-None-Match", etag}});
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->result_int(), 304u);
  EXPECT_TRUE(cached->body().empty());

  act({{"type", "FeatureFlag"}, {"verb", "enable"}, {"id", id}});
  auto changed = get(path, {{"If-None-Match", etag}});
  ASSERT_TRUE(changed);
  EXPECT_EQ(changed->result_int(), 200u);
  EXPECT_NE((*changed)[beast_http::field::etag], etag);
  EXPECT_EQ(json::parse(changed->body()).at("features").at("dark-mode").at("rules"),
            json::parse(R"([{"id":"rolloutPercentage","force":true,"coverage":0.3,)"
                        R"("hashAttribute":"id","seed":"dark-mode","hashVersion":2}])"));
}

TEST_F(SdkPayloadTest, ALinkedRunningExperimentIsAnExperimentRuleThenTheWinnerIsForced) {
  start_with_token();
  const std::string path = std::string("/api/features/") + kToken;
  std::string experiment =
      std::string(act({{"type", "Experiment"},
                       {"verb", "create"},
                       {"data",
                        {{"name", "Buttons"},
                         {"primaryMetric", "buy"},
                         {"seed", "buttons-seed"},
                         {"trafficAllocation", 80},
                         {"variants", json::array{{{"key", "control"}, {"weight", 50}},
                                                  {{"key", "green"}, {"weight", 50}}}}}}})
                      .at("id")
                      .as_string());
  std::string flag =
      create_flag({{"key", "button"},
                   {"type", "String"},
                   {"defaultValue", "grey"},
                   {"experiment", experiment},
                   {"variants", json::array{{{"key", "control"}, {"value", "grey"}},
                                            {{"key", "green"}, {"value", "green"}}}}});
  act({{"type", "FeatureFlag"}, {"verb", "enable"}, {"id", flag}});
  act({{"type", "Experiment"}, {"verb", "start"}, {"id", experiment}});
  act({{"type", "Experiment"}, {"verb", "run"}, {"id", experiment}});

  auto running = get(path);
  ASSERT_TRUE(running);
  const json::object rule =
      json::parse(running->body()).at("features").at("button").at("rules").at(0).as_object();
  EXPECT_EQ(rule.at("key"), json::value(experiment));
  EXPECT_EQ(rule.at("seed"), "buttons-seed");
  EXPECT_EQ(rule.at("hashAttribute"), "id");
  EXPECT_EQ(rule.at("hashVersion"), 2);
  EXPECT_EQ(rule.at("coverage").to_number<double>(), 0.8);
  EXPECT_EQ(rule.at("variations"), json::parse(R"(["grey","green"])"));
  EXPECT_EQ(rule.at("ranges"), json::parse("[[0,0.4],[0.5,0.9]]"));
  EXPECT_EQ(rule.at("meta").at(1).at("key"), "green");

  act({{"type", "Experiment"},
       {"verb", "conclude"},
       {"id", experiment},
       {"data", {{"winner", "green"}, {"force", true}, {"reason", "test"}}}});
  auto concluded = get(path);
  ASSERT_TRUE(concluded);
  EXPECT_EQ(json::parse(concluded->body()).at("features").at("button").at("rules").at(0),
            json::parse(R"({"id":")" + experiment +
                        R"(","force":"green","coverage":1,"hashAttribute":"id"})"));
  act({{"type", "FeatureFlag"}, {"verb", "rollout"}, {"id", flag}});
  auto rolled_out = get(path);
  ASSERT_TRUE(rolled_out);
  EXPECT_EQ(json::parse(rolled_out->body()).at("features").at("button").at("rules"),
            json::parse(R"([{"id":")" + experiment + R"(","force":"green"}])"));
}

}  // namespace
}  // namespace verdict::server::http
