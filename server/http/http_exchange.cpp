#include "server/http/http_exchange.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace verdict::server::http {

namespace asio = boost::asio;

/// Posted by answered(): resumes the waiting coroutine on the I/O thread. Dropped without
/// running (the io_context shut down first), it drops the suspended coroutine instead, which
/// holds the exchange that holds it: nothing else would break that cycle.
class HttpExchange::Wake {
 public:
  explicit Wake(std::shared_ptr<HttpExchange> exchange) : exchange_(std::move(exchange)) {}
  Wake(Wake&&) = default;
  Wake& operator=(Wake&&) = delete;
  ~Wake() {
    if (!exchange_) return;
    exchange_->work_ = {};
    exchange_->waiter_ = nullptr;
  }

  void operator()() {
    auto exchange = std::move(exchange_);
    exchange->done_ = true;
    exchange->work_ = {};
    if (auto waiter = std::move(exchange->waiter_)) waiter->resume();
  }

 private:
  std::shared_ptr<HttpExchange> exchange_;
};

HttpExchange::HttpExchange(asio::any_io_executor executor, std::shared_ptr<McpHttpSession> shared)
    : executor_(std::move(executor)), shared_(std::move(shared)) {}

void HttpExchange::send(std::string bytes) {
  // One request, one line: the worker appends the newline framing the socket transports need.
  if (!bytes.empty() && bytes.back() == '\n') bytes.pop_back();
  if (reply_.empty())
    reply_ = std::move(bytes);
  else
    reply_ += bytes;
}

void HttpExchange::answered(const Answered&) {
  // The I/O thread answered the request itself (a lone lookup) inside submit, before wait():
  // done_ is its own to set, and a posted wake-up would only cost it another handler.
  const auto* io = executor_.target<asio::io_context::executor_type>();
  if (io && io->running_in_this_thread() && !waiter_) {
    done_ = true;
    return;
  }
  asio::post(executor_, Wake(shared_from_this()));
}

Session& HttpExchange::session_for_next_line() {
  if (!shared_) {
    // The session is this exchange's own and cannot outlive it: a plain pointer, which fits
    // inside the std::function, where a weak reference took an allocation per request.
    session.notify = [this](std::string line) { notifications_.push_back(std::move(line)); };
    return session;
  }
  // A weak reference: the legacy session outlives this request and must not keep it alive.
  shared_->session.notify = [weak = weak_from_this()](std::string line) {
    if (auto self = weak.lock()) self->notifications_.push_back(std::move(line));
  };
  // Every HTTP request authenticates on its own: the legacy session takes this request's key,
  // or none, and never keeps an earlier request's.
  shared_->session.authenticated = false;
  shared_->session.key_refused = false;
  shared_->session.caller = session.caller;
  shared_->session.presented_key = session.presented_key;
  shared_->session.key_digest.clear();
  return shared_->session;
}

asio::awaitable<void> HttpExchange::wait() {
  if (done_) co_return;
  work_ = asio::prefer(executor_, asio::execution::outstanding_work.tracked);
  co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(
      [this](auto completion) {
        using Handler = decltype(completion);
        struct Held final : Waiter {
          explicit Held(Handler h) : handler(std::move(h)) {}
          void resume() override { std::move(handler)(); }
          Handler handler;
        };
        waiter_ = std::make_unique<Held>(std::move(completion));
      },
      asio::use_awaitable);
}

}  // namespace verdict::server::http
