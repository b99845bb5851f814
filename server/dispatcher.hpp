#pragma once

#include <boost/json.hpp>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "core/engine.hpp"
#include "server/conformance_fixtures.hpp"
#include "server/line_framer.hpp"
#include "server/tools.hpp"

namespace verdict::server {

/// One connection's protocol state; the transport owns it and passes it to every call.
struct Session {
  std::string transport;        ///< "stdio" | "tcp" | "unix"
  bool requires_token = false;  ///< set by the transport for non-loopback listeners
  bool authenticated = false;
  std::string actor;  ///< e.g. "stdio" or "tcp:127.0.0.1:5555"; refined by clientInfo.name
  std::string protocol_version;  ///< negotiated legacy-era version; empty before initialize
  /// Sends a notification line (progress, logging) to this client; may be empty.
  std::function<void(std::string line)> notify;
  /// Serialized ids of requests the client cancelled (notifications/cancelled). A request whose
  /// id is here when its turn comes is dropped without a response.
  std::unordered_set<std::string> cancelled;
  /// clientInfo.name from initialize; the event log records `actor/client_name`.
  std::string client_name;
  /// Lowest level of notifications/message the client asked for (logging/setLevel); "" = none.
  std::string log_level;
  /// Who the connection acts as: the key it authenticated with, or, without one, the local
  /// operator of the project the transport serves (stdio's --project; `default` elsewhere).
  Caller caller;
  /// Who the connection is without a key; `caller` returns to it when its key fails.
  Caller unkeyed;
  /// A secret the transport received outside the JSON-RPC message (HTTP `Authorization` or
  /// `X-API-Key`); checked on the engine thread with every request it came with.
  std::string presented_key;
  /// The project the request addresses (a REST path's `/~{project}`); empty: the caller's own.
  /// Set per request by the HTTP adapters; any other project is answered "not found".
  std::string required_project;
  /// SHA-256 (hex) of the secret `caller` was authenticated with, so that a client repeating
  /// it in `_meta` is not looked up again, and the key generation it was checked at.
  std::string key_digest;
  access::KeyGeneration key_generation;
  /// A key this connection presented failed (wrong or revoked): every request is refused until
  /// a key succeeds, so a client never silently continues as the unkeyed operator.
  bool key_refused = false;
  /// The version of the entity the last plain `get` answered, as the store wrote it; empty
  /// when that line answered anything else. REST reads it for the ETag instead of parsing the
  /// entity's text for it.
  std::optional<std::int64_t> answered_version;
};

/// What the transport writes back for one line. `line` is empty for notifications.
struct Reply {
  std::string line;
  bool close = false;  ///< the connection must be closed after writing `line`
};

struct DispatcherOptions {
  /// The --token-file token, adopted as the admin key `token-file` of the default project.
  std::string token;
  bool script_on_stdio = true;  ///< `do {script}` allowed on stdio without a token
  bool scripts_enabled = true;  ///< --no-scripts turns scripts off everywhere
  std::size_t max_depth = 64;   ///< JSON nesting limit
  std::size_t max_message_bytes = 4 * 1024 * 1024;
  std::size_t list_page_size = 100;  ///< items per page of tools/list, resources/list, ...
  /// Adds the MCP conformance suite's fixtures (`verdict serve --conformance`); testing only.
  bool conformance = false;
};

// ScriptRunner (the `do {script}` hook) is declared in server/tools.hpp.

/// JSON-RPC 2.0 + MCP (legacy era 2024-11-05 .. 2025-11-25 and current era 2026-07-28) over one
/// engine, independent of the transport. Synchronous: one line in, at most one line out, plus
/// notifications through Session::notify.
/// Not thread-safe: each thread that answers lines has its own, over its own Engine (the engine
/// thread's, and each reader thread's read-only one: server/reader_pool.hpp).
class Dispatcher {
 public:
  Dispatcher(verdict::Engine& engine, DispatcherOptions options, ScriptRunner script_runner = {});

  /// Handles one framed line (no trailing newline), on the thread that owns this dispatcher.
  /// Never throws: every failure becomes a JSON-RPC error or an `isError` tool result.
  Reply handle_line(std::string_view line, Session& session);
  /// handle_line for a framed line, which parse() may have parsed already.
  Reply handle_frame(const LineFramer::Frame& frame, Session& session);
  /// Parses a frame's line as handle_line would, into the frame, counting the memory the
  /// message holds. Const and thread-safe: the transport's thread parses each line once, before
  /// it is queued, and counts it against the connection's input budget (Frame::held_bytes).
  void parse(LineFramer::Frame& frame) const;

  /// Error reply for a line the transport refused before parsing (too large).
  static std::string oversized_reply(std::size_t limit);

  const DispatcherOptions& options() const { return options_; }
  /// How lines are parsed (the nesting limit), for a LineFramer that parses as it frames.
  boost::json::parse_options parse_options() const;

 private:
  struct Call;

  /// A line's message, or why it could not be parsed, answered.
  Reply handle_parsed(const boost::json::value& message, boost::system::error_code ec,
                      Session& session);
  Reply handle_request(const boost::json::object& message, Session& session);
  /// Authenticates a secret presented with this message (params' `token` and `_meta` members, or
  /// an HTTP header), or re-checks the session's key if a key may have been revoked since.
  /// Returns the refusal.
  std::optional<std::string> admit(std::string_view method, const boost::json::value* token,
                                   const boost::json::value* meta, Session& session);
  /// Drops a failed key: the session returns to its unkeyed caller but is refused until a key
  /// succeeds (except on stdio).
  static void refuse_key(Session& session);
  void resolve_era(Call& call, const Session& session, bool required) const;
  boost::json::object route(Call& call, Session& session);
  boost::json::object initialize(const Call& call, Session& session) const;
  boost::json::object discover() const;
  boost::json::object call_tool(Call& call, Session& session);
  boost::json::object call_fixture(const Call& call, Session& session, const std::string& name);
  boost::json::object capabilities() const;
  boost::json::object list_page(const Call& call, boost::json::array items,
                                std::string_view key) const;
  /// Executes a `do` or `tools/call` sent without an id; failures are logged, never answered.
  void run_notification(std::string_view method, const boost::json::object& params,
                        Session& session);
  void handle_notification(std::string_view method, const boost::json::object& params,
                           Session& session) const;
  ToolCaller caller(const Call& call, const Session& session) const;
  bool logs_to_client(const Call& call, const Session& session, std::string_view level) const;
  void log_to_client(const Call& call, Session& session, std::string_view level,
                     boost::json::value data) const;
  std::string instructions() const;

  verdict::Engine& engine_;
  DispatcherOptions options_;
  Tools tools_;
  ConformanceFixtures fixtures_;
};

}  // namespace verdict::server
