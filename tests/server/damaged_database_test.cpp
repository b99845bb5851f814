// A database file with a page overwritten by random bytes: `verdict serve` refuses it at start
// with the recovery command, and `verdict check` reports it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "core/engine.hpp"
#include "tests/support/server_process.hpp"

namespace verdict {
namespace {

using test_support::ServerProcess;
namespace json = boost::json;

class DamagedDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("verdict-damaged-" + std::to_string(::getpid()) + ".db"))
                .string();
    test_support::remove_database(path_);
    Engine engine(path_);
    // Enough rows for the table to span several pages, so its root is an interior page.
    for (int i = 0; i < 200; ++i)
      engine.execute({.noun = "Organization",
                      .verb = "create",
                      .data = {{"name", std::string(200, 'a' + i % 26) + std::to_string(i)}}});
  }
  void TearDown() override { test_support::remove_database(path_); }

  // Overwrites the organization table's root page with random bytes, as a failing disk would.
  void damage() {
    std::int64_t page = 0, page_size = 0;
    {
      test_support::DatabaseFile file(path_);
      page = file.count("SELECT rootpage FROM sqlite_master WHERE name = 'organization'");
      page_size = file.count("PRAGMA page_size");
    }
    ASSERT_GT(page, 1);
    std::mt19937 random(11);
    std::string noise(static_cast<std::size_t>(page_size), '\0');
    for (auto& byte : noise) byte = static_cast<char>(random());
    std::fstream file(path_, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp((page - 1) * page_size);
    file.write(noise.data(), static_cast<std::streamsize>(noise.size()));
  }

  std::string path_;
};

TEST_F(DamagedDatabaseTest, CheckSaysOkForASoundFile) {
  ServerProcess check({"check", "--db", path_});
  EXPECT_EQ(check.read_all_stdout(), "ok\n");
  EXPECT_EQ(check.wait(), 0);
}

// Regression: a file with a page of random bytes was served as if nothing were wrong.
TEST_F(DamagedDatabaseTest, ServeRefusesADamagedFileWithTheRecoveryCommand) {
  damage();
  ServerProcess server({"serve", "--db", path_});
  server.write_stdin(R"({"jsonrpc":"2.0","id":1,"method":"ping"})"
                     "\n");
  server.close_stdin();
  EXPECT_EQ(server.read_all_stdout(), "");
  std::string log = server.read_all_stderr();
  EXPECT_EQ(server.wait(), 1);
  EXPECT_NE(log.find(path_ + " is damaged (PRAGMA quick_check: "), std::string::npos) << log;
  EXPECT_NE(log.find("sqlite3 '" + path_ + "' .recover"), std::string::npos) << log;
  EXPECT_NE(log.find("verdict check --db"), std::string::npos) << log;
}

TEST_F(DamagedDatabaseTest, CheckReportsTheDamage) {
  damage();
  ServerProcess check({"check", "--db", path_});
  std::string report = check.read_all_stdout();
  std::string log = check.read_all_stderr();
  EXPECT_EQ(check.wait(), 1);
  EXPECT_NE(report, "ok\n");
  EXPECT_FALSE(report.empty());
  EXPECT_NE(log.find("is damaged"), std::string::npos) << log;
}

TEST_F(DamagedDatabaseTest, CheckOfAMissingFileFails) {
  ServerProcess check({"check", "--db", path_ + ".missing"});
  EXPECT_NE(check.read_all_stderr().find("does not exist"), std::string::npos);
  EXPECT_EQ(check.wait(), 1);
}

TEST_F(DamagedDatabaseTest, CheckReadsTheFileOfASqliteUrl) {
  ServerProcess check({"check", "--db", "sqlite:" + path_});
  EXPECT_EQ(check.read_all_stdout(), "ok\n");
  EXPECT_EQ(check.wait(), 0);
}

// PRAGMA integrity_check is SQLite's: a PostgreSQL URL is refused, without echoing its password.
TEST_F(DamagedDatabaseTest, CheckRefusesAPostgresUrl) {
  ServerProcess check({"check", "--db", "postgresql://verdict:s3cret@localhost/verdict"});
  EXPECT_EQ(check.read_all_stdout(), "");
  std::string log = check.read_all_stderr();
  EXPECT_EQ(check.wait(), 2);
  EXPECT_NE(log.find("verdict check: --db: a PostgreSQL database has no file to check"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("s3cret"), std::string::npos) << log;
}

}  // namespace
}  // namespace verdict
