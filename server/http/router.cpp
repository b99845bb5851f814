#include "server/http/router.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <cstdio>

#include "server/error_mapping.hpp"

namespace verdict::server::http {

namespace json = boost::json;

HttpResponse json_response(beast_http::status status, std::string body, unsigned version) {
  HttpResponse response{status, version};
  response.set(beast_http::field::content_type, "application/json");
  response.body() = std::move(body);
  return response;
}

const Router::ErrorRenderer* Router::renderer_for(const HttpRequest& request) const {
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  for (const auto& [prefix, renderer] : renderers_)
    if (path.starts_with(prefix)) return &renderer;
  return nullptr;
}

namespace {

// FNV-1a over the body.
std::string etag_of(std::string_view body) {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : body) hash = (hash ^ c) * 1099511628211ull;
  char text[24];
  std::snprintf(text, sizeof text, "\"%016llx\"", static_cast<unsigned long long>(hash));
  return text;
}

}  // namespace

HttpResponse tagged_json_response(const HttpRequest& request, std::string body) {
  const std::string etag = etag_of(body);
  if (auto match = request.find(beast_http::field::if_none_match);
      match != request.end() && match->value().find(etag) != std::string_view::npos) {
    HttpResponse not_modified{beast_http::status::not_modified, request.version()};
    not_modified.set(beast_http::field::etag, etag);
    return not_modified;
  }
  HttpResponse response = json_response(beast_http::status::ok, std::move(body), request.version());
  response.set(beast_http::field::etag, etag);
  return response;
}

HttpResponse Router::route_error(const HttpRequest& request, beast_http::status status,
                                 std::string message) const {
  if (const ErrorRenderer* renderer = renderer_for(request))
    return (*renderer)(request, status, std::move(message));
  return json_response(status,
                       json::serialize(json::object{{"error", valid_utf8(message)},
                                                    {"status", static_cast<int>(status)}}),
                       request.version());
}

void Router::add_error_renderer(std::string prefix, ErrorRenderer renderer) {
  renderers_.emplace_back(std::move(prefix), std::move(renderer));
}

HttpResponse Router::restyle(const HttpRequest& request, HttpResponse refusal) const {
  const ErrorRenderer* renderer = renderer_for(request);
  if (!renderer) return refusal;
  std::error_code ec;
  json::value body = json::parse(refusal.body(), ec);
  const json::object* object = ec ? nullptr : body.if_object();
  const json::value* error = object ? object->if_contains("error") : nullptr;
  if (error && error->is_object()) error = error->get_object().if_contains("message");
  if (!error || !error->is_string()) return refusal;
  HttpResponse out = (*renderer)(request, refusal.result(), std::string(error->get_string()));
  for (auto name : {beast_http::field::www_authenticate, beast_http::field::allow})
    if (auto header = refusal.find(name); header != refusal.end()) out.set(name, header->value());
  out.keep_alive(refusal.keep_alive());
  return out;
}

void Router::add(beast_http::verb method, std::string path, Handler handler) {
  routes_[std::move(path)].push_back({method, std::move(handler)});
}

void Router::add_prefix(beast_http::verb method, std::string prefix, Handler handler) {
  prefixes_[std::move(prefix)].push_back({method, std::move(handler)});
}

namespace {

// A response made here, as the awaitable a handler would have returned.
boost::asio::awaitable<HttpResponse> made(HttpResponse response) {
  co_return response;
}

}  // namespace

// Not a coroutine itself: it hands back the handler's, so routing costs a request no frame.
boost::asio::awaitable<HttpResponse> Router::handle(const HttpRequest& request,
                                                    RequestContext context) const {
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  auto it = routes_.find(path);
  const std::vector<Route>* routes = it == routes_.end() ? nullptr : &it->second;
  // Reverse lexicographic order visits a longer prefix before any prefix of it.
  for (auto prefix = prefixes_.begin(); !routes && prefix != prefixes_.end(); ++prefix)
    if (path.starts_with(prefix->first) && path.size() > prefix->first.size())
      routes = &prefix->second;
  if (!routes)
    return made(route_error(request, beast_http::status::not_found,
                            "no such path: " + std::string(path.substr(0, 100))));
  for (const auto& route : *routes)
    if (route.method == request.method()) return route.handler(request, std::move(context));
  std::string allow;
  for (const auto& route : *routes)
    allow += (allow.empty() ? "" : ", ") + std::string(beast_http::to_string(route.method));
  HttpResponse response = route_error(request, beast_http::status::method_not_allowed,
                                      std::string(request.method_string()) + " is not allowed on " +
                                          std::string(path) + " (allowed: " + allow + ")");
  response.set(beast_http::field::allow, allow);
  return made(std::move(response));
}

}  // namespace verdict::server::http
