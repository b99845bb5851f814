// The limit a JSON-RPC server is compared against: a loop that parses each JSON line with
// Boost.JSON (as `verdict serve` does) and writes a fixed reply carrying the request's id,
// without any work behind it (its result carries an `id`, which verdict_load's setup reads). Over
// stdio (the default; bench/stdio/compare.mjs starts it) or, with `--port P`, over TCP with one
// thread per connection (for build/bench/verdict_load). `--reply FILE` takes the result from a
// reply line saved in FILE (one of Verdict's own), so that the limit writes, and its client
// reads, as many bytes per reply as the server it is compared with. `--lines-per-write N` answers
// a read's lines N at a time, each piece written before the next is parsed, as `verdict serve`
// does on stdin.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>

namespace {

namespace json = boost::json;

std::string fixed_result =
    R"(,"result":{"id":"experiment_bench001",)"
    R"("content":[{"type":"text","text":"{\"id\":\"experiment_bench001\"}"}],)"
    R"("structuredContent":{"id":"experiment_bench001"}}})"
    "\n";

// At most this many lines are answered per write (--lines-per-write); by default a read's worth.
std::size_t lines_per_write = SIZE_MAX;

// Appends the reply of each complete line in `input` from `start`, up to lines_per_write of them,
// to `output`, and returns where the unanswered lines start.
std::size_t answer_lines(const std::string& input, std::size_t start, std::string& output) {
  std::size_t answered = 0;
  for (std::size_t end;
       answered < lines_per_write && (end = input.find('\n', start)) != std::string::npos;
       start = end + 1, ++answered) {
    boost::system::error_code ec;
    json::value message = json::parse(std::string_view(input).substr(start, end - start), ec);
    const json::value* id =
        ec || !message.is_object() ? nullptr : message.get_object().if_contains("id");
    if (!id) continue;  // a notification
    output += R"({"jsonrpc":"2.0","id":)";
    output += json::serialize(*id);
    output += fixed_result;
  }
  return start;
}

bool write_all(int out, const std::string& output) {
  for (std::size_t written = 0; written < output.size();) {
    ssize_t w = write(out, output.data() + written, output.size() - written);
    if (w <= 0) return false;
    written += static_cast<std::size_t>(w);
  }
  return true;
}

// Reads until end of input, answering each batch of lines (a read's, or lines_per_write) with
// one write.
void serve(int in, int out) {
  std::string input, output;
  char buffer[65536];
  for (ssize_t n; (n = read(in, buffer, sizeof buffer)) > 0;) {
    input.append(buffer, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t next; (next = answer_lines(input, start, output)) != start; start = next) {
      if (!write_all(out, output)) return;
      output.clear();
    }
    input.erase(0, start);
  }
}

// The result member of the reply line in `path`, as the suffix every reply ends with.
bool read_result(const char* path, std::string& result) {
  std::ifstream file(path);
  std::string line;
  boost::system::error_code ec;
  json::value reply = std::getline(file, line) ? json::parse(line, ec) : json::value();
  const json::value* found =
      ec || !reply.is_object() ? nullptr : reply.get_object().if_contains("result");
  if (!found) return false;
  result = R"(,"result":)" + json::serialize(*found) + "}\n";
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const char* port = nullptr;
  for (int i = 1; i < argc; i += 2) {
    std::string_view option = argv[i];
    bool known = i + 1 < argc &&
                 (option == "--port" || option == "--reply" || option == "--lines-per-write");
    if (known && option == "--port") port = argv[i + 1];
    if (known && option == "--lines-per-write") {
      lines_per_write = std::strtoul(argv[i + 1], nullptr, 10);
      known = lines_per_write > 0;
    }
    if (!known || (option == "--reply" && !read_result(argv[i + 1], fixed_result))) {
      std::fprintf(stderr,
                   "usage: bare_loop [--port P] [--reply FILE (a reply line with a result)]"
                   " [--lines-per-write N]\n");
      return 2;
    }
  }
  if (!port) {
    serve(0, 1);
    return 0;
  }
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(std::atoi(port)));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      listen(listener, 128) != 0) {
    std::perror("listen");
    return 1;
  }
  for (int client; (client = accept(listener, nullptr, nullptr)) >= 0;) {
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::thread([client] {
      serve(client, client);
      close(client);
    }).detach();
  }
  return 0;
}
