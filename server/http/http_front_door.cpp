#include "server/http/http_front_door.hpp"

namespace verdict::server::http {

HttpFrontDoor::HttpFrontDoor(boost::asio::io_context& io, EngineWorker& worker,
                             const ServeOptions& options)
    : io_(io),
      options_(options),
      mcp_(worker,
           McpHttpOptions{.session_expiry = std::chrono::duration_cast<std::chrono::seconds>(
                              options.limits.idle_timeout)}),
      ofrep_(worker),
      router_(std::make_shared<Router>()) {
  mcp_.register_routes(*router_, "/mcp");
  ofrep_.register_routes(*router_);
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
  listener.idle_timeout =
      std::chrono::duration_cast<std::chrono::seconds>(options_.limits.idle_timeout);
  listener.max_connections = options_.limits.max_connections;
  listeners_.emplace_back(io_, std::move(listener), router_).start();
}

void HttpFrontDoor::stop() {
  for (auto& listener : listeners_) listener.stop();
}

}  // namespace verdict::server::http
