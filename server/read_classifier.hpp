#pragma once

#include <boost/json/value.hpp>

namespace verdict::server {

/// Where a parsed JSON-RPC line may be answered. The dispatcher answers the same parsed value
/// (LineFramer::Frame::parsed), so the two never read a line differently.
enum class Access {
  /// Changes the database or the session, or is not understood (initialize, auth, do,
  /// notifications, an unknown method, a message that is not an object): the engine thread.
  kEngine,
  /// Only reads, and may scan up to the query budget (`find`, `tools/call` of `find`): a reader
  /// thread (server/reader_pool.hpp) over a read-only connection.
  kScan,
  /// Only reads, by key (`get`, `ping`, `resources/read`, `tools/call` of `get`): bounded work,
  /// cheap enough for the I/O thread to answer itself (EngineWorker::answer_lookups_here).
  kLookup,
};

/// Classifies a line once, as it is queued; the queue keeps the answer beside it. Thread-safe.
Access access_of(const boost::json::value& message);

}  // namespace verdict::server
