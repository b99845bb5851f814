#include "server/http/ofrep_handler.hpp"

#include <boost/json.hpp>

#include <optional>

#include "server/error_mapping.hpp"
#include "server/http/engine_call.hpp"

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

}  // namespace

void OfrepHandler::register_routes(Router& router) {
  router.add(beast_http::verb::post, std::string(kBulkPath),
             [this](const HttpRequest& request, RequestContext context) {
               return evaluate(request, std::move(context), true);
             });
  router.add_prefix(beast_http::verb::post, std::string(kBulkPath) + "/",
                    [this](const HttpRequest& request, RequestContext context) {
                      return evaluate(request, std::move(context), false);
                    });
}

asio::awaitable<HttpResponse> OfrepHandler::evaluate(const HttpRequest& request,
                                                     RequestContext context, bool bulk) {
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

  EngineReply reply = co_await call_engine(worker_, context, kDoMethod, std::move(params));
  if (reply.failed) {
    const OfrepError mapped = to_ofrep_error(reply.error.code, reply.error.field());
    co_return failure(request, mapped.status, key, mapped.code, reply.error.message);
  }
  const json::value* result = &reply.result;
  if (!result->is_object())
    co_return failure(request, 500, key, "GENERAL", "the engine gave no result");
  if (!bulk) {
    json::object single = ofrep_result(result->get_object(), *key);
    // An ERROR evaluation is a flag that cannot serve this unit, not a server failure: OFREP's
    // evaluation failure (400 with an errorCode), so the provider falls back to its default.
    const bool failed = single.contains("errorCode");
    co_return json_response(failed ? status::bad_request : status::ok, json::serialize(single),
                            request.version());
  }
  json::array flags;
  for (const json::value& evaluation : result->get_object().at("evaluations").as_array())
    flags.push_back(
        ofrep_result(evaluation.as_object(), std::string(evaluation.at("flag").as_string())));
  co_return tagged_json_response(request,
                                 json::serialize(json::object{{"flags", std::move(flags)}}));
}

}  // namespace verdict::server::http
