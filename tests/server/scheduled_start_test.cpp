// The scheduler inside `verdict serve`: due times are read from the database when the server
// starts, so what fell due while it was down runs before the first request is answered.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "core/clock.hpp"
#include "core/engine.hpp"
#include "tests/support/server_process.hpp"

namespace verdict::server {
namespace {

using ::testing::HasSubstr;

TEST(ScheduledStartTest, AStartMissedWhileTheServerWasDownRunsBeforeItsFirstRequest) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("verdict_scheduled_start_" + std::to_string(::getpid()) + ".db"))
                               .string();
  std::string id;
  {
    Engine offline(path);
    id =
        std::string(offline
                        .execute({.noun = "Experiment",
                                  .verb = "create",
                                  .data = {{"name", "Due while down"},
                                           {"startAt", to_iso8601(std::chrono::system_clock::now() -
                                                                  std::chrono::hours(1))}}})
                        .at("id")
                        .as_string());
  }
  test_support::ServerProcess server({"serve", "--db", path, "--no-shipped-hooks"});
  server.write_stdin(
      R"({"jsonrpc":"2.0","id":1,"method":"get","params":{"type":"Experiment","id":")" + id +
      R"(","include":["history"]}})" + "\n");
  server.close_stdin();
  const std::string reply = server.read_all_stdout();
  EXPECT_EQ(server.wait(), 0);
  EXPECT_THAT(reply, HasSubstr(R"("status":"Started")"));
  EXPECT_THAT(reply, HasSubstr(R"("type":"Experiment.Started")"));
  EXPECT_THAT(reply, HasSubstr(R"("actor":"scheduler")"));
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

}  // namespace
}  // namespace verdict::server
