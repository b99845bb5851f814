#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <string>

#include "server/engine_worker.hpp"
#include "server/http/router.hpp"

namespace verdict::server::http {

/// Runs `do <params>` on the engine worker, as one JSON-RPC request of a per-request session
/// acting as the request's peer, and returns the parsed JSON-RPC reply (`{result}` or
/// `{error: {code, message}}`; null when the reply does not parse). For HTTP adapters other than
/// MCP (OFREP, the GrowthBook SDK payload), so that none of them validates or writes itself.
boost::asio::awaitable<boost::json::value> call_engine(EngineWorker& worker,
                                                       boost::json::object params,
                                                       const RequestContext& context);

/// The same call, answering the reply line as the engine wrote it. For answers whose numbers
/// must reach the client bit for bit: Boost.JSON 1.81's parser may round a double by one ULP.
boost::asio::awaitable<std::string> call_engine_text(EngineWorker& worker,
                                                     boost::json::object params,
                                                     const RequestContext& context);

}  // namespace verdict::server::http
