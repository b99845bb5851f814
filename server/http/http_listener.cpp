#include "server/http/http_listener.hpp"

#include <list>

#include "core/error.hpp"
#include "core/log.hpp"
#include "server/http/http_connection.hpp"
#include "server/server.hpp"

namespace verdict::server::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

struct HttpListener::State : std::enable_shared_from_this<State> {
  asio::io_context& io;
  HttpListenerOptions options;
  std::shared_ptr<const Router> router;
  tcp::acceptor acceptor;
  std::unique_ptr<asio::ssl::context> tls;
  std::unique_ptr<AccessGuard> guard;
  std::list<std::weak_ptr<ConnectionControl>> connections;
  std::size_t active = 0;
  bool stopping = false;

  State(asio::io_context& io_context, HttpListenerOptions o, std::shared_ptr<const Router> r)
      : io(io_context), options(std::move(o)), router(std::move(r)), acceptor(io_context) {}

  std::string scheme() const { return tls ? "https" : "http"; }

  template <typename Stream>
  void adopt(Stream stream, std::string peer) {
    std::erase_if(connections, [](const auto& weak) { return weak.expired(); });
    ++active;
    auto connection = std::make_shared<HttpConnection<Stream>>(
        std::move(stream), options, *guard, router, std::move(peer),
        [self = shared_from_this()] { --self->active; });
    connections.push_back(connection);
    asio::co_spawn(io, HttpConnection<Stream>::run(connection), [](std::exception_ptr error) {
      if (!error) return;
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        log(LogLevel::kWarning, std::string("http connection ended: ") + e.what());
      }
    });
  }

  static asio::awaitable<void> accept_loop(std::shared_ptr<State> self) {
    for (;;) {
      auto [ec, socket] = co_await self->acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (ec == asio::error::operation_aborted || self->stopping) co_return;
        log(LogLevel::kWarning, "http accept failed: " + ec.message());
        // Out of descriptors: give the open connections a moment to finish.
        asio::steady_timer pause(self->io, std::chrono::milliseconds(50));
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      boost::system::error_code ignored;
      auto peer = socket.remote_endpoint(ignored);
      std::string name =
          self->scheme() + ":" + peer.address().to_string() + ":" + std::to_string(peer.port());
      if (self->active >= self->options.max_connections) {
        log(LogLevel::kWarning, "refusing " + name + ": too many HTTP connections");
        socket.close(ignored);
        continue;
      }
      socket.set_option(tcp::no_delay(true), ignored);
      beast::tcp_stream stream(std::move(socket));
      if (self->tls)
        self->adopt(beast::ssl_stream<beast::tcp_stream>(std::move(stream), *self->tls),
                    std::move(name));
      else
        self->adopt(std::move(stream), std::move(name));
    }
  }
};

HttpListener::HttpListener(asio::io_context& io, HttpListenerOptions options,
                           std::shared_ptr<const Router> router)
    : state_(std::make_shared<State>(io, std::move(options), std::move(router))) {
  State& state = *state_;
  const auto& o = state.options;
  bool loopback = is_loopback_host(o.host);
  std::string scheme = o.tls_cert.empty() ? "http" : "https";
  std::string text = scheme + "://" + o.host + ":" + std::to_string(o.port);
  if (!loopback && o.token.empty() && !o.require_keys)
    throw Error(ErrorCode::kUnauthorized,
                "--listen " + text +
                    ": a non-loopback address requires API keys (--require-keys, --token-file or "
                    "VERDICT_TOKEN)");
  if (!o.tls_cert.empty()) {
    state.tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    state.tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                           asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                           asio::ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    state.tls->use_certificate_chain_file(o.tls_cert, ec);
    if (ec)
      throw Error(ErrorCode::kInvalidArgument, "--tls-cert " + o.tls_cert + ": " + ec.message());
    state.tls->use_private_key_file(o.tls_key, asio::ssl::context::pem, ec);
    if (ec)
      throw Error(ErrorCode::kInvalidArgument, "--tls-key " + o.tls_key + ": " + ec.message());
  }
  tcp::resolver resolver(io);
  tcp::endpoint endpoint = *resolver.resolve(o.host, std::to_string(o.port)).begin();
  state.acceptor.open(endpoint.protocol());
  state.acceptor.set_option(asio::socket_base::reuse_address(true));
  state.acceptor.bind(endpoint);
  state.acceptor.listen(asio::socket_base::max_listen_connections);
  state.guard =
      std::make_unique<AccessGuard>(scheme, o.host, state.acceptor.local_endpoint().port(),
                                    loopback, !loopback || o.require_keys, o.allow_origins);
}

HttpListener::~HttpListener() = default;

void HttpListener::start() {
  log(LogLevel::kInfo, "listening on " + url());
  asio::co_spawn(state_->io, State::accept_loop(state_), asio::detached);
}

void HttpListener::stop() {
  state_->stopping = true;
  boost::system::error_code ignored;
  state_->acceptor.close(ignored);
  for (auto& weak : state_->connections)
    if (auto connection = weak.lock()) connection->stop();
  state_->connections.clear();
}

std::string HttpListener::url() const {
  auto endpoint = state_->acceptor.local_endpoint();
  std::string host = endpoint.address().to_string();
  if (endpoint.address().is_v6()) host = "[" + host + "]";
  return state_->scheme() + "://" + host + ":" + std::to_string(endpoint.port());
}

}  // namespace verdict::server::http
