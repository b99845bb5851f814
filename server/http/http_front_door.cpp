#include "server/http/http_front_door.hpp"

#include <algorithm>

#include "server/http/rest/rest_support.hpp"

namespace verdict::server::http {

HttpFrontDoor::HttpFrontDoor(boost::asio::io_context& io, EngineWorker& worker,
                             const ServeOptions& options)
    : io_(io),
      options_(options),
      mcp_(worker,
           McpHttpOptions{.session_expiry = std::chrono::duration_cast<std::chrono::seconds>(
                              options.limits.idle_timeout)}),
      ofrep_(worker),
      admin_(worker),
      rest_(worker),
      sdk_payload_(worker),
      router_(std::make_shared<Router>()) {
  mcp_.register_routes(*router_, "/mcp");
  ofrep_.register_routes(*router_);
  sdk_payload_.register_routes(*router_);
  admin_.register_routes(*router_);
  rest_.register_routes(*router_);
  // Errors no REST handler made (the listener's 401, 403, 413; unknown methods) in REST's format.
  for (const char* prefix : {"/~", "/v1/", "/openapi.json"})
    router_->add_error_renderer(
        prefix, [](const HttpRequest& request, beast_http::status status, std::string message) {
          return rest::problem_response(
              request, rest::Problem(static_cast<int>(status), std::move(message)));
        });
  console_.register_routes(*router_);
}

void HttpFrontDoor::listen(const ListenAddress& address) {
  HttpListenerOptions listener;
  listener.host = address.host;
  listener.port = address.port;
  if (address.kind == ListenAddress::Kind::kHttps) {
    listener.tls_cert = options_.tls_cert;
    listener.tls_key = options_.tls_key;
  }
  listener.token = options_.token;
  listener.require_keys = options_.require_keys;
  listener.allow_origins = options_.allow_origins;
  listener.body_limit = options_.limits.max_message_bytes;
  listener.idle_timeout = options_.limits.idle_timeout;
  // A started request is a started line: it must end within --line-timeout, as on the socket
  // transports, and its headers within 10 s at most.
  listener.header_timeout = std::min(listener.header_timeout, options_.limits.line_timeout);
  listener.body_timeout = options_.limits.line_timeout;
  listener.max_connections = options_.limits.max_connections;
  listeners_.emplace_back(io_, std::move(listener), router_).start();
}

void HttpFrontDoor::stop() {
  for (auto& listener : listeners_) listener.stop();
}

}  // namespace verdict::server::http
