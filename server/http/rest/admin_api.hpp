#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>

#include "server/engine_worker.hpp"
#include "server/http/router.hpp"

namespace verdict::server::http::rest {

/// Seed 000's admin console API, in the seed's names (snake_case, `traffic_weight` a fraction,
/// statuses draft | running | stopped), over the same Experiment verbs MCP calls:
///   GET  /v1/admin/experiments?project_id=<pid>       find + summary
///   POST /v1/admin/experiments                        create
///   POST /v1/admin/experiments/{id}/variants          addVariant
///   POST /v1/admin/experiments/{id}/launch|stop       start | stop
///   POST /v1/admin/experiments/{id}/analyze           analyze
///   GET  /v1/admin/experiments/{id}                   get
/// The JSON shapes are documented in docs/rest.md. Thread-safe (stateless).
class AdminApi {
 public:
  explicit AdminApi(EngineWorker& worker) : worker_(worker) {}

  void register_routes(Router& router);

  /// The OpenAPI tag of this API's operations.
  static constexpr const char* kTag = "Admin";
  /// Adds this API's paths and schemas to an OpenAPI document's (openapi.cpp).
  static void describe(boost::json::object& paths, boost::json::object& schemas);

  /// Verdict's Experiment as the console shows it (docs/rest.md, "Experiment (admin)").
  static boost::json::object to_admin(const boost::json::object& experiment,
                                      std::string_view project);

 private:
  boost::asio::awaitable<HttpResponse> list(const HttpRequest& request, RequestContext context);
  boost::asio::awaitable<HttpResponse> create(const HttpRequest& request, RequestContext context);
  boost::asio::awaitable<HttpResponse> item(const HttpRequest& request, RequestContext context);
  /// Runs `action` (empty: none) of an item path on experiment `id`; answers the HTTP status.
  /// Its own coroutine: GCC 12 misreports a larger frame's allocation as mismatched with its
  /// deallocation (-Wmismatched-new-delete).
  boost::asio::awaitable<int> act(const RequestContext& context, const std::string& id,
                                  const std::string& action, boost::json::object body);
  /// The verb seed 000's Stop means for experiment `id` (stop, or conclude with its winner).
  boost::asio::awaitable<std::string> stop_verb(const RequestContext& context, std::string id);

  EngineWorker& worker_;
};

}  // namespace verdict::server::http::rest
