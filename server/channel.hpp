#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
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
/// `session` is touched only by the thread answering the channel's lines (the engine thread or,
/// for reads, a reader thread: never two at once, see EngineWorker); the other members are
/// thread-safe.
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
  /// The session the next line runs in; called by the answering thread just before each line.
  /// HTTP requests of one legacy MCP session share a session that outlives each request.
  virtual Session& session_for_next_line() { return session; }
  /// False when session_for_next_line() is shared with other channels: then every line runs on
  /// the engine thread, the one place their lines are serialized.
  virtual bool owns_session() const { return true; }

  Session session;

 private:
  std::atomic<bool> parked_{false};
};

/// Lines of one channel, answered in order by the engine thread or a reader thread.
struct LineJob {
  std::shared_ptr<Channel> channel;
  std::vector<LineFramer::Frame> frames;
};

/// What answer_lines did with a job's lines.
struct Answers {
  std::string text;      ///< the reply lines, each with its newline
  std::size_t done = 0;  ///< lines answered, or skipped after a closing reply
  bool close = false;    ///< a reply asked for the connection to be closed
};

/// Answers `job`'s lines from `answers.done` on, in order, until one asks for the connection
/// to be closed (the rest count as done, unanswered) or, before a line, the channel's unsent
/// bytes plus `output` (this call's replies and any its caller counts with them) pass
/// `output_budget`: the lines from `answers.done` on are then left for later. `around_line`, when
/// given, runs each dispatched line (`dispatch`) and returns its reply: the engine keeps a line's
/// failure from spoiling its batch's transaction there.
using LineScope =
    std::function<Reply(const LineFramer::Frame& frame, const std::function<Reply()>& dispatch)>;
void answer_lines(Dispatcher& dispatcher, const LineJob& job, std::size_t output_budget,
                  std::size_t max_message_bytes, std::size_t& output, Answers& answers,
                  const LineScope& around_line = {});

/// Reports a job's answered lines to its channel: sends the replies, closes if asked, and calls
/// Channel::answered with the count and bytes of the lines done.
void deliver(const LineJob& job, Answers& answers);

}  // namespace verdict::server
