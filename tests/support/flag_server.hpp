// A `verdict serve --listen http://` child process with helpers to make flags over MCP, for the
// tests of the HTTP adapters that serve flags (OFREP, the GrowthBook SDK payload).
#pragma once

#include <gtest/gtest.h>

#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/http_client.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/test_store.hpp"

namespace verdict::test_support {

namespace json = boost::json;
using Headers = std::map<std::string, std::string>;
using verb = boost::beast::http::verb;

inline const Headers kJson{{"Content-Type", "application/json"}};

class FlagServerTest : public ::testing::Test {
 protected:
  void start(std::vector<std::string> extra = {}, std::string host = "127.0.0.1") {
    port_ = test_support::free_tcp_port();
    db_ = test_support::shared_store(test_support::temp_path("flags", "db"));
    test_support::remove_database(db_);
    std::vector<std::string> args{"serve",       "--db",
                                  db_,           "--no-stdio",
                                  "--listen",    "http://" + host + ":" + std::to_string(port_),
                                  "--log-level", "error"};
    args.insert(args.end(), extra.begin(), extra.end());
    server_.emplace(args);
    client_.emplace(port_);
  }
  void TearDown() override { test_support::remove_database(db_); }

  // `do` over MCP's stateless era; returns the tool's structured result.
  json::object act(const json::object& arguments) {
    json::object meta{{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
                      {"io.modelcontextprotocol/clientCapabilities", json::object{}}};
    json::object call{{"jsonrpc", "2.0"},
                      {"id", 1},
                      {"method", "tools/call"},
                      {"params", {{"name", "do"}, {"arguments", arguments}, {"_meta", meta}}}};
    auto response = client_->request(verb::post, "/mcp", json::serialize(call),
                                     {{"Content-Type", "application/json"},
                                      {"Accept", "application/json"},
                                      {"MCP-Protocol-Version", "2026-07-28"},
                                      {"Mcp-Method", "tools/call"},
                                      {"Mcp-Name", "do"}});
    EXPECT_TRUE(response);
    if (!response) return {};
    auto result = json::parse(response->body()).at("result").as_object();
    EXPECT_FALSE(result.contains("isError")) << response->body();
    return result.at("structuredContent").as_object();
  }

  std::string create_flag(json::object data) {
    // Copied first: inserting "name" may rehash the object and move the key's value.
    data["name"] = json::value(data.at("key"));
    return std::string(
        act({{"type", "FeatureFlag"}, {"verb", "create"}, {"data", data}}).at("id").as_string());
  }

  std::optional<HttpResult> post(const std::string& path, const std::string& body,
                                 Headers headers = kJson) {
    return client_->request(verb::post, path, body, headers);
  }

  std::optional<HttpResult> get(const std::string& path, Headers headers = {}) {
    return client_->request(verb::get, path, "", headers);
  }

  int port_ = 0;
  std::string db_;
  std::optional<ServerProcess> server_;
  std::optional<HttpClient> client_;
};

}  // namespace verdict::test_support
