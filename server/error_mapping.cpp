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

OfrepError to_ofrep_error(int rpc_code) {
  switch (rpc_code) {
    case kNotFoundCode:
      return {404, "FLAG_NOT_FOUND"};
    case kInvalidParams:
    case kLimitExceededCode:
      return {400, "INVALID_CONTEXT"};
    case kUnauthorizedCode:
      return {401, "GENERAL"};
    default:
      return {500, "GENERAL"};
  }
}

}  // namespace verdict::server
