#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

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
/// once the engine has answered (after its group commit).
class HttpExchange : public Channel, public std::enable_shared_from_this<HttpExchange> {
 public:
  /// `shared` is the legacy session the request belongs to, or null (a per-request session).
  HttpExchange(boost::asio::any_io_executor executor, std::shared_ptr<McpHttpSession> shared);

  void send(std::string bytes) override;
  void close_after_send() override {}
  void answered(const Answered& outcome) override;
  Session& session_for_next_line() override;
  bool owns_session() const override { return !shared_; }

  /// Resumes once the engine has answered. Call on the I/O thread, once.
  boost::asio::awaitable<void> wait();

  /// The reply line without its newline ("" for a notification); valid after wait().
  const std::string& reply() const { return reply_; }
  /// Notification lines (progress, logging) in the order they were sent; valid after wait().
  const std::vector<std::string>& notifications() const { return notifications_; }

 private:
  // The engine thread posts to this copy, never touching the timer, which is the I/O thread's.
  const boost::asio::any_io_executor executor_;
  boost::asio::steady_timer done_timer_;
  std::shared_ptr<McpHttpSession> shared_;
  // Written on the engine thread before answered() posts the wake-up; read on the I/O thread
  // only after it, so the post orders the accesses.
  std::string reply_;
  std::vector<std::string> notifications_;
  bool done_ = false;  ///< I/O thread only
};

}  // namespace verdict::server::http
