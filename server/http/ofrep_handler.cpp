#include "server/http/ofrep_handler.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <cstdio>
#include <optional>

#include "server/error_mapping.hpp"
#include "server/http/http_exchange.hpp"

namespace verdict::server::http {

namespace asio = boost::asio;
namespace json = boost::json;
using beast_http::field;
using beast_http::status;

namespace {

constexpr std::string_view kBulkPath = "/ofrep/v1/evaluate/flags";
constexpr std::size_t kMaxKeyBytes = 256;
constexpr int kMaxContextDepth = 32;

HttpResponse failure(const HttpRequest& request, int code, std::optional<std::string> key,
                     const char* error_code, const std::string& details) {
  json::object body{{"errorCode", error_code}, {"errorDetails", valid_utf8(details)}};
  if (key) body["key"] = valid_utf8(*key);
  return json_response(static_cast<status>(code), json::serialize(body), request.version());
}

// OFREP's success object for one of Verdict's evaluations. OFREP has no DEFAULT reason: a value
// served because no rule matched is static configuration, so it reports STATIC. A null value
// (a flag without a defaultValue) is OFREP's "code default": no `value` member.
json::object ofrep_result(const json::object& evaluation, const std::string& key) {
  const std::string reason(evaluation.at("reason").as_string());
  if (reason == "ERROR") {
    const json::value* message = evaluation.if_contains("errorMessage");
    return {{"key", key},
            {"errorCode", "GENERAL"},
            {"errorDetails", message && message->is_string() ? message->get_string() : ""}};
  }
  json::object out{{"key", key}, {"reason", reason == "DEFAULT" ? "STATIC" : reason}};
  if (const json::value& value = evaluation.at("value"); !value.is_null()) out["value"] = value;
  if (const json::value& variant = evaluation.at("variant"); variant.is_string())
    out["variant"] = variant;
  if (const json::value& rule = evaluation.at("ruleId"); rule.is_string())
    out["metadata"] = json::object{{"ruleId", rule}};
  return out;
}

// FNV-1a over the body: the same flags and context give the same body, hence the same tag.
std::string etag_of(std::string_view body) {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : body) hash = (hash ^ c) * 1099511628211ull;
  char text[24];
  std::snprintf(text, sizeof text, "\"%016llx\"", static_cast<unsigned long long>(hash));
  return text;
}

}  // namespace

void OfrepHandler::register_routes(Router& router) {
  router.add(beast_http::verb::post, std::string(kBulkPath),
             [this](HttpRequest request, RequestContext context) {
               return evaluate(std::move(request), std::move(context), true);
             });
  router.add_prefix(beast_http::verb::post, std::string(kBulkPath) + "/",
                    [this](HttpRequest request, RequestContext context) {
                      return evaluate(std::move(request), std::move(context), false);
                    });
}

asio::awaitable<HttpResponse> OfrepHandler::evaluate(HttpRequest request, RequestContext context,
                                                     bool bulk) {
  std::optional<std::string> key;
  if (!bulk) {
    std::string_view target = request.target();
    std::string_view path = target.substr(0, target.find('?'));
    key = std::string(path.substr(kBulkPath.size() + 1));
    if (key->size() > kMaxKeyBytes || key->find('/') != std::string::npos)
      co_return failure(request, 404, key->substr(0, kMaxKeyBytes), "FLAG_NOT_FOUND",
                        "no flag has this key");
  }
  json::parse_options options;
  options.max_depth = kMaxContextDepth;
  std::error_code ec;
  json::value body = json::parse(request.body(), ec, {}, options);
  if (ec)
    co_return failure(request, 400, key, "PARSE_ERROR", "body: not JSON (" + ec.message() + ")");
  const json::object* object = body.if_object();
  const json::value* given = object ? object->if_contains("context") : nullptr;
  if (!given || !given->is_object())
    co_return failure(request, 400, key, "INVALID_CONTEXT", "context: required, an object");
  json::object attributes = given->get_object();
  const json::value* targeting_key = attributes.if_contains("targetingKey");
  if (!targeting_key || (targeting_key->is_string() && targeting_key->get_string().empty()))
    co_return failure(request, 400, key, "TARGETING_KEY_MISSING",
                      "context.targetingKey: required, the unit to evaluate for");
  if (!targeting_key->is_string())
    co_return failure(request, 400, key, "INVALID_CONTEXT",
                      "context.targetingKey: must be a string");
  json::object data{{"unit", *targeting_key}};
  attributes.erase("targetingKey");
  if (!attributes.empty()) data["attributes"] = std::move(attributes);
  json::object params{{"type", "FeatureFlag"}, {"verb", "evaluate"}, {"data", std::move(data)}};
  if (key) params["id"] = *key;

  auto exchange = std::make_shared<HttpExchange>(co_await asio::this_coro::executor, nullptr);
  exchange->session.transport = "http";
  exchange->session.actor = context.peer;
  exchange->session.presented_key = context.presented_key;
  std::vector<LineFramer::Frame> frames;
  frames.push_back({json::serialize(json::object{
      {"jsonrpc", "2.0"}, {"id", 1}, {"method", "do"}, {"params", std::move(params)}})});
  worker_.submit(exchange, std::move(frames));
  co_await exchange->wait();

  json::value reply = json::parse(exchange->reply(), ec);
  const json::object* answer = ec ? nullptr : reply.if_object();
  if (const json::value* error = answer ? answer->if_contains("error") : nullptr) {
    const json::object& fields = error->as_object();
    const OfrepError mapped = to_ofrep_error(static_cast<int>(fields.at("code").to_number<int>()));
    co_return failure(request, mapped.status, key, mapped.code,
                      std::string(fields.at("message").as_string()));
  }
  const json::value* result = answer ? answer->if_contains("result") : nullptr;
  if (!result || !result->is_object())
    co_return failure(request, 500, key, "GENERAL", "the engine gave no result");
  if (!bulk) {
    json::object single = ofrep_result(result->get_object(), *key);
    const bool failed = single.contains("errorCode");
    co_return json_response(failed ? status::internal_server_error : status::ok,
                            json::serialize(single), request.version());
  }
  json::array flags;
  for (const json::value& evaluation : result->get_object().at("evaluations").as_array())
    flags.push_back(
        ofrep_result(evaluation.as_object(), std::string(evaluation.at("flag").as_string())));
  std::string text = json::serialize(json::object{{"flags", std::move(flags)}});
  const std::string etag = etag_of(text);
  if (auto match = request.find(field::if_none_match);
      match != request.end() && match->value().find(etag) != std::string_view::npos) {
    HttpResponse not_modified{status::not_modified, request.version()};
    not_modified.set(field::etag, etag);
    co_return not_modified;
  }
  HttpResponse response = json_response(status::ok, std::move(text), request.version());
  response.set(field::etag, etag);
  co_return response;
}

}  // namespace verdict::server::http
