#pragma once

#include <boost/json.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "core/engine.hpp"

namespace verdict::server {

/// Runs a Lua script for `do {script}` and returns its result as JSON. Throws verdict::Error.
using ScriptRunner =
    std::function<boost::json::value(verdict::Engine&, const std::string& source,
                                     const std::string& actor, const verdict::Caller& caller)>;

/// Who calls a tool, and whether they may run scripts. It refers to the session and request it
/// was made for, so that a `get`, which reads only `caller`, copies and formats nothing.
struct ToolCaller {
  enum class Scripts { kAllowed, kDisabled, kNeedAuthentication, kNeedAdmin };

  const verdict::Caller& caller;  ///< the project and key every call is made as
  std::string_view connection;    ///< the session's actor (`tcp:127.0.0.1:5555`) or transport
  std::string_view client_name;   ///< clientInfo.name; may be empty
  std::string_view transport;
  Scripts scripts = Scripts::kDisabled;

  /// Who the event log records: the connection, then the client's name (`stdio/claude`).
  std::string actor() const;
  /// Why a script is refused, for the agent to act on; empty when scripts are allowed.
  std::string script_refusal() const;
};

/// The three tools, `find`, `get` and `do`, over one engine. Their input schemas and descriptions
/// are generated from the engine's schema, so nouns, fields and verbs added at run time (plugins,
/// custom verbs) appear in the next tools/list. Not thread-safe: engine thread only.
class Tools {
 public:
  Tools(verdict::Engine& engine, ScriptRunner script_runner, bool scripts_enabled);

  /// The tool definitions in stable order (find, get, do). `with_output_schema` adds
  /// `outputSchema` (MCP 2025-06-18 and later). Regenerated whenever the schema has changed.
  const boost::json::array& definitions(bool with_output_schema);

  bool contains(std::string_view name) const;

  /// Checks `arguments` against the tool's input schema, then runs it. Throws verdict::Error:
  /// kInvalidArgument naming the argument, or whatever the verb or script failed with.
  boost::json::value call(std::string_view name, const boost::json::object& arguments,
                          const ToolCaller& caller);
  /// call's value as JSON text (to_json_text), for replies: a `get` without history is served
  /// as the engine's serialized entity (Engine::entity_json), never built as an object, and
  /// keeps its escaped form cached with it. Any other value is made in `scratch`, which the
  /// caller owns so that no reply outlives its request here. Valid until `scratch` goes or the
  /// next call on the engine.
  const EntityJson& call_json(std::string_view name, const boost::json::object& arguments,
                              const ToolCaller& caller, EntityJson& scratch);

 private:
  void refresh();
  boost::json::value find(const boost::json::object& arguments, const verdict::Caller& caller);
  boost::json::value get(const boost::json::object& arguments, const verdict::Caller& caller);
  boost::json::value run(const boost::json::object& arguments, const ToolCaller& caller);

  verdict::Engine& engine_;
  ScriptRunner script_runner_;
  bool scripts_enabled_;
  std::size_t schema_fingerprint_ = 0;
  boost::json::array definitions_;        ///< with outputSchema
  boost::json::array plain_definitions_;  ///< without, for revisions before 2025-06-18
};

/// Appends a successful tools/call result to `out`, as JSON text, for a value given as JSON text
/// (call_json): the value as a text content item, plus `structuredContent` when `structured`. A
/// non-object value (a script's result) is wrapped as `{result}` there, because structured
/// content is an object before 2026-07-28. `spare` bytes are reserved at the end for members the
/// caller adds.
void append_tool_result(std::string& out, const EntityJson& value, bool structured,
                        std::size_t spare = 0);

/// A failed tools/call result (`isError: true`) carrying `message` for the agent to act on.
boost::json::object tool_error(std::string_view message);

}  // namespace verdict::server
