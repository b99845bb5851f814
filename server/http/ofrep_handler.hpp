#pragma once

#include <boost/asio/awaitable.hpp>

#include <string>

#include "server/engine_worker.hpp"
#include "server/http/router.hpp"

namespace verdict::server::http {

/// The OpenFeature Remote Evaluation Protocol (OFREP 0.3): `POST /ofrep/v1/evaluate/flags/{key}`
/// evaluates one flag and `POST /ofrep/v1/evaluate/flags` every flag, for the request's
/// `context` (`targetingKey` is the unit; the rest are attributes). Both are `do FeatureFlag
/// evaluate` run by the engine worker, as MCP's calls are. The bulk answer carries an `ETag`
/// of its body, and `If-None-Match` with that tag answers 304. Who may call is the listener's
/// AccessGuard's decision (its bearer token), as for /mcp. Thread-safe.
class OfrepHandler {
 public:
  explicit OfrepHandler(EngineWorker& worker) : worker_(worker) {}

  void register_routes(Router& router);

 private:
  boost::asio::awaitable<HttpResponse> evaluate(const HttpRequest& request, RequestContext context,
                                                bool bulk);

  EngineWorker& worker_;
};

}  // namespace verdict::server::http
