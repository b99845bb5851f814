#pragma once

#include <boost/json.hpp>

#include <string>
#include <vector>

#include "core/engine.hpp"
#include "server/dispatcher.hpp"
#include "tests/support/test_store.hpp"

namespace verdict::server::testing {

namespace json = boost::json;

/// A dispatcher over an empty engine (test_support::fresh_store()) with a stdio session, for
/// driving it line by line.
class DispatcherHarness {
 public:
  explicit DispatcherHarness(DispatcherOptions options = {}, ScriptRunner script_runner = {})
      : dispatcher(engine, std::move(options), std::move(script_runner)) {
    session.transport = "stdio";
    session.actor = "stdio";
    session.notify = [this](std::string line) { notifications.push_back(json::parse(line)); };
  }

  /// Sends one raw line; returns the parsed reply, or null when there is none.
  json::value send(std::string_view line) {
    last = dispatcher.handle_line(line, session);
    return last.line.empty() ? json::value(nullptr) : json::parse(last.line);
  }

  /// Sends a request with a fresh integer id; returns the whole response.
  json::value request(std::string_view method, json::object params = {}) {
    json::object message{{"jsonrpc", "2.0"}, {"id", ++next_id}, {"method", method}};
    message["params"] = std::move(params);
    return send(json::serialize(message));
  }

  /// The result of a request that must succeed.
  json::object result(std::string_view method, json::object params = {}) {
    json::value reply = request(method, std::move(params));
    EXPECT_TRUE(reply.as_object().contains("result")) << json::serialize(reply);
    return reply.as_object().contains("result") ? reply.at("result").as_object() : json::object{};
  }

  /// The error of a request that must fail.
  json::object error(std::string_view method, json::object params = {}) {
    json::value reply = request(method, std::move(params));
    EXPECT_TRUE(reply.as_object().contains("error")) << json::serialize(reply);
    return reply.as_object().contains("error") ? reply.at("error").as_object() : json::object{};
  }

  /// Params carrying the 2026-07-28 `_meta` envelope.
  static json::object current(json::object params = {}, json::object meta = {}) {
    meta["io.modelcontextprotocol/protocolVersion"] = "2026-07-28";
    meta["io.modelcontextprotocol/clientCapabilities"] = json::object{};
    params["_meta"] = std::move(meta);
    return params;
  }

  /// Runs the legacy handshake at `version`.
  json::object initialize(std::string_view version = "2025-11-25") {
    return result("initialize", {{"protocolVersion", version},
                                 {"capabilities", json::object{}},
                                 {"clientInfo", {{"name", "harness"}, {"version", "1"}}}});
  }

  /// tools/call in the current era; returns the CallToolResult.
  json::object call_tool(std::string_view name, json::object arguments) {
    return result("tools/call", current({{"name", name}, {"arguments", std::move(arguments)}}));
  }

  /// The JSON a tool result carries as text.
  static json::value text_of(const json::object& tool_result) {
    return json::parse(tool_result.at("content").at(0).at("text").as_string());
  }

  /// Creates an Experiment through the engine; returns its id.
  std::string create_experiment(std::string name) {
    auto created =
        engine.execute({.noun = "Experiment", .verb = "create", .data = {{"name", name}}});
    return std::string(created.at("id").as_string());
  }

  verdict::Engine engine{verdict::test_support::fresh_store()};
  Session session;
  Dispatcher dispatcher;
  Reply last;
  std::vector<json::value> notifications;
  std::int64_t next_id = 0;
};

}  // namespace verdict::server::testing
