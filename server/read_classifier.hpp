#pragma once

#include <string_view>

namespace verdict::server {

/// Whether a framed JSON-RPC line only reads: `get`, `find`, `ping`, `resources/read`, or
/// `tools/call` of the `get` or `find` tool. Such a line may run on a reader thread
/// (server/reader_pool.hpp) over a read-only connection; anything else (initialize, auth, do,
/// notifications, an unknown method) changes the database or the session and runs on the
/// engine thread. Conservative: a line that is not valid JSON, nests deeper than 64 levels, or
/// names `method`, `params` or `params.name` twice (JSON parsers disagree on which one wins) is
/// not a read. Scans the line once without building it; thread-safe.
bool is_read_only(std::string_view line);

}  // namespace verdict::server
