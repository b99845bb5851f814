#include "server/http/console_handler.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cassert>

#include "core/utf8.hpp"

namespace verdict::server::http {

using beast_http::field;
using beast_http::status;
using beast_http::verb;

namespace {

const ConsoleAsset* find_asset(std::string_view path) {
  auto assets = console_assets();
  auto it = std::find_if(assets.begin(), assets.end(),
                         [&](const ConsoleAsset& asset) { return asset.path == path; });
  return it == assets.end() ? nullptr : &*it;
}

// If-None-Match holds one or more quoted tags, possibly weak (W/"x"), or "*"; weak comparison
// is the rule for GET (RFC 9110 13.1.2), so a tag found anywhere in the list matches.
bool not_modified(const HttpRequest& request, std::string_view etag) {
  auto header = request.find(field::if_none_match);
  if (header == request.end()) return false;
  std::string_view value = header->value();
  return value == "*" || value.find(etag) != std::string_view::npos;
}

boost::asio::awaitable<HttpResponse> redirect_home(const HttpRequest& request, RequestContext) {
  HttpResponse response{status::found, request.version()};
  response.set(field::location, "/experiments");
  response.set(field::cache_control, "no-cache");
  co_return response;
}

boost::asio::awaitable<HttpResponse> serve_page(const HttpRequest& request, RequestContext) {
  const ConsoleAsset* page = find_asset("/index.html");
  assert(page && "console/index.html is embedded by the build");
  co_return ConsoleHandler::serve(request, *page);
}

boost::asio::awaitable<HttpResponse> serve_file(const HttpRequest& request, RequestContext) {
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  path.remove_prefix(std::string_view("/console").size());
  if (const ConsoleAsset* asset = find_asset(path))
    co_return ConsoleHandler::serve(request, *asset);
  co_return json_response(
      status::not_found,
      boost::json::serialize(boost::json::object{
          {"error", valid_utf8("no such console file: " + std::string(path.substr(0, 100)))},
          {"status", 404}}),
      request.version());
}

}  // namespace

HttpResponse ConsoleHandler::serve(const HttpRequest& request, const ConsoleAsset& asset) {
  bool unchanged = not_modified(request, asset.etag);
  HttpResponse response{unchanged ? status::not_modified : status::ok, request.version()};
  response.set(field::etag, asset.etag);
  response.set(field::cache_control, "no-cache");
  if (unchanged) return response;
  response.set(field::content_type, asset.content_type);
  response.set("X-Content-Type-Options", "nosniff");
  response.set("Content-Security-Policy",
               "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
  response.set("Referrer-Policy", "no-referrer");
  response.body() = std::string(asset.body);
  return response;
}

bool ConsoleHandler::is_public(const HttpRequest& request) {
  if (request.method() != verb::get) return false;
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  return path == "/" || path.starts_with("/console/") || path.starts_with("/experiments/") ||
         std::find(std::begin(kPageRoutes), std::end(kPageRoutes), path) != std::end(kPageRoutes);
}

void ConsoleHandler::register_routes(Router& router) const {
  router.add(verb::get, "/", redirect_home);
  for (auto route : kPageRoutes) router.add(verb::get, std::string(route), serve_page);
  router.add_prefix(verb::get, "/experiments/", serve_page);  // a drawer's own address
  router.add_prefix(verb::get, "/console/", serve_file);
}

}  // namespace verdict::server::http
