#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace verdict::server::http {

/// The project whose flags an SDK client key reads (`{clientKey}` in GrowthBook's
/// `/api/features/{clientKey}`), or nullopt for a key that opens nothing.
/// The one place a client key is resolved: once projects and API keys exist it becomes the
/// lookup of an evaluator key (a key that may only evaluate flags) and its project. Until then
/// the listener's bearer token is the only client key and reads the default project; a listener
/// without a token has no client key. Compares in constant time. Thread-safe.
std::optional<std::string> project_for_client_key(std::string_view client_key,
                                                  const std::string& listener_token);

/// The project every flag belongs to until projects exist.
inline constexpr std::string_view kDefaultProject = "default";

}  // namespace verdict::server::http
