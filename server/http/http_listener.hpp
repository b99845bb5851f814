#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "server/http/router.hpp"

namespace verdict::server::http {

/// Limits and access rules of one HTTP listener.
struct HttpListenerOptions {
  std::string host;
  unsigned short port = 0;
  /// Set for https: the certificate chain and private key, both PEM files.
  std::string tls_cert;
  std::string tls_key;
  /// The --token-file token (an admin key of `default`); a non-loopback address needs it or
  /// `require_keys`.
  std::string token;
  /// Every request must carry an API key, on loopback too (--require-keys).
  bool require_keys = false;
  /// Origins allowed besides the listener's own (`--allow-origin`); "*" allows any.
  std::vector<std::string> allow_origins;
  std::size_t header_limit = 16 * 1024;
  std::size_t body_limit = 4 * 1024 * 1024;  ///< the max message size
  /// From the first byte to the end of the headers, however slowly they trickle in.
  std::chrono::milliseconds header_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds body_timeout{std::chrono::seconds(30)};
  /// A client that never reads is dropped after this.
  std::chrono::milliseconds write_timeout{std::chrono::seconds(30)};
  /// Between requests on a keep-alive connection.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(300)};
  std::size_t max_connections = 1024;
};

/// Serves HTTP/1.1 (keep-alive, pipelining) or HTTPS on one address with Boost.Beast, on the
/// caller's io_context: every connection is one coroutine that reads a request within the
/// limits, checks the token and the Origin, hands it to the router and writes the response.
/// Use on the io_context's thread only.
class HttpListener {
 public:
  /// Binds and listens; throws verdict::Error (no token on a non-loopback address, unreadable
  /// certificate) or boost::system::system_error (address in use).
  HttpListener(boost::asio::io_context& io, HttpListenerOptions options,
               std::shared_ptr<const Router> router);
  ~HttpListener();

  /// Starts accepting.
  void start();
  /// Stops accepting, closes idle connections and lets busy ones finish their response.
  void stop();

  /// `http://127.0.0.1:8080`, with the bound port.
  std::string url() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace verdict::server::http
