#pragma once

#include <boost/asio/awaitable.hpp>

#include <string_view>

#include "server/engine_worker.hpp"
#include "server/http/router.hpp"

namespace verdict::server::http {

/// Where GrowthBook's SDKs fetch their features: `{apiHost}/api/features/{clientKey}`. The key
/// travels in the path, not in a header, so the AccessGuard lets requests under this prefix
/// without `Authorization` reach the handler, which checks the key itself.
inline constexpr std::string_view kSdkFeaturesPrefix = "/api/features/";

/// `GET /api/features/{clientKey}`: the GrowthBook SDK features payload of the key's project
/// (`do FeatureFlag growthbookPayload` on the engine worker), with an `ETag` of the body and 304
/// for a matching `If-None-Match`. The client key is an API key (an evaluator key is the one to
/// embed in an application), presented to the engine as if sent in `Authorization`, so it reads
/// its own project's flags only. 404 for a path without a key, 401 for an unknown or revoked
/// key, 403 for a key whose role may not evaluate. Thread-safe.
class SdkPayloadHandler {
 public:
  explicit SdkPayloadHandler(EngineWorker& worker) : worker_(worker) {}

  void register_routes(Router& router);

 private:
  boost::asio::awaitable<HttpResponse> features(const HttpRequest& request, RequestContext context);

  EngineWorker& worker_;
};

}  // namespace verdict::server::http
