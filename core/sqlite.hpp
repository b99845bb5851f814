#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace verdict::sqlite {

/// A storage failure, carrying SQLite's extended result code. what() names the statement for
/// the log; reason() is SQLite's message alone, the most a client may be shown.
class StorageError : public std::runtime_error {
 public:
  StorageError(int code, const std::string& reason, std::string_view sql = {})
      : std::runtime_error(sql.empty() ? reason
                                       : reason + " (in: " + std::string(sql.substr(0, 200)) + ")"),
        code_(code),
        reason_(reason) {}
  int code() const noexcept { return code_; }
  const std::string& reason() const noexcept { return reason_; }

 private:
  int code_;
  std::string reason_;
};

class Database;

/// How a connection opens its file: the engine's writer creates and writes it; a reader thread's
/// connection only reads a file that a writer in the same process keeps in WAL mode.
enum class OpenMode { kReadWrite, kReadOnly };

/// A prepared statement borrowed from the database's cache; it is reset when this handle dies,
/// so a cached statement never stays mid-step, and the cache never finalizes it while borrowed.
class Statement {
 public:
  Statement(sqlite3_stmt* statement, Database& database, int& borrowers)
      : statement_(statement), db_(&database), borrowers_(&borrowers) {
    ++borrowers;
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept
      : statement_(std::exchange(other.statement_, nullptr)),
        db_(other.db_),
        borrowers_(other.borrowers_),
        started_(std::exchange(other.started_, false)) {}
  ~Statement();

  Statement& bind(int index, std::nullptr_t);
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const std::string& value) {
    return bind(index, std::string_view(value));
  }
  /// Binds text without copying it: `value` must stay alive and unchanged until the statement
  /// is reset or rebound (a statement run once per item of a batch saves a copy per item).
  Statement& bind_static(int index, std::string_view value);

  /// Makes a statement kept for many runs ready for the next one; its bindings stay, so only
  /// what changes needs binding again.
  void reset();

  /// Advances to the next row; false when done.
  bool step();
  /// Runs a statement that returns no rows.
  void run();

  int column_count() const;
  int column_type(int column) const;
  bool is_null(int column) const { return column_type(column) == SQLITE_NULL; }
  std::int64_t column_int(int column) const;
  double column_double(int column) const;
  std::string column_text(int column) const;
  /// The column's text without a copy; valid until the next step, reset or column call.
  std::string_view column_view(int column) const;
  std::string_view column_name(int column) const;

 private:
  sqlite3_stmt* statement_;
  Database* db_;
  int* borrowers_;
  bool started_ = false;  ///< its query budget is running
};

/// One SQLite connection with a cache of prepared statements. Not thread-safe: one owner thread.
class Database {
 public:
  /// Opens (creating if needed) the database at `path`; ":memory:" is accepted. kReadOnly
  /// opens an existing file without creating it or changing its journal mode.
  explicit Database(const std::string& path, OpenMode mode = OpenMode::kReadWrite);
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  /// Returns the cached prepared statement for `sql`, preparing it on first use. The cache
  /// keeps the kCachedStatements most recently used (filters make SQL texts without end).
  Statement prepare(std::string_view sql);
  static constexpr std::size_t kCachedStatements = 256;
  std::size_t cached_statements() const { return cache_.size(); }

  /// Longest a query may run, from its first step until it is reset (nested queries share the
  /// outermost one's budget); zero means no limit. A query past it stops with
  /// ErrorCode::kLimitExceeded, so one filter cannot stall every client.
  void set_query_timeout(std::chrono::milliseconds timeout) { query_timeout_ = timeout; }
  std::chrono::milliseconds query_timeout() const { return query_timeout_; }
  /// The message of a query stopped by its budget, for every place that stops one.
  std::string budget_message(std::string_view what) const;
  /// Whether the running query's budget is spent; SQL functions that do long work per call
  /// (REGEXP) check it per row.
  bool over_budget() const;
  /// Runs one or more statements that take no parameters.
  void exec(const std::string& sql);

  sqlite3* handle() const noexcept { return db_; }
  /// The file's absolute path; empty for ":memory:" and temporary databases.
  std::string path() const;
  std::int64_t changes() const { return sqlite3_changes64(db_); }
  bool in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

  /// What the database's content is at, for caches of what it holds: differs from an earlier
  /// stamp once a row was inserted, updated or deleted through this connection, a transaction
  /// or savepoint was rolled back (undoing rows a cache may have read), or another connection
  /// (another process) committed. Equal stamps mean no row changed in between.
  struct Stamp {
    std::int64_t changes = -1;  ///< rows changed plus rollbacks, on this connection
    std::int64_t data_version = -1;
    bool operator==(const Stamp&) const = default;
  };
  Stamp stamp();
  [[noreturn]] void fail(int code, std::string_view context) const;

 private:
  friend class Statement;
  friend class Transaction;
  struct StatementDeleter {
    void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
  };
  struct Cached {
    std::unique_ptr<sqlite3_stmt, StatementDeleter> statement;
    std::list<std::string>::iterator recency;
    int borrowers = 0;
  };
  void begin_query();
  void end_query();
  static int on_progress(void* database);
  static void on_rollback(void* database);

  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
  };

  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, Cached, TextHash, std::equal_to<>> cache_;
  std::list<std::string> recency_;  ///< SQL texts, most recently used first
  std::chrono::milliseconds query_timeout_{0};
  std::chrono::steady_clock::time_point deadline_;
  int running_queries_ = 0;
  bool interrupted_ = false;    ///< the progress handler stopped the running query
  std::int64_t rollbacks_ = 0;  ///< transactions and savepoints rolled back, for stamp()
};

/// A write transaction: `BEGIN IMMEDIATE` at the outermost level, a SAVEPOINT when nested, so a
/// verb run inside a script can fail alone. Rolls back in the destructor unless committed.
class Transaction {
 public:
  explicit Transaction(Database& database);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  void commit();

 private:
  Database& db_;
  bool nested_;
  bool done_ = false;
};

}  // namespace verdict::sqlite
