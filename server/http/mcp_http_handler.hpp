#pragma once

#include <boost/asio/awaitable.hpp>

#include <cstddef>

#include "server/engine_worker.hpp"
#include "server/http/mcp_session_table.hpp"
#include "server/http/router.hpp"

namespace verdict::server::http {

struct McpHttpOptions {
  std::size_t max_depth = 64;                ///< JSON nesting limit, as on the other transports
  std::size_t max_sessions = 1024;           ///< legacy-era sessions held at once
  std::chrono::seconds session_expiry{300};  ///< a legacy session unused this long is forgotten
};

/// MCP's Streamable HTTP transport at one endpoint, for both protocol eras, decided per request:
/// - 2026-07-28 (stateless): POST only; `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` must
///   match the body (else 400 with HeaderMismatch -32020); notifications get 202; an unknown
///   method 404 and an unsupported version 400, each with the JSON-RPC error.
/// - 2024-11-05 .. 2025-11-25: `initialize` mints an `Mcp-Session-Id`; later requests carry it
///   (missing: 400, unknown or expired: 404); DELETE ends the session; GET answers 405 because
///   Verdict never sends server-initiated messages.
/// The plain JSON-RPC methods find/get/do need no session. Every message goes through the same
/// EngineWorker (and its group commit) as the line transports; a request that produced
/// notifications (progress, logging) is answered as an SSE stream when the client accepts one.
/// Use on the I/O thread only.
class McpHttpHandler {
 public:
  McpHttpHandler(EngineWorker& worker, McpHttpOptions options);

  /// Adds POST and DELETE `path` to `router`; the handler must outlive the router's use.
  void register_routes(Router& router, const std::string& path);

  boost::asio::awaitable<HttpResponse> post(const HttpRequest& request, RequestContext context);
  boost::asio::awaitable<HttpResponse> end_session(const HttpRequest& request,
                                                   RequestContext context);

 private:
  EngineWorker& worker_;
  McpHttpOptions options_;
  McpSessionTable sessions_;
};

}  // namespace verdict::server::http
