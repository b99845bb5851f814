#pragma once

// `verdict serve` as a child process, the blocking socket helpers the process-level tests
// (transport, crash, load) share, and direct reads of the database file once the server is
// dead. Header-only.

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace verdict::test_support {

/// How the child is started beyond its arguments.
// AddressSanitizer keeps freed memory in quarantine and ThreadSanitizer shadows every
// allocation: a sanitized server's RSS says nothing about its own memory.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kRssIsMeaningful = false;
#else
inline constexpr bool kRssIsMeaningful = true;
#endif

struct ServerProcessOptions {
  /// RLIMIT_FSIZE for the child (0: unlimited); SIGXFSZ is ignored so writes fail with EFBIG.
  rlim_t file_size_limit = 0;
  /// Append stderr to this file instead of a pipe, so a long-running server whose log nobody
  /// reads never blocks on a full pipe.
  std::string stderr_path;
  /// RLIMIT_NOFILE for the child (0: inherited).
  rlim_t open_files_limit = 0;
};

/// `verdict serve` as a child process with its stdin and stdout on pipes. The destructor kills
/// the child with SIGKILL if it is still running.
class ServerProcess {
 public:
  explicit ServerProcess(std::vector<std::string> args, ServerProcessOptions options = {}) {
    int in[2], out[2], err[2];
    EXPECT_EQ(pipe(in), 0);
    EXPECT_EQ(pipe(out), 0);
    EXPECT_EQ(pipe(err), 0);
    // Everything the child needs is built before fork: only async-signal-safe calls after it.
    args.insert(args.begin(), VERDICT_BINARY);
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      if (!options.stderr_path.empty()) {
        int log = open(options.stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (log >= 0) dup2(log, 2);
      } else {
        dup2(err[1], 2);
      }
      for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) close(fd);
      if (options.file_size_limit > 0) {
        ::signal(SIGXFSZ, SIG_IGN);
        rlimit limit{options.file_size_limit, options.file_size_limit};
        setrlimit(RLIMIT_FSIZE, &limit);
      }
      if (options.open_files_limit > 0) {
        rlimit limit{options.open_files_limit, options.open_files_limit};
        setrlimit(RLIMIT_NOFILE, &limit);
      }
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
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    for (int fd : {stdin_, stdout_, stderr_})
      if (fd >= 0) close(fd);
  }

  pid_t pid() const { return pid_; }

  void write_stdin(const std::string& text) {
    ASSERT_EQ(write(stdin_, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }
  /// The pipe ends, for tests that read replies line by line.
  int stdin_fd() const { return stdin_; }
  int stdout_fd() const { return stdout_; }
  void close_stdin() {
    close(stdin_);
    stdin_ = -1;
  }
  std::string read_all_stdout() { return read_all(stdout_); }
  std::string read_all_stderr() { return read_all(stderr_); }
  /// Waits for exit; returns the exit status, or -signal.
  int wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }
  /// Whether the child is still running (reaps it if it has exited).
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == 0) return true;
    pid_ = -1;
    return false;
  }
  void signal(int number) {
    if (pid_ > 0) kill(pid_, number);
  }
  /// Resident set size in KiB from /proc/PID/status, or -1 when unknown.
  long rss_kib() const { return status_kib("VmRSS:"); }
  /// The peak resident set size so far (VmHWM), in KiB, or -1 when unknown.
  long peak_rss_kib() const { return status_kib("VmHWM:"); }

 private:
  long status_kib(std::string_view key) const {
    std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(status, line))
      if (line.rfind(key, 0) == 0) return std::stol(line.substr(key.size()));
    return -1;
  }

  static std::string read_all(int fd) {
    std::string out;
    char buffer[65536];
    ssize_t n;
    while ((n = read(fd, buffer, sizeof buffer)) > 0)
      out.append(buffer, static_cast<std::size_t>(n));
    return out;
  }

  pid_t pid_ = -1;
  int stdin_ = -1, stdout_ = -1, stderr_ = -1;
};

/// Direct access to the database file while the server is dead: the test checks what is on
/// disk, not what a (possibly wrong) server says about it.
class DatabaseFile {
 public:
  explicit DatabaseFile(const std::string& path) {
    int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr);
    EXPECT_EQ(rc, SQLITE_OK) << "cannot open " << path;
    sqlite3_busy_timeout(db_, 5000);
  }
  DatabaseFile(const DatabaseFile&) = delete;
  DatabaseFile& operator=(const DatabaseFile&) = delete;
  ~DatabaseFile() { sqlite3_close_v2(db_); }

  /// Every row of a query as text; `binds` are bound as text to ?1, ?2, ...
  std::vector<std::vector<std::string>> rows(const std::string& sql,
                                             const std::vector<std::string>& binds = {}) {
    std::vector<std::vector<std::string>> out;
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sqlite3_errmsg(db_) << " in " << sql;
      return out;
    }
    for (std::size_t i = 0; i < binds.size(); ++i)
      sqlite3_bind_text(statement, static_cast<int>(i + 1), binds[i].c_str(), -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int c = 0; c < sqlite3_column_count(statement); ++c) {
        const auto* text = sqlite3_column_text(statement, c);
        row.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
      }
      out.push_back(std::move(row));
    }
    EXPECT_EQ(rc, SQLITE_DONE) << sqlite3_errmsg(db_) << " in " << sql;
    sqlite3_finalize(statement);
    return out;
  }

  std::int64_t count(const std::string& sql, const std::vector<std::string>& binds = {}) {
    auto result = rows(sql, binds);
    return result.empty() ? -1 : std::stoll(result.front().front());
  }

  std::string integrity() {
    auto result = rows("PRAGMA integrity_check");
    return result.empty() ? "no answer" : result.front().front();
  }

 private:
  sqlite3* db_ = nullptr;
};

/// An integer from the environment (longer runs of the crash and load tests), or `fallback`.
inline int env_int(const char* name, int fallback) {
  const char* text = std::getenv(name);
  return text && *text ? std::atoi(text) : fallback;
}

/// A fresh path in the temporary directory, unique to this process; removed if it exists.
inline std::string temp_path(const std::string& prefix, const std::string& name) {
  auto path = std::filesystem::temp_directory_path() /
              ("verdict-" + prefix + "-" + std::to_string(getpid()) + "-" + name);
  std::filesystem::remove(path);
  return path.string();
}

/// Writes `token` to a fresh file readable by its owner only, as `--token-file` requires.
inline std::string token_file(const std::string& prefix, const std::string& token) {
  std::string path = temp_path(prefix, "token");
  std::ofstream(path) << token << "\n";
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return path;
}

/// Removes a database file with its WAL and shared-memory files.
inline void remove_database(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

/// Removes its files (databases with their WAL) at the end of a test that passed; a failing
/// test leaves them for inspection. Declare it before anything that holds them open.
class TempFiles {
 public:
  explicit TempFiles(std::vector<std::string> paths) : paths_(std::move(paths)) {
    for (const auto& path : paths_) remove_database(path);
  }
  TempFiles(const TempFiles&) = delete;
  TempFiles& operator=(const TempFiles&) = delete;
  ~TempFiles() {
    if (::testing::Test::HasFailure()) return;
    for (const auto& path : paths_) remove_database(path);
  }

 private:
  std::vector<std::string> paths_;
};

/// Connects to a Unix socket, retrying while the server starts (or restarts after a crash and
/// has not yet replaced the stale socket file).
inline int connect_unix(const std::string& path, int attempts = 400) {
  for (int attempt = 0; attempt < attempts; ++attempt) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) return fd;
    close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return -1;
}

/// Connects to 127.0.0.1:port, retrying while the server starts.
inline int connect_tcp(int port, int attempts = 400) {
  for (int attempt = 0; attempt < attempts; ++attempt) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      return fd;
    }
    close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return -1;
}

/// A loopback port that was free a moment ago: the server reports no port for `:0`, so the
/// test picks one. Another process may take it in between; callers retry on a failed start.
inline int free_tcp_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

/// Reads until `lines` newlines arrived or the peer closed.
inline std::string read_lines(int fd, std::size_t lines) {
  std::string out;
  char buffer[65536];
  while (static_cast<std::size_t>(std::count(out.begin(), out.end(), '\n')) < lines) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  return out;
}

inline std::vector<boost::json::object> parse_lines(const std::string& text) {
  std::vector<boost::json::object> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) break;
    out.push_back(boost::json::parse(text.substr(start, end - start)).as_object());
    start = end + 1;
  }
  return out;
}

/// A blocking line-oriented JSON-RPC client over one connected socket; owns the descriptor.
/// Not thread-safe: one client per thread.
class RpcClient {
 public:
  explicit RpcClient(int fd) : fd_(fd) {}
  RpcClient(const RpcClient&) = delete;
  RpcClient& operator=(const RpcClient&) = delete;
  ~RpcClient() {
    if (fd_ >= 0) close(fd_);
  }

  bool connected() const { return fd_ >= 0; }

  /// Sends raw bytes; false when the peer is gone.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  /// The next reply line, parsed; nullopt when the peer closed or the line is not an object.
  std::optional<boost::json::object> receive() {
    for (;;) {
      auto end = buffer_.find('\n');
      if (end != std::string::npos) {
        std::string line = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        boost::system::error_code ec;
        auto value = boost::json::parse(line, ec);
        if (ec || !value.is_object()) return std::nullopt;
        return std::move(value.as_object());
      }
      char chunk[65536];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  /// One request and its reply (the next line); nullopt when the connection broke.
  std::optional<boost::json::object> call(const std::string& method,
                                          const boost::json::object& params) {
    if (!send(request_line(++next_id_, method, params))) return std::nullopt;
    return receive();
  }

  static std::string request_line(std::int64_t id, const std::string& method,
                                  const boost::json::object& params) {
    return boost::json::serialize(boost::json::object{
               {"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}) +
           "\n";
  }

 private:
  int fd_;
  std::string buffer_;
  std::int64_t next_id_ = 0;
};

/// A reply as a failure message shows it: its JSON, or that there was none (so that a message
/// for a missing reply does not dereference it).
inline std::string shown(const std::optional<boost::json::object>& reply) {
  return reply ? boost::json::serialize(*reply) : "no reply: the connection broke";
}

/// The params of `do` for one verb.
inline boost::json::object do_params(const std::string& type, const std::string& verb,
                                     boost::json::object data, const std::string& id = {}) {
  boost::json::object params{{"type", type}, {"verb", verb}, {"data", std::move(data)}};
  if (!id.empty()) params["id"] = id;
  return params;
}

}  // namespace verdict::test_support
