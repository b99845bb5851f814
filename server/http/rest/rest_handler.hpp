#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>

#include "server/engine_worker.hpp"
#include "server/http/rest/rest_schema.hpp"
#include "server/http/router.hpp"

namespace verdict::server::http::rest {

/// Seed 001's REST, for every noun of the schema (docs/rest.md):
///   GET    /~{project}/{plural}                 find (equality params, filter=, sort, limit,
///   cursor) POST   /~{project}/{plural}                 create POST   /~{project}/{plural}/{verb}
///   a collection verb (summary, plan) GET    /~{project}/{plural}/{id or slug}    get; ETag is the
///   version PATCH  /~{project}/{plural}/{id}            update; If-Match "<version>" required
///   DELETE /~{project}/{plural}/{id}            delete
///   POST   /~{project}/{plural}/{id}/{verb}     any verb
///   GET    /~{project}/{plural}/{id}/events     the entity's history
/// plus GET /openapi.json, generated from the same schema. Each request is one or two plain
/// JSON-RPC calls on the engine worker. I/O thread only.
class RestHandler {
 public:
  explicit RestHandler(EngineWorker& worker) : worker_(worker), schema_(worker) {}

  void register_routes(Router& router);

 private:
  boost::asio::awaitable<HttpResponse> handle(const HttpRequest& request, RequestContext context);
  boost::asio::awaitable<HttpResponse> openapi(const HttpRequest& request, RequestContext context);

  EngineWorker& worker_;
  RestSchema schema_;
};

}  // namespace verdict::server::http::rest
