#include "server/http/sdk_payload_handler.hpp"

#include <boost/json.hpp>

#include "server/error_mapping.hpp"
#include "server/http/client_keys.hpp"
#include "server/http/engine_call.hpp"

namespace verdict::server::http {

namespace asio = boost::asio;
namespace json = boost::json;
using beast_http::status;

namespace {

constexpr std::size_t kMaxKeyBytes = 256;
// How the engine worker frames a successful answer to request id 1.
constexpr std::string_view kResultPrefix = R"({"jsonrpc":"2.0","id":1,"result":)";

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
                    [this](HttpRequest request, RequestContext context) {
                      return features(std::move(request), std::move(context));
                    });
}

asio::awaitable<HttpResponse> SdkPayloadHandler::features(HttpRequest request,
                                                          RequestContext context) {
  std::string_view target = request.target();
  const std::string_view key = target.substr(0, target.find('?')).substr(kSdkFeaturesPrefix.size());
  if (key.empty() || key.size() > kMaxKeyBytes || key.find('/') != std::string_view::npos)
    co_return failure(request, status::not_found,
                      "not found: GET /api/features/{clientKey} takes one client key");
  const std::optional<std::string> project = project_for_client_key(key, listener_token_);
  if (!project)
    co_return failure(request, status::unauthorized,
                      "unauthorized: unknown client key (the server's bearer token is the client "
                      "key until evaluator keys exist)");
  // The key has been checked, so the payload is read as an authenticated caller.
  context.authenticated = true;
  // A named object: GCC 12 cannot keep string-literal temporaries alive across a co_await.
  json::object params{{"type", "FeatureFlag"}, {"verb", "growthbookPayload"}};
  const std::string reply =
      co_await call_engine_text(worker_, context, kDoMethod, std::move(params));
  // The result is passed on as the engine wrote it (shortest round-trip doubles): a bucket range
  // end one ULP off would put the units on it in another variant than `assign` does.
  if (reply.starts_with(kResultPrefix) && reply.ends_with('}'))
    co_return tagged_json_response(
        request, reply.substr(kResultPrefix.size(), reply.size() - kResultPrefix.size() - 1));
  std::error_code ec;
  const json::value parsed = json::parse(reply, ec);
  const json::object* answer = ec ? nullptr : parsed.if_object();
  const json::value* error = answer ? answer->if_contains("error") : nullptr;
  std::string message = "the engine gave no result";
  if (error && error->is_object() && error->get_object().contains("message"))
    message = error->at("message").as_string();
  co_return failure(request, status::internal_server_error, message);
}

}  // namespace verdict::server::http
