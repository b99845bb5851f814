#include "server/server.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <set>
#include <string>

#include "tests/support/server_process.hpp"

namespace verdict::server {
namespace {

namespace json = boost::json;

using verdict::test_support::connect_unix;
using verdict::test_support::parse_lines;
using verdict::test_support::read_lines;
using verdict::test_support::ServerProcess;

std::string temp_path(const std::string& name) {
  return verdict::test_support::temp_path("transport", name);
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

// stdin is answered a piece of lines at a time (kStdioLinesPerWrite), reads on its own thread and
// writes on the engine's: however a burst is cut, the replies keep its order and each read sees
// the write before it.
TEST(TransportTest, StdioAnswersABurstOfReadsAndWritesInOrder) {
  ServerProcess server({"serve", "--db", temp_path("stdio-burst.db"), "--log-level", "error"});
  server.write_stdin(
      R"({"jsonrpc":"2.0","id":0,"method":"do","params":{"type":"Organization","verb":"create",)"
      R"("data":{"name":"n0","domain":"n0"}}})"
      "\n");
  auto created = parse_lines(read_lines(server.stdout_fd(), 1));
  ASSERT_EQ(created.size(), 1u);
  std::string id(created[0].at("result").at("id").as_string());
  std::string burst;
  constexpr int kRounds = 45;  // 90 lines: pieces cut between an update and its get, and not
  for (int round = 1; round <= kRounds; ++round) {
    burst += R"({"jsonrpc":"2.0","id":)" + std::to_string(2 * round - 1) +
             R"(,"method":"do","params":{"type":"Organization","verb":"update","id":")" + id +
             R"(","data":{"name":"n)" + std::to_string(round) + "\"}}}\n";
    burst += R"({"jsonrpc":"2.0","id":)" + std::to_string(2 * round) +
             R"(,"method":"get","params":{"type":"Organization","id":")" + id + "\"}}\n";
  }
  server.write_stdin(burst);
  server.close_stdin();
  auto replies = parse_lines(server.read_all_stdout());
  EXPECT_EQ(server.wait(), 0);
  ASSERT_EQ(replies.size(), 2u * kRounds);
  for (std::size_t i = 0; i < replies.size(); ++i) {
    ASSERT_EQ(replies[i].at("id").as_int64(), static_cast<std::int64_t>(i + 1)) << "out of order";
    ASSERT_TRUE(replies[i].contains("result")) << json::serialize(replies[i]);
    if (i % 2 == 1) {
      EXPECT_EQ(replies[i].at("result").at("name").as_string(), "n" + std::to_string(i / 2 + 1))
          << "the get of round " << i / 2 + 1 << " missed the update before it";
    }
  }
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
  EXPECT_NE(server.read_all_stderr().find("requires API keys"), std::string::npos);
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
