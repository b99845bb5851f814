#include "server/server.hpp"

#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <list>
#include <mutex>

#include "core/error.hpp"
#include "core/log.hpp"
#include "plugins/lua_sandbox.hpp"
#include "server/http/http_front_door.hpp"

namespace verdict::server {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
// Flow control: a client that pipelines more than this many unanswered lines waits.
constexpr std::size_t kMaxUnansweredLines = 8192;
constexpr std::size_t kMaxConnections = 1024;

}  // namespace

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

/// A socket connection: one reader coroutine, and writes queued on the connection's strand so
/// that only one write is ever in flight.
template <typename Socket>
class SocketChannel : public Channel, public std::enable_shared_from_this<SocketChannel<Socket>> {
 public:
  SocketChannel(Socket socket, EngineWorker& worker, std::size_t max_message_bytes,
                std::chrono::seconds idle_timeout)
      : socket_(std::move(socket)),
        worker_(worker),
        framer_(max_message_bytes),
        idle_timeout_(idle_timeout),
        idle_timer_(socket_.get_executor()),
        flow_timer_(socket_.get_executor()) {}

  void start() {
    auto self = this->shared_from_this();
    session.notify = [weak = std::weak_ptr<SocketChannel>(self)](std::string line) {
      if (auto channel = weak.lock()) channel->send(std::move(line) + "\n");
    };
    asio::co_spawn(socket_.get_executor(), read_loop(self), [](std::exception_ptr error) {
      if (!error) return;
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        log(LogLevel::kWarning, std::string("connection ended: ") + e.what());
      }
    });
    asio::co_spawn(socket_.get_executor(), idle_watchdog(self), asio::detached);
  }

  void send(std::string bytes) override {
    asio::post(socket_.get_executor(),
               [self = this->shared_from_this(), bytes = std::move(bytes)]() mutable {
                 self->pending_ += bytes;
                 self->flush();
               });
  }

  void close_after_send() override {
    asio::post(socket_.get_executor(), [self = this->shared_from_this()] {
      self->closing_ = true;
      self->flush();
    });
  }

  void answered(std::size_t lines) override {
    asio::post(socket_.get_executor(), [self = this->shared_from_this(), lines] {
      self->unanswered_ -= lines;
      self->flow_timer_.cancel();
      if (self->eof_ && self->unanswered_ == 0) self->close_after_send();
    });
  }

  void shutdown() {
    asio::post(socket_.get_executor(), [self = this->shared_from_this()] {
      self->eof_ = true;
      boost::system::error_code ignored;
      self->socket_.shutdown(Socket::shutdown_receive, ignored);
      if (self->unanswered_ == 0) {
        self->closing_ = true;
        self->flush();
      }
    });
  }

 private:
  static awaitable<void> read_loop(std::shared_ptr<SocketChannel> self) {
    std::string buffer(kReadChunk, '\0');
    std::vector<LineFramer::Frame> frames;
    for (;;) {
      auto [ec, n] = co_await self->socket_.async_read_some(asio::buffer(buffer),
                                                            asio::as_tuple(use_awaitable));
      if (ec) break;
      self->last_activity_ = std::chrono::steady_clock::now();
      self->framer_.feed(std::string_view(buffer.data(), n), frames);
      if (frames.empty()) continue;
      self->unanswered_ += frames.size();
      self->worker_.submit(self, std::move(frames));
      frames.clear();
      while (self->unanswered_ > kMaxUnansweredLines) {
        self->flow_timer_.expires_after(std::chrono::seconds(1));
        co_await self->flow_timer_.async_wait(asio::as_tuple(use_awaitable));
      }
    }
    self->eof_ = true;
    if (self->unanswered_ == 0) {
      self->closing_ = true;
      self->flush();
    }
  }

  static awaitable<void> idle_watchdog(std::shared_ptr<SocketChannel> self) {
    while (!self->closed_) {
      self->idle_timer_.expires_after(self->idle_timeout_);
      auto [ec] = co_await self->idle_timer_.async_wait(asio::as_tuple(use_awaitable));
      if (ec || self->closed_) co_return;
      if (self->unanswered_ == 0 &&
          std::chrono::steady_clock::now() - self->last_activity_ >= self->idle_timeout_) {
        log(LogLevel::kInfo, self->session.actor + " idle; closing");
        self->close_now();
        co_return;
      }
    }
  }

  void flush() {
    if (writing_ || closed_) return;
    if (pending_.empty()) {
      if (closing_) close_now();
      return;
    }
    writing_ = true;
    in_flight_.swap(pending_);
    asio::async_write(socket_, asio::buffer(in_flight_),
                      [self = this->shared_from_this()](boost::system::error_code ec, std::size_t) {
                        self->writing_ = false;
                        self->in_flight_.clear();
                        if (ec) return self->close_now();
                        self->flush();
                      });
  }

  void close_now() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(Socket::shutdown_both, ignored);
    socket_.close(ignored);
    idle_timer_.cancel();
    flow_timer_.cancel();
  }

  Socket socket_;
  EngineWorker& worker_;
  LineFramer framer_;
  std::chrono::seconds idle_timeout_;
  asio::steady_timer idle_timer_;
  asio::steady_timer flow_timer_;
  std::chrono::steady_clock::time_point last_activity_ = std::chrono::steady_clock::now();
  std::string pending_;
  std::string in_flight_;
  std::size_t unanswered_ = 0;
  bool writing_ = false;
  bool closing_ = false;
  bool closed_ = false;
  bool eof_ = false;
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
  void answered(std::size_t lines) override {
    if (unanswered_.fetch_sub(lines) == lines && eof_) on_drained_();
  }

  std::atomic<std::size_t> unanswered_{0};
  std::atomic<bool> eof_{false};
  std::function<void()> on_drained_;

 private:
  std::mutex write_mutex_;
  bool broken_ = false;
};

struct Server::State {
  const ServeOptions& options;
  EngineWorker worker;
  std::function<void()> reload_hooks;
  asio::io_context io{1};
  asio::signal_set signals{io, SIGINT, SIGTERM, SIGHUP};
  std::list<asio::ip::tcp::acceptor> tcp_acceptors;
  std::list<asio::local::stream_protocol::acceptor> unix_acceptors;
  http::HttpFrontDoor http{io, worker, options};
  /// Socket connections to shut down on SIGTERM, and to count against kMaxConnections; used on
  /// the io thread only. A weak_ptr pins its channel's make_shared allocation, so closed
  /// connections are pruned on every accept (they leaked about 800 bytes each before).
  struct OpenChannel {
    std::weak_ptr<Channel> channel;
    std::function<void()> shutdown;
  };
  std::vector<OpenChannel> open_channels;
  std::shared_ptr<StdioChannel> stdio;
  std::thread stdio_thread;
  std::atomic<bool> stopping{false};

  State(const ServeOptions& o, Engine& engine, Dispatcher& dispatcher, std::function<void()> reload)
      : options(o),
        worker(engine, dispatcher, o.max_message_bytes),
        reload_hooks(std::move(reload)) {}

  void begin_shutdown(const char* why) {
    if (stopping.exchange(true)) return;
    log(LogLevel::kInfo, std::string("shutting down: ") + why);
    asio::post(io, [this] {
      signals.cancel();
      boost::system::error_code ignored;
      for (auto& acceptor : tcp_acceptors) acceptor.close(ignored);
      for (auto& acceptor : unix_acceptors) acceptor.close(ignored);
      http.stop();
      for (auto& open : open_channels) open.shutdown();
      open_channels.clear();
    });
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

  template <typename Socket>
  void adopt(Socket socket, std::string transport, std::string actor, bool requires_token) {
    std::erase_if(open_channels, [](const OpenChannel& open) { return open.channel.expired(); });
    if (stopping || open_channels.size() >= kMaxConnections) {
      log(LogLevel::kWarning, "refusing connection " + actor + ": too many connections");
      return;
    }
    auto channel = std::make_shared<SocketChannel<Socket>>(
        std::move(socket), worker, options.max_message_bytes,
        std::chrono::seconds(options.idle_timeout_seconds));
    channel->session.transport = std::move(transport);
    channel->session.actor = std::move(actor);
    channel->session.requires_token = requires_token;
    open_channels.push_back({channel, [weak = std::weak_ptr(channel)] {
                               if (auto c = weak.lock()) c->shutdown();
                             }});
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

  template <typename Acceptor>
  static awaitable<void> accept_loop(State* state, Acceptor* acceptor, std::string transport,
                                     bool requires_token) {
    for (;;) {
      auto [ec, socket] = co_await acceptor->async_accept(asio::as_tuple(use_awaitable));
      if (ec) {
        if (ec == asio::error::operation_aborted || state->stopping) co_return;
        log(LogLevel::kWarning, "accept failed: " + ec.message());
        continue;
      }
      std::string actor = describe_peer(socket);
      state->adopt(std::move(socket), transport, actor, requires_token);
    }
  }

  void listen(const ListenAddress& address) {
    if (address.kind == ListenAddress::Kind::kHttp || address.kind == ListenAddress::Kind::kHttps)
      return http.listen(address);
    if (address.kind == ListenAddress::Kind::kUnix) {
      ::unlink(address.path.c_str());
      auto& acceptor =
          unix_acceptors.emplace_back(io, asio::local::stream_protocol::endpoint(address.path));
      log(LogLevel::kInfo, "listening on " + address.text);
      asio::co_spawn(io, accept_loop(this, &acceptor, "unix", false), asio::detached);
      return;
    }
    bool loopback = is_loopback_host(address.host);
    if (!loopback && options.token.empty())
      throw Error(ErrorCode::kUnauthorized,
                  "--listen " + address.text +
                      ": a non-loopback address requires a token (--token-file or VERDICT_TOKEN)");
    asio::ip::tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(address.host, std::to_string(address.port));
    asio::ip::tcp::endpoint endpoint = *endpoints.begin();
    auto& acceptor = tcp_acceptors.emplace_back(io);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen();
    log(LogLevel::kInfo, "listening on tcp://" + endpoint.address().to_string() + ":" +
                             std::to_string(acceptor.local_endpoint().port()));
    asio::co_spawn(io, accept_loop(this, &acceptor, "tcp", !loopback), asio::detached);
  }

  void start_stdio() {
    stdio = std::make_shared<StdioChannel>();
    stdio->session.transport = "stdio";
    stdio->session.actor = "stdio";
    stdio->session.notify = [channel = stdio.get()](std::string line) {
      channel->send(line + "\n");
    };
    stdio->on_drained_ = [this] { begin_shutdown("end of stdin"); };
    stdio_thread = std::thread([this] {
      LineFramer framer(options.max_message_bytes);
      std::vector<LineFramer::Frame> frames;
      std::string buffer(kReadChunk, '\0');
      for (;;) {
        ssize_t n = ::read(STDIN_FILENO, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        framer.feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)), frames);
        if (frames.empty()) continue;
        stdio->unanswered_ += frames.size();
        worker.submit(stdio, std::move(frames));
        frames.clear();
        // Flow control, as on sockets: wait while too much is unanswered.
        while (stdio->unanswered_ > kMaxUnansweredLines && !stopping)
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
  for (const auto& address : state.options.listen) state.listen(address);
  state.wait_for_signal();
  state.worker.start();
  if (state.options.stdio) state.start_stdio();
  // The pending signal wait keeps the loop running until begin_shutdown cancels it.
  state.io.run();
  // Every received line has been queued; answer them, then let pending socket writes finish.
  state.worker.stop();
  state.io.restart();
  state.io.run_for(std::chrono::seconds(2));
  if (state.stdio_thread.joinable()) {
    if (state.stdio && state.stdio->eof_) {
      state.stdio_thread.join();
    } else {
      state.stdio_thread.detach();  // blocked in read(2) on a terminal; the process is exiting
    }
  }
  log(LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace verdict::server
