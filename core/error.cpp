#include "core/error.hpp"

namespace verdict {

const char* to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kInvalidTransition:
      return "invalid_transition";
    case ErrorCode::kHookRejected:
      return "hook_rejected";
    case ErrorCode::kLimitExceeded:
      return "limit_exceeded";
    case ErrorCode::kUnauthorized:
      return "unauthorized";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "internal";
}

}  // namespace verdict
