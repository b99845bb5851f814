#include "server/server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio.hpp>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <list>
#include <mutex>
#include <optional>

#include "core/error.hpp"
#include "core/log.hpp"
#include "plugins/lua_sandbox.hpp"
#include "server/http/http_front_door.hpp"

namespace verdict::server {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
// A socket's read buffer starts this small and doubles, up to kReadChunk, while reads fill it.
constexpr std::size_t kFirstReadChunk = 4 * 1024;
// Flow control: a client that pipelines more than this many unanswered lines waits.
constexpr std::size_t kMaxUnansweredLines = 8192;
// Lines of stdin answered per write of their replies. A write, with the client's wake-up, costs
// roughly what 10-15 lookups do, so smaller pieces lose; `tools/call get` with 64 in flight went
// from 465k/s in one write per read to 1.2M/s in pieces of 16 on two cores (docs/performance.md,
// "Stdin answered in pieces").
constexpr std::size_t kStdioLinesPerWrite = 16;
// How often a reader blocked on the shared input budget looks again; local events (answers,
// drained output) wake it at once.
constexpr auto kBudgetPoll = std::chrono::milliseconds(100);
// A write buffer that held a large reply is released rather than kept for the next one, so an
// idle connection does not pin the peak of its output.
constexpr std::size_t kKeptBufferBytes = 64 * 1024;

/// A warning that may repeat fast (a flood): logged at most once per interval, with the count
/// of those held back. io thread only.
class Throttled {
 public:
  explicit Throttled(std::chrono::milliseconds interval) : interval_(interval) {}
  void warn(const std::string& message, LogLevel level = LogLevel::kWarning) {
    auto now = Clock::now();
    if (now < next_) {
      ++held_back_;
      return;
    }
    next_ = now + interval_;
    log(level, held_back_ == 0 ? message
                               : message + " (" + std::to_string(held_back_) +
                                     " more like it since the last report)");
    held_back_ = 0;
  }

 private:
  std::chrono::milliseconds interval_;
  Clock::time_point next_{};
  std::size_t held_back_ = 0;
};

/// What every socket connection shares: the limits, the input bytes held over all of them, and
/// the throttled notices of deadline closures. Outlives every connection (Server::State).
struct Shared {
  const ConnectionLimits& limits;
  EngineWorker& worker;
  std::atomic<std::size_t> input_bytes{0};
  Throttled closures;
};

/// The completion handler of a coroutine that must never end silently: logs what ended it.
auto log_if_failed(LogLevel level, std::string what) {
  return [level, what = std::move(what)](std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      log(level, what + ": " + e.what());
    }
  };
}

std::size_t bytes_of(const std::vector<LineFramer::Frame>& frames) {
  std::size_t bytes = 0;
  for (const auto& frame : frames) bytes += frame.held_bytes();
  return bytes;
}

}  // namespace

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

/// A socket connection as its listener sees it, to shut down on SIGTERM and to choose one to
/// close when the listener is full. io thread only.
class Connection : public Channel {
 public:
  /// Stops reading and closes once every received request is answered.
  virtual void shutdown() = 0;
  /// Closes at once (to make room for a new connection, or at the end of the shutdown grace),
  /// saying why in the (throttled) log.
  virtual void close(const std::string& why) = 0;
  virtual bool is_closed() const = 0;
  /// When an idle connection last did something, or nullopt while it is busy (a request
  /// queued, a line started, replies unsent). Connections that never completed a request sort
  /// first: they are the cheapest to lose.
  virtual std::optional<std::pair<bool, Clock::time_point>> idle_since() const = 0;
};

/// A socket connection: one reader coroutine and one watchdog, and writes queued so that only
/// one is ever in flight. Everything but send(), answered(), close_after_send() and
/// unsent_bytes() runs on the io thread; those four post to it or read atomics.
template <typename Socket>
class SocketChannel : public Connection,
                      public std::enable_shared_from_this<SocketChannel<Socket>> {
 public:
  SocketChannel(Socket socket, Shared& shared, bool requires_token)
      : socket_(std::move(socket)),
        shared_(shared),
        limits_(shared.limits),
        framer_(limits_.max_message_bytes, shared.worker.parse_options()),
        requires_token_(requires_token),
        watchdog_timer_(socket_.get_executor()),
        flow_timer_(socket_.get_executor()) {}

  void start() {
    auto self = this->shared_from_this();
    session.notify = [weak = std::weak_ptr<SocketChannel>(self)](std::string line) {
      if (auto channel = weak.lock()) channel->send(std::move(line) + "\n");
    };
    asio::co_spawn(socket_.get_executor(), read_loop(self),
                   log_if_failed(LogLevel::kWarning, "connection ended"));
    asio::co_spawn(socket_.get_executor(), watchdog(self),
                   log_if_failed(LogLevel::kError, "connection watchdog failed"));
  }

  void send(std::string bytes) override {
    unsent_ += bytes.size();
    on_io_thread([self = this->shared_from_this(), bytes = std::move(bytes)]() mutable {
      if (self->closed_) {
        self->unsent_ -= bytes.size();
        return;
      }
      self->pending_ += bytes;
      self->flush();
    });
  }

  std::size_t unsent_bytes() const override { return closed_ ? 0 : unsent_.load(); }
  bool is_closed() const override { return closed_; }

  void close_after_send() override {
    on_io_thread([self = this->shared_from_this()] {
      self->closing_ = true;
      self->flush();
    });
  }

  void answered(const Answered& outcome) override {
    on_io_thread([self = this->shared_from_this(), outcome] {
      self->unanswered_ -= outcome.lines;
      self->queued_bytes_ -= outcome.bytes;
      self->authenticated_ = outcome.authenticated;
      if (outcome.lines > 0) {
        self->last_activity_ = Clock::now();
        self->ever_answered_ = true;
      }
      self->update_held();
      self->flow_timer_.cancel();
      if (self->eof_ && self->unanswered_ == 0) {
        self->closing_ = true;
        self->flush();
      }
    });
  }

  void shutdown() override {
    eof_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(Socket::shutdown_receive, ignored);
    if (unanswered_ == 0) {
      closing_ = true;
      flush();
    }
  }

  void close(const std::string& why) override {
    shared_.closures.warn(session.actor + ": closed " + why, LogLevel::kInfo);
    close_now();
  }

  std::optional<std::pair<bool, Clock::time_point>> idle_since() const override {
    if (closed_ || unanswered_ > 0 || line_open_ || unsent_ > 0) return std::nullopt;
    return std::pair{ever_answered_, last_activity_};
  }

 private:
  /// Runs `work` at once when called on the I/O thread (a lookup it answered itself), else posts
  /// it there. A reply the I/O thread wrote must be queued before it returns: posted, it would
  /// wait in the thread's private queue until the current handler ends, and a reply (or its
  /// accounting) that another thread posts meanwhile for a later line of the same connection
  /// would overtake it.
  template <typename Work>
  void on_io_thread(Work&& work) {
    const auto* io = socket_.get_executor().template target<asio::io_context::executor_type>();
    if (io && io->running_in_this_thread())
      std::forward<Work>(work)();
    else
      asio::post(socket_.get_executor(), std::forward<Work>(work));
  }

  // The reader stops while the client owes reading its replies or holds too much input; the
  // shared budget only binds above a floor, so small requests keep flowing during a flood.
  bool must_wait() const {
    return unanswered_ > kMaxUnansweredLines || unsent_ > limits_.output_bytes_per_connection ||
           held_ >= limits_.input_bytes_per_connection ||
           (held_ >= limits_.input_floor_bytes &&
            shared_.input_bytes.load() > limits_.input_bytes_total);
  }

  static awaitable<void> read_loop(std::shared_ptr<SocketChannel> self) {
    // An idle connection holds no read buffer: it waits for readability with none, and the
    // buffer is dropped whenever a read drains the socket between lines. A stream that keeps
    // filling it grows it, so bulk input still moves in large reads.
    std::string buffer;
    std::size_t chunk = kFirstReadChunk;
    std::vector<LineFramer::Frame> frames;
    for (;;) {
      while (!self->closed_ && self->must_wait()) {
        self->flow_timer_.expires_after(kBudgetPoll);
        co_await self->flow_timer_.async_wait(asio::as_tuple(use_awaitable));
      }
      if (self->closed_) break;
      if (buffer.empty()) {
        auto [wait_ec] =
            co_await self->socket_.async_wait(Socket::wait_read, asio::as_tuple(use_awaitable));
        if (wait_ec || self->closed_) break;
        buffer.resize(chunk);
      }
      auto [ec, n] = co_await self->socket_.async_read_some(asio::buffer(buffer),
                                                            asio::as_tuple(use_awaitable));
      if (ec) break;
      auto now = Clock::now();
      self->framer_.feed(std::string_view(buffer.data(), n), frames);
      // The line deadline runs from the first byte of the line still unfinished, so trickling
      // bytes cannot keep a connection (and its memory) forever.
      if (!frames.empty() || !self->framer_.has_partial()) self->line_open_ = false;
      if (self->framer_.has_partial() && !self->line_open_) {
        self->line_open_ = true;
        self->line_started_ = now;
      }
      if (!frames.empty()) {
        self->last_activity_ = now;
        self->unanswered_ += frames.size();
        self->queued_bytes_ += bytes_of(frames);
        self->shared_.worker.submit(self, std::move(frames));
        frames.clear();
      }
      self->update_held();
      if (n < buffer.size()) {
        // Mid-line the rest is due soon: keep the buffer and a read pending, as before.
        if (!self->framer_.has_partial()) std::string().swap(buffer);
      } else if (chunk < kReadChunk) {
        chunk *= 2;
        buffer.resize(chunk);
      }
    }
    self->eof_ = true;
    self->line_open_ = false;
    self->framer_ = LineFramer(self->limits_.max_message_bytes);
    self->update_held();
    if (self->unanswered_ == 0) {
      self->closing_ = true;
      self->flush();
    }
  }

  static awaitable<void> watchdog(std::shared_ptr<SocketChannel> self) {
    const auto& limits = self->limits_;
    auto tick =
        std::clamp(std::min({limits.idle_timeout, limits.auth_timeout, limits.line_timeout}) / 4,
                   std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
    while (!self->closed_) {
      self->watchdog_timer_.expires_after(tick);
      auto [ec] = co_await self->watchdog_timer_.async_wait(asio::as_tuple(use_awaitable));
      if (ec || self->closed_) co_return;
      auto now = Clock::now();
      const char* reason = nullptr;
      if (self->requires_token_ && !self->authenticated_ &&
          now - self->opened_ >= limits.auth_timeout)
        reason = "no token within the authentication deadline";
      else if (self->line_open_ && now - self->line_started_ >= limits.line_timeout)
        reason = "a started message did not end within the line deadline";
      else if (self->idle_since() && now - self->last_activity_ >= limits.idle_timeout)
        reason = "idle";
      if (reason) {
        self->shared_.closures.warn(self->session.actor + ": " + reason + "; closing",
                                    LogLevel::kInfo);
        self->close_now();
        co_return;
      }
    }
  }

  // Input this connection holds (queued requests and its unfinished line), in the shared sum.
  void update_held() {
    std::size_t now_held = closed_ ? 0 : queued_bytes_ + framer_.partial_bytes();
    if (now_held >= held_)
      shared_.input_bytes += now_held - held_;
    else
      shared_.input_bytes -= held_ - now_held;
    held_ = now_held;
  }

  void flush() {
    if (writing_ || closed_) return;
    if (pending_.empty()) {
      if (closing_) close_now();
      return;
    }
    writing_ = true;
    // Started once the connections whose input is ready now have been read and answered, so
    // that the writes go out back to back: a client waiting on many connections is woken once
    // for the lot, not once per connection with this thread paying each wake-up. What is sent
    // meanwhile joins pending_ and goes in this write.
    asio::post(socket_.get_executor(),
               [self = this->shared_from_this()] { self->write_pending(); });
  }

  void write_pending() {
    if (closed_) return;
    in_flight_.swap(pending_);
    asio::async_write(socket_, asio::buffer(in_flight_),
                      [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) {
                        self->writing_ = false;
                        self->unsent_ -= self->in_flight_.size();
                        if (self->in_flight_.capacity() > kKeptBufferBytes)
                          std::string().swap(self->in_flight_);
                        else
                          self->in_flight_.clear();
                        if (ec) return self->close_now();
                        self->last_activity_ = Clock::now();
                        self->output_drained();
                        self->flush();
                      });
  }

  void output_drained() {
    if (unsent_ > limits_.output_bytes_per_connection) return;
    flow_timer_.cancel();
    if (exchange_parked(false)) shared_.worker.resume(this->shared_from_this());
  }

  void close_now() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(Socket::shutdown_both, ignored);
    socket_.close(ignored);
    watchdog_timer_.cancel();
    flow_timer_.cancel();
    unsent_ -= pending_.size();
    std::string().swap(pending_);
    update_held();
    // Parked requests of a closed connection would wait for ever: let the engine drop them.
    if (exchange_parked(false)) shared_.worker.resume(this->shared_from_this());
  }

  Socket socket_;
  Shared& shared_;
  const ConnectionLimits& limits_;
  LineFramer framer_;
  const bool requires_token_;
  asio::steady_timer watchdog_timer_;
  asio::steady_timer flow_timer_;
  const Clock::time_point opened_ = Clock::now();
  Clock::time_point last_activity_ = opened_;
  Clock::time_point line_started_ = opened_;
  bool line_open_ = false;
  bool ever_answered_ = false;
  bool authenticated_ = false;
  std::string pending_;
  std::string in_flight_;
  std::atomic<std::size_t> unsent_{0};
  std::size_t unanswered_ = 0;
  std::size_t queued_bytes_ = 0;
  std::size_t held_ = 0;
  bool writing_ = false;
  bool closing_ = false;
  bool eof_ = false;
  std::atomic<bool> closed_{false};
};

/// stdin/stdout: a blocking reader thread (stdin may be a file, which epoll cannot watch) and
/// synchronous writes, since stdout has exactly one reader.
class StdioChannel : public Channel {
 public:
  void send(std::string bytes) override {
    std::lock_guard lock(write_mutex_);
    std::string_view rest = bytes;
    while (!rest.empty() && !broken_) {
      ssize_t written = ::write(STDOUT_FILENO, rest.data(), rest.size());
      if (written < 0) {
        if (errno == EINTR) continue;
        broken_ = true;
        log(LogLevel::kError, "stdout closed; replies are dropped");
        break;
      }
      rest.remove_prefix(static_cast<std::size_t>(written));
    }
  }
  void close_after_send() override {}
  void answered(const Answered& outcome) override {
    unanswered_bytes_ -= outcome.bytes;
    if (unanswered_.fetch_sub(outcome.lines) == outcome.lines && eof_) on_drained_();
  }

  std::atomic<std::size_t> unanswered_{0};
  std::atomic<std::size_t> unanswered_bytes_{0};
  std::atomic<bool> eof_{false};
  std::function<void()> on_drained_;

 private:
  std::mutex write_mutex_;
  bool broken_ = false;
};

struct Server::State {
  const ServeOptions& options;
  /// One thread runs this context (run() below), so every handler is serialized: the context
  /// is the strand of every connection, listener and timer. assert_io_thread() checks it where
  /// shared state is touched. Declared first so that it outlives every socket, including those
  /// of connections the engine still holds parked.
  asio::io_context io{1};
  std::thread::id io_thread;
  asio::signal_set signals{io, SIGINT, SIGTERM, SIGHUP};
  EngineWorker worker;
  Shared shared;
  http::HttpFrontDoor http{io, worker, options};
  std::function<void()> reload_hooks;

  /// One --listen address: its acceptor, its share of the connection slots and the
  /// connections it accepted. A weak_ptr pins its channel's make_shared allocation, so closed
  /// connections are pruned on every accept (they leaked about 800 bytes each before).
  struct Listener {
    std::string name;
    std::optional<asio::ip::tcp::acceptor> tcp;
    std::optional<asio::local::stream_protocol::acceptor> unix_socket;
    std::string unix_path;
    ino_t unix_inode = 0;  ///< the socket file this server made, removed at exit
    std::size_t quota = 0;
    std::vector<std::weak_ptr<Connection>> open;
    Throttled full;
    Throttled accept_failures;

    explicit Listener(std::string text, std::chrono::milliseconds interval)
        : name(std::move(text)), full(interval), accept_failures(interval) {}
  };
  std::list<Listener> listeners;
  std::shared_ptr<StdioChannel> stdio;
  std::thread stdio_thread;
  /// Wakes the stdin reader out of poll(2) at shutdown, so it can always be joined: a detached
  /// reader would touch the channel and this state after they are destroyed.
  int stdio_wake[2] = {-1, -1};
  std::atomic<bool> stopping{false};

  State(const ServeOptions& o, Engine& engine, Dispatcher& dispatcher, std::function<void()> reload)
      : options(o),
        worker(engine, dispatcher, o.limits, o.readers),
        shared{o.limits, worker, {}, Throttled(o.limits.warning_interval)},
        reload_hooks(std::move(reload)) {}
  ~State() {
    for (int fd : stdio_wake)
      if (fd >= 0) ::close(fd);
  }
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  void assert_io_thread() const { assert(std::this_thread::get_id() == io_thread); }

  void begin_shutdown(const char* why) {
    if (stopping.exchange(true)) return;
    log(LogLevel::kInfo, std::string("shutting down: ") + why);
    asio::post(io, [this] {
      signals.cancel();
      boost::system::error_code ignored;
      std::vector<std::weak_ptr<Connection>> closing;
      for (auto& listener : listeners) {
        if (listener.tcp) listener.tcp->close(ignored);
        if (listener.unix_socket) listener.unix_socket->close(ignored);
        for (auto& weak : listener.open)
          if (auto connection = weak.lock()) connection->shutdown();
        closing.insert(closing.end(), listener.open.begin(), listener.open.end());
        listener.open.clear();
      }
      http.stop();
      asio::co_spawn(io, close_stragglers(this, std::move(closing)),
                     log_if_failed(LogLevel::kError, "closing connections at shutdown failed"));
    });
  }

  // A client that does not read its replies would keep its connection, and so the loop and the
  // process, alive for ever: what is still open after the grace period is closed.
  static awaitable<void> close_stragglers(State* state,
                                          std::vector<std::weak_ptr<Connection>> closing) {
    auto deadline = Clock::now() + state->options.limits.shutdown_grace;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (;;) {
      std::erase_if(closing, [](const auto& weak) {
        auto connection = weak.lock();
        return !connection || connection->is_closed();
      });
      if (closing.empty()) co_return;
      if (Clock::now() >= deadline) {
        for (const auto& weak : closing)
          if (auto connection = weak.lock()) connection->close("at the end of the shutdown grace");
        co_return;
      }
      timer.expires_after(std::chrono::milliseconds(50));
      co_await timer.async_wait(asio::as_tuple(use_awaitable));
    }
  }

  void wait_for_signal() {
    signals.async_wait([this](boost::system::error_code ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        log(LogLevel::kInfo, "SIGHUP: reloading hooks");
        if (reload_hooks) worker.post(reload_hooks);
        return wait_for_signal();
      }
      // Queued requests are still answered, but a running or queued script is stopped at its
      // next budget check, so a misbehaving one cannot hold the shutdown up.
      plugins::LuaSandbox::interrupt_all();
      begin_shutdown(signal == SIGINT ? "SIGINT" : "SIGTERM");
    });
  }

  // Room for a new connection: nullopt when there is none, a null pointer for a free slot,
  // or the idle connection to give up for it (the one that never answered first, then the one
  // idle longest), so idle connections cannot lock new clients out.
  std::optional<std::shared_ptr<Connection>> room(Listener& listener) {
    std::erase_if(listener.open, [](const auto& weak) { return weak.expired(); });
    if (listener.open.size() < listener.quota) return std::shared_ptr<Connection>();
    std::optional<std::shared_ptr<Connection>> oldest;
    std::optional<std::pair<bool, Clock::time_point>> oldest_since;
    for (auto& weak : listener.open) {
      auto connection = weak.lock();
      auto since = connection ? connection->idle_since() : std::nullopt;
      if (since && (!oldest_since || *since < *oldest_since)) {
        oldest = connection;
        oldest_since = since;
      }
    }
    return oldest;
  }

  template <typename Socket>
  void adopt(Socket socket, Listener& listener, std::string transport, std::string actor,
             bool requires_token) {
    assert_io_thread();
    if (stopping) return;
    auto slot = room(listener);
    if (!slot) {
      listener.full.warn("refusing connection " + actor + " on " + listener.name + ": " +
                         std::to_string(listener.quota) + " connections, all busy");
      return;
    }
    if (*slot) (*slot)->close("to make room for a new connection");
    auto channel =
        std::make_shared<SocketChannel<Socket>>(std::move(socket), shared, requires_token);
    channel->session.transport = std::move(transport);
    channel->session.actor = std::move(actor);
    channel->session.requires_token = requires_token;
    listener.open.push_back(channel);
    channel->start();
  }

  // Names the peer for logs and the event log's actor, and tunes the socket.
  static std::string describe_peer(asio::ip::tcp::socket& socket) {
    boost::system::error_code ec;
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
    auto peer = socket.remote_endpoint(ec);
    return "tcp:" +
           (ec ? std::string("?") : peer.address().to_string() + ":" + std::to_string(peer.port()));
  }
  static std::string describe_peer(asio::local::stream_protocol::socket&) { return "unix"; }

  // Accepts only while the listener has room, so a full server leaves new clients in the
  // kernel's backlog instead of accepting and dropping them, and never reaches the descriptor
  // limit; when accept(2) fails anyway (EMFILE from elsewhere), it backs off instead of
  // spinning, and says so once per interval.
  template <typename Acceptor>
  static awaitable<void> accept_loop(State* state, Listener* listener, Acceptor* acceptor,
                                     std::string transport, bool requires_token) {
    asio::steady_timer backoff(co_await asio::this_coro::executor);
    auto pause = [&]() -> awaitable<void> {
      backoff.expires_after(state->options.limits.accept_backoff);
      co_await backoff.async_wait(asio::as_tuple(use_awaitable));
    };
    while (!state->stopping) {
      if (!state->room(*listener)) {
        listener->full.warn(listener->name + ": " + std::to_string(listener->quota) +
                            " connections, all busy; new clients wait in the backlog");
        co_await pause();
        continue;
      }
      auto [ec, socket] = co_await acceptor->async_accept(asio::as_tuple(use_awaitable));
      if (ec) {
        if (ec == asio::error::operation_aborted || state->stopping) co_return;
        listener->accept_failures.warn("accept on " + listener->name + " failed: " + ec.message() +
                                       "; retrying");
        co_await pause();
        continue;
      }
      // The room seen before accepting can be gone once a client arrives (the idle connection
      // that would have made room started a line meanwhile): the client waits for a slot, as
      // it would have in the backlog, instead of being dropped.
      while (!state->stopping && !state->room(*listener)) co_await pause();
      std::string actor = describe_peer(socket);
      state->adopt(std::move(socket), *listener, transport, actor, requires_token);
    }
  }

  // A socket file left by a server that died is removed; anything else at the path (a live
  // server, a regular file) is refused rather than silently replaced.
  void claim_unix_path(const ListenAddress& address) {
    const std::string& path = address.path;
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0) return;
    if (!S_ISSOCK(info.st_mode))
      throw Error(ErrorCode::kConflict, "--listen " + address.text + ": " + path +
                                            " exists and is not a socket; remove it or choose "
                                            "another path");
    asio::local::stream_protocol::socket probe(io);
    boost::system::error_code ec;
    probe.connect(asio::local::stream_protocol::endpoint(path), ec);
    if (!ec)
      throw Error(ErrorCode::kConflict,
                  "--listen " + address.text + ": another server is listening on " + path);
    if (ec != asio::error::connection_refused)
      throw Error(ErrorCode::kConflict,
                  "--listen " + address.text + ": cannot check " + path + ": " + ec.message());
    ::unlink(path.c_str());
    log(LogLevel::kInfo, "removed the stale socket " + path);
  }

  void listen(const ListenAddress& address) {
    if (address.kind == ListenAddress::Kind::kHttp || address.kind == ListenAddress::Kind::kHttps)
      return http.listen(address);
    if (address.kind == ListenAddress::Kind::kUnix) {
      claim_unix_path(address);
      auto& listener = listeners.emplace_back(address.text, options.limits.warning_interval);
      listener.unix_socket.emplace(io, asio::local::stream_protocol::endpoint(address.path));
      listener.unix_path = address.path;
      struct stat info {};
      if (::lstat(address.path.c_str(), &info) == 0) listener.unix_inode = info.st_ino;
      log(LogLevel::kInfo, "listening on " + address.text);
      asio::co_spawn(
          io, accept_loop(this, &listener, &*listener.unix_socket, "unix", options.require_keys),
          log_if_failed(LogLevel::kError, "accepting on " + address.text + " stopped"));
      return;
    }
    bool loopback = is_loopback_host(address.host);
    if (!loopback && options.token.empty() && !options.require_keys)
      throw Error(ErrorCode::kUnauthorized,
                  "--listen " + address.text +
                      ": a non-loopback address requires API keys (--require-keys, --token-file "
                      "or VERDICT_TOKEN)");
    asio::ip::tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(address.host, std::to_string(address.port));
    asio::ip::tcp::endpoint endpoint = *endpoints.begin();
    auto& listener = listeners.emplace_back(address.text, options.limits.warning_interval);
    auto& acceptor = listener.tcp.emplace(io);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen();
    log(LogLevel::kInfo, "listening on tcp://" + endpoint.address().to_string() + ":" +
                             std::to_string(acceptor.local_endpoint().port()));
    asio::co_spawn(
        io, accept_loop(this, &listener, &acceptor, "tcp", !loopback || options.require_keys),
        log_if_failed(LogLevel::kError, "accepting on " + address.text + " stopped"));
  }

  // Each listener gets an equal share of the connection slots, all of which fit under the
  // open-file limit with room for the database and the log.
  void share_slots() {
    if (listeners.empty()) return;
    std::size_t slots = options.limits.max_connections;
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
      auto usable = static_cast<std::size_t>(limit.rlim_cur);
      usable = usable > options.limits.reserved_descriptors
                   ? usable - options.limits.reserved_descriptors
                   : 1;
      if (usable < slots) {
        log(LogLevel::kInfo, "the open-file limit (" + std::to_string(limit.rlim_cur) +
                                 ") allows " + std::to_string(usable) + " connections");
        slots = usable;
      }
    }
    for (auto& listener : listeners)
      listener.quota = std::max<std::size_t>(1, slots / listeners.size());
  }

  void remove_socket_files() {
    for (const auto& listener : listeners) {
      if (listener.unix_path.empty()) continue;
      struct stat info {};
      if (::lstat(listener.unix_path.c_str(), &info) == 0 && info.st_ino == listener.unix_inode)
        ::unlink(listener.unix_path.c_str());
    }
  }

  void start_stdio() {
    stdio = std::make_shared<StdioChannel>();
    stdio->session.transport = "stdio";
    stdio->session.actor = "stdio";
    stdio->session.caller = stdio->session.unkeyed = options.stdio_caller;
    stdio->session.notify = [channel = stdio.get()](std::string line) {
      channel->send(line + "\n");
    };
    stdio->on_drained_ = [this] { begin_shutdown("end of stdin"); };
    if (::pipe2(stdio_wake, O_CLOEXEC) != 0)
      throw Error(ErrorCode::kInternal, std::string("pipe2 failed: ") + std::strerror(errno));
    stdio_thread = std::thread([this] {
      LineFramer framer(options.limits.max_message_bytes, worker.parse_options());
      std::vector<LineFramer::Frame> frames;
      std::string buffer(kReadChunk, '\0');
      // stdin has one channel and this thread to itself: its reads are answered here.
      std::unique_ptr<ReaderPool::Seat> seat = worker.seat();
      for (;;) {
        pollfd ready[2] = {{STDIN_FILENO, POLLIN, 0}, {stdio_wake[0], POLLIN, 0}};
        // The seat keeps its read snapshot while the client keeps sending: a pipelining client
        // answers a round of replies within microseconds, and beginning the next read again
        // costs SQLite's lock, unlock and file check each round. Past the snapshot's age it
        // is let go before waiting on, so that an idle server holds none.
        auto keep = seat ? worker.snapshot_time_left(*seat) : std::chrono::milliseconds::zero();
        int polled = ::poll(ready, 2, static_cast<int>(keep.count()));
        if (polled == 0) {
          if (seat) worker.release(*seat);
          polled = ::poll(ready, 2, -1);
        }
        if (polled < 0) {
          if (errno == EINTR) continue;
          break;
        }
        if (ready[1].revents != 0) return;  // shutting down: stdin is not at its end
        ssize_t n = ::read(STDIN_FILENO, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        // A read's lines are answered a piece at a time, each piece's replies written before the
        // next is parsed: a client that sends many at once starts on the first replies (on
        // another core) while the rest are answered, instead of waiting for all of them.
        std::string_view unframed(buffer.data(), static_cast<std::size_t>(n));
        while (!unframed.empty()) {
          unframed = framer.feed(unframed, frames, kStdioLinesPerWrite);
          if (frames.empty()) continue;
          stdio->unanswered_ += frames.size();
          stdio->unanswered_bytes_ += bytes_of(frames);
          std::size_t framed = frames.size();
          worker.submit(stdio, std::move(frames), seat.get());
          // Room for a piece like this one: grown a frame at a time, the vector moves its frames
          // over and over.
          frames.clear();
          frames.reserve(framed);
        }
        // Flow control, as on sockets: wait while too much is unanswered.
        while ((stdio->unanswered_ > kMaxUnansweredLines ||
                stdio->unanswered_bytes_ > options.limits.input_bytes_per_connection) &&
               !stopping)
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      stdio->eof_ = true;
      if (stdio->unanswered_ == 0) begin_shutdown("end of stdin");
    });
  }
};

Server::Server(const ServeOptions& options, Engine& engine, Dispatcher& dispatcher,
               std::function<void()> reload_hooks)
    : state_(std::make_unique<State>(options, engine, dispatcher, std::move(reload_hooks))) {}

Server::~Server() {
  if (state_->stdio_thread.joinable()) state_->stdio_thread.detach();
}

int Server::run() {
  State& state = *state_;
  state.io_thread = std::this_thread::get_id();
  for (const auto& address : state.options.listen) state.listen(address);
  state.share_slots();
  state.wait_for_signal();
  state.worker.start();
  // This thread runs the io_context below: every socket and HTTP transport submits from it.
  state.worker.answer_lookups_here(
      [&io = state.io](std::function<void()> task) { asio::post(io, std::move(task)); });
  if (std::size_t readers = state.worker.reader_threads(); readers > 0)
    log(LogLevel::kInfo, "reads are answered on " + std::to_string(readers) +
                             " reader threads beside the writing thread");
  if (state.options.stdio) state.start_stdio();
  // The pending signal wait keeps the loop running until begin_shutdown cancels it.
  state.io.run();
  // Every received line has been queued; answer them, then let pending socket writes finish.
  state.worker.stop();
  state.io.restart();
  state.io.run_for(std::chrono::seconds(2));
  state.remove_socket_files();
  if (state.stdio_thread.joinable()) {
    char wake = 1;
    while (::write(state.stdio_wake[1], &wake, 1) < 0 && errno == EINTR) {
    }
    state.stdio_thread.join();
  }
  log(LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace verdict::server
