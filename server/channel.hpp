#pragma once

#include <memory>
#include <string>

#include "server/dispatcher.hpp"

namespace verdict::server {

/// One client connection as the engine thread sees it: a session and a way to write back.
/// `session` is touched only on the engine thread; send() and close() are thread-safe.
class Channel {
 public:
  virtual ~Channel() = default;

  /// Queues bytes (one or more complete lines) for writing, in order.
  virtual void send(std::string bytes) = 0;
  /// Closes the connection once everything queued so far has been written.
  virtual void close_after_send() = 0;
  /// Tells the reader that `lines` queued messages have been answered (flow control).
  virtual void answered(std::size_t lines) = 0;
  /// The session the next line runs in; called on the engine thread just before each line.
  /// HTTP requests of one legacy MCP session share a session that outlives each request.
  virtual Session& session_for_next_line() { return session; }

  Session session;
};

}  // namespace verdict::server
