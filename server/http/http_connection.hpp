#pragma once

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json.hpp>

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>

#include "server/http/access_guard.hpp"
#include "server/http/http_listener.hpp"
#include "server/http/response_bytes.hpp"
#include "server/http/router.hpp"

namespace verdict::server::http {

/// Lets the listener close an idle connection on shutdown without knowing its stream type.
class ConnectionControl {
 public:
  virtual ~ConnectionControl() = default;
  virtual void stop() = 0;
};

/// One HTTP/1.1 connection (plain `beast::tcp_stream` or TLS `beast::ssl_stream` over it) as one
/// coroutine: requests are read and answered one after another, so pipelined requests are
/// answered in order. The responses to requests that arrived together (pipelined) are written
/// together, at most kHeldBytes at a time. Every read and write has a deadline: the idle
/// keep-alive timeout before a request's first byte, the header timeout to the end of its
/// headers, the body timeout for its body, the write timeout for the responses.
template <typename Stream>
class HttpConnection : public ConnectionControl,
                       public std::enable_shared_from_this<HttpConnection<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, boost::beast::tcp_stream>;

  HttpConnection(Stream stream, const HttpListenerOptions& options, const AccessGuard& guard,
                 std::shared_ptr<const Router> router, std::string peer,
                 std::function<void()> on_close)
      : stream_(std::move(stream)),
        options_(options),
        guard_(guard),
        router_(std::move(router)),
        peer_(std::move(peer)),
        on_close_(std::move(on_close)) {}
  ~HttpConnection() override {
    if (on_close_) on_close_();
  }

  static boost::asio::awaitable<void> run(std::shared_ptr<HttpConnection> self) {
    co_await self->serve();
  }

  void stop() override {
    stopping_ = true;
    // Only a connection waiting for its next request is cut; one being answered finishes.
    if (idle_) boost::beast::get_lowest_layer(stream_).close();
  }

 private:
  using status = boost::beast::http::status;

  auto& socket_layer() { return boost::beast::get_lowest_layer(stream_); }

  boost::asio::awaitable<void> serve() {
    namespace asio = boost::asio;
    namespace bhttp = boost::beast::http;
    auto token = asio::as_tuple(asio::use_awaitable);
    if constexpr (kTls) {
      socket_layer().expires_after(options_.header_timeout);
      auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, token);
      if (ec) co_return;
    }
    bool first = true;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options_.header_limit));
      parser.body_limit(options_.body_limit);
      parser.eager(true);
      if (auto ec = co_await read_request(parser, first)) {
        if (!idle_close(ec)) co_await refuse(ec, parser.get());
        break;
      }
      first = false;
      const HttpRequest& request = parser.get();
      bool keep_alive = request.keep_alive();
      RequestContext context{.peer = peer_};
      HttpResponse response;
      if (auto refusal = guard_.check(request, context.presented_key))
        response = router_->restyle(request, std::move(*refusal));
      else
        response = co_await router_->handle(request, std::move(context));
      response.keep_alive(keep_alive && !stopping_);
      response.prepare_payload();
      // A pipelining client has sent the next request already: its response joins this one's in
      // one write, as a run of lines does on the line transports, instead of one send (and one
      // wake-up of the client) per response. Bounded by kHeldBytes; written before the connection
      // waits on the socket. So a held response also waits while the requests that came with it
      // are answered (a write among them, for its commit): the client reads the responses in
      // order anyway, and gets the whole run sooner. A response alone is written the same way;
      // only a large body goes out from where it is, without a copy.
      if (response.body().size() < kHeldBytes) {
        append_response_bytes(held_, response);
        if (buffer_.size() > 0 && response.keep_alive() && held_.size() < kHeldBytes) continue;
        if (co_await write_held() || !response.keep_alive()) break;
        continue;
      }
      if (co_await write_held()) break;
      socket_layer().expires_after(options_.write_timeout);
      auto [write_ec, written] = co_await bhttp::async_write(stream_, response, token);
      if (write_ec || !response.keep_alive()) break;
    }
    if (!co_await write_held()) co_await close();
  }

  // The end of a connection that needs no answer: the client closed, went quiet, or the server
  // is stopping.
  static bool idle_close(boost::system::error_code ec) {
    return ec == boost::beast::http::error::end_of_stream ||
           ec == boost::asio::error::operation_aborted;
  }

  // Reads the next request into `parser`. The bytes already buffered are parsed first; only when
  // they do not hold the whole request does it write the held responses and wait on the socket,
  // under the idle timeout (or the header timeout for a connection's first request) until the
  // request's first byte, the header timeout until the end of its headers, then the body timeout.
  // Each deadline is set once per phase, so a client trickling bytes cannot stretch it.
  boost::asio::awaitable<boost::system::error_code> read_request(
      boost::beast::http::request_parser<boost::beast::http::string_body>& parser, bool first) {
    namespace asio = boost::asio;
    namespace bhttp = boost::beast::http;
    enum class Phase { idle, header, body } phase = Phase::idle, deadline_for = Phase::idle;
    bool deadline_set = false;
    for (;;) {
      if (buffer_.size() > 0) {
        if (phase == Phase::idle) phase = Phase::header;
        boost::system::error_code ec;
        std::size_t used = parser.put(buffer_.data(), ec);
        buffer_.consume(used);
        if (ec && ec != bhttp::error::need_more) co_return ec;
        if (parser.is_done()) co_return boost::system::error_code{};
        if (phase == Phase::header && parser.is_header_done()) {
          phase = Phase::body;
          if (parser.get()[bhttp::field::expect] == "100-continue" && buffer_.size() == 0)
            if (auto write_ec = co_await write_continue()) co_return write_ec;
        }
        if (!ec && used > 0 && buffer_.size() > 0) continue;
      }
      if (auto write_ec = co_await write_held()) co_return write_ec;
      if (phase == Phase::idle) {
        if (stopping_) co_return asio::error::operation_aborted;
        // An idle keep-alive connection waits with a small buffer, not the peak of its last
        // request; the parser grows it on demand for a larger one.
        buffer_.shrink_to_fit();
        held_.shrink_to_fit();
      }
      if (!deadline_set || deadline_for != phase) {
        socket_layer().expires_after(phase == Phase::header ? options_.header_timeout
                                     : phase == Phase::body ? options_.body_timeout
                                     : first                ? options_.header_timeout
                                                            : options_.idle_timeout);
        deadline_set = true;
        deadline_for = phase;
      }
      idle_ = phase == Phase::idle;
      std::size_t room =
          std::clamp<std::size_t>(buffer_.capacity() - buffer_.size(), kIdleReadChunk, kReadChunk);
      auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(room),
                                                      asio::as_tuple(asio::use_awaitable));
      idle_ = false;
      buffer_.commit(n);
      if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
        if (!parser.got_some()) co_return bhttp::error::end_of_stream;
        co_return bhttp::error::partial_message;
      }
      if (ec) co_return ec;
    }
  }

  // The interim answer a client sending `Expect: 100-continue` waits for before its body.
  boost::asio::awaitable<boost::system::error_code> write_continue() {
    namespace bhttp = boost::beast::http;
    if (auto ec = co_await write_held()) co_return ec;
    bhttp::response<bhttp::empty_body> proceed{status::continue_, 11};
    socket_layer().expires_after(options_.write_timeout);
    auto [ec, n] = co_await bhttp::async_write(stream_, proceed,
                                               boost::asio::as_tuple(boost::asio::use_awaitable));
    co_return ec;
  }

  // Writes the held responses, if any.
  boost::asio::awaitable<boost::system::error_code> write_held() {
    if (held_.empty()) co_return boost::system::error_code{};
    // Other connections' requests that are ready now are answered first, so the writes go out
    // back to back: a client waiting on many connections is woken once for the lot, not once per
    // connection with this thread paying each wake-up (most of its kernel time, measured).
    co_await boost::asio::post(stream_.get_executor(), boost::asio::use_awaitable);
    socket_layer().expires_after(options_.write_timeout);
    auto [ec, n] = co_await boost::asio::async_write(
        stream_, boost::asio::buffer(held_), boost::asio::as_tuple(boost::asio::use_awaitable));
    held_.clear();
    co_return ec;
  }

  // A request that broke the limits or the syntax gets a status line when one is due, then
  // the connection closes: the rest of its bytes cannot be framed.
  boost::asio::awaitable<void> refuse(boost::system::error_code ec, const HttpRequest& request) {
    namespace bhttp = boost::beast::http;
    // The requests before this one were answered; their responses go first.
    if (co_await write_held()) co_return;
    status code;
    if (ec == bhttp::error::header_limit)
      code = status::request_header_fields_too_large;
    else if (ec == bhttp::error::body_limit)
      code = status::payload_too_large;
    else if (ec == boost::beast::error::timeout || ec == bhttp::error::end_of_stream ||
             ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset ||
             ec == boost::asio::error::operation_aborted || ec == bhttp::error::partial_message)
      co_return;
    else
      code = status::bad_request;
    std::string message =
        code == status::payload_too_large
            ? "request body larger than " + std::to_string(options_.body_limit) +
                  " bytes (--max-message-bytes)"
        : code == status::request_header_fields_too_large
            ? "request headers larger than " + std::to_string(options_.header_limit) + " bytes"
            : "malformed HTTP request: " + ec.message();
    HttpResponse response = router_->restyle(
        request, json_response(code, boost::json::serialize(boost::json::object{
                                         {"error", message}, {"status", static_cast<int>(code)}})));
    response.keep_alive(false);
    response.prepare_payload();
    socket_layer().expires_after(options_.write_timeout);
    auto [ec_write, written] = co_await bhttp::async_write(
        stream_, response, boost::asio::as_tuple(boost::asio::use_awaitable));
    unread_request_bytes_ = !ec_write;
  }

  boost::asio::awaitable<void> close() {
    boost::system::error_code ignored;
    if constexpr (kTls) {
      socket_layer().expires_after(std::chrono::seconds(2));
      co_await stream_.async_shutdown(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
    socket_layer().socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
    if (unread_request_bytes_) co_await drain_unread_bytes();
    socket_layer().close();
  }

  // Closing a socket with received bytes unread makes the kernel answer with a reset, which can
  // destroy a refusal (413, 431, 400) in flight before the client reads it. So the rest of a
  // refused request is read and dropped until the client closes, as nginx's lingering close
  // does, bounded in bytes and time.
  boost::asio::awaitable<void> drain_unread_bytes() {
    std::array<char, 4096> sink;
    std::size_t drained = 0;
    socket_layer().expires_after(kLingerTime);
    while (drained < kLingerBytes) {
      auto [ec, n] = co_await socket_layer().async_read_some(
          boost::asio::buffer(sink), boost::asio::as_tuple(boost::asio::use_awaitable));
      if (ec) break;
      drained += n;
    }
  }

  static constexpr std::size_t kIdleReadChunk = 2 * 1024;
  static constexpr std::size_t kReadChunk = 64 * 1024;
  /// Responses held for one write: the output one pipelining connection may have unsent.
  static constexpr std::size_t kHeldBytes = 64 * 1024;
  static constexpr std::size_t kLingerBytes = 1024 * 1024;
  static constexpr std::chrono::seconds kLingerTime{2};

  Stream stream_;
  const HttpListenerOptions& options_;
  const AccessGuard& guard_;
  std::shared_ptr<const Router> router_;
  std::string peer_;
  std::function<void()> on_close_;
  boost::beast::flat_buffer buffer_;
  std::string held_;  ///< whole responses not written yet (a pipelining client's)
  bool idle_ = false;
  bool stopping_ = false;
  bool unread_request_bytes_ = false;
};

}  // namespace verdict::server::http
