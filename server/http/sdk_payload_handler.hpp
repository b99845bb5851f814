#pragma once

#include <boost/asio/awaitable.hpp>

#include <string>
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
/// for a matching `If-None-Match`. 404 for a path without a key, 401 for a key that resolves
/// to no project (project_for_client_key). Thread-safe.
class SdkPayloadHandler {
 public:
  SdkPayloadHandler(EngineWorker& worker, std::string listener_token)
      : worker_(worker), listener_token_(std::move(listener_token)) {}

  void register_routes(Router& router);

 private:
  boost::asio::awaitable<HttpResponse> features(HttpRequest request, RequestContext context);

  EngineWorker& worker_;
  const std::string listener_token_;
};

}  // namespace verdict::server::http
