#pragma once

#include <boost/json/value.hpp>

namespace verdict::server {

/// Whether a parsed JSON-RPC message only reads: `get`, `find`, `ping`, `resources/read`, or
/// `tools/call` of the `get` or `find` tool. Such a line may run on a reader thread
/// (server/reader_pool.hpp) over a read-only connection; anything else (initialize, auth, do,
/// notifications, an unknown method, a message that is not an object) changes the database or
/// the session and runs on the engine thread. The dispatcher answers the same parsed value
/// (LineFramer::Frame::message), so the two never read a line differently. Thread-safe.
bool is_read_only(const boost::json::value& message);

/// Whether a read-only message reads by key (`get`, `ping`, `resources/read`, `tools/call` of
/// `get`): bounded work, unlike a `find`, whose filter may scan up to the query budget. Such a
/// line, arriving alone, is cheap enough for the I/O thread to answer itself
/// (EngineWorker::answer_lone_reads_here).
bool is_lookup(const boost::json::value& message);

}  // namespace verdict::server
