// Load generator for a running `verdict serve --listen tcp://...`: pipelined or rate-limited
// JSON-RPC requests over one or more TCP connections, reporting throughput and latency
// percentiles. Used for the README's server figures. With --rate, latency is measured from each
// request's scheduled time (corrected for coordinated omission); without, from its send time.
// With --exec it starts a stdio server instead and drives it over its stdin and stdout: a C++
// client, so that the client is not the ceiling when stdio servers are compared.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  int port = 7878;
  int connections = 1;
  int window = 256;  // outstanding requests per connection (pipelining)
  double rate = 0;   // total requests per second; 0 = as fast as the window allows
  double seconds = 5;
  std::string method = "get";  // get | tools-get | update | assign | track | ping
  std::string exec;            // a stdio server's command line, run with `sh -c`
  std::string id;              // the experiment to read; empty: create one
};

// The stdio server started by --exec; its stdin and stdout are one end of a socket pair, so the
// connection code below serves both transports.
pid_t child_server = 0;

int start_child(const std::string& command) {
  int ends[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, ends) != 0) {
    std::perror("socketpair");
    std::exit(1);
  }
  child_server = fork();
  if (child_server < 0) {
    std::perror("fork");
    std::exit(1);
  }
  if (child_server == 0) {
    dup2(ends[1], STDIN_FILENO);
    dup2(ends[1], STDOUT_FILENO);
    close(ends[0]);
    close(ends[1]);
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(ends[1]);
  return ends[0];
}

int connect_to(const Options& options) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(options.port));
  inet_pton(AF_INET, options.host.c_str(), &address.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    std::perror("connect");
    std::exit(1);
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// A blocking request/response helper for setup calls.
json::value call(int fd, const std::string& method, json::object params) {
  json::object request{{"jsonrpc", "2.0"}, {"id", "setup"}, {"method", method}, {"params", params}};
  std::string line = json::serialize(request) + "\n";
  if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) std::exit(1);
  std::string reply;
  char c;
  while (read(fd, &c, 1) == 1 && c != '\n') reply += c;
  auto value = json::parse(reply);
  if (value.as_object().contains("error")) {
    std::cerr << "setup failed: " << reply << "\n";
    std::exit(1);
  }
  return value.at("result");
}

std::string request_line(const std::string& method, std::uint64_t id,
                         const std::string& experiment) {
  std::string head = R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + ",";
  if (method == "ping")
    return head + R"("method":"ping"})"
                  "\n";
  if (method == "get")
    return head + R"("method":"get","params":{"type":"Experiment","id":")" + experiment + "\"}}\n";
  if (method == "tools-get")
    return head +
           R"("method":"tools/call","params":{"name":"get","arguments":{"type":"Experiment","id":")" +
           experiment + "\"}}}\n";
  if (method == "update")
    return head + R"("method":"do","params":{"type":"Experiment","verb":"update","id":")" +
           experiment + R"(","data":{"description":"load )" + std::to_string(id) + "\"}}}\n";
  if (method == "assign")
    return head + R"("method":"do","params":{"type":"Experiment","verb":"assign","id":")" +
           experiment + R"(","data":{"unit":"u)" + std::to_string(id) + "\"}}}\n";
  return head + R"("method":"do","params":{"type":"Experiment","verb":"track","id":")" +
         experiment + R"(","data":{"unit":"u)" + std::to_string(id % 100000) +
         R"(","metric":"signup"}}})"
         "\n";
}

// glibc's memmem, where std::string_view::find stops at every occurrence of the needle's first
// character: a quote, dozens of times in a reply carrying an entity, which made the client's scan
// of a long reply cost more than the server's answer to a short one.
bool contains(std::string_view text, std::string_view needle) {
  return ::memmem(text.data(), text.size(), needle.data(), needle.size()) != nullptr;
}

struct Result {
  std::vector<double> latencies_us;
  std::uint64_t errors = 0;
};

void run_connection(int fd, const Options& options, const std::string& experiment, int index,
                    Clock::time_point end, Result& result) {
  std::deque<Clock::time_point> sent;
  std::uint64_t next_id = static_cast<std::uint64_t>(index) << 40;
  std::string buffer;
  char chunk[1 << 16];
  double per_connection_rate = options.rate / options.connections;
  auto start = Clock::now();
  std::uint64_t issued = 0;
  while (Clock::now() < end || !sent.empty()) {
    std::string batch;
    while (Clock::now() < end && static_cast<int>(sent.size()) < options.window) {
      auto stamp = Clock::now();
      if (per_connection_rate > 0) {
        auto due =
            start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                        static_cast<double>(issued) / per_connection_rate));
        if (stamp < due) break;
        // Latency runs from when the request was due, not from when this loop got round to
        // sending it: a stalled server (or a full window) delays every request behind the
        // stall, and stamping the send time would hide that queueing (coordinated omission).
        stamp = due;
      }
      batch += request_line(options.method, next_id++, experiment);
      sent.push_back(stamp);
      ++issued;
    }
    if (!batch.empty() &&
        write(fd, batch.data(), batch.size()) != static_cast<ssize_t>(batch.size()))
      break;
    if (sent.empty()) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      continue;
    }
    ssize_t n = recv(fd, chunk, sizeof chunk, per_connection_rate > 0 ? MSG_DONTWAIT : 0);
    if (n == 0) break;
    if (n < 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(20));
      continue;
    }
    // Every reply in this read arrived by now.
    auto received = Clock::now();
    buffer.append(chunk, static_cast<std::size_t>(n));
    std::size_t start_of_line = 0, newline;
    while ((newline = buffer.find('\n', start_of_line)) != std::string::npos) {
      std::string_view line(buffer.data() + start_of_line, newline - start_of_line);
      if (contains(line, "\"error\"") || contains(line, "\"isError\":true")) ++result.errors;
      result.latencies_us.push_back(
          std::chrono::duration<double, std::micro>(received - sent.front()).count());
      sent.pop_front();
      start_of_line = newline + 1;
    }
    buffer.erase(0, start_of_line);
  }
}

// MCP's handshake: stdio servers and `tools/call` expect it before anything else.
void initialize(int fd) {
  call(fd, "initialize",
       {{"protocolVersion", "2025-06-18"},
        {"capabilities", json::object{}},
        {"clientInfo", {{"name", "verdict_load"}, {"version", "1"}}}});
  const std::string initialized = R"({"jsonrpc":"2.0","method":"notifications/initialized"})"
                                  "\n";
  if (write(fd, initialized.data(), initialized.size()) != static_cast<ssize_t>(initialized.size()))
    std::exit(1);
}

std::string create_experiment(int fd, const Options& options) {
  json::object create{{"type", "Experiment"},
                      {"verb", "create"},
                      {"data",
                       {{"name", "load test"},
                        {"primaryMetric", "signup"},
                        {"variants", json::array{{{"key", "a"}, {"weight", 50}},
                                                 {{"key", "b"}, {"weight", 50}}}}}}};
  if (options.exec.empty()) return std::string(call(fd, "do", create).at("id").as_string());
  auto created = call(fd, "tools/call", {{"name", "do"}, {"arguments", create}});
  return std::string(created.at("structuredContent").at("id").as_string());
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--port")
      options.port = std::stoi(value);
    else if (flag == "--host")
      options.host = value;
    else if (flag == "--connections")
      options.connections = std::stoi(value);
    else if (flag == "--window")
      options.window = std::stoi(value);
    else if (flag == "--rate")
      options.rate = std::stod(value);
    else if (flag == "--seconds")
      options.seconds = std::stod(value);
    else if (flag == "--method")
      options.method = value;
    else if (flag == "--exec")
      options.exec = value;
    else if (flag == "--id")
      options.id = value;
    else {
      std::cerr << "usage: verdict_load [--host H] [--port P] [--connections N] [--window W]"
                   " [--rate R] [--seconds S] [--method get|tools-get|update|assign|track|ping]"
                   " [--exec 'stdio server command' [--id EXPERIMENT]]\n";
      return 2;
    }
  }
  if (!options.exec.empty() && options.connections != 1) {
    std::cerr << "verdict_load: --exec drives one stdio server: --connections must be 1\n";
    return 2;
  }
  int setup = options.exec.empty() ? connect_to(options) : start_child(options.exec);
  if (!options.exec.empty()) initialize(setup);
  std::string id = options.id.empty() ? create_experiment(setup, options) : options.id;
  if (options.method == "assign" || options.method == "track") {
    call(setup, "do", {{"type", "Experiment"}, {"verb", "start"}, {"id", id}});
    if (options.method == "track") {
      for (int first = 0; first < 100000; first += 10000) {
        json::array units;
        for (int u = first; u < first + 10000; ++u)
          units.push_back(json::object{{"unit", "u" + std::to_string(u)}});
        call(
            setup, "do",
            {{"type", "Experiment"}, {"verb", "assign"}, {"id", id}, {"data", {{"units", units}}}});
      }
    }
  }
  if (options.exec.empty()) close(setup);

  auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(options.seconds));
  std::vector<Result> results(static_cast<std::size_t>(options.connections));
  std::vector<std::thread> threads;
  auto start = Clock::now();
  for (int c = 0; c < options.connections; ++c)
    threads.emplace_back([&, c] {
      int fd = setup;
      if (options.exec.empty()) {
        fd = connect_to(options);
        if (options.method == "tools-get") initialize(fd);
      }
      run_connection(fd, options, id, c, end, results[static_cast<std::size_t>(c)]);
      close(fd);
    });
  for (auto& thread : threads) thread.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (child_server > 0) waitpid(child_server, nullptr, 0);

  std::vector<double> all;
  std::uint64_t errors = 0;
  for (auto& r : results) {
    all.insert(all.end(), r.latencies_us.begin(), r.latencies_us.end());
    errors += r.errors;
  }
  std::sort(all.begin(), all.end());
  auto percentile = [&](double p) {
    return all.empty()
               ? 0.0
               : all[std::min(all.size() - 1,
                              static_cast<std::size_t>(p * static_cast<double>(all.size())))];
  };
  std::printf(
      "{\"method\":\"%s\",\"connections\":%d,\"window\":%d,\"rate\":%.0f,\"latency_from\":\"%s\","
      "\"requests\":%zu,"
      "\"errors\":%llu,\"per_second\":%.0f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f}\n",
      options.method.c_str(), options.connections, options.window, options.rate,
      options.rate > 0 ? "scheduled" : "sent", all.size(), static_cast<unsigned long long>(errors),
      static_cast<double>(all.size()) / elapsed, percentile(0.5), percentile(0.99),
      all.empty() ? 0.0 : all.back());
  return errors == 0 ? 0 : 1;
}
