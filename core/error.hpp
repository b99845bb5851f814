#pragma once

#include <stdexcept>
#include <string>

namespace verdict {

/// Transport-independent failure categories. The server maps them to JSON-RPC codes or to
/// `isError` tool results in exactly one place (server/error_mapping).
enum class ErrorCode {
  kInvalidArgument,    ///< bad input: wrong type, missing field, out of range
  kNotFound,           ///< no entity, noun or verb with that name
  kConflict,           ///< unique constraint or stale version
  kInvalidTransition,  ///< the verb is not allowed in the entity's current state
  kHookRejected,       ///< a before hook refused the verb
  kLimitExceeded,      ///< a bound (size, depth, instructions, memory) was hit
  kUnauthorized,       ///< an operation that requires the token
  kInternal,           ///< a bug or a storage failure
};

/// A domain or protocol failure. `field` names the offending input when there is one.
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string message, std::string field = {})
      : std::runtime_error(std::move(message)), code_(code), field_(std::move(field)) {}

  ErrorCode code() const noexcept { return code_; }
  const std::string& field() const noexcept { return field_; }

 private:
  ErrorCode code_;
  std::string field_;
};

/// Throws kInvalidArgument with a message of the form "<field>: <reason>".
[[noreturn]] inline void invalid(const std::string& field, const std::string& reason) {
  throw Error(ErrorCode::kInvalidArgument, field.empty() ? reason : field + ": " + reason, field);
}

const char* to_string(ErrorCode code) noexcept;

}  // namespace verdict
