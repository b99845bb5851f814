#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "server/engine_worker.hpp"
#include "server/error_mapping.hpp"
#include "server/http/router.hpp"

namespace verdict::server::http {

/// The plain JSON-RPC methods adapters call. Named constants rather than literals: GCC 12 fails
/// on string literals inside a co_await expression ("array used as initializer").
inline constexpr std::string_view kFindMethod = "find";
inline constexpr std::string_view kGetMethod = "get";
inline constexpr std::string_view kDoMethod = "do";
inline constexpr std::string_view kSchemaMethod = "schema";

/// What the engine answered to one plain JSON-RPC call: `result`, or `error` when `failed`.
struct EngineReply {
  bool failed = false;
  boost::json::value result;
  RpcError error;
  /// The slug of the project the call acted in: the caller's own (a key acts in no other).
  std::string project;
};

/// One plain JSON-RPC call's message, built where the engine will read it: in the arena of the
/// line it is handed over as (a ParsedLine), so what params() is given is not copied again.
class EngineCall {
 public:
  explicit EngineCall(std::string_view method);
  /// `params` is copied into the line's arena.
  EngineCall(std::string_view method, const boost::json::object& params);

  boost::json::object& params() { return *params_; }
  /// The line, for the engine worker; the call is spent.
  std::unique_ptr<ParsedLine> release() { return std::move(line_); }

 private:
  std::unique_ptr<ParsedLine> line_;
  boost::json::object* params_;  ///< inside line_, which is not moved: it lives on the heap
};

/// Runs one plain JSON-RPC method (`find`, `get`, `do`, `schema`) on the engine worker, as the
/// line transports do, in a per-request session of `context`'s peer, and resumes on the calling
/// I/O thread once the engine has answered (after its group commit). Adapters that are not
/// JSON-RPC on the wire (OFREP, REST) reach the engine through this one function, so they get
/// the same validation, hooks and events as MCP.
boost::asio::awaitable<EngineReply> call_engine(EngineWorker& worker, const RequestContext& context,
                                                EngineCall call);
inline boost::asio::awaitable<EngineReply> call_engine(EngineWorker& worker,
                                                       const RequestContext& context,
                                                       std::string_view method,
                                                       const boost::json::object& params) {
  return call_engine(worker, context, EngineCall(method, params));
}

/// Reads a reply line as call_engine answers it; `project` is the slug of the caller's project.
EngineReply read_engine_reply(std::string_view reply, std::string project);

/// A reply line as the engine wrote it.
struct EngineText {
  std::string reply;
  /// The version of the entity a plain `get` answered (Session::answered_version).
  std::optional<std::int64_t> entity_version;
};

/// The same call, answering the reply line as the engine wrote it. For answers whose numbers
/// must reach the client bit for bit: Boost.JSON 1.81's parser may round a double by one ULP.
boost::asio::awaitable<EngineText> call_engine_text(EngineWorker& worker,
                                                    const RequestContext& context, EngineCall call);
inline boost::asio::awaitable<EngineText> call_engine_text(EngineWorker& worker,
                                                           const RequestContext& context,
                                                           std::string_view method,
                                                           const boost::json::object& params) {
  return call_engine_text(worker, context, EngineCall(method, params));
}

}  // namespace verdict::server::http
