#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <memory>
#include <string>
#include <vector>

#include "server/channel.hpp"

namespace verdict::server::http {

/// The state a legacy-era MCP session keeps between HTTP requests. `session` is touched on the
/// engine thread only; `last_used` on the I/O thread only.
struct McpHttpSession {
  Session session;
  std::chrono::steady_clock::time_point last_used = std::chrono::steady_clock::now();
};

/// One HTTP request as the engine worker sees it: a Channel that collects the reply line and
/// the notifications sent while the request ran, and wakes the waiting connection coroutine
/// once the engine has answered (after its group commit): the engine's answer resumes the
/// coroutine straight from one posted handler, with no timer between (a timer per request cost
/// the I/O thread its timer queue's lock and a second handler).
class HttpExchange : public Channel, public std::enable_shared_from_this<HttpExchange> {
 public:
  /// `shared` is the legacy session the request belongs to, or null (a per-request session).
  HttpExchange(boost::asio::any_io_executor executor, std::shared_ptr<McpHttpSession> shared);

  void send(std::string bytes) override;
  void close_after_send() override {}
  void answered(const Answered& outcome) override;
  Session& session_for_next_line() override;
  bool owns_session() const override { return !shared_; }

  /// Whether the engine has answered (I/O thread). A lone lookup is often answered inside
  /// submit: skipping wait() then saves its coroutine frame.
  bool done() const { return done_; }
  /// Resumes once the engine has answered. Call on the I/O thread, once; until then the
  /// io_context counts the wait as outstanding work, as it would a pending operation.
  boost::asio::awaitable<void> wait();

  /// The reply line without its newline ("" for a notification); valid after wait().
  const std::string& reply() const { return reply_; }
  /// The reply line, moved out; valid once, after wait().
  std::string take_reply() { return std::move(reply_); }
  /// Notification lines (progress, logging) in the order they were sent; valid after wait().
  const std::vector<std::string>& notifications() const { return notifications_; }

 private:
  class Wake;
  /// The suspended wait()'s completion handler, whatever its type (Boost 1.81's
  /// any_completion_handler recurses without end when moved).
  struct Waiter {
    virtual ~Waiter() = default;
    virtual void resume() = 0;
  };

  // The engine thread posts to this copy, never touching `waiter_` or `work_`, which are the
  // I/O thread's.
  const boost::asio::any_io_executor executor_;
  std::shared_ptr<McpHttpSession> shared_;
  // Written on the engine thread before answered() posts the wake-up; read on the I/O thread
  // only after it, so the post orders the accesses.
  std::string reply_;
  std::vector<std::string> notifications_;
  bool done_ = false;  ///< I/O thread only
  /// The suspended wait() and the work it keeps counted; I/O thread only.
  std::unique_ptr<Waiter> waiter_;
  boost::asio::any_io_executor work_;
};

}  // namespace verdict::server::http
