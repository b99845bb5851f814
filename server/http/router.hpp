#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http.hpp>

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace verdict::server::http {

namespace beast_http = boost::beast::http;

using HttpRequest = beast_http::request<beast_http::string_body>;
using HttpResponse = beast_http::response<beast_http::string_body>;

/// What the connection knows about a request beyond its bytes.
struct RequestContext {
  std::string peer;  ///< "http:127.0.0.1:5555", for logs and the event log's actor
  /// The API key sent as `Authorization: Bearer` or `X-API-Key`; checked on the engine thread.
  std::string presented_key;
  /// The project a REST path or `project_id` names; empty: the caller's own. The engine answers
  /// "not found" when the caller's project is another, so a key never learns another tenant's
  /// data, nor whether the project exists.
  std::string project;
};

/// A response with a JSON body (`application/json`).
HttpResponse json_response(beast_http::status status, std::string body, unsigned version = 11);

/// A 200 JSON response tagged with an `ETag` of its body, or 304 (no body) when the request's
/// `If-None-Match` names that tag: the same answer gives the same tag.
HttpResponse tagged_json_response(const HttpRequest& request, std::string body);

/// Method + path -> handler. Routes are added at start-up and read concurrently afterwards.
/// An unknown path answers 404 and a known path with another method 405 (with `Allow`), both
/// with a JSON body, so later adapters (REST, OFREP, the console) only add routes.
class Router {
 public:
  /// The request is the connection's, alive until the handler's coroutine ends: handlers read it
  /// where it was parsed instead of moving it (its header fields) from frame to frame.
  using Handler =
      std::function<boost::asio::awaitable<HttpResponse>(const HttpRequest&, RequestContext)>;

  void add(beast_http::verb method, std::string path, Handler handler);
  /// Routes every path under `prefix` (which ends in "/") that has no exact route, for paths
  /// that carry a parameter (`/ofrep/v1/evaluate/flags/{key}`); the longest prefix wins.
  void add_prefix(beast_http::verb method, std::string prefix, Handler handler);

  /// Renders an error that no handler produced (unknown path, wrong method, the listener's
  /// refusals: token, origin, body too large) as the adapter's own error format.
  using ErrorRenderer = std::function<HttpResponse(const HttpRequest& request,
                                                   beast_http::status status, std::string message)>;
  /// Errors on paths that start with `prefix` are rendered by `renderer` (REST's
  /// problem+json); other paths keep the JSON body `{error, status}`.
  void add_error_renderer(std::string prefix, ErrorRenderer renderer);
  /// A refusal made before routing, in the format of the request's path: the body's message
  /// (`error.message` or `error`) is rendered again; the status and headers are kept.
  HttpResponse restyle(const HttpRequest& request, HttpResponse refusal) const;

  /// Runs the handler for the request's method and path (the query string is ignored); the
  /// request must outlive the returned coroutine.
  boost::asio::awaitable<HttpResponse> handle(const HttpRequest& request,
                                              RequestContext context) const;

 private:
  struct Route {
    beast_http::verb method;
    Handler handler;
  };
  std::map<std::string, std::vector<Route>, std::less<>> routes_;
  std::map<std::string, std::vector<Route>, std::greater<>> prefixes_;  ///< longest first
  std::vector<std::pair<std::string, ErrorRenderer>> renderers_;

  const ErrorRenderer* renderer_for(const HttpRequest& request) const;
  HttpResponse route_error(const HttpRequest& request, beast_http::status status,
                           std::string message) const;
};

}  // namespace verdict::server::http
