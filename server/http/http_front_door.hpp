#pragma once

#include <boost/asio/io_context.hpp>

#include <list>
#include <memory>

#include "server/cli.hpp"
#include "server/engine_worker.hpp"
#include "server/http/console_handler.hpp"
#include "server/http/http_listener.hpp"
#include "server/http/mcp_http_handler.hpp"
#include "server/http/ofrep_handler.hpp"
#include "server/http/rest/admin_api.hpp"
#include "server/http/rest/rest_handler.hpp"
#include "server/http/router.hpp"
#include "server/http/sdk_payload_handler.hpp"

namespace verdict::server::http {

/// Everything `--listen http://` and `https://` set up: one router shared by every HTTP
/// listener, with MCP at /mcp, OFREP at /ofrep/v1, GrowthBook's SDK payload at /api/features,
/// REST at /~{project} and /v1/admin and the web console at / over the server's one engine
/// worker. Use on the I/O thread.
class HttpFrontDoor {
 public:
  HttpFrontDoor(boost::asio::io_context& io, EngineWorker& worker, const ServeOptions& options);

  /// Binds and starts a listener for an http:// or https:// address; throws as HttpListener.
  void listen(const ListenAddress& address);
  /// Stops every listener (shutdown).
  void stop();

 private:
  boost::asio::io_context& io_;
  const ServeOptions& options_;
  McpHttpHandler mcp_;
  OfrepHandler ofrep_;
  rest::AdminApi admin_;
  rest::RestHandler rest_;
  ConsoleHandler console_;
  SdkPayloadHandler sdk_payload_;
  std::shared_ptr<Router> router_;
  std::list<HttpListener> listeners_;
};

}  // namespace verdict::server::http
