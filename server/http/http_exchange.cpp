#include "server/http/http_exchange.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace verdict::server::http {

namespace asio = boost::asio;

HttpExchange::HttpExchange(asio::any_io_executor executor, std::shared_ptr<McpHttpSession> shared)
    : executor_(executor),
      done_timer_(std::move(executor), asio::steady_timer::time_point::max()),
      shared_(std::move(shared)) {}

void HttpExchange::send(std::string bytes) {
  // One request, one line: the worker appends the newline framing the socket transports need.
  if (!bytes.empty() && bytes.back() == '\n') bytes.pop_back();
  reply_ += bytes;
}

void HttpExchange::answered(const Answered&) {
  asio::post(executor_, [self = shared_from_this()] {
    self->done_ = true;
    self->done_timer_.cancel();
  });
}

Session& HttpExchange::session_for_next_line() {
  Session& target = shared_ ? shared_->session : session;
  // A weak reference: the legacy session outlives this request and must not keep it alive.
  target.notify = [weak = weak_from_this()](std::string line) {
    if (auto self = weak.lock()) self->notifications_.push_back(std::move(line));
  };
  // Every HTTP request authenticates on its own: the legacy session takes this request's key,
  // or none, and never keeps an earlier request's.
  if (shared_) {
    shared_->session.authenticated = false;
    shared_->session.key_refused = false;
    shared_->session.caller = session.caller;
    shared_->session.presented_key = session.presented_key;
    shared_->session.key_digest.clear();
  }
  return target;
}

asio::awaitable<void> HttpExchange::wait() {
  while (!done_) co_await done_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
}

}  // namespace verdict::server::http
