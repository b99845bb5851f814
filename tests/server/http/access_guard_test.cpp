#include "server/http/access_guard.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace verdict::server::http {
namespace {

using beast_http::field;
using beast_http::status;

HttpRequest request_with(std::initializer_list<std::pair<field, std::string>> headers) {
  HttpRequest request{beast_http::verb::post, "/mcp", 11};
  for (const auto& [name, value] : headers) request.set(name, value);
  return request;
}

std::optional<status> refusal(const AccessGuard& guard, const HttpRequest& request,
                              std::string* presented = nullptr) {
  std::string key = "stale";
  auto response = guard.check(request, key);
  if (presented) *presented = key;
  if (!response) return std::nullopt;
  return response->result();
}

TEST(AccessGuardTest, LoopbackListenerAcceptsItsOwnOriginsOnly) {
  AccessGuard guard("http", "127.0.0.1", 8080, true, false, {});
  EXPECT_EQ(refusal(guard, request_with({{field::host, "127.0.0.1:8080"}})), std::nullopt);
  for (const char* origin : {"http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"})
    EXPECT_EQ(refusal(guard, request_with({{field::origin, origin}})), std::nullopt) << origin;
  for (const char* origin :
       {"http://evil.example", "http://localhost:8081", "https://localhost:8080", "null"})
    EXPECT_EQ(refusal(guard, request_with({{field::origin, origin}})), status::forbidden) << origin;
}

TEST(AccessGuardTest, LoopbackListenerRefusesForeignHostNames) {
  AccessGuard guard("http", "127.0.0.1", 8080, true, false, {"https://app.example.com"});
  EXPECT_EQ(refusal(guard, request_with({{field::host, "evil.example:8080"}})), status::forbidden);
  EXPECT_EQ(refusal(guard, request_with({{field::host, "localhost:8080"}})), std::nullopt);
  EXPECT_EQ(refusal(guard, request_with({{field::host, "[::1]:8080"}})), std::nullopt);
  EXPECT_EQ(refusal(guard, request_with({{field::host, "app.example.com"},
                                         {field::origin, "https://app.example.com"}})),
            std::nullopt);
}

TEST(AccessGuardTest, WildcardAllowsAnyOrigin) {
  AccessGuard guard("http", "127.0.0.1", 8080, true, false, {"*"});
  EXPECT_EQ(refusal(guard, request_with({{field::origin, "http://anything.example"}})),
            std::nullopt);
}

TEST(AccessGuardTest, RequiredKeyIsABearerOrXApiKeyHeader) {
  AccessGuard guard("https", "0.0.0.0", 8443, false, true, {});
  HttpRequest none = request_with({});
  std::string key = "stale";
  auto response = guard.check(none, key);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result(), status::unauthorized);
  EXPECT_EQ((*response)[field::www_authenticate], "Bearer realm=\"verdict\"");
  EXPECT_EQ(key, "") << "a refused request presents no key";
  EXPECT_EQ(refusal(guard, request_with({{field::authorization, "Basic s3cret-token-0123"}})),
            status::unauthorized);
  // Keys live in the database: the guard hands them on, the engine thread checks them.
  EXPECT_EQ(refusal(guard, request_with({{field::authorization, "Bearer vk_one"}}), &key),
            std::nullopt);
  EXPECT_EQ(key, "vk_one");
  HttpRequest x_api_key = request_with({});
  x_api_key.set("X-API-Key", "vk_two");
  EXPECT_EQ(refusal(guard, x_api_key, &key), std::nullopt);
  EXPECT_EQ(key, "vk_two");
  EXPECT_EQ(refusal(guard, request_with({{field::host, "verdict.example.com"}})),
            status::unauthorized)
      << "a non-loopback listener does not check Host, only the key";
}

// As for a wrong key, which the OFREP handler answers: an OpenFeature provider reads this body.
TEST(AccessGuardTest, OfrepPathsGetOfrepsErrorBody) {
  AccessGuard guard("https", "0.0.0.0", 8443, false, true, {});
  HttpRequest none{beast_http::verb::post, "/ofrep/v1/evaluate/flags/new-nav", 11};
  std::string key;
  auto response = guard.check(none, key);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result(), status::unauthorized);
  const auto body = boost::json::parse(response->body()).as_object();
  EXPECT_EQ(body.at("errorCode"), "GENERAL");
  EXPECT_NE(std::string(body.at("errorDetails").as_string()).find("Bearer"), std::string::npos);
  EXPECT_FALSE(body.contains("jsonrpc"));
  auto mcp = guard.check(request_with({}), key);
  ASSERT_TRUE(mcp);
  EXPECT_TRUE(boost::json::parse(mcp->body()).as_object().contains("jsonrpc"));
}

TEST(AccessGuardTest, OptionalKeyOnLoopbackIsHandedOnWhenSent) {
  AccessGuard guard("http", "127.0.0.1", 8080, true, false, {});
  std::string key = "stale";
  EXPECT_EQ(refusal(guard, request_with({}), &key), std::nullopt);
  EXPECT_EQ(key, "");
  EXPECT_EQ(refusal(guard, request_with({{field::authorization, "Bearer vk_one"}}), &key),
            std::nullopt);
  EXPECT_EQ(key, "vk_one");
  EXPECT_EQ(refusal(guard, request_with({{field::authorization, "Basic x"}})), status::unauthorized)
      << "a malformed credential is refused rather than ignored";
}

TEST(AccessGuardTest, ConsoleFilesLoadWithoutTheTokenSoItsUserCanSignIn) {
  AccessGuard guard("http", "0.0.0.0", 8080, false, true, {});
  auto get = [](std::string target, std::string authorization = "") {
    HttpRequest request{beast_http::verb::get, target, 11};
    if (!authorization.empty()) request.set(field::authorization, authorization);
    return request;
  };
  std::string key = "unset";
  for (const char* target : {"/", "/experiments", "/new", "/flags", "/experiments/experiment_x",
                             "/console/app.js", "/experiments?tab=new"}) {
    EXPECT_EQ(refusal(guard, get(target), &key), std::nullopt) << target;
    EXPECT_EQ(key, "") << target << ": loads as no one, with no key";
  }
  for (const char* target : {"/v1/admin/experiments", "/~default/experiments", "/mcp",
                             "/experiments-export", "/consoles"})
    EXPECT_EQ(refusal(guard, get(target)), status::unauthorized) << target;
  HttpRequest post{beast_http::verb::post, "/experiments", 11};
  EXPECT_EQ(refusal(guard, post), status::unauthorized) << "only GET is public";
  EXPECT_EQ(refusal(guard, get("/experiments", "Basic x")), status::unauthorized)
      << "a malformed credential is refused even for a public file";
  HttpRequest foreign = get("/experiments");
  foreign.set(field::origin, "http://evil.example");
  EXPECT_EQ(refusal(guard, foreign), status::forbidden) << "Origin is still checked";
}

}  // namespace
}  // namespace verdict::server::http
