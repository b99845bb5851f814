#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>

#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "server/error_mapping.hpp"
#include "server/http/engine_call.hpp"
#include "server/http/router.hpp"

namespace verdict::server::http::rest {

/// A REST failure on its way to the client as RFC 9457 problem details. Handlers throw it; the
/// route wrapper (guarded) renders it. `extra` members join the problem object (`field`,
/// `allowedVerbs`, ...).
struct Problem : std::exception {
  Problem(int status, std::string detail, boost::json::object extra = {})
      : status(status), detail(std::move(detail)), extra(std::move(extra)) {}
  /// The problem for an engine failure, through server/error_mapping's one table.
  explicit Problem(const RpcError& error);
  const char* what() const noexcept override { return detail.c_str(); }

  int status;
  std::string detail;
  boost::json::object extra;
  std::optional<HttpProblem> kind;  ///< set for engine failures; else from the status
  std::string allow;                ///< the `Allow` header of a 405
};

/// `application/problem+json`: {type, title, status, detail, ...extra}.
HttpResponse problem_response(const HttpRequest& request, const Problem& problem);

/// An `application/json` response; `version` of the request, HTTP/1.1 when it has none.
HttpResponse rest_json(const HttpRequest& request, int status, const boost::json::value& body);
/// The same with a body already serialized in the server's number format.
HttpResponse rest_json_text(const HttpRequest& request, int status, std::string body);

/// The request's JSON object body: {} when empty; 415 when a body is not JSON by its
/// Content-Type (`application/json`, `application/merge-patch+json` or `+json`); 400 when it does
/// not parse or is not an object.
boost::json::object read_body(const HttpRequest& request);

/// Runs one engine call; throws Problem when the engine refuses it. `project`, when given, is set
/// to the slug of the project the call acted in (the caller's).
boost::asio::awaitable<boost::json::value> engine_call(EngineWorker& worker,
                                                       const RequestContext& context,
                                                       std::string_view method,
                                                       boost::json::object params,
                                                       std::string* project = nullptr);

/// Runs the `do` call `params` ({type, verb, id?, data?}) as engine_call does. A refused
/// transition's problem also names the entity's `entityStatus` and the `allowedVerbs` that
/// status allows, from the schema the engine checks.
boost::asio::awaitable<boost::json::value> do_verb(EngineWorker& worker,
                                                   const RequestContext& context,
                                                   boost::json::object params,
                                                   std::string* project = nullptr);

/// The project a `{project}` path segment or a `project_id` names, or nullopt (404) for text
/// that cannot be a project's slug. The one place REST reads projects; whether the caller may
/// act in it is the engine's decision (Session::required_project), made with the caller's key.
std::optional<std::string> resolve_project(std::string_view name);

/// Decodes %XX and `+` (in a query) of a URL component.
std::string url_decode(std::string_view text, bool query);
/// Encodes a query value (RFC 3986 unreserved characters stay).
std::string url_encode(std::string_view text);

/// The query string's parameters in order, decoded. A name given twice is 400.
std::vector<std::pair<std::string, std::string>> query_params(const HttpRequest& request);

/// The path without the query string.
std::string_view request_path(const HttpRequest& request);

/// Wraps a REST handler: a thrown Problem becomes problem+json; anything else a 500 logged
/// with an incident id (error_mapping's internal_error).
Router::Handler guarded(Router::Handler handler);

}  // namespace verdict::server::http::rest
