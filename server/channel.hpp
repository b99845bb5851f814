#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "server/dispatcher.hpp"
#include "server/line_framer.hpp"

namespace verdict::server {

/// What the engine thread reports back for one submission of lines.
struct Answered {
  std::size_t lines = 0;       ///< lines answered (flow control)
  std::size_t bytes = 0;       ///< their request bytes (input budget)
  bool authenticated = false;  ///< the session's state afterwards (auth deadline)
};

/// One client connection as the engine thread sees it: a session and a way to write back.
/// `session` is touched only on the engine thread; the other members are thread-safe.
class Channel {
 public:
  virtual ~Channel() = default;

  /// Queues bytes (one or more complete lines) for writing, in order.
  virtual void send(std::string bytes) = 0;
  /// Closes the connection once everything queued so far has been written.
  virtual void close_after_send() = 0;
  /// Tells the reader what the engine answered (flow control and budgets).
  virtual void answered(const Answered& outcome) = 0;
  /// Bytes sent but not yet written to the client. The engine stops running this channel's
  /// requests while it exceeds the output budget (see EngineWorker::park).
  virtual std::size_t unsent_bytes() const { return 0; }
  /// Marks the channel as having requests parked in the engine; the transport calls
  /// EngineWorker::resume once its output drains. Returns the previous value.
  bool exchange_parked(bool parked) { return parked_.exchange(parked); }
  /// The session the next line runs in; called on the engine thread just before each line.
  /// HTTP requests of one legacy MCP session share a session that outlives each request.
  virtual Session& session_for_next_line() { return session; }

  Session session;

 private:
  std::atomic<bool> parked_{false};
};

}  // namespace verdict::server
