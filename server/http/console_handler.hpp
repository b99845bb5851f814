#pragma once

#include <string_view>

#include "server/http/console_assets.hpp"
#include "server/http/router.hpp"

namespace verdict::server::http {

/// The web console: `/` redirects to `/experiments`; the page's routes (`/experiments`, `/new`,
/// `/flags`, ...) all answer index.html, whose script renders the route; files live under
/// `/console/`. Every answer carries a strong `ETag` (computed at build time) and
/// `Cache-Control: no-cache`, so a browser revalidates and gets 304 until the binary changes, and
/// an upgrade is never masked by a stale cache. A restrictive `Content-Security-Policy` allows
/// only this origin: the page fetches nothing from elsewhere. Stateless and thread-safe.
class ConsoleHandler {
 public:
  /// The page routes the console's script knows; each serves index.html.
  static constexpr std::string_view kPageRoutes[] = {"/experiments", "/new", "/flags"};

  void register_routes(Router& router) const;

  /// Whether the request is a GET for one of the console's own paths: the page, its files and
  /// the redirect to it. They hold no data (every API call the page makes is guarded), and the
  /// page must load before its user can sign in, so the AccessGuard lets them through without
  /// the token.
  static bool is_public(const HttpRequest& request);

  /// The response for one embedded file, or 304 when `If-None-Match` names its ETag.
  static HttpResponse serve(const HttpRequest& request, const ConsoleAsset& asset);
};

}  // namespace verdict::server::http
