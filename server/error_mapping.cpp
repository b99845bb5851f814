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

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    auto byte = static_cast<unsigned char>(text[i]);
    // The length of the sequence `byte` starts and the range of its second byte (RFC 3629),
    // which excludes overlong forms, surrogates and code points past U+10FFFF.
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;
    if (byte < 0x80)
      length = 1;
    else if (byte >= 0xC2 && byte <= 0xDF)
      length = 2;
    else if (byte >= 0xE0 && byte <= 0xEF) {
      length = 3;
      if (byte == 0xE0) low = 0xA0;
      if (byte == 0xED) high = 0x9F;
    } else if (byte >= 0xF0 && byte <= 0xF4) {
      length = 4;
      if (byte == 0xF0) low = 0x90;
      if (byte == 0xF4) high = 0x8F;
    }
    std::size_t valid = length > 0 ? 1 : 0;
    while (valid > 0 && valid < length && i + valid < text.size()) {
      auto next = static_cast<unsigned char>(text[i + valid]);
      if (next < (valid == 1 ? low : 0x80) || next > (valid == 1 ? high : 0xBF)) break;
      ++valid;
    }
    if (length > 0 && valid == length) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD for the maximal invalid prefix, as WHATWG decoders do
      i += valid > 0 ? valid : 1;
    }
  }
  return out;
}

RpcError to_rpc_error(const verdict::Error& error, ErrorContext context) {
  json::object data{{"code", to_string(error.code())}};
  if (!error.field().empty()) data["field"] = error.field();
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
