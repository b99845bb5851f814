#include "core/checkpointer.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "core/storage/sqlite_connection.hpp"

namespace verdict {
namespace {

TEST(CheckpointerTest, CopiesWalFramesIntoTheDatabaseFile) {
  auto path = std::filesystem::temp_directory_path() /
              ("verdict-checkpointer-" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  storage::SqliteConnection db(path.string());
  sqlite3_wal_autocheckpoint(db.handle(), 0);  // only the Checkpointer may move frames
  db.exec("CREATE TABLE t (x TEXT)");
  {
    storage::Transaction transaction(db);
    for (int i = 0; i < 2000; ++i)
      db.prepare("INSERT INTO t VALUES (?)").bind(1, std::string(200, 'x')).run();
    transaction.commit();
  }
  auto before = std::filesystem::file_size(path);
  {
    // The frames must reach the file while the checkpointer runs: its destructor checkpoints
    // once more, so a check after it would pass even if the periodic checkpoints never ran.
    Checkpointer checkpointer(path.string(), std::chrono::milliseconds(10));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::filesystem::file_size(path) <= before + 200 * 1000 &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_GT(std::filesystem::file_size(path), before + 200 * 1000)
        << "no periodic checkpoint in 30 s";
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace verdict
