#include "server/http/router.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

namespace verdict::server::http {
namespace {

namespace asio = boost::asio;
using beast_http::verb;

HttpResponse run(const Router& router, verb method, std::string target) {
  asio::io_context io;
  HttpResponse response;
  HttpRequest request{method, target, 11};
  asio::co_spawn(io, router.handle(request, RequestContext{.peer = "test"}),
                 [&](std::exception_ptr error, HttpResponse result) {
                   if (error) std::rethrow_exception(error);
                   response = std::move(result);
                 });
  io.run();
  return response;
}

asio::awaitable<HttpResponse> echo_path(const HttpRequest& request, RequestContext context) {
  co_return json_response(beast_http::status::ok,
                          boost::json::serialize(boost::json::object{
                              {"target", std::string(request.target())}, {"peer", context.peer}}));
}

TEST(RouterTest, RoutesByMethodAndPathIgnoringTheQuery) {
  Router router;
  router.add(verb::get, "/a", echo_path);
  auto response = run(router, verb::get, "/a?x=1");
  EXPECT_EQ(response.result(), beast_http::status::ok);
  EXPECT_EQ(response.body(), R"({"target":"/a?x=1","peer":"test"})");
}

TEST(RouterTest, UnknownPathIs404WithAJsonBody) {
  Router router;
  router.add(verb::get, "/a", echo_path);
  auto response = run(router, verb::get, "/b");
  EXPECT_EQ(response.result(), beast_http::status::not_found);
  EXPECT_EQ(response[beast_http::field::content_type], "application/json");
  auto body = boost::json::parse(response.body()).as_object();
  EXPECT_EQ(body.at("status"), 404);
  EXPECT_EQ(body.at("error"), "no such path: /b");
}

TEST(RouterTest, KnownPathWithAnotherMethodIs405ListingTheAllowedOnes) {
  Router router;
  router.add(verb::post, "/mcp", echo_path);
  router.add(verb::delete_, "/mcp", echo_path);
  auto response = run(router, verb::get, "/mcp");
  EXPECT_EQ(response.result(), beast_http::status::method_not_allowed);
  EXPECT_EQ(response[beast_http::field::allow], "POST, DELETE");
}

asio::awaitable<HttpResponse> answer_prefix(HttpRequest, RequestContext) {
  co_return json_response(beast_http::status::ok, R"("prefix")");
}

TEST(RouterTest, PrefixRoutesTakePathsWithoutAnExactRouteLongestFirst) {
  Router router;
  router.add(verb::post, "/flags", echo_path);
  router.add_prefix(verb::post, "/flags/", answer_prefix);
  router.add_prefix(verb::post, "/flags/special/", echo_path);
  EXPECT_EQ(run(router, verb::post, "/flags").body(), R"({"target":"/flags","peer":"test"})");
  EXPECT_EQ(run(router, verb::post, "/flags/new-nav?x=1").body(), R"("prefix")");
  EXPECT_EQ(run(router, verb::post, "/flags/special/x").body(),
            R"({"target":"/flags/special/x","peer":"test"})");
  EXPECT_EQ(run(router, verb::post, "/flags/").result(), beast_http::status::not_found)
      << "a prefix route needs something after the prefix";
  EXPECT_EQ(run(router, verb::get, "/flags/new-nav").result(),
            beast_http::status::method_not_allowed);
}

// REST's paths answer errors no handler made in their own format; other paths keep theirs.
TEST(RouterTest, ErrorRenderersRestyleErrorsUnderTheirPrefix) {
  Router router;
  router.add(verb::get, "/~a", echo_path);
  router.add_error_renderer(
      "/~", [](const HttpRequest& request, beast_http::status status, std::string message) {
        HttpResponse response = json_response(status, "styled: " + message, request.version());
        response.set(beast_http::field::content_type, "application/problem+json");
        return response;
      });
  auto wrong_method = run(router, verb::post, "/~a");
  EXPECT_EQ(wrong_method.result(), beast_http::status::method_not_allowed);
  EXPECT_EQ(wrong_method.body(), "styled: POST is not allowed on /~a (allowed: GET)");
  EXPECT_EQ(run(router, verb::get, "/elsewhere")[beast_http::field::content_type],
            "application/json");

  HttpRequest request{verb::get, "/~a/b", 11};
  HttpResponse refusal =
      json_response(beast_http::status::unauthorized,
                    R"({"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"no token"}})");
  refusal.set(beast_http::field::www_authenticate, "Bearer");
  HttpResponse styled = router.restyle(request, refusal);
  EXPECT_EQ(styled.result(), beast_http::status::unauthorized);
  EXPECT_EQ(styled.body(), "styled: no token");
  EXPECT_EQ(styled[beast_http::field::www_authenticate], "Bearer");
  HttpRequest other{verb::get, "/mcp", 11};
  EXPECT_EQ(router.restyle(other, refusal).body(), refusal.body());
}

}  // namespace
}  // namespace verdict::server::http
