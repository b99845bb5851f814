#pragma once

#include <optional>
#include <string>
#include <vector>

#include "server/http/router.hpp"

namespace verdict::server::http {

/// Who may talk to an HTTP listener, checked before routing:
/// - DNS rebinding (required by MCP): a request whose `Origin` is present and not allowed gets
///   403; on a loopback listener a `Host` that is not a loopback name (or an allowed origin's
///   host) gets 403 too, since a rebound name still points the browser at this machine.
/// - The key: `Authorization: Bearer KEY` or `X-API-Key: KEY` is handed on to be checked on the
///   engine thread (keys live in the database); on a listener that requires keys a request
///   without one gets 401 with `WWW-Authenticate: Bearer`.
///   The web console's files (ConsoleHandler::is_public) load without a key, so that its user
///   can sign in. Requests under /api/features/ without `Authorization` pass too: GrowthBook's
///   SDKs carry their client key in the path, which SdkPayloadHandler presents as the key.
/// Pure and thread-safe after construction.
class AccessGuard {
 public:
  /// `scheme` is http or https; `port` the bound one. The listener's own origins are allowed,
  /// plus `allow_origins` ("*" allows every origin).
  AccessGuard(std::string scheme, const std::string& host, unsigned short port, bool loopback,
              bool key_required, std::vector<std::string> allow_origins);

  /// A refusal to send instead of routing, or nothing; sets `presented_key` to the key sent.
  std::optional<HttpResponse> check(const HttpRequest& request, std::string& presented_key) const;

  const std::vector<std::string>& allowed_origins() const { return origins_; }

 private:
  bool host_allowed(std::string_view host) const;

  std::vector<std::string> origins_;
  std::vector<std::string> hosts_;  ///< Host header values (without port) a loopback listener takes
  bool any_origin_ = false;
  bool loopback_;
  bool key_required_;
};

}  // namespace verdict::server::http
