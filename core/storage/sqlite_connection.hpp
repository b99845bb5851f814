#pragma once

#include <sqlite3.h>

#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/storage/connection.hpp"

namespace verdict::storage {

/// The SQLite file a location names: `sqlite:PATH` or a plain path (":memory:" included).
std::string sqlite_path(std::string_view location);

/// The SQLite backend: one connection to a file (or ":memory:") in WAL mode, with a REGEXP
/// function for `$regex` filters and the query budget enforced by a progress handler.
class SqliteConnection final : public Connection {
 public:
  /// Opens (creating if needed) the database at `path`; ":memory:" is accepted. kReadOnly
  /// opens an existing file without creating it or changing its journal mode.
  explicit SqliteConnection(const std::string& path, OpenMode mode = OpenMode::kReadWrite);
  ~SqliteConnection() override;

  Backend backend() const override { return Backend::kSqlite; }
  Statement prepare(std::string_view sql) override;
  std::size_t cached_statements() const override { return cache_.size(); }
  void exec(const std::string& sql) override;
  std::int64_t changes() const override { return sqlite3_changes64(db_); }
  bool in_transaction() const override { return sqlite3_get_autocommit(db_) == 0; }
  std::string path() const override;
  std::string shared_location() const override { return path(); }
  std::string location() const override;

  /// Copies what the WAL holds into the database file without waiting for readers or writers
  /// (SQLITE_CHECKPOINT_PASSIVE); returns SQLite's message when it failed for another reason
  /// than a busy lock, which the next run retries.
  std::optional<std::string> checkpoint();
  /// For SQLite-only tools and tests that need the engine itself (tracing, autocheckpoint).
  sqlite3* handle() const noexcept { return db_; }

 protected:
  Stamp read_stamp() override;
  void begin_transaction(bool nested) override;
  void commit_transaction(bool nested) override;
  void rollback_transaction(bool nested) noexcept override;

 private:
  class SqliteCursor;
  struct StatementDeleter {
    void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
  };
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
  };

  [[noreturn]] void fail(int code, std::string_view context) const;
  void enter_wal_mode();
  static int on_progress(void* connection);
  static void on_rollback(void* connection);

  sqlite3* db_ = nullptr;
  std::string location_;
  std::unordered_map<std::string, std::unique_ptr<SqliteCursor>, TextHash, std::equal_to<>> cache_;
  std::list<std::string> recency_;  ///< SQL texts, most recently used first
  bool interrupted_ = false;        ///< the progress handler stopped the running query
  std::int64_t rollbacks_ = 0;      ///< transactions and savepoints rolled back, for stamp()
};

}  // namespace verdict::storage
