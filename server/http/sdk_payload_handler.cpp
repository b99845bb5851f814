#include "server/http/sdk_payload_handler.hpp"

#include <boost/json.hpp>

#include "server/error_mapping.hpp"
#include "server/http/engine_call.hpp"

namespace verdict::server::http {

namespace asio = boost::asio;
namespace json = boost::json;
using beast_http::status;

namespace {

constexpr std::size_t kMaxKeyBytes = 256;

// GrowthBook's own error shape for this endpoint: {status, error}.
HttpResponse failure(const HttpRequest& request, status code, const std::string& message) {
  return json_response(code,
                       json::serialize(json::object{{"status", static_cast<int>(code)},
                                                    {"error", valid_utf8(message)}}),
                       request.version());
}

}  // namespace

void SdkPayloadHandler::register_routes(Router& router) {
  router.add_prefix(beast_http::verb::get, std::string(kSdkFeaturesPrefix),
                    [this](const HttpRequest& request, RequestContext context) {
                      return features(request, std::move(context));
                    });
}

asio::awaitable<HttpResponse> SdkPayloadHandler::features(const HttpRequest& request,
                                                          RequestContext context) {
  std::string_view target = request.target();
  const std::string_view key = target.substr(0, target.find('?')).substr(kSdkFeaturesPrefix.size());
  if (key.empty() || key.size() > kMaxKeyBytes || key.find('/') != std::string_view::npos)
    co_return failure(request, status::not_found,
                      "not found: GET /api/features/{clientKey} takes one client key");
  context.presented_key = std::string(key);
  // A named object: GCC 12 cannot keep string-literal temporaries alive across a co_await.
  json::object params{{"type", "FeatureFlag"}, {"verb", "growthbookPayload"}};
  const EngineText payload_text = co_await call_engine_text(worker_, context, kDoMethod, params);
  const std::string& reply = payload_text.reply;
  // The result is passed on as the engine wrote it (shortest round-trip doubles): a bucket range
  // end one ULP off would put the units on it in another variant than `assign` does.
  if (std::optional<std::string_view> payload = framed_result(reply))
    co_return tagged_json_response(request, std::string(*payload));
  std::error_code ec;
  const json::value parsed = json::parse(reply, ec);
  const json::object* answer = ec ? nullptr : parsed.if_object();
  const json::value* error = answer ? answer->if_contains("error") : nullptr;
  if (!error || !error->is_object())
    co_return failure(request, status::internal_server_error, "the engine gave no result");
  const json::object& fields = error->get_object();
  const json::value* data = fields.if_contains("data");
  const json::value* field =
      data && data->is_object() ? data->get_object().if_contains("field") : nullptr;
  const bool role = field && field->is_string() && field->get_string() == "role";
  const bool unauthorized = fields.contains("code") && fields.at("code").is_int64() &&
                            fields.at("code").get_int64() == kUnauthorizedCode;
  const status code = !unauthorized ? status::internal_server_error
                      : role        ? status::forbidden
                                    : status::unauthorized;
  const json::value* message = fields.if_contains("message");
  co_return failure(request, code,
                    message && message->is_string() ? std::string(message->get_string())
                                                    : "the engine gave no result");
}

}  // namespace verdict::server::http
