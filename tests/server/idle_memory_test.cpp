// Memory per idle connection (issue 20): the server's RSS grows by less than kBoundBytes for each
// connection that was answered once and then left open, on the line-framed TCP listener and on
// HTTP keep-alive. Before read buffers grew on demand, a TCP connection held a 64 KiB read
// buffer for its whole life: 67.6 KB each.

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/support/server_process.hpp"

namespace verdict::server {
namespace {

using test_support::connect_tcp;
using test_support::ServerProcess;

constexpr int kConnections = 300;
constexpr long kBoundBytes = 24 * 1024;

// Sends `request` and reads until `reply_end` arrived; false if the peer closed.
bool exchange(int fd, const std::string& request, std::string_view reply_end) {
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size()))
    return false;
  std::string reply;
  char chunk[4096];
  while (reply.find(reply_end) == std::string::npos) {
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    reply.append(chunk, static_cast<std::size_t>(n));
  }
  return true;
}

// The RSS growth per idle connection, in bytes, over kConnections answered-then-idle ones.
long bytes_per_idle_connection(const std::string& scheme, const std::string& request,
                               std::string_view reply_end) {
  std::string db = test_support::temp_path("idle-memory", scheme + ".db");
  test_support::TempFiles files({db});
  std::unique_ptr<ServerProcess> server;
  int warm = -1;
  for (int attempt = 0; attempt < 5 && warm < 0; ++attempt) {
    int port = test_support::free_tcp_port();
    server = std::make_unique<ServerProcess>(
        std::vector<std::string>{"serve", "--db", db, "--no-stdio", "--listen",
                                 scheme + "://127.0.0.1:" + std::to_string(port), "--log-level",
                                 "error"},
        test_support::ServerProcessOptions{.open_files_limit = 4096});
    warm = connect_tcp(port, 200);
    if (warm >= 0) {
      // The port is the server's once a request is answered on it.
      if (!exchange(warm, request, reply_end)) {
        ::close(warm);
        warm = -1;
        continue;
      }
      std::vector<int> fds;
      // A first batch warms allocator arenas and the io threads' caches, so the measured
      // batch is the connections' own memory.
      for (int round = 0; round < 2; ++round) {
        long before = server->rss_kib();
        std::vector<int> batch;
        for (int i = 0; i < kConnections; ++i) {
          int fd = connect_tcp(port, 50);
          EXPECT_GE(fd, 0);
          if (fd < 0) break;
          EXPECT_TRUE(exchange(fd, request, reply_end)) << scheme << " connection " << i;
          batch.push_back(fd);
        }
        long after = server->rss_kib();
        // Every connection is still open (no EOF waiting), so the memory is theirs.
        for (int fd : batch) {
          char byte;
          EXPECT_EQ(::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT), -1) << scheme;
        }
        fds.insert(fds.end(), batch.begin(), batch.end());
        if (round == 1) {
          for (int fd : fds) ::close(fd);
          ::close(warm);
          return (after - before) * 1024 / kConnections;
        }
      }
    }
  }
  ADD_FAILURE() << "the server did not start";
  return -1;
}

TEST(IdleMemoryTest, AnIdleTcpConnectionHoldsNoReadBuffer) {
  long bytes = bytes_per_idle_connection("tcp",
                                         R"({"jsonrpc":"2.0","id":1,"method":"ping"})"
                                         "\n",
                                         "\n");
  std::printf("[ memory   ] tcp: %ld bytes of RSS per idle connection\n", bytes);
  ::testing::Test::RecordProperty("tcp_bytes_per_idle_connection", static_cast<int>(bytes));
  ASSERT_GT(bytes, -1);
  if (test_support::kRssIsMeaningful) {
    EXPECT_LT(bytes, kBoundBytes);
  }
}

TEST(IdleMemoryTest, AnIdleHttpKeepAliveConnectionHoldsASmallBuffer) {
  long bytes = bytes_per_idle_connection(
      "http", "GET /no-such-page HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "\r\n\r\n");
  std::printf("[ memory   ] http: %ld bytes of RSS per idle connection\n", bytes);
  ::testing::Test::RecordProperty("http_bytes_per_idle_connection", static_cast<int>(bytes));
  ASSERT_GT(bytes, -1);
  if (test_support::kRssIsMeaningful) {
    EXPECT_LT(bytes, kBoundBytes);
  }
}

}  // namespace
}  // namespace verdict::server
