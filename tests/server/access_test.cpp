// Keys over the JSON-RPC dispatcher: who a connection is, what it may see and do, and when it
// stops being anyone.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "plugins/run_script.hpp"
#include "server/error_mapping.hpp"
#include "tests/server/dispatcher_harness.hpp"

namespace verdict::server {
namespace {

namespace json = boost::json;
using testing::DispatcherHarness;

ScriptRunner lua_scripts() {
  return
      [](Engine& engine, const std::string& source, const std::string& actor,
         const Caller& caller) { return plugins::run_script(engine, source, actor, {}, caller); };
}

class AccessTest : public ::testing::Test {
 protected:
  AccessTest() : h_({}, lua_scripts()) {
    h_.engine.keys().create_project("acme", "Acme");
    h_.engine.keys().create_project("beta", "Beta");
    acme_writer_ = h_.engine.keys().create_key("acme", Role::kWriter, "acme-writer");
    beta_ = h_.engine.keys().operator_of("beta");
    auto created = h_.engine.execute({.noun = "Experiment",
                                      .verb = "create",
                                      .data = {{"name", "Beta Secret"}},
                                      .caller = beta_});
    beta_experiment_ = std::string(created.at("id").as_string());
    h_.session.transport = "tcp";
    h_.session.actor = "tcp:127.0.0.1:1";
  }
  json::object with_key(json::object params, const std::string& secret) {
    json::object meta;
    if (auto* existing = params.if_contains("_meta")) meta = existing->as_object();
    meta["io.verdict/token"] = secret;
    params["_meta"] = std::move(meta);
    return params;
  }
  std::string beta_digest() {
    FindQuery query;
    query.limit = 1000;
    std::string text;
    for (const char* noun : {"Experiment", "Event", "Organization"})
      for (const auto& item : h_.engine.find(beta_, noun, query).items)
        text += json::serialize(item);
    return text + json::serialize(h_.engine.get(beta_, "Experiment", beta_experiment_, true));
  }

  DispatcherHarness h_;
  access::NewKey acme_writer_;
  Caller beta_;
  std::string beta_experiment_;
};

TEST_F(AccessTest, AKeyActsInItsProjectAndIsRecordedAsTheActor) {
  auto auth = h_.result("auth", {{"token", acme_writer_.secret}});
  EXPECT_EQ(auth.at("project"), "acme");
  EXPECT_EQ(auth.at("role"), "writer");
  auto created = h_.result(
      "do", {{"type", "Experiment"}, {"verb", "create"}, {"data", {{"name", "Beta Secret"}}}});
  EXPECT_EQ(created.at("slug"), "beta-secret") << "slugs are per project";
  auto found = h_.result("find", {{"type", "Experiment"}});
  ASSERT_EQ(found.at("items").as_array().size(), 1u);
  EXPECT_EQ(found.at("items").at(0).at("id"), created.at("id"));
  auto history = h_.result(
      "get", {{"type", "Experiment"}, {"id", created.at("id")}, {"include", {"history"}}});
  const auto& event = history.at("history").at(0);
  EXPECT_EQ(event.at("key").at("id").as_string(), acme_writer_.key.id);
  EXPECT_EQ(event.at("key").at("name"), "acme-writer");
  EXPECT_EQ(event.at("actor"), "tcp:127.0.0.1:1");
}

// Project A's key against project B's entities, on every path the dispatcher offers: A is told
// "not found" and B's data does not change.
TEST_F(AccessTest, AnotherProjectsEntitiesAreNotFoundOnEveryPath) {
  std::string before = beta_digest();
  h_.result("auth", {{"token", acme_writer_.secret}});
  for (const std::string& name : {beta_experiment_, std::string("beta-secret")}) {
    auto get = h_.error("get", {{"type", "Experiment"}, {"id", name}});
    EXPECT_EQ(get.at("code"), kNotFoundCode) << json::serialize(get);
    for (const char* verb : {"update", "start", "delete", "analyze"}) {
      auto refused = h_.error("do", {{"type", "Experiment"}, {"verb", verb}, {"id", name}});
      EXPECT_EQ(refused.at("code"), kNotFoundCode) << verb << json::serialize(refused);
    }
    auto resource = h_.error("resources/read",
                             DispatcherHarness::current({{"uri", "verdict://Experiment/" + name}}));
    EXPECT_NE(json::serialize(resource).find("no Experiment"), std::string::npos)
        << json::serialize(resource);
    auto prompt = h_.error("prompts/get",
                           DispatcherHarness::current({{"name", "analyze-experiment"},
                                                       {"arguments", {{"experiment", name}}}}));
    EXPECT_NE(json::serialize(prompt).find("no Experiment"), std::string::npos)
        << json::serialize(prompt);
  }
  auto filtered =
      h_.result("find", {{"type", "Event"}, {"filter", {{"subject", beta_experiment_}}}});
  EXPECT_TRUE(filtered.at("items").as_array().empty());
  auto related = h_.error("do", {{"type", "Event"},
                                 {"verb", "create"},
                                 {"data", {{"type", "x"}, {"subject", beta_experiment_}}}});
  EXPECT_NE(json::serialize(related).find("subject"), std::string::npos)
      << json::serialize(related);
  EXPECT_EQ(beta_digest(), before);
}

TEST_F(AccessTest, ScriptsSeeTheirProjectOnlyAndNeedAnAdmin) {
  auto admin = h_.engine.keys().create_key("acme", Role::kAdmin, "acme-admin");
  std::string script =
      "local found = Experiment.find{} local ok, err = pcall(function() return "
      "Experiment.get('" +
      beta_experiment_ + "') end) return {count = #found, hidden = not ok}";
  auto refused = h_.call_tool("do", {{"script", script}});
  EXPECT_TRUE(refused.contains("isError")) << "an unkeyed tcp client runs no scripts";
  h_.result("auth", {{"token", acme_writer_.secret}});
  auto writer = h_.call_tool("do", {{"script", script}});
  ASSERT_TRUE(writer.contains("isError"));
  EXPECT_NE(json::serialize(writer).find("admin"), std::string::npos) << json::serialize(writer);
  h_.result("auth", {{"token", admin.secret}});
  auto result = DispatcherHarness::text_of(h_.call_tool("do", {{"script", script}}));
  EXPECT_EQ(result.at("count"), 0) << json::serialize(result);
  EXPECT_EQ(result.at("hidden"), true);
}

TEST_F(AccessTest, AWrongKeyIsRefusedAndNeverFallsBackToTheOperator) {
  auto error = h_.error("find", with_key({{"type", "Experiment"}}, "vk_not-a-key-at-all"));
  EXPECT_EQ(error.at("code"), kUnauthorizedCode);
  EXPECT_NE(std::string(error.at("message").as_string()).find("wrong token"), std::string::npos);
  auto per_request = h_.result("find", with_key({{"type", "Experiment"}}, acme_writer_.secret));
  EXPECT_TRUE(per_request.at("items").as_array().empty()) << "acme has no experiments yet";
  auto as_operator = h_.result("find", {{"type", "Experiment"}});
  EXPECT_TRUE(as_operator.at("items").as_array().empty())
      << "an unkeyed loopback client is the default project's operator";
}

TEST_F(AccessTest, RolesAreCheckedOnTheWire) {
  auto reader = h_.engine.keys().create_key("acme", Role::kReader, "reader");
  h_.result("auth", {{"token", reader.secret}});
  auto error =
      h_.error("do", {{"type", "Experiment"}, {"verb", "create"}, {"data", {{"name", "x"}}}});
  EXPECT_EQ(error.at("code"), kUnauthorizedCode);
  EXPECT_NE(std::string(error.at("message").as_string()).find("writer"), std::string::npos)
      << json::serialize(error);
  EXPECT_TRUE(h_.result("find", {{"type", "Experiment"}}).at("items").as_array().empty());
}

TEST_F(AccessTest, AKeyRevokedDuringTheConnectionStopsAtTheNextRequest) {
  h_.session.requires_token = true;
  h_.result("auth", {{"token", acme_writer_.secret}});
  h_.result("find", {{"type", "Experiment"}});
  h_.engine.keys().revoke(acme_writer_.key.id);
  auto error = h_.error("find", {{"type", "Experiment"}});
  EXPECT_EQ(error.at("code"), kUnauthorizedCode);
  EXPECT_NE(std::string(error.at("message").as_string()).find("revoked"), std::string::npos);
  EXPECT_TRUE(h_.last.close) << "a connection that needs a key is closed";
}

// On a loopback socket without --require-keys an unkeyed client is the default project's
// operator; a client whose key stops working must not silently become that operator.
TEST_F(AccessTest, ARevokedKeyOnALoopbackSocketStaysRefusedUntilANewAuth) {
  ASSERT_FALSE(h_.session.requires_token);
  h_.result("auth", {{"token", acme_writer_.secret}});
  h_.engine.keys().revoke(acme_writer_.key.id);
  EXPECT_EQ(h_.error("find", {{"type", "Experiment"}}).at("code"), kUnauthorizedCode);
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto again = h_.error("find", {{"type", "Experiment"}});
    EXPECT_EQ(again.at("code"), kUnauthorizedCode) << json::serialize(again);
    auto write =
        h_.error("do", {{"type", "Experiment"}, {"verb", "create"}, {"data", {{"name", "x"}}}});
    EXPECT_EQ(write.at("code"), kUnauthorizedCode) << json::serialize(write);
  }
  EXPECT_FALSE(h_.last.close) << "a loopback connection is refused, not closed";
  auto reader = h_.engine.keys().create_key("acme", Role::kReader, "reader");
  EXPECT_EQ(h_.result("auth", {{"token", reader.secret}}).at("role"), "reader");
  EXPECT_TRUE(h_.result("find", {{"type", "Experiment"}}).at("items").as_array().empty());
}

TEST_F(AccessTest, AFailedAuthOnALoopbackSocketStaysRefusedUntilANewAuth) {
  ASSERT_FALSE(h_.session.requires_token);
  h_.result("find", {{"type", "Experiment"}});  // unkeyed: the default project's operator
  EXPECT_EQ(h_.error("auth", {{"token", "vk_wrong"}}).at("code"), kUnauthorizedCode);
  auto refused = h_.error("find", {{"type", "Experiment"}});
  EXPECT_EQ(refused.at("code"), kUnauthorizedCode);
  EXPECT_NE(std::string(refused.at("message").as_string()).find("auth"), std::string::npos)
      << json::serialize(refused);
  EXPECT_EQ(h_.error("tools/list", DispatcherHarness::current()).at("code"), kUnauthorizedCode);
  EXPECT_EQ(h_.result("auth", {{"token", acme_writer_.secret}}).at("project"), "acme");
  h_.result("do", {{"type", "Experiment"}, {"verb", "create"}, {"data", {{"name", "After"}}}});
}

TEST_F(AccessTest, StdioIsTheOperatorOfItsProject) {
  h_.session.transport = "stdio";
  h_.session.caller = h_.session.unkeyed = h_.engine.keys().operator_of("beta");
  auto found = h_.result("find", {{"type", "Experiment"}});
  ASSERT_EQ(found.at("items").as_array().size(), 1u);
  EXPECT_EQ(found.at("items").at(0).at("id").as_string(), beta_experiment_);
  EXPECT_EQ(h_.error("auth", {{"token", "vk_wrong"}}).at("code"), kUnauthorizedCode);
  EXPECT_EQ(h_.result("find", {{"type", "Experiment"}}).at("items").as_array().size(), 1u)
      << "a failed auth leaves stdio the operator of its own project, not of default";
}

// `verdict keys revoke` in a shell writes through another connection; the server's next request
// on an open connection must see it.
TEST(AccessFileTest, ARevocationByAnotherProcessIsSeenAtTheNextRequest) {
  auto path = std::filesystem::temp_directory_path() /
              ("verdict_access_test_" + std::to_string(::getpid()) + ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  {
    Engine engine(path.string());
    Dispatcher dispatcher(engine, {});
    auto key = engine.keys().create_key("default", Role::kReader, "r");
    Session session;
    session.transport = "tcp";
    session.requires_token = true;
    auto line = [&](std::string text) { return dispatcher.handle_line(text, session); };
    Reply ok = line(R"({"jsonrpc":"2.0","id":1,"method":"auth","params":{"token":")" + key.secret +
                    R"("}})");
    EXPECT_EQ(ok.line.find("error"), std::string::npos) << ok.line;
    {
      Engine shell(path.string());
      shell.keys().revoke(key.key.id);
    }
    Reply refused = line(R"({"jsonrpc":"2.0","id":2,"method":"find","params":{"type":"Metric"}})");
    EXPECT_NE(refused.line.find("revoked"), std::string::npos) << refused.line;
    EXPECT_TRUE(refused.close);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
}

}  // namespace
}  // namespace verdict::server
