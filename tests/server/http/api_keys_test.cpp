// API keys over HTTP, against the real binary: the shell makes projects and keys, the server
// scopes every request to its key's project, and a revocation reaches an open connection.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>

#include "core/engine.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/test_store.hpp"

namespace verdict::server::http {
namespace {

namespace json = boost::json;
using verb = test_support::beast_http::verb;
using test_support::HttpClient;
using test_support::ServerProcess;
using Headers = std::map<std::string, std::string>;

class ApiKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = test_support::shared_store(test_support::temp_path("api_keys", "db"));
    test_support::remove_database(db_);
    shell({"projects", "create", "--db", db_, "acme"});
    shell({"projects", "create", "--db", db_, "beta"});
  }
  void TearDown() override { test_support::remove_database(db_); }

  // Runs `verdict ARGS` and returns its stdout; the command must succeed.
  std::string shell(std::vector<std::string> args) {
    ServerProcess command(std::move(args));
    command.close_stdin();
    std::string out = command.read_all_stdout();
    EXPECT_EQ(command.wait(), 0) << command.read_all_stderr();
    return out;
  }
  std::string create_key(const std::string& project, const std::string& role) {
    std::string out = shell(
        {"keys", "create", "--db", db_, "--project", project, "--role", role, "--name", role});
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out.substr(out.rfind('\n') + 1);  // the secret, alone on the last line
  }
  void start() {
    port_ = test_support::free_tcp_port();
    server_.emplace(std::vector<std::string>{"serve", "--db", db_, "--no-stdio", "--require-keys",
                                             "--log-level", "error", "--listen",
                                             "http://127.0.0.1:" + std::to_string(port_)});
    client_.emplace(port_);
  }
  std::optional<test_support::HttpResult> call(HttpClient& client, const std::string& body,
                                               Headers headers) {
    headers["Content-Type"] = "application/json";
    return client.request(verb::post, "/mcp", body, headers);
  }
  static std::string rpc(const std::string& method, json::object params) {
    return json::serialize(json::object{
        {"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", std::move(params)}});
  }

  std::string db_;
  int port_ = 0;
  std::optional<ServerProcess> server_;
  std::optional<HttpClient> client_;
};

TEST_F(ApiKeysTest, KeysScopeRequestsToTheirProject) {
  std::string acme = create_key("acme", "writer");
  std::string beta = create_key("beta", "writer");
  EXPECT_TRUE(acme.starts_with("vk_")) << acme;
  start();
  auto missing = call(*client_, rpc("find", {{"type", "Experiment"}}), {});
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->result_int(), 401u) << "--require-keys: loopback needs a key too";
  auto wrong = call(*client_, rpc("find", {{"type", "Experiment"}}), {{"X-API-Key", "vk_nope"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->result_int(), 401u) << wrong->body();

  auto created =
      call(*client_,
           rpc("do", {{"type", "Experiment"}, {"verb", "create"}, {"data", {{"name", "Hidden"}}}}),
           {{"Authorization", "Bearer " + beta}});
  ASSERT_TRUE(created);
  ASSERT_EQ(created->result_int(), 200u);
  std::string id(json::parse(created->body()).at("result").at("id").as_string());
  auto theirs =
      call(*client_, rpc("get", {{"type", "Experiment"}, {"id", id}}), {{"X-API-Key", acme}});
  ASSERT_TRUE(theirs);
  EXPECT_NE(theirs->body().find("no Experiment"), std::string::npos) << theirs->body();
  auto mine =
      call(*client_, rpc("get", {{"type", "Experiment"}, {"id", "hidden"}}), {{"X-API-Key", beta}});
  ASSERT_TRUE(mine);
  EXPECT_NE(mine->body().find(id), std::string::npos) << mine->body();
}

TEST_F(ApiKeysTest, ARevokedKeyStopsOnTheOpenConnection) {
  std::string key = create_key("acme", "reader");
  start();
  std::string find = rpc("find", {{"type", "Experiment"}});
  auto before = call(*client_, find, {{"Authorization", "Bearer " + key}});
  ASSERT_TRUE(before);
  EXPECT_EQ(before->result_int(), 200u) << before->body();
  std::string listed = shell({"keys", "list", "--db", db_, "--project", "acme"});
  std::string key_id = listed.substr(0, listed.find(' '));
  EXPECT_TRUE(key_id.starts_with("key_")) << listed;
  EXPECT_EQ(listed.find(key), std::string::npos) << "the secret is never listed";
  shell({"keys", "revoke", "--db", db_, key_id});
  auto after = call(*client_, find, {{"Authorization", "Bearer " + key}});
  ASSERT_TRUE(after);
  EXPECT_EQ(after->result_int(), 401u) << after->body();
  EXPECT_NE(after->body().find("wrong token"), std::string::npos) << after->body();
}

// The shell's changes are in the audit trail like `do`'s: who (the `cli` actor) and when.
TEST_F(ApiKeysTest, TheShellsChangesAreInTheEventLog) {
  create_key("acme", "writer");
  std::string listed = shell({"keys", "list", "--db", db_, "--project", "acme"});
  std::string key_id = listed.substr(0, listed.find(' '));
  shell({"keys", "revoke", "--db", db_, key_id});
  Engine engine(db_);
  Caller root = Caller::local_operator();
  auto projects = engine.find(root, "Project", {}).items;
  std::vector<std::string> created;
  for (const auto& project : projects) {
    if (project.at("slug") == "default") continue;
    auto history = engine.get(root, "Project", project.at("id").as_string(), true).at("history");
    ASSERT_EQ(history.as_array().size(), 1u) << json::serialize(history);
    EXPECT_EQ(history.at(0).at("type"), "Project.Created");
    EXPECT_EQ(history.at(0).at("actor"), "cli");
    created.emplace_back(history.at(0).at("data").at("slug").as_string());
  }
  std::sort(created.begin(), created.end());
  EXPECT_EQ(created, (std::vector<std::string>{"acme", "beta"}));
  Caller acme = engine.keys().operator_of("acme");
  auto history = engine.get(acme, "Key", key_id, true).at("history");
  ASSERT_EQ(history.as_array().size(), 2u) << json::serialize(history);
  EXPECT_EQ(history.at(0).at("type"), "Key.Created");
  EXPECT_EQ(history.at(0).at("data").at("role"), "writer");
  EXPECT_EQ(history.at(1).at("type"), "Key.Revoked");
  for (const auto& event : history.as_array()) EXPECT_EQ(event.at("actor"), "cli");
}

TEST_F(ApiKeysTest, OfrepNeedsAnEvaluatorKeyOfTheFlagsProject) {
  std::string writer = create_key("beta", "writer");
  std::string evaluator = create_key("beta", "evaluator");
  std::string other = create_key("acme", "evaluator");
  std::string reader = create_key("beta", "reader");
  start();
  auto flag = call(*client_,
                   rpc("do", {{"type", "FeatureFlag"},
                              {"verb", "create"},
                              {"data",
                               {{"key", "new-nav"},
                                {"name", "new-nav"},
                                {"type", "Boolean"},
                                {"defaultValue", false}}}}),
                   {{"X-API-Key", writer}});
  ASSERT_TRUE(flag);
  ASSERT_EQ(flag->result_int(), 200u) << flag->body();
  const std::string body = R"({"context":{"targetingKey":"u1"}})";
  auto status = [&](const std::string& key) {
    Headers headers{{"Content-Type", "application/json"}, {"X-API-Key", key}};
    auto response = client_->request(verb::post, "/ofrep/v1/evaluate/flags/new-nav", body, headers);
    return response ? static_cast<int>(response->result_int()) : 0;
  };
  EXPECT_EQ(status(evaluator), 200);
  EXPECT_EQ(status(other), 404) << "another project's flag does not exist";
  EXPECT_EQ(status(reader), 403) << "a reader is known but may not evaluate";
}

}  // namespace
}  // namespace verdict::server::http
