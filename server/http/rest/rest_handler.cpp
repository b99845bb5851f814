#include "server/http/rest/rest_handler.hpp"

#include <boost/container/small_vector.hpp>

#include <algorithm>
#include <charconv>
#include <optional>

#include "server/http/rest/openapi.hpp"
#include "server/http/rest/rest_support.hpp"

namespace verdict::server::http::rest {

namespace asio = boost::asio;
namespace json = boost::json;
using beast_http::field;
using beast_http::verb;

namespace {

constexpr int kMaxFilterDepth = 32;
constexpr std::string_view kEventsSegment = "events";

// /~{project}/{plural noun}/{id}/{verb} at most: held inline, without an allocation.
using PathSegments = boost::container::small_vector<std::string, 4>;

PathSegments split_path(std::string_view path) {
  PathSegments segments;
  while (!path.empty()) {
    auto slash = path.find('/');
    segments.push_back(url_decode(path.substr(0, slash), false));
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
  }
  return segments;
}

[[noreturn]] void method_not_allowed(const HttpRequest& request, std::string allow) {
  Problem refused(405, std::string(request.method_string()) + " is not allowed on " +
                           std::string(request_path(request).substr(0, 200)) +
                           " (allowed: " + allow + ")");
  refused.allow = std::move(allow);
  throw refused;
}

std::string etag(std::int64_t version) {
  return "\"" + std::to_string(version) + "\"";
}

std::string etag(const json::object& entity) {
  return etag(entity.at("version").to_number<std::int64_t>());
}

// A query value as the declared field's type: numbers and booleans from their text.
json::value typed_value(const json::object& field_spec, const std::string& name,
                        const std::string& text) {
  std::string_view type = field_spec.at("type").as_string();
  if (type == "number") {
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size())
      throw Problem(400, name + ": expected a number, got '" + text.substr(0, 100) + "'",
                    {{"field", name}});
    return value;
  }
  if (type == "boolean") {
    if (text == "true") return true;
    if (text == "false") return false;
    throw Problem(400, name + ": expected true or false", {{"field", name}});
  }
  return json::value(text);
}

json::object parse_json_param(const std::string& name, const std::string& text) {
  json::parse_options options;
  options.max_depth = kMaxFilterDepth;
  std::error_code ec;
  json::value value = json::parse(text, ec, {}, options);
  if (ec || !value.is_object())
    throw Problem(400,
                  name + ": expected a JSON object (" + (ec ? ec.message() : "not an object") + ")",
                  {{"field", name}});
  return std::move(value.get_object());
}

// `sort=-startAt,name`: a leading '-' sorts descending.
json::object parse_sort(const std::string& text) {
  json::object sort;
  std::string_view rest = text;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view key = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    bool descending = key.starts_with('-');
    if (descending) key.remove_prefix(1);
    if (key.empty()) throw Problem(400, "sort: empty field name", {{"field", "sort"}});
    sort[key] = descending ? "desc" : "asc";
  }
  return sort;
}

std::int64_t parse_limit(const std::string& text) {
  std::int64_t limit = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
  if (ec != std::errc() || end != text.data() + text.size())
    throw Problem(400, "limit: expected an integer", {{"field", "limit"}});
  return limit;
}

// A page as collections answer it: with a `nextCursor`, `next` (the next page's path, also the
// `Link: rel="next"` header) follows it; `query` is the request's query without its cursor.
HttpResponse page_response(const HttpRequest& request, json::object page, const std::string& path,
                           const std::string& query) {
  const json::value* cursor = page.if_contains("nextCursor");
  if (!cursor) return rest_json(request, 200, page);
  std::string next =
      path + "?" + query + (query.empty() ? "" : "&") + "cursor=" + url_encode(cursor->as_string());
  page["next"] = next;
  HttpResponse response = rest_json(request, 200, page);
  response.set(field::link, "<" + next + ">; rel=\"next\"");
  return response;
}

bool has_verb(const json::object& noun, std::string_view name) {
  for (const auto& [verb_name, spec] : noun.at("verbs").as_object()) {
    if (verb_name == name) return true;
    if (const json::value* aliases = spec.as_object().if_contains("aliases"))
      for (const json::value& alias : aliases->as_array())
        if (alias.as_string() == name) return true;
  }
  return false;
}

}  // namespace

void RestHandler::register_routes(Router& router) {
  auto handler = guarded([this](const HttpRequest& request, RequestContext context) {
    return handle(request, std::move(context));
  });
  // Every method reaches the handler, which knows which ones a path takes (405 with Allow).
  for (verb method : {verb::get, verb::post, verb::patch, verb::delete_, verb::put})
    router.add_prefix(method, "/~", handler);
  router.add(verb::get, "/openapi.json",
             guarded([this](const HttpRequest& request, RequestContext context) {
               return openapi(request, std::move(context));
             }));
}

asio::awaitable<HttpResponse> RestHandler::openapi(const HttpRequest& request,
                                                   RequestContext context) {
  auto schema = co_await schema_.fresh(context);
  co_return rest_json(request, 200, openapi_document(*schema));
}

asio::awaitable<HttpResponse> RestHandler::handle(const HttpRequest& request,
                                                  RequestContext context) {
  PathSegments segments = split_path(request_path(request).substr(2));
  const std::string& project_name = segments.at(0);
  auto project = resolve_project(project_name);
  if (!project)
    throw Problem(404, "no project '" + project_name.substr(0, 100) + "'", {{"field", "project"}});
  context.project = std::move(*project);
  const bool empty_segment =
      std::any_of(segments.begin(), segments.end(), [](const std::string& s) { return s.empty(); });
  if (segments.size() < 2 || segments.size() > 4 || empty_segment)
    throw Problem(404, "no such path: " + std::string(request_path(request).substr(0, 200)) +
                           " (paths are /~{project}/{plural noun}[/{id}[/{verb}]])");
  auto noun = schema_.cached_noun(segments[1]);
  if (!noun) noun = co_await schema_.noun_for_plural(segments[1], context);
  if (!noun)
    throw Problem(404,
                  "no noun is served at '" + segments[1].substr(0, 100) +
                      "' (GET /openapi.json lists the paths)",
                  {{"field", "noun"}});
  const std::string type(noun->at("name").as_string());
  const json::object& fields = noun->at("fields").as_object();
  const json::object& verbs = noun->at("verbs").as_object();
  const verb method = request.method();

  if (segments.size() == 2) {
    if (method == verb::post) {
      json::object call{{"type", type}, {"verb", "create"}, {"data", read_body(request)}};
      json::value created = co_await engine_call(worker_, context, kDoMethod, std::move(call));
      HttpResponse response = rest_json(request, 201, created);
      response.set(field::location, "/~" + project_name + "/" + segments[1] + "/" +
                                        std::string(created.at("id").as_string()));
      response.set(field::etag, etag(created.as_object()));
      co_return response;
    }
    if (method != verb::get) method_not_allowed(request, "GET, POST");
    json::object query{{"type", type}};
    json::object filter;
    std::string link_query;
    for (auto& [name, value] : query_params(request)) {
      if (name == "filter") {
        for (auto& [key, condition] : parse_json_param(name, value)) {
          if (filter.contains(key))
            throw Problem(400, "filter: " + std::string(key) + " is also a query parameter",
                          {{"field", "filter"}});
          filter[key] = condition;
        }
      } else if (name == "sort") {
        query["sort"] = parse_sort(value);
      } else if (name == "limit") {
        query["limit"] = parse_limit(value);
      } else if (name == "cursor") {
        query["cursor"] = value;
        continue;  // the next page's link carries its own cursor
      } else {
        const json::value* spec = fields.if_contains(name);
        if (!spec && name != "id")
          throw Problem(400, name + ": not a field of " + type + " (filter on declared fields)",
                        {{"field", name}});
        if (filter.contains(name))
          throw Problem(400, "filter: " + name + " is also a query parameter", {{"field", name}});
        filter[name] = spec ? typed_value(spec->as_object(), name, value) : json::value(value);
      }
      link_query += (link_query.empty() ? "" : "&") + url_encode(name) + "=" + url_encode(value);
    }
    if (!filter.empty()) query["filter"] = std::move(filter);
    json::value found = co_await engine_call(worker_, context, kFindMethod, std::move(query));
    co_return page_response(request, std::move(found.as_object()),
                            "/~" + project_name + "/" + segments[1], link_query);
  }

  const std::string& id = segments[2];
  if (segments.size() == 3) {
    if (method == verb::post) {
      // POST on an item path runs a collection verb (summary, plan) named there.
      const json::value* spec = verbs.if_contains(id);
      if (!spec || !spec->as_object().contains("collection"))
        method_not_allowed(request, "GET, PATCH, DELETE");
      json::object call{{"type", type}, {"verb", id}, {"data", read_body(request)}};
      json::value result = co_await engine_call(worker_, context, kDoMethod, std::move(call));
      co_return rest_json(request, 200, result);
    }
    if (method == verb::get) {
      EngineCall call(kGetMethod);
      call.params().reserve(2);
      call.params().emplace("type", type);
      call.params().emplace("id", id);
      // The entity goes out as the engine wrote it (its doubles bit for bit, and no parse and
      // serialization on the way); the engine names its version, for the ETag.
      EngineText answer = co_await call_engine_text(worker_, context, std::move(call));
      std::string& reply = answer.reply;
      std::optional<std::string_view> entity = framed_result(reply);
      std::optional<std::int64_t> version = entity ? answer.entity_version : std::nullopt;
      if (!version) {
        EngineReply refused = read_engine_reply(reply, {});
        if (refused.failed) throw Problem(refused.error);
        throw Problem(500, "the engine answered an entity without a version");
      }
      const std::string tag = etag(*version);
      if (auto match = request.find(field::if_none_match);
          match != request.end() && match->value() == tag) {
        HttpResponse not_modified{beast_http::status::not_modified,
                                  request.version() ? request.version() : 11u};
        not_modified.set(field::etag, tag);
        co_return not_modified;
      }
      // The reply's framing is cut off in place: the entity keeps the reply's allocation.
      const std::size_t entity_start = entity->data() - reply.data();
      reply.resize(entity_start + entity->size());
      reply.erase(0, entity_start);
      HttpResponse response = rest_json_text(request, 200, std::move(reply));
      response.set(field::etag, tag);
      co_return response;
    }
    if (method != verb::patch && method != verb::delete_)
      method_not_allowed(request, "GET, PATCH, DELETE");
    json::object data = method == verb::patch ? read_body(request) : json::object{};
    if (data.contains("version"))
      throw Problem(422, "version: send it as If-Match: \"<version>\", not in the body",
                    {{"field", "version"}});
    auto match = request.find(field::if_match);
    if (match == request.end() && method == verb::patch)
      throw Problem(428,
                    "If-Match: required; send the ETag of your copy (If-Match: \"3\") so a "
                    "change made since is never overwritten",
                    {{"field", "If-Match"}});
    if (match != request.end() && match->value() != "*") {
      std::string_view tag = match->value();
      if (tag.starts_with("W/")) tag.remove_prefix(2);
      std::int64_t version = -1;
      if (tag.size() < 3 || tag.front() != '"' || tag.back() != '"' ||
          std::from_chars(tag.data() + 1, tag.data() + tag.size() - 1, version).ec != std::errc() ||
          version < 0)
        throw Problem(400, "If-Match: expected an ETag such as \"3\" (the entity's version)",
                      {{"field", "If-Match"}});
      data["version"] = version;
    }
    json::object call{{"type", type},
                      {"verb", method == verb::patch ? "update" : "delete"},
                      {"id", id},
                      {"data", std::move(data)}};
    json::value result = co_await engine_call(worker_, context, kDoMethod, std::move(call));
    HttpResponse response = rest_json(request, 200, result);
    if (method == verb::patch) response.set(field::etag, etag(result.as_object()));
    co_return response;
  }

  const std::string& action = segments[3];
  if (action == kEventsSegment) {
    if (method != verb::get) method_not_allowed(request, "GET");
    json::object call{{"type", type}, {"id", id}, {"include", json::array{"history"}}};
    std::string link_query;
    for (auto& [name, value] : query_params(request)) {
      if (name == "limit") {
        call["limit"] = parse_limit(value);
        link_query = "limit=" + url_encode(value);
      } else if (name == "cursor") {
        call["cursor"] = value;
      } else {
        throw Problem(400, name.substr(0, 100) + ": the event history takes limit and cursor only",
                      {{"field", name.substr(0, 100)}});
      }
    }
    json::value entity = co_await engine_call(worker_, context, kGetMethod, std::move(call));
    json::object& got = entity.as_object();
    json::object page{{"items", got["history"]}};
    if (const json::value* cursor = got.if_contains("historyNextCursor"))
      page["nextCursor"] = *cursor;
    co_return page_response(request, std::move(page),
                            "/~" + project_name + "/" + segments[1] + "/" + url_encode(id) + "/" +
                                std::string(kEventsSegment),
                            link_query);
  }
  if (method != verb::post) method_not_allowed(request, "POST");
  if (!has_verb(*noun, action)) {
    // A verb a plugin added since the snapshot was taken is served too.
    co_await schema_.fresh(context);
    noun = co_await schema_.noun_for_plural(segments[1], context);
    if (!noun || !has_verb(*noun, action)) {
      // `verbs` may point into the snapshot just replaced: list the fresh one's.
      std::string known;
      if (noun)
        for (const auto& [name, spec] : noun->at("verbs").as_object())
          known += (known.empty() ? "" : ", ") + std::string(name);
      throw Problem(404,
                    type + " has no verb '" + action.substr(0, 100) + "' (verbs: " + known + ")",
                    {{"field", "verb"}});
    }
  }
  json::object call{{"type", type}, {"verb", action}, {"id", id}, {"data", read_body(request)}};
  json::value result = co_await do_verb(worker_, context, std::move(call));
  co_return rest_json(request, 200, result);
}

}  // namespace verdict::server::http::rest
