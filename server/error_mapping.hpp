#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/utf8.hpp"

namespace verdict::server {

/// JSON-RPC 2.0 codes, and the MCP and Verdict codes in the implementation range.
/// Verdict's own codes sit in -32000..-32019, which MCP leaves to implementations.
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
inline constexpr int kUnauthorizedCode = -32001;
inline constexpr int kNotFoundCode = -32004;
inline constexpr int kConflictCode = -32009;
inline constexpr int kInvalidTransitionCode = -32010;
inline constexpr int kHookRejectedCode = -32011;
inline constexpr int kLimitExceededCode = -32013;
/// MCP (legacy era): resources/read of an unknown URI. The current era uses -32602 instead.
inline constexpr int kResourceNotFoundLegacy = -32002;
/// MCP 2026-07-28: the request's protocol version is not supported; data lists the supported ones.
inline constexpr int kUnsupportedProtocolVersion = -32022;
/// MCP 2026-07-28: the request needs a client capability its `_meta` does not declare.
inline constexpr int kMissingRequiredClientCapability = -32021;

/// A failure on the wire: what a JSON-RPC `error` member carries.
struct RpcError {
  int code = kInternalError;
  std::string message;
  boost::json::value data;  ///< null: no `data` member

  /// `data.field`, the input the error names, or empty.
  std::string_view field() const {
    const boost::json::object* fields = data.if_object();
    const boost::json::value* name = fields ? fields->if_contains("field") : nullptr;
    return name && name->is_string() ? std::string_view(name->get_string()) : std::string_view();
  }
};

/// Which kind of method an Error escaped from; MCP fixes a few codes differently per era.
enum class ErrorContext {
  kPlain,       ///< the plain JSON-RPC `find`/`get`/`do`, `auth`
  kMcpLegacy,   ///< an MCP method under 2024-11-05 .. 2025-11-25
  kMcpCurrent,  ///< an MCP method under 2026-07-28
};

/// The one mapping from Verdict's transport-independent error codes to JSON-RPC errors.
/// `data` carries `{code, field?}` so applications can branch on the category. In MCP methods a
/// missing resource is -32002 (legacy) or -32602 (2026-07-28).
RpcError to_rpc_error(const verdict::Error& error, ErrorContext context = ErrorContext::kPlain);

/// The JSON-RPC `error` member for `error`. The message goes through valid_utf8() (core/utf8.hpp).
boost::json::object to_json(const RpcError& error);

/// The serialized JSON-RPC error response (no newline) for request `id` (null when unknown).
std::string error_response(const boost::json::value& id, const RpcError& error);

/// The result's JSON text when `reply` is a response line framed as the dispatcher and
/// error_response frame them, `{"jsonrpc":"2.0","id":ID,"result":RESULT}`, read without parsing
/// the result (which may be large, and full of the quotes a search would stop at). Nothing for an
/// error and for anything framed otherwise: the caller then parses the reply.
std::optional<std::string_view> framed_result(std::string_view reply);
inline bool frames_a_result(std::string_view reply) {
  return framed_result(reply).has_value();
}

/// A failure whose details are not the client's business (a bug, a storage fault, SQL text):
/// logs `detail` under a fresh incident id and returns a -32603 whose message is `summary`
/// and the id, and whose data is `{code: "internal", incident}`, so a report can be matched
/// with the log.
RpcError internal_error(std::string_view summary, std::string_view detail);

/// An OFREP evaluation failure: the HTTP status and OFREP's `errorCode`.
struct OfrepError {
  int status = 500;
  const char* code = "GENERAL";
};

/// OFREP's mapping of a JSON-RPC error from `do ... evaluate`: a missing flag is 404
/// FLAG_NOT_FOUND, bad arguments 400 INVALID_CONTEXT, an unknown key 401, a key whose role may
/// not evaluate (error field `role`) 403, anything else 500 GENERAL.
OfrepError to_ofrep_error(int rpc_code, std::string_view field = {});

/// A REST failure (RFC 9457 problem details): the HTTP status, the problem type's name (the
/// `type` URI is `urn:verdict:problem:<type>`) and its title.
struct HttpProblem {
  int status = 500;
  const char* type = "internal";
  const char* title = "Internal error";
};

/// REST's mapping of a JSON-RPC error from `find`/`get`/`do`: bad arguments and hook refusals
/// 422, a missing entity, noun or verb 404, a refused transition or a taken unique value 409, a
/// stale `version` (field "version") 412, a refused token 401, anything else 500.
HttpProblem to_http_problem(int rpc_code, std::string_view field = {});

/// The problem REST answers with an HTTP status it decides itself (401, 403, 404, 405, 413, 415
/// from the listener and the router; 400 for malformed JSON).
HttpProblem http_problem_for_status(int status);

}  // namespace verdict::server
