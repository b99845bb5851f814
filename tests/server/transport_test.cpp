#include "server/server.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <thread>

namespace verdict::server {
namespace {

namespace json = boost::json;

/// `verdict serve` as a child process with its stdin and stdout on pipes.
class ServerProcess {
 public:
  explicit ServerProcess(std::vector<std::string> args) {
    int in[2], out[2], err[2];
    EXPECT_EQ(pipe(in), 0);
    EXPECT_EQ(pipe(out), 0);
    EXPECT_EQ(pipe(err), 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      dup2(err[1], 2);
      for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) close(fd);
      std::vector<char*> argv;
      args.insert(args.begin(), VERDICT_BINARY);
      for (auto& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      execv(VERDICT_BINARY, argv.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    stderr_ = err[0];
  }
  ~ServerProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    for (int fd : {stdin_, stdout_, stderr_})
      if (fd >= 0) close(fd);
  }

  void write_stdin(const std::string& text) {
    ASSERT_EQ(write(stdin_, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }
  void close_stdin() {
    close(stdin_);
    stdin_ = -1;
  }
  std::string read_all_stdout() {
    std::string out;
    char buffer[65536];
    ssize_t n;
    while ((n = read(stdout_, buffer, sizeof buffer)) > 0)
      out.append(buffer, static_cast<std::size_t>(n));
    return out;
  }
  std::string read_all_stderr() {
    std::string out;
    char buffer[4096];
    ssize_t n;
    while ((n = read(stderr_, buffer, sizeof buffer)) > 0)
      out.append(buffer, static_cast<std::size_t>(n));
    return out;
  }
  /// Waits for exit; returns the exit status, or -signal.
  int wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }
  void signal(int number) { kill(pid_, number); }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1, stdout_ = -1, stderr_ = -1;
};

std::string temp_path(const std::string& name) {
  auto path = std::filesystem::temp_directory_path() /
              ("verdict-transport-" + std::to_string(getpid()) + "-" + name);
  std::filesystem::remove(path);
  return path.string();
}

int connect_unix(const std::string& path) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) return fd;
    close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return -1;
}

std::string read_lines(int fd, std::size_t lines) {
  std::string out;
  char buffer[65536];
  while (static_cast<std::size_t>(std::count(out.begin(), out.end(), '\n')) < lines) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  return out;
}

std::vector<json::object> parse_lines(const std::string& text) {
  std::vector<json::object> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) break;
    out.push_back(json::parse(text.substr(start, end - start)).as_object());
    start = end + 1;
  }
  return out;
}

TEST(TransportTest, StdioAnswersEveryLineAndExitsCleanlyAtEof) {
  ServerProcess server({"serve", "--db", temp_path("stdio.db"), "--log-level", "error"});
  std::string input;
  for (int i = 0; i < 200; ++i)
    input += R"({"jsonrpc":"2.0","id":)" + std::to_string(i) + R"(,"method":"ping"})" + "\n";
  server.write_stdin(input);
  server.close_stdin();
  auto replies = parse_lines(server.read_all_stdout());
  EXPECT_EQ(server.wait(), 0);
  ASSERT_EQ(replies.size(), 200u);
  std::set<std::int64_t> ids;
  for (const auto& reply : replies) ids.insert(reply.at("id").as_int64());
  EXPECT_EQ(ids.size(), 200u);
}

TEST(TransportTest, UnixSocketPipelinesAndSurvivesAnOversizedLine) {
  std::string socket_path = temp_path("v.sock");
  ServerProcess server({"serve", "--db", temp_path("unix.db"), "--no-stdio", "--listen",
                        "unix:" + socket_path, "--max-message-bytes", "2048", "--log-level",
                        "error"});
  int fd = connect_unix(socket_path);
  ASSERT_GE(fd, 0);
  std::string burst;
  for (int i = 0; i < 500; ++i)
    burst += R"({"jsonrpc":"2.0","id":"r)" + std::to_string(i) + R"(","method":"ping"})" + "\n";
  burst += std::string(10000, 'x') + "\n";
  burst += R"({"jsonrpc":"2.0","id":"after","method":"ping"})"
           "\n";
  ASSERT_EQ(write(fd, burst.data(), burst.size()), static_cast<ssize_t>(burst.size()));
  auto replies = parse_lines(read_lines(fd, 502));
  ASSERT_EQ(replies.size(), 502u);
  EXPECT_TRUE(replies[500].contains("error")) << json::serialize(replies[500]);
  EXPECT_EQ(replies[501].at("id"), "after");
  close(fd);
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(), 0);
}

TEST(TransportTest, NonLoopbackListenerWithoutTokenRefusesToStart) {
  ServerProcess server(
      {"serve", "--db", temp_path("public.db"), "--no-stdio", "--listen", "tcp://0.0.0.0:0"});
  EXPECT_EQ(server.wait(), 1);
  EXPECT_NE(server.read_all_stderr().find("requires a token"), std::string::npos);
}

TEST(TransportTest, LoopbackDetection) {
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.1.2.3"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  EXPECT_FALSE(is_loopback_host("10.0.0.1"));
}

}  // namespace
}  // namespace verdict::server
