#pragma once

#include <boost/json.hpp>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace verdict::server {

/// The current (stateless) MCP revision: every request names it in `_meta`.
inline constexpr std::string_view kCurrentVersion = "2026-07-28";
/// Legacy revisions negotiated by `initialize`, newest first.
inline constexpr std::array<std::string_view, 4> kLegacyVersions = {"2025-11-25", "2025-06-18",
                                                                    "2025-03-26", "2024-11-05"};
/// Reserved `_meta` keys of the current era.
inline constexpr std::string_view kProtocolVersionKey = "io.modelcontextprotocol/protocolVersion";
inline constexpr std::string_view kClientCapabilitiesKey =
    "io.modelcontextprotocol/clientCapabilities";
inline constexpr std::string_view kClientInfoKey = "io.modelcontextprotocol/clientInfo";
inline constexpr std::string_view kLogLevelKey = "io.modelcontextprotocol/logLevel";
inline constexpr std::string_view kServerInfoKey = "io.modelcontextprotocol/serverInfo";
/// Verdict's own `_meta` key: the auth token on the first message of a socket connection.
inline constexpr std::string_view kTokenKey = "io.verdict/token";

/// The legacy version `initialize` answers: the requested one if supported, else the newest.
std::string_view negotiate_legacy_version(std::string_view requested);

bool is_legacy_version(std::string_view version);

/// `outputSchema` and `structuredContent` exist from 2025-06-18 on (revisions are ISO dates).
bool has_structured_output(std::string_view version);

/// `{name, version}` of this server.
boost::json::object server_info();

/// The capabilities both eras advertise.
boost::json::object server_capabilities();

/// MCP logging levels, least severe first; -1 for an unknown name.
int log_level_rank(std::string_view level);

/// One page of `items` starting at `cursor` (an opaque offset from a previous page; empty for the
/// first). Sets `key` and, when more remain, `nextCursor` on `result`. Throws kInvalidArgument
/// naming `cursor` for a cursor this server did not issue.
void paginate(boost::json::array items, std::string_view key, std::string_view cursor,
              std::size_t page_size, boost::json::object& result);

/// A serialized JSON-RPC notification line.
std::string notification_line(std::string_view method, boost::json::object params);

}  // namespace verdict::server
