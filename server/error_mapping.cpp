#include "server/error_mapping.hpp"

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

json::object to_json(const RpcError& error) {
  json::object out{{"code", error.code}, {"message", valid_utf8(error.message)}};
  if (!error.data.is_null()) out["data"] = error.data;
  return out;
}

}  // namespace verdict::server
