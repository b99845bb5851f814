#include "server/dispatcher.hpp"

#include <algorithm>

#include "core/access/access_nouns.hpp"
#include "core/error.hpp"
#include "core/json_style.hpp"
#include "core/log.hpp"
#include "server/error_mapping.hpp"
#include "server/mcp_protocol.hpp"
#include "server/prompts.hpp"
#include "server/resources.hpp"

namespace verdict::server {

namespace json = boost::json;
using namespace std::string_view_literals;

namespace {

// A client that cancels requests which already finished would grow the set forever.
constexpr std::size_t kMaxCancelled = 4096;
// Tool definitions, prompts and schema resources change only when plugins grow the schema.
constexpr std::int64_t kStaticTtlMs = 300'000;
constexpr std::size_t kMaxClientNameBytes = 100;

/// A protocol failure with a JSON-RPC code of its own (not a Verdict ErrorCode).
struct RpcFailure {
  RpcError error;
};

[[noreturn]] void fail(int code, std::string message, json::value data = nullptr) {
  throw RpcFailure{{code, std::move(message), std::move(data)}};
}

// The reply line up to its result, which route then writes into the same string: a result is
// never built apart and copied in.
std::string response_head(const json::value& id) {
  constexpr std::string_view kHead = R"({"jsonrpc":"2.0","id":)";
  constexpr std::string_view kResult = R"(,"result":)";
  // An id is rarely long; most results written here are a few hundred bytes.
  constexpr std::size_t kResultBytes = 512;
  std::string line;
  line.reserve(kHead.size() + 24 + kResult.size() + kResultBytes);
  line += kHead;
  append_json_text(line, id);
  line += kResult;
  return line;
}

// What a 2026-07-28 result carries besides its own members: `resultType`, serverInfo in `_meta`
// and, for a cacheable result, `ttlMs` and `cacheScope`. Spliced as text (results hold none of
// these names themselves), since the constant part is the same on every reply.
constexpr std::size_t kEraMembersBytes = 160;
void append_era_members(std::string& line, std::size_t result_start, std::int64_t ttl_ms,
                        std::string_view cache_scope) {
  static const std::string kConstant = [] {
    std::string text = R"("resultType":"complete","_meta":{)";
    append_json_string(text, kServerInfoKey);
    text += ':';
    append_json_text(text, server_info());
    text += '}';
    return text;
  }();
  line.pop_back();  // the result object's closing brace
  if (line.size() - result_start > 1) line += ',';
  line += kConstant;
  if (ttl_ms >= 0) {
    line += R"(,"ttlMs":)";
    line += std::to_string(ttl_ms);
    line += R"(,"cacheScope":)";
    append_json_string(line, cache_scope);
  }
  line += '}';
}

bool valid_id(const json::value& id) {
  return id.is_string() || id.is_int64() || id.is_uint64();
}

// `value` is the member `name` of params, or null; the *_param functions look it up themselves.
const json::object& object_member(const json::value* value, std::string_view name) {
  static const json::object kEmpty;
  if (!value) return kEmpty;
  if (!value->is_object()) fail(kInvalidParams, std::string(name) + ": expected an object");
  return value->get_object();
}

const json::object& object_param(const json::object& params, std::string_view name) {
  return object_member(params.if_contains(name), name);
}

std::string string_member(const json::value* value, std::string_view name, bool required) {
  if (!value) {
    if (required) fail(kInvalidParams, std::string(name) + ": required");
    return {};
  }
  if (!value->is_string()) fail(kInvalidParams, std::string(name) + ": expected a string");
  return std::string(value->get_string());
}

std::string string_param(const json::object& params, std::string_view name, bool required) {
  return string_member(params.if_contains(name), name, required);
}

std::string client_name(const json::object& client_info) {
  const auto* name = client_info.if_contains("name");
  if (!name || !name->is_string()) return {};
  // The name ends up in the event log's actor: cut it without splitting a character.
  return valid_utf8(name->get_string().subview().substr(0, kMaxClientNameBytes));
}

bool is_plain_method(std::string_view method) {
  return method == "find" || method == "get" || method == "do";
}

// Every noun as resources/read describes it, in one call: what adapters that derive their
// routes from the schema (REST, OpenAPI) read, since the schema lives on the engine thread.
json::object describe_schema(const Schema& schema) {
  json::array nouns;
  for (const auto& noun : schema.nouns()) nouns.push_back(describe(*noun));
  return {{"nouns", std::move(nouns)}};
}

// The methods that need an era; any other name is -32601 before `_meta` is looked at, so an
// unknown method is reported as such rather than as a missing protocol version.
bool is_mcp_method(std::string_view method) {
  static constexpr std::string_view kMethods[] = {
      "server/discover",          "tools/list",         "tools/call",   "resources/list",
      "resources/templates/list", "resources/read",     "prompts/list", "prompts/get",
      "logging/setLevel",         "completion/complete"};
  return std::find(std::begin(kMethods), std::end(kMethods), method) != std::end(kMethods);
}

[[noreturn]] void method_not_found(std::string_view method) {
  fail(kMethodNotFound, "method not found: " + std::string(method.substr(0, 100)));
}

}  // namespace

/// One request in flight: its era and what the client asked for in `_meta`.
struct Dispatcher::Call {
  std::string_view method;
  const json::object& params;
  const json::object& meta;
  bool current_era = false;
  std::string version;  ///< the legacy version negotiated, or 2026-07-28
  std::string log_level;
  std::string client_name;
  /// ttlMs and cacheScope for cacheable results (current era only); ttl < 0: not cacheable
  std::int64_t ttl_ms = -1;
  std::string_view cache_scope = "public";
  /// The reply line: response_head, then the result when route writes it as text (tool
  /// results), in which case route's object is empty.
  std::string line;
  std::size_t result_start = 0;  ///< where the result begins in `line`

  bool result_written() const { return line.size() > result_start; }
};

Dispatcher::Dispatcher(verdict::Engine& engine, DispatcherOptions options,
                       ScriptRunner script_runner)
    : engine_(engine),
      options_(std::move(options)),
      tools_(engine, std::move(script_runner), options_.scripts_enabled) {
  // The token of --token-file is an admin key of the default project like any other.
  if (!options_.token.empty()) access::adopt_token_file(engine_, options_.token);
}

std::string Dispatcher::oversized_reply(std::size_t limit) {
  return error_response(
      nullptr, {kInvalidRequest, "message larger than " + std::to_string(limit) +
                                     " bytes; send smaller messages (one JSON message per line)"});
}

json::parse_options Dispatcher::parse_options() const {
  json::parse_options options;
  options.max_depth = options_.max_depth;
  return options;
}

void Dispatcher::parse(LineFramer::Frame& frame) const {
  if (frame.parsed || frame.oversized || frame.line.size() > options_.max_message_bytes) return;
  frame.parsed = std::make_unique<ParsedLine>(frame.line, parse_options());
  std::string().swap(frame.line);  // answered from the parsed message, as a framed line is
}

Reply Dispatcher::handle_line(std::string_view line, Session& session) {
  if (line.size() > options_.max_message_bytes)
    return {oversized_reply(options_.max_message_bytes)};
  boost::system::error_code ec;
  json::value message = json::parse(line, ec, {}, parse_options());
  return handle_parsed(message, ec, session);
}

Reply Dispatcher::handle_frame(const LineFramer::Frame& frame, Session& session) {
  if (!frame.parsed) return handle_line(frame.line, session);
  return handle_parsed(frame.parsed->message, frame.parsed->error, session);
}

Reply Dispatcher::handle_parsed(const json::value& message, boost::system::error_code ec,
                                Session& session) {
  if (ec == json::error::too_deep)
    return {
        error_response(nullptr, {kParseError, "parse error: nested deeper than " +
                                                  std::to_string(options_.max_depth) + " levels"})};
  if (ec)
    return {error_response(nullptr, {kParseError, "parse error: " + ec.message() +
                                                      " (expected one JSON message per line)"})};
  if (message.is_array())
    return {error_response(nullptr, {kInvalidRequest,
                                     "batches are not supported (MCP removed JSON-RPC batching in "
                                     "2025-06-18); send one message per line"})};
  if (!message.is_object())
    return {error_response(nullptr, {kInvalidRequest, "a message must be a JSON object"})};
  try {
    return handle_request(message.get_object(), session);
  } catch (const std::exception& error) {
    // handle_request answers every expected failure itself; this is a bug or a storage fault,
    // whose text (SQL, paths) is for the log only.
    const auto* id = message.get_object().if_contains("id");
    return {error_response(id && valid_id(*id) ? *id : json::value(nullptr),
                           internal_error("internal error", error.what()))};
  }
}

Reply Dispatcher::handle_request(const json::object& message, Session& session) {
  auto [id, jsonrpc, method_value, params_value] =
      find_members(message, std::array{"id"sv, "jsonrpc"sv, "method"sv, "params"sv});
  if (id && !valid_id(*id))
    return {error_response(nullptr, {kInvalidRequest, "id: must be a string or an integer"})};
  json::value reply_id = id ? *id : json::value(nullptr);
  // Compared as a string: comparing the json::value with "2.0" built a value and walked
  // value::equal for every request.
  if (!jsonrpc || !jsonrpc->is_string() || jsonrpc->get_string() != "2.0")
    return {error_response(reply_id, {kInvalidRequest, "jsonrpc: must be \"2.0\""})};
  if (!method_value) {
    // A response to a request we never send: nothing to answer.
    if (message.contains("result") || message.contains("error")) return {};
    return {error_response(reply_id, {kInvalidRequest, "method: required"})};
  }
  if (!method_value->is_string())
    return {error_response(reply_id, {kInvalidRequest, "method: must be a string"})};
  std::string_view method = method_value->get_string();

  static const json::object kNoParams;
  if (params_value && !params_value->is_object()) {
    if (!id) return {};
    return {error_response(reply_id, {kInvalidParams, "params: must be an object"})};
  }
  const json::object& params = params_value ? params_value->get_object() : kNoParams;
  auto [meta, token] = find_members(params, std::array{"_meta"sv, "token"sv});

  if (auto refusal = admit(method, token, meta, session))
    return {error_response(reply_id, {kUnauthorizedCode, *refusal}),
            session.requires_token && !session.authenticated};
  if (session.requires_token && !session.authenticated)
    return {
        error_response(reply_id, {kUnauthorizedCode,
                                  "unauthorized: the first message must be auth {token} or carry "
                                  "_meta[\"io.verdict/token\"] with an API key"}),
        true};
  if (!session.required_project.empty() && session.required_project != session.caller.project_slug)
    return {error_response(reply_id,
                           {kNotFoundCode,
                            "not found: no project '" + session.required_project.substr(0, 100) +
                                "' for this caller (a key acts in its own project only)",
                            json::object{{"field", "project"}}})};

  if (!id) {
    if (method == "do" || method == "tools/call") {
      run_notification(method, params, session);
    } else {
      handle_notification(method, params, session);
    }
    return {};
  }
  if (!session.cancelled.empty() && session.cancelled.erase(json::serialize(*id))) return {};

  if (meta && !meta->is_object())
    return {error_response(reply_id, {kInvalidParams, "params._meta: must be an object"})};
  static const json::object kNoMeta;
  Call call{.method = method,
            .params = params,
            .meta = meta ? meta->get_object() : kNoMeta,
            .line = response_head(reply_id)};
  call.result_start = call.line.size();
  try {
    json::object result = route(call, session);
    if (!call.result_written()) append_json_text(call.line, result);
    if (call.current_era)
      append_era_members(call.line, call.result_start, call.ttl_ms, call.cache_scope);
    call.line += '}';
    return {std::move(call.line)};
  } catch (const RpcFailure& failure) {
    return {error_response(reply_id, failure.error)};
  } catch (const Error& error) {
    ErrorContext context = is_plain_method(method) || method == "auth" ? ErrorContext::kPlain
                           : call.current_era                          ? ErrorContext::kMcpCurrent
                                                                       : ErrorContext::kMcpLegacy;
    RpcError rpc = to_rpc_error(error, context);
    // A missing resource names its URI in the error data (MCP SEP-2164).
    if (method == "resources/read" && rpc.data.is_object() &&
        (error.code() == ErrorCode::kNotFound || error.field() == "uri"))
      if (const auto* uri = params.if_contains("uri"); uri && uri->is_string())
        rpc.data.get_object()["uri"] = *uri;
    return {error_response(reply_id, rpc)};
  }
}

std::optional<std::string> Dispatcher::admit(std::string_view method, const json::value* token,
                                             const json::value* meta, Session& session) {
  std::string_view given = session.presented_key;
  if (token && token->is_string() &&
      (method == "auth" || (session.requires_token && !session.authenticated)))
    given = token->get_string();
  if (meta && meta->is_object())
    if (const auto* meta_token = meta->get_object().if_contains(kTokenKey);
        meta_token && meta_token->is_string())
      given = meta_token->get_string();
  access::KeyStore& keys = engine_.keys();
  if (!given.empty()) {
    std::string digest = access::sha256_hex(given);
    if (session.authenticated && digest == session.key_digest &&
        session.key_generation == keys.generation())
      return std::nullopt;
    auto caller = keys.authenticate(given);
    if (!caller) {
      refuse_key(session);
      return "unauthorized: wrong token (unknown or revoked API key)";
    }
    session.caller = std::move(*caller);
    session.authenticated = true;
    session.key_refused = false;
    session.key_digest = std::move(digest);
    session.key_generation = keys.generation();
    return std::nullopt;
  }
  if (session.key_refused)
    return "unauthorized: this connection's API key was refused or revoked; send auth {token} "
           "with a valid key";
  if (!session.authenticated || session.caller.key_id.empty()) return std::nullopt;
  // The cheap check on every request: only when a key may have been revoked is this one looked
  // up again, by its primary key.
  if (access::KeyGeneration generation = keys.generation(); generation != session.key_generation) {
    if (!keys.active(session.caller.key_id)) {
      std::string key = session.caller.key_id;
      refuse_key(session);
      return "unauthorized: key " + key + " was revoked";
    }
    session.key_generation = generation;
  }
  return std::nullopt;
}

void Dispatcher::refuse_key(Session& session) {
  session.authenticated = false;
  session.caller = session.unkeyed;
  session.key_digest.clear();
  // A client that presented a key expects to act as that key: it is refused until a key
  // succeeds, never served as the unkeyed operator instead. Stdio is exempt: its unkeyed caller
  // is the process that started the server, so there is no one else to fall back to.
  session.key_refused = session.transport != "stdio";
}

void Dispatcher::resolve_era(Call& call, const Session& session, bool required) const {
  if (const auto* version = call.meta.if_contains(kProtocolVersionKey)) {
    if (!version->is_string() || version->get_string() != kCurrentVersion) {
      // Echoed back at most 100 bytes long: the client's input is not ours to repeat in full.
      std::string requested = valid_utf8(
          (version->is_string() ? std::string(version->get_string()) : json::serialize(*version))
              .substr(0, 100));
      fail(kUnsupportedProtocolVersion,
           "unsupported protocol version " + requested.substr(0, 40) +
               " (this server speaks 2026-07-28 per request; 2024-11-05 to 2025-11-25 through "
               "initialize)",
           json::object{{"supported", {kCurrentVersion}}, {"requested", requested}});
    }
    const auto* capabilities = call.meta.if_contains(kClientCapabilitiesKey);
    if (!capabilities || !capabilities->is_object())
      fail(kInvalidParams,
           "params._meta: \"" + std::string(kClientCapabilitiesKey) + "\" is required (an object)");
    call.current_era = true;
    call.version = kCurrentVersion;
    if (const auto* level = call.meta.if_contains(kLogLevelKey)) {
      if (!level->is_string() || log_level_rank(level->get_string()) < 0)
        fail(kInvalidParams, "params._meta: \"" + std::string(kLogLevelKey) +
                                 "\" must be debug, info, notice, warning, error, critical, "
                                 "alert or emergency");
      call.log_level = level->get_string();
    }
    if (const auto* info = call.meta.if_contains(kClientInfoKey); info && info->is_object())
      call.client_name = client_name(info->get_object());
    return;
  }
  if (!session.protocol_version.empty()) {
    call.version = session.protocol_version;
    call.log_level = session.log_level;
    call.client_name = session.client_name;
    return;
  }
  if (required)
    fail(kInvalidParams, "params._meta: \"" + std::string(kProtocolVersionKey) +
                             "\" is required (2026-07-28), or send initialize first");
}

json::object Dispatcher::route(Call& call, Session& session) {
  std::string_view method = call.method;
  if (method == "auth") {
    // admit() has checked the token already; this catches a missing or mistyped one.
    string_param(call.params, "token", true);
    if (!session.authenticated) fail(kUnauthorizedCode, "unauthorized: wrong token");
    return {{"authenticated", true},
            {"project", session.caller.project_slug},
            {"key", session.caller.key_id},
            {"role", to_string(session.caller.role)}};
  }
  if (is_plain_method(method)) {
    const json::object* arguments = &call.params;
    json::object without_meta;
    if (call.params.contains("_meta")) {
      without_meta = call.params;
      without_meta.erase("_meta");
      arguments = &without_meta;
    }
    EntityJson scratch;
    session.answered_version.reset();  // a get that throws names no version
    const EntityJson& answer = tools_.call_json(method, *arguments, caller(call, session), scratch);
    session.answered_version = answer.version();
    const std::string& value = answer.text();
    // The plain methods answer with the tool's value itself; results are objects by contract.
    if (value.starts_with('{')) {
      call.line += value;
    } else {
      call.line.append(R"({"result":)").append(value).append(1, '}');
    }
    return {};
  }
  if (method == "schema") return describe_schema(engine_.schema());
  if (method == "initialize") return initialize(call, session);
  if (method == "ping") {
    resolve_era(call, session, false);
    return {};
  }
  if (!is_mcp_method(method)) method_not_found(method);
  resolve_era(call, session, true);
  if (method == "server/discover") {
    call.ttl_ms = kStaticTtlMs;
    return discover();
  }
  if (method == "tools/list") {
    call.ttl_ms = kStaticTtlMs;
    bool structured = call.current_era || has_structured_output(call.version);
    json::array tools = tools_.definitions(structured);
    if (options_.conformance)
      for (auto& tool : fixtures_.tools()) tools.push_back(std::move(tool));
    return list_page(call, std::move(tools), "tools");
  }
  if (method == "tools/call") return call_tool(call, session);
  if (method == "resources/list") {
    call.ttl_ms = kStaticTtlMs;
    json::array resources = list_resources(engine_.schema());
    if (options_.conformance)
      for (auto& resource : fixtures_.resources()) resources.push_back(std::move(resource));
    return list_page(call, std::move(resources), "resources");
  }
  if (method == "resources/templates/list") {
    call.ttl_ms = kStaticTtlMs;
    json::array templates = list_resource_templates();
    if (options_.conformance)
      for (auto& entry : fixtures_.resource_templates()) templates.push_back(std::move(entry));
    return list_page(call, std::move(templates), "resourceTemplates");
  }
  if (method == "resources/read") {
    std::string uri = string_param(call.params, "uri", true);
    bool schema = uri.starts_with("verdict://schema/");
    call.ttl_ms = schema ? kStaticTtlMs : 0;
    call.cache_scope = schema ? "public" : "private";
    if (options_.conformance)
      if (auto contents = fixtures_.read_resource(uri)) return {{"contents", std::move(*contents)}};
    return {{"contents", read_resource(engine_, session.caller, uri)}};
  }
  if (method == "prompts/list") {
    call.ttl_ms = kStaticTtlMs;
    json::array prompts = list_prompts();
    if (options_.conformance)
      for (auto& prompt : fixtures_.prompts()) prompts.push_back(std::move(prompt));
    return list_page(call, std::move(prompts), "prompts");
  }
  if (method == "prompts/get" && options_.conformance &&
      fixtures_.has_prompt(string_param(call.params, "name", true)))
    return fixtures_.get_prompt(string_param(call.params, "name", true),
                                object_param(call.params, "arguments"));
  if (method == "completion/complete" && options_.conformance)
    return {{"completion", {{"values", json::array{}}, {"total", 0}, {"hasMore", false}}}};
  if (method == "prompts/get")
    return get_prompt(engine_, session.caller, string_param(call.params, "name", true),
                      object_param(call.params, "arguments"));
  if (method == "logging/setLevel" && !call.current_era) {
    std::string level = string_param(call.params, "level", true);
    if (log_level_rank(level) < 0)
      fail(kInvalidParams,
           "level: must be debug, info, notice, warning, error, critical, alert "
           "or emergency");
    session.log_level = level;
    return {};
  }
  method_not_found(method);  // logging/setLevel in the current era
}

json::object Dispatcher::initialize(const Call& call, Session& session) const {
  std::string requested = string_param(call.params, "protocolVersion", true);
  session.protocol_version = negotiate_legacy_version(requested);
  session.client_name = client_name(object_param(call.params, "clientInfo"));
  return {{"protocolVersion", session.protocol_version},
          {"capabilities", capabilities()},
          {"serverInfo", server_info()},
          {"instructions", instructions()}};
}

json::object Dispatcher::discover() const {
  return {{"supportedVersions", {kCurrentVersion}},
          {"capabilities", capabilities()},
          {"instructions", instructions()}};
}

json::object Dispatcher::capabilities() const {
  json::object capabilities = server_capabilities();
  // The suite's completion scenario needs the capability; Verdict has nothing to complete.
  if (options_.conformance) capabilities["completions"] = json::object{};
  return capabilities;
}

std::string Dispatcher::instructions() const {
  std::string nouns;
  for (const auto& name : engine_.schema().noun_names())
    nouns += (nouns.empty() ? "" : ", ") + name;
  return "Verdict runs experiments, feature flags and their data as nouns with fields and verbs. "
         "Use find to list entities with a filter, get to read one by id or slug, and do to "
         "create entities and run verbs (create, update, addVariant, start, conclude, ...). "
         "Nouns: " +
         nouns +
         ". Read verdict://schema/{Noun} for a noun's fields, verbs and state machine. A refused "
         "verb comes back with isError and the reason: fix the call and try again.";
}

json::object Dispatcher::list_page(const Call& call, json::array items,
                                   std::string_view key) const {
  json::object result;
  paginate(std::move(items), key, string_param(call.params, "cursor", false),
           options_.list_page_size, result);
  return result;
}

ToolCaller Dispatcher::caller(const Call& call, const Session& session) const {
  bool trusted =
      session.authenticated || (session.transport == "stdio" && options_.script_on_stdio);
  ToolCaller::Scripts scripts = !options_.scripts_enabled ? ToolCaller::Scripts::kDisabled
                                : !trusted                ? ToolCaller::Scripts::kNeedAuthentication
                                : !allows(session.caller.role, Role::kAdmin)
                                    ? ToolCaller::Scripts::kNeedAdmin
                                    : ToolCaller::Scripts::kAllowed;
  return {.caller = session.caller,
          .connection = session.actor.empty() ? session.transport : session.actor,
          .client_name = call.client_name,
          .transport = session.transport,
          .scripts = scripts};
}

json::object Dispatcher::call_tool(Call& call, Session& session) {
  auto [name_value, arguments_value] =
      find_members(call.params, std::array{"name"sv, "arguments"sv});
  std::string name = string_member(name_value, "name", true);
  if (options_.conformance && fixtures_.has_tool(name)) return call_fixture(call, session, name);
  if (!tools_.contains(name))
    fail(kInvalidParams, "unknown tool '" + name.substr(0, 100) + "' (tools: find, get, do)");
  const json::object& arguments = object_member(arguments_value, "arguments");
  const json::value* token = call.meta.if_contains("progressToken");
  auto progress = [&](int done, std::string_view stage) {
    if (token && session.notify)
      session.notify(
          notification_line("notifications/progress", {{"progressToken", *token},
                                                       {"progress", done},
                                                       {"total", 1},
                                                       {"message", name + std::string(stage)}}));
  };
  progress(0, " started");
  json::object result;
  try {
    EntityJson scratch;
    append_tool_result(call.line, tools_.call_json(name, arguments, caller(call, session), scratch),
                       call.current_era || has_structured_output(call.version),
                       call.current_era ? kEraMembersBytes : 0);
    // Checked first: the message copies the arguments, work a hot `get` should not do for a
    // client that asked for no log.
    const char* level = name == "do" ? "info" : "debug";
    if (logs_to_client(call, session, level))
      log_to_client(call, session, level, {{"tool", name}, {"arguments", arguments}});
  } catch (const Error& error) {
    // Per MCP, tool failures are results the model can read and correct, not protocol errors.
    result = tool_error(error.what());
    log_to_client(call, session, "warning",
                  {{"tool", name}, {"error", error.what()}, {"code", to_string(error.code())}});
  }
  progress(1, " finished");
  return result;
}

json::object Dispatcher::call_fixture(const Call& call, Session& session, const std::string& name) {
  if (auto capability = fixtures_.required_capability(name); capability && call.current_era) {
    const auto* declared = call.meta.if_contains(kClientCapabilitiesKey);
    if (!declared || !declared->is_object() || !declared->get_object().contains(*capability))
      fail(kMissingRequiredClientCapability,
           "tool " + name + " needs the client capability '" + *capability + "'",
           json::object{{"requiredCapabilities", {{*capability, json::object{}}}}});
  }
  ConformanceFixtures::ToolContext context;
  context.progress_token = call.meta.if_contains("progressToken");
  context.log_level_set = !call.log_level.empty();
  context.progress = [&](json::object params) {
    if (session.notify)
      session.notify(notification_line("notifications/progress", std::move(params)));
  };
  context.log = [&](std::string_view level, json::value data) {
    log_to_client(call, session, level, std::move(data));
  };
  return fixtures_.call_tool(name, context);
}

bool Dispatcher::logs_to_client(const Call& call, const Session& session,
                                std::string_view level) const {
  return session.notify && !call.log_level.empty() &&
         log_level_rank(level) >= log_level_rank(call.log_level);
}

void Dispatcher::log_to_client(const Call& call, Session& session, std::string_view level,
                               json::value data) const {
  if (!logs_to_client(call, session, level)) return;
  session.notify(
      notification_line("notifications/message",
                        {{"level", level}, {"logger", "verdict"}, {"data", std::move(data)}}));
}

void Dispatcher::run_notification(std::string_view method, const json::object& params,
                                  Session& session) {
  // JSON-RPC 2.0 sends no reply to a notification, but a fire-and-forget `do` (an application's
  // track) must still run; its failure can only go to the log.
  static const json::object kNoMeta;
  const auto* meta = params.if_contains("_meta");
  Call call{.method = method,
            .params = params,
            .meta = meta && meta->is_object() ? meta->get_object() : kNoMeta};
  std::string failure;
  try {
    json::object result = route(call, session);
    if (const auto* is_error = result.if_contains("isError"); is_error && *is_error == true)
      failure = json::serialize(result.at("content"));
  } catch (const RpcFailure& error) {
    failure = error.error.message;
  } catch (const Error& error) {
    failure = error.what();
  }
  if (!failure.empty())
    log(LogLevel::kWarning,
        "notification " + std::string(method) + " failed (no reply is sent): " + failure);
}

void Dispatcher::handle_notification(std::string_view method, const json::object& params,
                                     Session& session) const {
  if (method != "notifications/cancelled") return;  // initialized and unknown ones need nothing
  const auto* request_id = params.if_contains("requestId");
  if (!request_id || !valid_id(*request_id)) return;
  if (session.cancelled.size() >= kMaxCancelled) session.cancelled.clear();
  session.cancelled.insert(json::serialize(*request_id));
}

}  // namespace verdict::server
