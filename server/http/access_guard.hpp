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
/// - The token: on a listener that requires it, a missing or wrong `Authorization: Bearer`
///   gets 401 with `WWW-Authenticate: Bearer`. A right token marks the request authenticated.
///   The web console's files (ConsoleHandler::is_public) load without a token, so that its user
///   can sign in; a wrong token sent with them is still 401.
///   Requests under /api/features/ without `Authorization` pass unauthenticated: GrowthBook's
///   SDKs carry their client key in the path, which SdkPayloadHandler checks.
/// Pure and thread-safe after construction.
class AccessGuard {
 public:
  /// `scheme` is http or https; `port` the bound one. The listener's own origins are allowed,
  /// plus `allow_origins` ("*" allows every origin).
  AccessGuard(std::string scheme, const std::string& host, unsigned short port, bool loopback,
              std::string token, bool token_required, std::vector<std::string> allow_origins);

  /// A refusal to send instead of routing, or nothing; sets `authenticated`.
  std::optional<HttpResponse> check(const HttpRequest& request, bool& authenticated) const;

  const std::vector<std::string>& allowed_origins() const { return origins_; }

 private:
  bool host_allowed(std::string_view host) const;

  std::vector<std::string> origins_;
  std::vector<std::string> hosts_;  ///< Host header values (without port) a loopback listener takes
  bool any_origin_ = false;
  bool loopback_;
  std::string token_;
  bool token_required_;
};

}  // namespace verdict::server::http
