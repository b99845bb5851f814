#include "server/http/console_handler.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

// The console's routes over a Router, without sockets: what the browser gets for each path, and
// that the build embedded console/ byte for byte.

namespace verdict::server::http {
namespace {

namespace asio = boost::asio;
using beast_http::field;
using beast_http::status;
using beast_http::verb;

HttpResponse run(verb method, std::string target, std::string if_none_match = "") {
  Router router;
  ConsoleHandler{}.register_routes(router);
  asio::io_context io;
  HttpResponse response;
  HttpRequest request{method, target, 11};
  if (!if_none_match.empty()) request.set(field::if_none_match, if_none_match);
  asio::co_spawn(io, router.handle(request, RequestContext{.peer = "test"}),
                 [&](std::exception_ptr error, HttpResponse result) {
                   if (error) std::rethrow_exception(error);
                   response = std::move(result);
                 });
  io.run();
  return response;
}

std::string source_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

const std::filesystem::path kConsoleDir = std::filesystem::path(VERDICT_SOURCE_DIR) / "console";

TEST(ConsoleHandlerTest, RootRedirectsToExperiments) {
  auto response = run(verb::get, "/");
  EXPECT_EQ(response.result(), status::found);
  EXPECT_EQ(response[field::location], "/experiments");
}

TEST(ConsoleHandlerTest, EveryPageRouteServesIndexHtmlWithCachingAndSecurityHeaders) {
  std::string index = source_file(kConsoleDir / "index.html");
  for (std::string route :
       {"/experiments", "/new", "/flags", "/experiments/experiment_abc", "/experiments?tab=new"}) {
    SCOPED_TRACE(route);
    auto response = run(verb::get, route);
    EXPECT_EQ(response.result(), status::ok);
    EXPECT_EQ(response[field::content_type], "text/html; charset=utf-8");
    EXPECT_EQ(response[field::cache_control], "no-cache");
    EXPECT_EQ(response["X-Content-Type-Options"], "nosniff");
    EXPECT_TRUE(response["Content-Security-Policy"].starts_with("default-src 'self'"));
    EXPECT_EQ(response[field::etag].size(), 34u) << "a quoted 32-digit SHA-256 prefix";
    EXPECT_EQ(response.body(), index);
  }
}

TEST(ConsoleHandlerTest, EveryConsoleFileIsEmbeddedByteForByte) {
  std::set<std::string> on_disk;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(kConsoleDir))
    if (entry.is_regular_file())
      on_disk.insert("/" + entry.path().lexically_relative(kConsoleDir).generic_string());
  std::set<std::string> embedded;
  std::set<std::string_view> etags;
  for (const auto& asset : console_assets()) {
    embedded.emplace(asset.path);
    etags.insert(asset.etag);
    SCOPED_TRACE(asset.path);
    auto response = run(verb::get, "/console" + std::string(asset.path));
    EXPECT_EQ(response.result(), status::ok);
    EXPECT_EQ(response[field::content_type], asset.content_type);
    EXPECT_EQ(response.body(), source_file(kConsoleDir / asset.path.substr(1)));
  }
  EXPECT_EQ(embedded, on_disk);
  EXPECT_EQ(etags.size(), embedded.size()) << "each file has its own ETag";
  EXPECT_TRUE(embedded.contains("/app.js"));
}

TEST(ConsoleHandlerTest, IfNoneMatchWithTheETagAnswers304WithoutABody) {
  auto first = run(verb::get, "/console/app.js");
  std::string etag(first[field::etag]);
  auto again = run(verb::get, "/console/app.js", etag);
  EXPECT_EQ(again.result(), status::not_modified);
  EXPECT_EQ(again[field::etag], etag);
  EXPECT_TRUE(again.body().empty());
  EXPECT_EQ(run(verb::get, "/console/app.js", "\"other\", W/" + etag).result(),
            status::not_modified);
  EXPECT_EQ(run(verb::get, "/console/app.js", "\"stale\"").result(), status::ok);
}

TEST(ConsoleHandlerTest, UnknownFileIs404AndOtherMethodsAre405) {
  auto missing = run(verb::get, "/console/nope.js");
  EXPECT_EQ(missing.result(), status::not_found);
  EXPECT_EQ(boost::json::parse(missing.body()).at("error"), "no such console file: /nope.js");
  EXPECT_EQ(run(verb::get, "/console/../index.html").result(), status::not_found);
  EXPECT_EQ(run(verb::post, "/experiments").result(), status::method_not_allowed);
}

}  // namespace
}  // namespace verdict::server::http
