#include "server/http/mcp_http_handler.hpp"

#include <openssl/evp.h>

#include <boost/json.hpp>

#include <optional>

#include "server/error_mapping.hpp"
#include "server/mcp_protocol.hpp"

namespace verdict::server::http {

namespace asio = boost::asio;
namespace json = boost::json;
using beast_http::field;
using beast_http::status;

namespace {

/// MCP 2026-07-28: the HTTP headers disagree with the body, or a required one is missing.
constexpr int kHeaderMismatch = -32020;
/// The TypeScript SDK's codes for transport-level refusals in the legacy era.
constexpr int kTransportError = -32000;
constexpr int kSessionNotFound = -32001;

HttpResponse rpc_error(const HttpRequest& request, status code, const json::value& id, int rpc_code,
                       std::string message) {
  json::object error{{"code", rpc_code}, {"message", valid_utf8(message)}};
  return json_response(
      code, json::serialize(json::object{{"jsonrpc", "2.0"}, {"id", id}, {"error", error}}),
      request.version());
}

bool header_lists(const HttpRequest& request, field name, std::string_view value) {
  auto it = request.find(name);
  return it != request.end() && it->value().find(value) != std::string_view::npos;
}

// A client that names what it accepts must accept JSON or SSE; no Accept at all means anything.
bool acceptable(const HttpRequest& request) {
  auto it = request.find(field::accept);
  if (it == request.end()) return true;
  std::string_view accept = it->value();
  return accept.find("application/json") != std::string_view::npos ||
         accept.find("text/event-stream") != std::string_view::npos ||
         accept.find("*/*") != std::string_view::npos ||
         accept.find("application/*") != std::string_view::npos;
}

std::optional<std::string_view> header(const HttpRequest& request, std::string_view name) {
  auto it = request.find(name);
  if (it == request.end()) return std::nullopt;
  return it->value();
}

// Mcp-Name values outside plain ASCII arrive as `=?base64?...?=` (SEP-2243).
std::optional<std::string> decode_header_value(std::string_view value) {
  constexpr std::string_view kPrefix = "=?base64?", kSuffix = "?=";
  if (!value.starts_with(kPrefix) || !value.ends_with(kSuffix) ||
      value.size() < kPrefix.size() + kSuffix.size())
    return std::string(value);
  std::string_view encoded =
      value.substr(kPrefix.size(), value.size() - kPrefix.size() - kSuffix.size());
  if (encoded.size() % 4 != 0) return std::nullopt;
  std::string decoded(encoded.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                          reinterpret_cast<const unsigned char*>(encoded.data()),
                          static_cast<int>(encoded.size()));
  if (n < 0) return std::nullopt;
  std::size_t padding = encoded.ends_with("==") ? 2 : encoded.ends_with("=") ? 1 : 0;
  decoded.resize(static_cast<std::size_t>(n) - padding);
  return decoded;
}

// The name a 2026-07-28 request must mirror in Mcp-Name, if its method has one.
const char* name_source(std::string_view method) {
  if (method == "tools/call" || method == "prompts/get") return "name";
  if (method == "resources/read") return "uri";
  return nullptr;
}

// The HTTP status a reply travels with: in the current era its JSON-RPC error decides; in the
// legacy era only a refused key does (401, so that HTTP clients see the usual status).
status reply_status(const std::string& reply, bool current) {
  // Only a top-level error matters; skip parsing the (possibly large) successful results.
  if (frames_a_result(reply)) return status::ok;
  std::error_code ec;
  json::value parsed = json::parse(reply, ec);
  if (ec || !parsed.is_object()) return status::ok;
  const auto* error = parsed.get_object().if_contains("error");
  if (!error || !error->is_object()) return status::ok;
  const auto* code = error->get_object().if_contains("code");
  if (!code || !code->is_int64()) return status::ok;
  if (code->get_int64() == kUnauthorizedCode) return status::unauthorized;
  if (!current) return status::ok;
  switch (code->get_int64()) {
    case kMethodNotFound:
      return status::not_found;
    case kParseError:
    case kInvalidRequest:
    case kInvalidParams:
    case kHeaderMismatch:
    case kUnsupportedProtocolVersion:
    case kMissingRequiredClientCapability:
      return status::bad_request;
    default:
      return status::ok;
  }
}

// What the handler needs from the body before deciding the era.
struct Message {
  json::value id;  ///< null for notifications
  bool is_request = false;
  std::string_view method;
  const json::object* params = nullptr;
  const json::value* body_version = nullptr;  ///< params._meta[protocolVersion]
};

Message inspect(const json::object& body) {
  Message message;
  const auto* id = body.if_contains("id");
  const auto* method = body.if_contains("method");
  if (method && method->is_string()) message.method = method->get_string();
  message.is_request = id != nullptr && method != nullptr;
  if (id && (id->is_string() || id->is_int64() || id->is_uint64())) message.id = *id;
  if (const auto* params = body.if_contains("params"); params && params->is_object()) {
    message.params = &params->get_object();
    if (const auto* meta = message.params->if_contains("_meta"); meta && meta->is_object())
      message.body_version = meta->get_object().if_contains(kProtocolVersionKey);
  }
  return message;
}

// SEP-2243: the mirrored headers must be present and agree with the body.
std::optional<std::string> header_mismatch(const HttpRequest& request, const Message& message) {
  auto version = header(request, "MCP-Protocol-Version");
  if (!version) return "MCP-Protocol-Version header is required";
  if (message.body_version &&
      (!message.body_version->is_string() || message.body_version->get_string() != *version))
    return "MCP-Protocol-Version header value '" + std::string(version->substr(0, 40)) +
           "' does not match the body's _meta protocolVersion";
  if (!message.is_request) return std::nullopt;
  auto method = header(request, "Mcp-Method");
  if (!method) return "Mcp-Method header is required";
  if (*method != message.method)
    return "Mcp-Method header value '" + std::string(method->substr(0, 100)) +
           "' does not match body method '" + std::string(message.method.substr(0, 100)) + "'";
  const char* source = name_source(message.method);
  if (!source) return std::nullopt;
  auto name = header(request, "Mcp-Name");
  if (!name) return std::string("Mcp-Name header is required for ") + std::string(message.method);
  auto decoded = decode_header_value(*name);
  if (!decoded) return "Mcp-Name header: invalid base64 value";
  const json::value* body_name = message.params ? message.params->if_contains(source) : nullptr;
  if (!body_name || !body_name->is_string() || body_name->get_string() != *decoded)
    return "Mcp-Name header value '" + decoded->substr(0, 100) + "' does not match body " + source;
  return std::nullopt;
}

// Takes the exchange's reply.
HttpResponse reply_response(const HttpRequest& request, HttpExchange& exchange, status code) {
  if (exchange.notifications().empty() ||
      !header_lists(request, field::accept, "text/event-stream"))
    return json_response(code, exchange.take_reply(), request.version());
  // The notifications the request caused, then its result: one SSE event each.
  HttpResponse response{code, request.version()};
  response.set(field::content_type, "text/event-stream");
  response.set(field::cache_control, "no-cache");
  response.set("X-Accel-Buffering", "no");
  std::string& body = response.body();
  for (const auto& line : exchange.notifications())
    body += "event: message\ndata: " + line + "\n\n";
  body += "event: message\ndata: " + exchange.reply() + "\n\n";
  return response;
}

}  // namespace

McpHttpHandler::McpHttpHandler(EngineWorker& worker, McpHttpOptions options)
    : worker_(worker), options_(options), sessions_(options.max_sessions, options.session_expiry) {}

void McpHttpHandler::register_routes(Router& router, const std::string& path) {
  router.add(beast_http::verb::post, path,
             [this](const HttpRequest& request, RequestContext context) {
               return post(request, std::move(context));
             });
  router.add(beast_http::verb::delete_, path,
             [this](const HttpRequest& request, RequestContext context) {
               return end_session(request, std::move(context));
             });
}

asio::awaitable<HttpResponse> McpHttpHandler::post(const HttpRequest& request,
                                                   RequestContext context) {
  if (!header_lists(request, field::content_type, "application/json"))
    co_return rpc_error(request, status::unsupported_media_type, nullptr, kTransportError,
                        "Unsupported Media Type: Content-Type must be application/json");
  if (!acceptable(request))
    co_return rpc_error(request, status::not_acceptable, nullptr, kTransportError,
                        "Not Acceptable: the client must accept application/json or "
                        "text/event-stream");
  json::parse_options parse_options;
  parse_options.max_depth = options_.max_depth;
  // Parsed once: the frame the engine answers carries it (Dispatcher::parse skips a parsed
  // frame). `message` below points into it, so nothing reads `message`'s views once it is sent.
  auto parsed = std::make_unique<ParsedLine>(request.body(), parse_options);
  if (parsed->error)
    co_return rpc_error(
        request, status::bad_request, nullptr, kParseError,
        "parse error: " + parsed->error.message() + " (the body must be one JSON-RPC message)");
  const json::value& body = parsed->message;
  if (!body.is_object())
    co_return rpc_error(request, status::bad_request, nullptr, kInvalidRequest,
                        body.is_array() ? "batches are not supported; send one message per POST"
                                        : "the body must be a JSON-RPC message object");
  Message message = inspect(body.get_object());
  auto session_id = header(request, "Mcp-Session-Id");
  bool plain = !session_id &&
               (message.method == "find" || message.method == "get" || message.method == "do");
  bool current = !plain && (message.body_version != nullptr ||
                            header(request, "MCP-Protocol-Version") == kCurrentVersion);

  std::shared_ptr<McpHttpSession> shared;
  std::string new_session_id;
  if (current) {
    if (auto mismatch = header_mismatch(request, message))
      co_return rpc_error(request, status::bad_request, message.id, kHeaderMismatch,
                          "Header mismatch: " + *mismatch);
    if (!message.is_request) co_return HttpResponse{status::accepted, request.version()};
    // The handshake and session-era methods do not exist in 2026-07-28 (the stdio transport
    // still answers them, since it serves both eras on one connection).
    if (message.method == "initialize" || message.method == "ping" ||
        message.method == "logging/setLevel")
      co_return rpc_error(request, status::not_found, message.id, kMethodNotFound,
                          "method not found: " + std::string(message.method) +
                              " does not exist in protocol version 2026-07-28");
  } else if (!plain) {
    if (message.method == "initialize" && message.is_request) {
      std::tie(new_session_id, shared) = sessions_.create();
      if (!shared)
        co_return rpc_error(request, status::service_unavailable, message.id, kTransportError,
                            "too many MCP sessions; end one with DELETE or retry later");
      shared->session.transport = "http";
      shared->session.actor = context.peer;
    } else if (!session_id) {
      co_return rpc_error(request, status::bad_request, message.id, kTransportError,
                          "Bad Request: Mcp-Session-Id header is required (send initialize "
                          "first, or use protocol version 2026-07-28)");
    } else if (!(shared = sessions_.find(std::string(*session_id)))) {
      co_return rpc_error(request, status::not_found, message.id, kSessionNotFound,
                          "Session not found: it ended or expired; initialize again");
    }
    if (auto version = header(request, "MCP-Protocol-Version");
        version && !is_legacy_version(*version))
      co_return rpc_error(request, status::bad_request, message.id, kTransportError,
                          "Bad Request: unsupported MCP-Protocol-Version '" +
                              std::string(version->substr(0, 40)) +
                              "' (supported: 2024-11-05 to "
                              "2025-11-25 after initialize, 2026-07-28 without)");
  }

  auto exchange = std::make_shared<HttpExchange>(co_await asio::this_coro::executor, shared);
  exchange->session.transport = "http";
  exchange->session.actor = context.peer;
  exchange->session.presented_key = context.presented_key;
  std::vector<LineFramer::Frame> frames;
  frames.push_back({{}, false, std::move(parsed)});
  worker_.submit(exchange, std::move(frames));
  // A legacy notification changes session state (cancellation) but has nothing to wait for.
  if (!message.is_request) co_return HttpResponse{status::accepted, request.version()};
  if (!exchange->done()) co_await exchange->wait();

  status code = reply_status(exchange->reply(), current);
  const bool initialized = !new_session_id.empty() && frames_a_result(exchange->reply());
  HttpResponse response = reply_response(request, *exchange, code);
  if (code == status::unauthorized)
    response.set(field::www_authenticate, "Bearer realm=\"verdict\"");
  if (!new_session_id.empty()) {
    if (initialized)
      response.set("Mcp-Session-Id", new_session_id);
    else
      sessions_.erase(new_session_id);
  }
  co_return response;
}

asio::awaitable<HttpResponse> McpHttpHandler::end_session(const HttpRequest& request,
                                                          RequestContext) {
  auto session_id = header(request, "Mcp-Session-Id");
  if (!session_id)
    co_return rpc_error(request, status::bad_request, nullptr, kTransportError,
                        "Bad Request: Mcp-Session-Id header is required");
  if (!sessions_.erase(std::string(*session_id)))
    co_return rpc_error(request, status::not_found, nullptr, kSessionNotFound,
                        "Session not found: it ended or expired");
  co_return HttpResponse{status::ok, request.version()};
}

}  // namespace verdict::server::http
