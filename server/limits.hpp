#pragma once

#include <chrono>
#include <cstddef>

namespace verdict::server {

/// What one socket connection, and all of them together, may cost the server. Every transport
/// (line-framed sockets today, HTTP later) takes its budgets from here rather than from
/// literals, so the worst case in the README is computed from one place.
struct ConnectionLimits {
  /// Largest message (line) accepted; longer ones are dropped as they stream in and answered.
  std::size_t max_message_bytes = 4 * 1024 * 1024;
  /// A connection whose replies wait unsent beyond this is not read, and its queued requests
  /// are not run, until the client reads. Worst case per connection: this plus one reply.
  std::size_t output_bytes_per_connection = 1024 * 1024;
  /// Bytes of requests one connection may have received but not had answered (queued lines
  /// plus its unfinished line). Must exceed max_message_bytes, or a maximal line could not
  /// complete.
  std::size_t input_bytes_per_connection = 8 * 1024 * 1024;
  /// The same over every connection; a connection may always hold input_floor_bytes, so small
  /// requests keep flowing while large ones wait for room.
  std::size_t input_bytes_total = 64 * 1024 * 1024;
  std::size_t input_floor_bytes = 64 * 1024;
  /// Open socket connections over all listeners; each listener gets an equal share, so one
  /// listener's flood cannot take another's slots. Lowered to fit under RLIMIT_NOFILE.
  std::size_t max_connections = 1024;
  /// Descriptors kept free for the database, its WAL, the log and the listeners themselves.
  std::size_t reserved_descriptors = 64;
  /// A connection that must present a token and has not done so by then is closed.
  std::chrono::milliseconds auth_timeout{std::chrono::seconds(10)};
  /// A line that has started must end within this, however slowly its bytes trickle in.
  std::chrono::milliseconds line_timeout{std::chrono::seconds(30)};
  /// A connection with no complete request and no reply for this long is closed.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(300)};
  /// After accept(2) fails (out of descriptors), wait this long before accepting again.
  std::chrono::milliseconds accept_backoff{std::chrono::milliseconds(100)};
  /// After SIGTERM, connections still open this long (a client that does not read its
  /// replies) are closed, so the server always exits.
  std::chrono::milliseconds shutdown_grace{std::chrono::seconds(5)};
  /// Repeated warnings (accept failures, refused connections) are logged once per interval.
  std::chrono::milliseconds warning_interval{std::chrono::seconds(10)};
};

}  // namespace verdict::server
