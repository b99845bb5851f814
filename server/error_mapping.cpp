#include "server/error_mapping.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>

#include "core/log.hpp"

namespace verdict::server {

namespace json = boost::json;

namespace {

int code_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return kInvalidParams;
    case ErrorCode::kNotFound:
      return kNotFoundCode;
    case ErrorCode::kConflict:
      return kConflictCode;
    case ErrorCode::kInvalidTransition:
      return kInvalidTransitionCode;
    case ErrorCode::kHookRejected:
      return kHookRejectedCode;
    case ErrorCode::kLimitExceeded:
      return kLimitExceededCode;
    case ErrorCode::kUnauthorized:
      return kUnauthorizedCode;
    case ErrorCode::kInternal:
      return kInternalError;
  }
  return kInternalError;
}

}  // namespace

RpcError to_rpc_error(const verdict::Error& error, ErrorContext context) {
  json::object data{{"code", to_string(error.code())}};
  if (!error.field().empty()) data["field"] = valid_utf8(error.field());
  int code = code_for(error.code());
  if (error.code() == ErrorCode::kNotFound && context != ErrorContext::kPlain)
    code = context == ErrorContext::kMcpLegacy ? kResourceNotFoundLegacy : kInvalidParams;
  return {code, error.what(), std::move(data)};
}

std::string error_response(const json::value& id, const RpcError& error) {
  return json::serialize(json::object{{"jsonrpc", "2.0"}, {"id", id}, {"error", to_json(error)}});
}

std::optional<std::string_view> framed_result(std::string_view reply) {
  constexpr std::string_view kHead = R"({"jsonrpc":"2.0","id":)";
  constexpr std::string_view kResult = R"(,"result":)";
  if (!reply.starts_with(kHead) || !reply.ends_with('}')) return std::nullopt;
  std::size_t end = kHead.size();
  if (end < reply.size() && reply[end] == '"') {
    // A string id: its end is the first quote no backslash escapes.
    for (++end; end < reply.size() && reply[end] != '"'; ++end)
      if (reply[end] == '\\') ++end;
    ++end;
  } else {
    end = reply.find(',', end);  // a number or null
  }
  if (end >= reply.size() || !reply.substr(end).starts_with(kResult)) return std::nullopt;
  const std::size_t start = end + kResult.size();
  return reply.substr(start, reply.size() - start - 1);
}

RpcError internal_error(std::string_view summary, std::string_view detail) {
  // Distinct across restarts (the clock) and within a run (the counter), without a lock.
  static std::atomic<std::uint64_t> next{
      static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count())};
  std::uint64_t value = next.fetch_add(0x9E3779B97F4A7C15ULL) * 0xBF58476D1CE4E5B9ULL;
  char incident[17];
  std::snprintf(incident, sizeof incident, "%016llx", static_cast<unsigned long long>(value));
  log(LogLevel::kError,
      std::string(summary) + " [incident " + incident + "]: " + std::string(detail));
  return {kInternalError,
          std::string(summary) + " (incident " + incident + "; the details are in the server log)",
          json::object{{"code", "internal"}, {"incident", incident}}};
}

json::object to_json(const RpcError& error) {
  json::object out{{"code", error.code}, {"message", valid_utf8(error.message)}};
  if (!error.data.is_null()) out["data"] = error.data;
  return out;
}

OfrepError to_ofrep_error(int rpc_code, std::string_view field) {
  switch (rpc_code) {
    case kNotFoundCode:
      return {404, "FLAG_NOT_FOUND"};
    case kInvalidParams:
    case kLimitExceededCode:
      return {400, "INVALID_CONTEXT"};
    case kUnauthorizedCode:
      return {field == "role" ? 403 : 401, "GENERAL"};
    default:
      return {500, "GENERAL"};
  }
}

HttpProblem to_http_problem(int rpc_code, std::string_view field) {
  switch (rpc_code) {
    case kInvalidParams:
      return {422, "validation", "Invalid input"};
    case kHookRejectedCode:
      return {422, "hook-rejected", "Refused by a hook"};
    case kLimitExceededCode:
      return {422, "limit-exceeded", "Limit exceeded"};
    case kNotFoundCode:
    case kMethodNotFound:
      return {404, "not-found", "Not found"};
    case kConflictCode:
      return field == "version" ? HttpProblem{412, "stale-version", "Stale version"}
                                : HttpProblem{409, "conflict", "Conflict"};
    case kInvalidTransitionCode:
      return {409, "invalid-transition", "Transition refused"};
    case kUnauthorizedCode:
      // A known key whose role may not do this: 403, as the issue's error table asks.
      return field == "role" ? HttpProblem{403, "forbidden", "Forbidden"}
                             : HttpProblem{401, "unauthorized", "Unauthorized"};
    case kParseError:
    case kInvalidRequest:
      return {400, "malformed", "Malformed request"};
    default:
      return {};
  }
}

HttpProblem http_problem_for_status(int status) {
  switch (status) {
    case 400:
      return {400, "malformed", "Malformed request"};
    case 401:
      return {401, "unauthorized", "Unauthorized"};
    case 403:
      return {403, "forbidden", "Forbidden"};
    case 404:
      return {404, "not-found", "Not found"};
    case 405:
      return {405, "method-not-allowed", "Method not allowed"};
    case 406:
      return {406, "not-acceptable", "Not acceptable"};
    case 412:
      return {412, "stale-version", "Stale version"};
    case 413:
      return {413, "too-large", "Request body too large"};
    case 415:
      return {415, "unsupported-media-type", "Unsupported media type"};
    case 422:
      return {422, "validation", "Invalid input"};
    case 428:
      return {428, "precondition-required", "Precondition required"};
    case 431:
      return {431, "headers-too-large", "Request headers too large"};
    default:
      return {status, "internal", "Internal error"};
  }
}

}  // namespace verdict::server
