// The limit `verdict serve --listen http://` is compared against (bench/http/side_by_side_http.sh):
// HTTP/1.1 keep-alive with Boost.Beast, one coroutine per connection on one io_context thread, as
// Verdict's HTTP I/O thread runs them. It reads each request (pipelined ones in order), parses a
// body with Boost.JSON when there is one, and writes a fixed reply: the response Verdict gave to
// the same request, read once from a file (status line, headers, blank line, body, as
// `curl --include` prints it), so both servers put the same bytes on the wire. GET requests get
// the --get-reply, other methods the --post-reply. The responses to pipelined requests that
// arrived together are written together, as Verdict writes them.
// Usage: bare_http_loop --port P --get-reply FILE --post-reply FILE [--threads N]
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace json = boost::json;
using Response = bhttp::response<bhttp::string_body>;

// A captured response: the status line's code, each header, and the body after the blank line.
Response read_reply(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot read " + path);
  std::stringstream text;
  text << file.rdbuf();
  std::string raw = text.str();
  auto end_of_headers = raw.find("\r\n\r\n");
  if (!raw.starts_with("HTTP/1.1 ") || end_of_headers == std::string::npos)
    throw std::runtime_error(path + ": not an HTTP/1.1 response (status line, headers, body)");
  Response response;
  response.version(11);
  response.result(std::stoi(raw.substr(9, 3)));
  std::string_view headers = std::string_view(raw).substr(0, end_of_headers);
  headers.remove_prefix(headers.find("\r\n") + 2);
  while (!headers.empty()) {
    auto line_end = headers.find("\r\n");
    std::string_view line = headers.substr(0, line_end);
    headers =
        line_end == std::string_view::npos ? std::string_view{} : headers.substr(line_end + 2);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) throw std::runtime_error(path + ": header without ':'");
    std::string_view value = line.substr(colon + 1);
    while (value.starts_with(' ')) value.remove_prefix(1);
    response.set(line.substr(0, colon), value);
  }
  response.body() = raw.substr(end_of_headers + 4);
  response.prepare_payload();
  return response;
}

// The response's bytes on the wire, serialized once.
std::string wire_bytes(Response& response) {
  std::ostringstream out;
  out << response;
  return out.str();
}

// The responses to requests that arrived together (pipelined) are written together, as Verdict
// writes them, so that neither side pays a send per response that the other does not.
asio::awaitable<void> serve(asio::ip::tcp::socket socket, const std::string& get_reply,
                            const std::string& post_reply) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  std::string held;
  auto token = asio::as_tuple(asio::use_awaitable);
  for (;;) {
    bhttp::request<bhttp::string_body> request;
    auto [read_ec, read] = co_await bhttp::async_read(stream, buffer, request, token);
    if (read_ec) break;
    // The parse a JSON endpoint cannot skip; its result is not used.
    if (!request.body().empty()) {
      boost::system::error_code ec;
      json::value body = json::parse(request.body(), ec);
      if (ec) break;
    }
    held += request.method() == bhttp::verb::get ? get_reply : post_reply;
    // A partial request left in the buffer would wait with the held responses; wrk writes its
    // pipelined batch whole, so this bench need not flush before every wait as Verdict does.
    if (buffer.size() > 0 && held.size() < 64 * 1024 && request.keep_alive()) continue;
    auto [write_ec, written] = co_await asio::async_write(stream, asio::buffer(held), token);
    held.clear();
    if (write_ec || !request.keep_alive()) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> accept(asio::ip::tcp::acceptor& acceptor, const std::string& get_reply,
                             const std::string& post_reply) {
  for (;;) {
    auto socket = co_await acceptor.async_accept(asio::use_awaitable);
    socket.set_option(asio::ip::tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), serve(std::move(socket), get_reply, post_reply),
                   asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  unsigned short port = 0;
  std::string get_path, post_path;
  int threads = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view flag = argv[i];
    if (flag == "--port")
      port = static_cast<unsigned short>(std::stoi(argv[i + 1]));
    else if (flag == "--get-reply")
      get_path = argv[i + 1];
    else if (flag == "--post-reply")
      post_path = argv[i + 1];
    else if (flag == "--threads")
      threads = std::stoi(argv[i + 1]);
  }
  if (argc % 2 == 0 || port == 0 || get_path.empty() || post_path.empty() || threads < 1) {
    std::fprintf(stderr,
                 "usage: bare_http_loop --port P --get-reply FILE --post-reply FILE "
                 "[--threads N]\n");
    return 2;
  }
  try {
    Response get_response = read_reply(get_path);
    Response post_response = read_reply(post_path);
    const std::string get_reply = wire_bytes(get_response);
    const std::string post_reply = wire_bytes(post_response);
    asio::io_context io(threads);
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), port});
    asio::co_spawn(io, accept(acceptor, get_reply, post_reply), asio::detached);
    std::vector<std::thread> others;
    for (int i = 1; i < threads; ++i) others.emplace_back([&io] { io.run(); });
    io.run();
    for (auto& thread : others) thread.join();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bare_http_loop: %s\n", error.what());
    return 1;
  }
  return 0;
}
