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
};

/// A response with a JSON body (`application/json`).
HttpResponse json_response(beast_http::status status, std::string body, unsigned version = 11);

/// Method + path -> handler. Routes are added at start-up and read concurrently afterwards.
/// An unknown path answers 404 and a known path with another method 405 (with `Allow`), both
/// with a JSON body, so later adapters (REST, OFREP, the console) only add routes.
class Router {
 public:
  using Handler = std::function<boost::asio::awaitable<HttpResponse>(HttpRequest, RequestContext)>;

  void add(beast_http::verb method, std::string path, Handler handler);
  /// Routes every path under `prefix` (which ends in "/") that has no exact route, for paths
  /// that carry a parameter (`/ofrep/v1/evaluate/flags/{key}`); the longest prefix wins.
  void add_prefix(beast_http::verb method, std::string prefix, Handler handler);

  /// Runs the handler for the request's method and path (the query string is ignored).
  boost::asio::awaitable<HttpResponse> handle(HttpRequest request, RequestContext context) const;

 private:
  struct Route {
    beast_http::verb method;
    Handler handler;
  };
  std::map<std::string, std::vector<Route>, std::less<>> routes_;
  std::map<std::string, std::vector<Route>, std::greater<>> prefixes_;  ///< longest first
};

}  // namespace verdict::server::http
