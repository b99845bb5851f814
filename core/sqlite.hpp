#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace verdict::sqlite {

/// A storage failure, carrying SQLite's extended result code.
class StorageError : public std::runtime_error {
 public:
  StorageError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

class Database;

/// A prepared statement borrowed from the database's cache; it is reset when this handle dies,
/// so a cached statement never stays mid-step.
class Statement {
 public:
  Statement(sqlite3_stmt* statement, Database& database) : statement_(statement), db_(&database) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept
      : statement_(std::exchange(other.statement_, nullptr)), db_(other.db_) {}
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
  std::string_view column_name(int column) const;

 private:
  sqlite3_stmt* statement_;
  Database* db_;
};

/// One SQLite connection with a cache of prepared statements. Not thread-safe: one owner thread.
class Database {
 public:
  /// Opens (creating if needed) the database at `path`; ":memory:" is accepted.
  explicit Database(const std::string& path);
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  /// Returns the cached prepared statement for `sql`, preparing it on first use.
  Statement prepare(std::string_view sql);
  /// Runs one or more statements that take no parameters.
  void exec(const std::string& sql);

  sqlite3* handle() const noexcept { return db_; }
  std::int64_t changes() const { return sqlite3_changes64(db_); }
  bool in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }
  [[noreturn]] void fail(int code, std::string_view context) const;

 private:
  struct StatementDeleter {
    void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
  };
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, std::unique_ptr<sqlite3_stmt, StatementDeleter>> cache_;
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
