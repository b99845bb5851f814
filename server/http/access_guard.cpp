#include "server/http/access_guard.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "server/error_mapping.hpp"
#include "server/http/console_handler.hpp"
#include "server/http/sdk_payload_handler.hpp"

namespace verdict::server::http {

namespace json = boost::json;
using beast_http::field;
using beast_http::status;

namespace {

// The host part of a Host header or an origin's authority: "[::1]:80" -> "[::1]", "a:1" -> "a".
std::string_view strip_port(std::string_view authority) {
  if (authority.starts_with('[')) {
    auto end = authority.find(']');
    return end == std::string_view::npos ? authority : authority.substr(0, end + 1);
  }
  return authority.substr(0, authority.find(':'));
}

HttpResponse refusal(const HttpRequest& request, status code, std::string message) {
  // An OpenFeature provider reads OFREP's error body, as it gets for a key the engine refuses.
  if (request.target().starts_with("/ofrep/"))
    return json_response(code,
                         json::serialize(json::object{{"errorCode", "GENERAL"},
                                                      {"errorDetails", valid_utf8(message)}}),
                         request.version());
  json::object error{{"code", -32000}, {"message", valid_utf8(message)}};
  return json_response(
      code, json::serialize(json::object{{"jsonrpc", "2.0"}, {"id", nullptr}, {"error", error}}),
      request.version());
}

}  // namespace

AccessGuard::AccessGuard(std::string scheme, const std::string& host, unsigned short port,
                         bool loopback, bool key_required, std::vector<std::string> allow_origins)
    : loopback_(loopback), key_required_(key_required) {
  std::string bracketed = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  hosts_ = {bracketed};
  if (loopback) hosts_.insert(hosts_.end(), {"localhost", "127.0.0.1", "[::1]"});
  for (const auto& name : hosts_)
    origins_.push_back(scheme + "://" + name + ":" + std::to_string(port));
  for (auto& origin : allow_origins) {
    if (origin == "*") {
      any_origin_ = true;
      continue;
    }
    std::string_view authority = origin;
    if (auto scheme_end = authority.find("://"); scheme_end != std::string_view::npos)
      authority.remove_prefix(scheme_end + 3);
    hosts_.emplace_back(strip_port(authority));
    origins_.push_back(std::move(origin));
  }
}

bool AccessGuard::host_allowed(std::string_view host) const {
  std::string_view name = strip_port(host);
  return std::any_of(hosts_.begin(), hosts_.end(),
                     [&](const std::string& allowed) { return allowed == name; }) ||
         name.starts_with("127.");
}

std::optional<HttpResponse> AccessGuard::check(const HttpRequest& request,
                                               std::string& presented_key) const {
  presented_key.clear();
  if (auto origin = request.find(field::origin); origin != request.end() && !any_origin_) {
    std::string_view value = origin->value();
    if (std::find(origins_.begin(), origins_.end(), value) == origins_.end())
      return refusal(request, status::forbidden,
                     "Forbidden: origin '" + std::string(value.substr(0, 100)) +
                         "' is not allowed (start the server with --allow-origin to allow it)");
  }
  if (auto host = request.find(field::host);
      loopback_ && host != request.end() && !host_allowed(host->value()))
    return refusal(request, status::forbidden,
                   "Forbidden: host '" + std::string(host->value().substr(0, 100)) +
                       "' is not a loopback name (DNS rebinding protection)");
  bool sent = false;
  if (auto auth = request.find(field::authorization); auth != request.end()) {
    std::string_view value = auth->value();
    sent = true;
    if (value.size() > 7 && (value.starts_with("Bearer ") || value.starts_with("bearer ")))
      presented_key = value.substr(7);
  } else if (auto key = request.find("X-API-Key"); key != request.end()) {
    sent = true;
    presented_key = key->value();
  }
  // GrowthBook's SDKs send no header: their key is in the path, and its handler checks it.
  if (!sent && request.target().starts_with(kSdkFeaturesPrefix)) return std::nullopt;
  // The console's files hold no data and must load for its user to sign in.
  if (!presented_key.empty() || (!sent && (!key_required_ || ConsoleHandler::is_public(request))))
    return std::nullopt;
  HttpResponse response =
      refusal(request, status::unauthorized,
              sent ? "Unauthorized: the Authorization header must be Bearer <key>"
                   : "Unauthorized: send Authorization: Bearer <key> (or X-API-Key: <key>)");
  response.set(field::www_authenticate, "Bearer realm=\"verdict\"");
  return response;
}

}  // namespace verdict::server::http
