#include "server/http/rest/rest_support.hpp"

#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <cctype>

#include "core/json_style.hpp"

namespace verdict::server::http::rest {

namespace asio = boost::asio;
namespace json = boost::json;
using beast_http::field;

namespace {

constexpr int kMaxBodyDepth = 64;

bool is_json_media_type(std::string_view type) {
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  std::string lower;
  for (char c : type) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "application/json" ||
         (lower.starts_with("application/") && lower.ends_with("+json"));
}

// The verbs a refused transition could use instead: those of `type` whose `from` holds `status`.
json::array allowed_verbs(const json::object& schema, std::string_view type,
                          std::string_view status) {
  json::array allowed;
  for (const json::value& noun : schema.at("nouns").as_array()) {
    if (noun.at("name").as_string() != type) continue;
    for (const auto& [name, spec] : noun.at("verbs").as_object())
      if (const json::value* from = spec.as_object().if_contains("from"))
        for (const json::value& state : from->as_array())
          if (state.as_string() == status) allowed.push_back(json::string(name));
  }
  return allowed;
}

}  // namespace

Problem::Problem(const RpcError& error) : status(500), detail(error.message) {
  std::string field_name;
  if (const json::object* data = error.data.if_object()) {
    if (const json::value* f = data->if_contains("field"); f && f->is_string())
      field_name = std::string(f->get_string());
    if (const json::value* code = data->if_contains("code")) extra["code"] = *code;
    if (const json::value* incident = data->if_contains("incident")) extra["incident"] = *incident;
  }
  // A hook refuses the verb as a whole unless it names a field: the 422 still names the input.
  if (field_name.empty() && error.code == kHookRejectedCode) field_name = "verb";
  kind = to_http_problem(error.code, field_name);
  status = kind->status;
  if (!field_name.empty()) extra["field"] = field_name;
}

HttpResponse problem_response(const HttpRequest& request, const Problem& problem) {
  const HttpProblem kind = problem.kind ? *problem.kind : http_problem_for_status(problem.status);
  json::object body{{"type", std::string("urn:verdict:problem:") + kind.type},
                    {"title", kind.title},
                    {"status", problem.status},
                    {"detail", valid_utf8(problem.detail)}};
  for (const auto& [key, value] : problem.extra) body[key] = value;
  HttpResponse response = rest_json(request, problem.status, body);
  response.set(field::content_type, "application/problem+json");
  if (!problem.allow.empty()) response.set(field::allow, problem.allow);
  // RFC 9110: a 401 says how to authenticate, also when the engine (not the listener) refused
  // the key.
  if (problem.status == 401) response.set(field::www_authenticate, "Bearer realm=\"verdict\"");
  return response;
}

HttpResponse rest_json(const HttpRequest& request, int status, const json::value& body) {
  // The server's number format (0.5, not 5E-1), as MCP's replies have it.
  return rest_json_text(request, status, to_json_text(body));
}

HttpResponse rest_json_text(const HttpRequest& request, int status, std::string body) {
  return json_response(static_cast<beast_http::status>(status), std::move(body),
                       request.version() ? request.version() : 11);
}

json::object read_body(const HttpRequest& request) {
  if (request.body().empty()) return {};
  auto type = request.find(field::content_type);
  if (type == request.end() || !is_json_media_type(type->value()))
    throw Problem(415,
                  "Content-Type: send the body as application/json (got " +
                      (type == request.end() ? std::string("none")
                                             : std::string(type->value().substr(0, 100))) +
                      ")",
                  {{"field", "Content-Type"}});
  json::parse_options options;
  options.max_depth = kMaxBodyDepth;
  std::error_code ec;
  json::value body = json::parse(request.body(), ec, {}, options);
  if (ec) throw Problem(400, "body: not valid JSON (" + ec.message() + ")", {{"field", "body"}});
  if (!body.is_object()) throw Problem(400, "body: must be a JSON object", {{"field", "body"}});
  return std::move(body.get_object());
}

asio::awaitable<json::value> engine_call(EngineWorker& worker, const RequestContext& context,
                                         std::string_view method, json::object params,
                                         std::string* project) {
  EngineReply reply = co_await call_engine(worker, context, method, std::move(params));
  if (reply.failed) throw Problem(reply.error);
  if (project) *project = std::move(reply.project);
  co_return std::move(reply.result);
}

asio::awaitable<json::value> do_verb(EngineWorker& worker, const RequestContext& context,
                                     json::object params, std::string* project) {
  const json::value* id = params.if_contains("id");
  const std::string entity_id = id && id->is_string() ? std::string(id->get_string()) : "";
  const std::string type(params.at("type").as_string());
  EngineReply reply = co_await call_engine(worker, context, kDoMethod, std::move(params));
  if (!reply.failed) {
    if (project) *project = std::move(reply.project);
    co_return std::move(reply.result);
  }
  Problem refused(reply.error);
  if (refused.kind && std::string_view(refused.kind->type) == "invalid-transition" &&
      !entity_id.empty()) {
    // Which verbs the entity's state allows instead, from the same schema the engine checks.
    json::object get_params{{"type", type}, {"id", entity_id}};
    EngineReply current = co_await call_engine(worker, context, kGetMethod, std::move(get_params));
    EngineReply schema = co_await call_engine(worker, context, kSchemaMethod, json::object());
    const json::value* status =
        current.failed ? nullptr : current.result.as_object().if_contains("status");
    if (status && status->is_string() && !schema.failed) {
      refused.extra["entityStatus"] = *status;
      refused.extra["allowedVerbs"] =
          allowed_verbs(schema.result.as_object(), type, status->get_string());
    }
  }
  throw refused;
}

std::optional<std::string> resolve_project(std::string_view name) {
  // Project slugs are lower-case words joined by hyphens (core/slug); anything else names none.
  const bool slug_like =
      !name.empty() && name.size() <= 100 && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
      });
  if (!slug_like) return std::nullopt;
  return std::string(name);
}

std::string url_decode(std::string_view text, bool query) {
  auto digit = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  std::string out;
  out.reserve(text.size());
  // Plain runs are copied whole: most segments (ids, nouns) hold no escape at all.
  for (std::size_t i = 0; i < text.size(); ++i) {
    std::size_t next = text.find('%', i);
    if (query) next = std::min(next, text.find('+', i));
    out.append(text.substr(i, next - i));
    if (next == std::string_view::npos) break;
    i = next;
    if (text[i] == '+') {
      out += ' ';
    } else if (i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(digit(text[i + 1]) * 16 + digit(text[i + 2]));
      i += 2;
    } else {
      out += '%';
    }
  }
  return out;
}

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string_view request_path(const HttpRequest& request) {
  std::string_view target = request.target();
  return target.substr(0, target.find('?'));
}

std::vector<std::pair<std::string, std::string>> query_params(const HttpRequest& request) {
  std::string_view target = request.target();
  std::vector<std::pair<std::string, std::string>> params;
  auto mark = target.find('?');
  if (mark == std::string_view::npos) return params;
  std::string_view query = target.substr(mark + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string name = url_decode(pair.substr(0, eq), true);
    std::string value =
        eq == std::string_view::npos ? std::string() : url_decode(pair.substr(eq + 1), true);
    for (const auto& [seen, ignored] : params)
      if (seen == name)
        throw Problem(400, name + ": given twice in the query string", {{"field", name}});
    params.emplace_back(std::move(name), std::move(value));
  }
  return params;
}

namespace {

asio::awaitable<HttpResponse> run_guarded(std::shared_ptr<const Router::Handler> handler,
                                          const HttpRequest& request, RequestContext context) {
  try {
    co_return co_await (*handler)(request, std::move(context));
  } catch (const Problem& problem) {
    co_return problem_response(request, problem);
  } catch (const std::exception& error) {
    co_return problem_response(request,
                               Problem(internal_error("REST request failed", error.what())));
  }
}

}  // namespace

Router::Handler guarded(Router::Handler handler) {
  auto shared = std::make_shared<const Router::Handler>(std::move(handler));
  return [shared](const HttpRequest& request, RequestContext context) {
    return run_guarded(shared, request, std::move(context));
  };
}

}  // namespace verdict::server::http::rest
