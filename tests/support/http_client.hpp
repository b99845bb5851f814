#pragma once

// A blocking HTTP/1.1 client over Boost.Beast for the process-level HTTP tests: one keep-alive
// connection, raw writes for malformed input, responses parsed by Beast. Header-only.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>

namespace verdict::test_support {

namespace beast_http = boost::beast::http;
using HttpResult = beast_http::response<beast_http::string_body>;

class HttpClient {
 public:
  /// Connects to 127.0.0.1:port, retrying while the server starts.
  explicit HttpClient(int port) : socket_(io_) {
    boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                            static_cast<unsigned short>(port));
    for (int attempt = 0; attempt < 400; ++attempt) {
      boost::system::error_code ec;
      socket_.connect(endpoint, ec);
      if (!ec) return;
      socket_.close(ec);
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  }

  bool connected() const { return socket_.is_open(); }
  boost::asio::ip::tcp::socket& socket() { return socket_; }
  /// Bytes already read off the socket but not yet parsed: a server that writes two responses
  /// together leaves the second one here, where polling the socket cannot see it.
  bool has_unparsed_bytes() const { return buffer_.size() != 0; }

  /// Sends bytes as they are; false once the server has closed.
  bool send_raw(const std::string& bytes) {
    boost::system::error_code ec;
    boost::asio::write(socket_, boost::asio::buffer(bytes), ec);
    return !ec;
  }

  /// Reads one response; nothing when the connection closed first.
  std::optional<HttpResult> read() {
    HttpResult response;
    boost::system::error_code ec;
    beast_http::read(socket_, buffer_, response, ec);
    if (ec) return std::nullopt;
    return response;
  }

  /// A request with the headers given (Host is set), then its response.
  std::optional<HttpResult> request(beast_http::verb method, const std::string& target,
                                    const std::string& body = {},
                                    const std::map<std::string, std::string>& headers = {}) {
    beast_http::request<beast_http::string_body> request{method, target, 11};
    request.set(beast_http::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) request.set(name, value);
    request.body() = body;
    request.prepare_payload();
    boost::system::error_code ec;
    beast_http::write(socket_, request, ec);
    if (ec) return std::nullopt;
    return read();
  }

  /// True when the server closed the connection (reads EOF).
  bool closed_by_server() {
    char byte;
    boost::system::error_code ec;
    socket_.read_some(boost::asio::buffer(&byte, 1), ec);
    return ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset;
  }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace verdict::test_support
