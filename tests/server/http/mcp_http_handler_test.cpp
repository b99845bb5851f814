#include "server/http/mcp_http_handler.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/support/http_client.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/test_store.hpp"

// MCP over HTTP end to end: `verdict serve --listen http://` as a child process and a raw
// HTTP/1.1 client, so every status code and header the Streamable HTTP rules fix is checked.

namespace verdict::server::http {
namespace {

namespace json = boost::json;
using test_support::HttpClient;
using test_support::HttpResult;
using test_support::ServerProcess;
using verb = beast_http::verb;
using Headers = std::map<std::string, std::string>;

constexpr const char* kMeta = R"("_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",)"
                              R"("io.modelcontextprotocol/clientCapabilities":{}})";

std::string current_call(int id, const std::string& name, const std::string& arguments) {
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
         R"(,"method":"tools/call","params":{"name":")" + name + R"(","arguments":)" + arguments +
         "," + kMeta + "}}";
}

Headers current_headers(const std::string& method, const std::string& name = {}) {
  Headers headers{{"Content-Type", "application/json"},
                  {"Accept", "application/json, text/event-stream"},
                  {"MCP-Protocol-Version", "2026-07-28"},
                  {"Mcp-Method", method}};
  if (!name.empty()) headers["Mcp-Name"] = name;
  return headers;
}

const Headers kLegacyHeaders{{"Content-Type", "application/json"},
                             {"Accept", "application/json, text/event-stream"}};

json::object body_of(const HttpResult& response) {
  return json::parse(response.body()).as_object();
}

class McpHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = test_support::free_tcp_port();
    db_ = test_support::shared_store(test_support::temp_path("mcp_http", "db"));
    test_support::remove_database(db_);
    server_.emplace(std::vector<std::string>{"serve", "--db", db_, "--no-stdio", "--listen",
                                             "http://127.0.0.1:" + std::to_string(port_),
                                             "--log-level", "error"});
  }
  void TearDown() override { test_support::remove_database(db_); }

  std::string initialize(HttpClient& client) {
    auto response = client.request(
        verb::post, "/mcp",
        R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})",
        kLegacyHeaders);
    EXPECT_TRUE(response);
    if (!response) return {};
    EXPECT_EQ(response->result_int(), 200u);
    return std::string((*response)["Mcp-Session-Id"]);
  }

  int port_ = 0;
  std::string db_;
  std::optional<ServerProcess> server_;
};

TEST_F(McpHttpTest, CurrentEraCallAnswersJsonWithResultType) {
  HttpClient client(port_);
  auto response =
      client.request(verb::post, "/mcp", current_call(7, "find", R"({"type":"Experiment"})"),
                     current_headers("tools/call", "find"));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 200u);
  EXPECT_EQ((*response)[beast_http::field::content_type], "application/json");
  auto body = body_of(*response);
  EXPECT_EQ(body.at("id"), 7);
  EXPECT_EQ(body.at("result").at("resultType"), "complete");
  EXPECT_TRUE((*response)["Mcp-Session-Id"].empty()) << "the stateless era mints no session";
}

TEST_F(McpHttpTest, CurrentEraProgressComesAsSseWhenAccepted) {
  HttpClient client(port_);
  std::string body = R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"find",)"
                     R"("arguments":{"type":"Experiment"},"_meta":{"progressToken":"p",)"
                     R"("io.modelcontextprotocol/protocolVersion":"2026-07-28",)"
                     R"("io.modelcontextprotocol/clientCapabilities":{}}}})";
  auto streamed = client.request(verb::post, "/mcp", body, current_headers("tools/call", "find"));
  ASSERT_TRUE(streamed);
  EXPECT_EQ((*streamed)[beast_http::field::content_type], "text/event-stream");
  const std::string& events = streamed->body();
  auto first_progress = events.find("notifications/progress");
  auto result = events.find(R"("id":3)");
  ASSERT_NE(first_progress, std::string::npos);
  ASSERT_NE(result, std::string::npos);
  EXPECT_LT(first_progress, result) << "progress precedes the result: " << events;

  auto headers = current_headers("tools/call", "find");
  headers["Accept"] = "application/json";
  auto plain = client.request(verb::post, "/mcp", body, headers);
  ASSERT_TRUE(plain);
  EXPECT_EQ((*plain)[beast_http::field::content_type], "application/json");
  EXPECT_EQ(body_of(*plain).at("id"), 3);
}

TEST_F(McpHttpTest, CurrentEraHeadersMustMatchTheBody) {
  HttpClient client(port_);
  std::string body = current_call(1, "find", R"({"type":"Experiment"})");
  auto check = [&](Headers headers, const char* why) {
    auto response = client.request(verb::post, "/mcp", body, headers);
    ASSERT_TRUE(response) << why;
    EXPECT_EQ(response->result_int(), 400u) << why;
    EXPECT_EQ(body_of(*response).at("error").at("code"), -32020) << why;
    EXPECT_EQ(body_of(*response).at("id"), 1) << why;
  };
  auto headers = current_headers("tools/call", "find");
  headers.erase("MCP-Protocol-Version");
  check(headers, "missing MCP-Protocol-Version");
  headers = current_headers("tools/call", "find");
  headers["MCP-Protocol-Version"] = "2025-11-25";
  check(headers, "version differs from _meta");
  check(current_headers("tools/list", "find"), "Mcp-Method differs");
  check(current_headers("tools/call"), "Mcp-Name missing");
  check(current_headers("tools/call", "get"), "Mcp-Name differs");
  // Base64 sentinel values are decoded before the comparison.
  auto ok = client.request(verb::post, "/mcp", body,
                           current_headers("tools/call", "=?base64?ZmluZA==?="));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->result_int(), 200u);
}

TEST_F(McpHttpTest, CurrentEraStatusCodesFollowTheError) {
  HttpClient client(port_);
  auto unknown = client.request(
      verb::post, "/mcp",
      std::string(R"({"jsonrpc":"2.0","id":2,"method":"nope/nope","params":{)") + kMeta + "}}",
      current_headers("nope/nope"));
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->result_int(), 404u);
  EXPECT_EQ(body_of(*unknown).at("error").at("code"), -32601);

  auto removed = client.request(
      verb::post, "/mcp",
      std::string(R"({"jsonrpc":"2.0","id":4,"method":"ping","params":{)") + kMeta + "}}",
      current_headers("ping"));
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->result_int(), 404u);

  std::string future = R"({"jsonrpc":"2.0","id":5,"method":"tools/list","params":{"_meta":{)"
                       R"("io.modelcontextprotocol/protocolVersion":"2099-01-01",)"
                       R"("io.modelcontextprotocol/clientCapabilities":{}}}})";
  auto headers = current_headers("tools/list");
  headers["MCP-Protocol-Version"] = "2099-01-01";
  auto unsupported = client.request(verb::post, "/mcp", future, headers);
  ASSERT_TRUE(unsupported);
  EXPECT_EQ(unsupported->result_int(), 400u);
  EXPECT_EQ(body_of(*unsupported).at("error").at("code"), -32022);

  auto notification = client.request(
      verb::post, "/mcp",
      std::string(R"({"jsonrpc":"2.0","method":"notifications/initialized","params":{)") + kMeta +
          "}}",
      current_headers("notifications/initialized"));
  ASSERT_TRUE(notification);
  EXPECT_EQ(notification->result_int(), 202u);
  EXPECT_TRUE(notification->body().empty());
}

TEST_F(McpHttpTest, LegacySessionLifecycle) {
  HttpClient client(port_);
  std::string session = initialize(client);
  ASSERT_EQ(session.size(), 32u) << "128 random bits in hex";
  HttpClient other(port_);
  EXPECT_NE(initialize(other), session);

  std::string list = R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})";
  auto headers = kLegacyHeaders;
  auto missing = client.request(verb::post, "/mcp", list, headers);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->result_int(), 400u) << "a legacy request without a session";

  headers["Mcp-Session-Id"] = session;
  headers["MCP-Protocol-Version"] = "2025-11-25";
  auto listed = client.request(verb::post, "/mcp", list, headers);
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->result_int(), 200u);
  EXPECT_TRUE(body_of(*listed).at("result").at("tools").is_array());

  auto bad_version = headers;
  bad_version["MCP-Protocol-Version"] = "1999-01-01";
  auto refused = client.request(verb::post, "/mcp", list, bad_version);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result_int(), 400u);

  auto note = client.request(verb::post, "/mcp",
                             R"({"jsonrpc":"2.0","method":"notifications/initialized"})", headers);
  ASSERT_TRUE(note);
  EXPECT_EQ(note->result_int(), 202u);

  auto get = client.request(verb::get, "/mcp", {}, headers);
  ASSERT_TRUE(get);
  EXPECT_EQ(get->result_int(), 405u) << "no server-initiated stream";

  auto ended = client.request(verb::delete_, "/mcp", {}, headers);
  ASSERT_TRUE(ended);
  EXPECT_EQ(ended->result_int(), 200u);
  auto gone = client.request(verb::post, "/mcp", list, headers);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->result_int(), 404u)
      << "an ended session is unknown, so the client re-initialises";
  auto unknown = headers;
  unknown["Mcp-Session-Id"] = std::string(32, '0');
  auto not_found = client.request(verb::post, "/mcp", list, unknown);
  ASSERT_TRUE(not_found);
  EXPECT_EQ(not_found->result_int(), 404u);
}

TEST_F(McpHttpTest, LegacySessionKeepsItsLogLevel) {
  HttpClient client(port_);
  auto headers = kLegacyHeaders;
  headers["Mcp-Session-Id"] = initialize(client);
  auto set = client.request(
      verb::post, "/mcp",
      R"({"jsonrpc":"2.0","id":2,"method":"logging/setLevel","params":{"level":"debug"}})",
      headers);
  ASSERT_TRUE(set);
  ASSERT_EQ(set->result_int(), 200u);
  auto call = client.request(
      verb::post, "/mcp",
      R"({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"find","arguments":{"type":"Experiment"}}})",
      headers);
  ASSERT_TRUE(call);
  EXPECT_EQ((*call)[beast_http::field::content_type], "text/event-stream");
  EXPECT_NE(call->body().find("notifications/message"), std::string::npos) << call->body();
}

TEST_F(McpHttpTest, PlainJsonRpcNeedsNoSession) {
  HttpClient client(port_);
  auto response = client.request(
      verb::post, "/mcp",
      R"({"jsonrpc":"2.0","id":1,"method":"do","params":{"type":"Organization","verb":"create","data":{"name":"Acme"}}})",
      {{"Content-Type", "application/json"}});
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 200u);
  EXPECT_EQ(body_of(*response).at("result").at("name"), "Acme");
}

TEST_F(McpHttpTest, RefusesWrongMediaTypesAndBadJson) {
  HttpClient client(port_);
  auto text = client.request(verb::post, "/mcp", "{}", {{"Content-Type", "text/plain"}});
  ASSERT_TRUE(text);
  EXPECT_EQ(text->result_int(), 415u);
  auto accept = client.request(verb::post, "/mcp", "{}",
                               {{"Content-Type", "application/json"}, {"Accept", "text/html"}});
  ASSERT_TRUE(accept);
  EXPECT_EQ(accept->result_int(), 406u);
  auto broken =
      client.request(verb::post, "/mcp", "{not json", {{"Content-Type", "application/json"}});
  ASSERT_TRUE(broken);
  EXPECT_EQ(broken->result_int(), 400u);
  EXPECT_EQ(body_of(*broken).at("error").at("code"), -32700);
  auto batch = client.request(verb::post, "/mcp", "[]", {{"Content-Type", "application/json"}});
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->result_int(), 400u);
  auto path = client.request(verb::get, "/nowhere");
  ASSERT_TRUE(path);
  EXPECT_EQ(path->result_int(), 404u);
  EXPECT_EQ((*path)[beast_http::field::content_type], "application/json");
}

}  // namespace
}  // namespace verdict::server::http
