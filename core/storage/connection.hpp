#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

// The storage seam: everything in core that reads or writes rows talks to a Connection, and
// only the two backends (sqlite_connection.cpp, postgres_connection.cpp) know their engine.
// SQL keeps `?` placeholders in every backend (PostgreSQL's numbers them as it prepares), and
// callers choose a statement text per backend only where the dialects differ (Backend).
namespace verdict::storage {

enum class Backend { kSqlite, kPostgres };

/// How a connection opens its store: the engine's writer creates and migrates it; a reader
/// thread's connection only reads what a writer keeps (a WAL file, or a PostgreSQL database).
enum class OpenMode { kReadWrite, kReadOnly };

/// The type of a result column's value in the current row, whatever the engine calls it.
enum class ValueType { kNull, kInteger, kFloat, kText };

/// What went wrong, in terms a caller can act on whichever engine said it.
enum class Failure {
  kOther,
  kUniqueViolation,  ///< a unique index or primary key refused the row
  kBusy,             ///< another writer held the lock past the busy timeout
  kSerialization,    ///< a serialization failure or deadlock: the whole transaction may be retried
  /// The server went away. What the open transaction did is rolled back; a COMMIT (or a write
  /// outside a transaction) that was under way may or may not have taken effect.
  kConnectionLost,
  kIo,  ///< the disk or the file failed
  /// The engine refused a value the caller gave (PostgreSQL's data exceptions, such as a regular
  /// expression its dialect cannot compile): the caller's error, not the store's.
  kInvalidInput,
};

/// A storage failure. what() names the statement for the log; reason() is the engine's message
/// alone, the most a client may be shown.
class StorageError : public std::runtime_error {
 public:
  StorageError(Failure failure, const std::string& reason, std::string_view sql = {})
      : std::runtime_error(sql.empty() ? reason
                                       : reason + " (in: " + std::string(sql.substr(0, 200)) + ")"),
        failure_(failure),
        reason_(reason) {}
  Failure failure() const noexcept { return failure_; }
  const std::string& reason() const noexcept { return reason_; }

 private:
  Failure failure_;
  std::string reason_;
};

/// A backend's prepared statement, owned by its connection's cache and lent out through a
/// Statement. Indexes of parameters start at 1, of result columns at 0.
class Cursor {
 public:
  virtual void bind_null(int index) = 0;
  virtual void bind_int(int index, std::int64_t value) = 0;
  virtual void bind_double(int index, double value) = 0;
  /// `copy` false: the text stays alive and unchanged until the cursor is reset or rebound.
  virtual void bind_text(int index, std::string_view value, bool copy) = 0;
  /// Ready for another run; bindings stay.
  virtual void reset() = 0;
  /// Advances to the next row; false when done. The first step runs the statement.
  virtual bool step() = 0;
  /// The borrowing Statement is gone: reset, clear the bindings, end its query budget.
  virtual void release() noexcept = 0;

  /// Known from the first step on (PostgreSQL prepares a statement only when it first runs).
  virtual int column_count() const = 0;
  virtual ValueType column_type(int column) const = 0;
  virtual std::int64_t column_int(int column) const = 0;
  virtual double column_double(int column) const = 0;
  /// The column's text without a copy; valid until the next step, reset or column call.
  virtual std::string_view column_view(int column) const = 0;
  virtual std::string_view column_name(int column) const = 0;

 protected:
  ~Cursor() = default;
};

/// A prepared statement borrowed from its connection's cache; released when this handle dies,
/// so a cached statement never stays mid-step, and the cache never drops it while borrowed.
class Statement {
 public:
  explicit Statement(Cursor& cursor) : cursor_(&cursor) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept : cursor_(std::exchange(other.cursor_, nullptr)) {}
  ~Statement() {
    if (cursor_ != nullptr) cursor_->release();
  }

  Statement& bind(int index, std::nullptr_t) { return cursor_->bind_null(index), *this; }
  Statement& bind(int index, std::int64_t value) { return cursor_->bind_int(index, value), *this; }
  Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Statement& bind(int index, double value) { return cursor_->bind_double(index, value), *this; }
  Statement& bind(int index, std::string_view value) {
    return cursor_->bind_text(index, value, true), *this;
  }
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const std::string& value) {
    return bind(index, std::string_view(value));
  }
  /// Binds text without copying it: `value` must stay alive and unchanged until the statement
  /// is reset or rebound (a statement run once per item of a batch saves a copy per item).
  Statement& bind_static(int index, std::string_view value) {
    return cursor_->bind_text(index, value, false), *this;
  }

  /// Makes a statement kept for many runs ready for the next one; its bindings stay, so only
  /// what changes needs binding again.
  void reset() { cursor_->reset(); }
  /// Advances to the next row; false when done.
  bool step() { return cursor_->step(); }
  /// Runs a statement that returns no rows.
  void run() {
    while (step()) {
    }
  }

  int column_count() const { return cursor_->column_count(); }
  ValueType column_type(int column) const { return cursor_->column_type(column); }
  bool is_null(int column) const { return column_type(column) == ValueType::kNull; }
  std::int64_t column_int(int column) const { return cursor_->column_int(column); }
  double column_double(int column) const { return cursor_->column_double(column); }
  std::string column_text(int column) const { return std::string(column_view(column)); }
  std::string_view column_view(int column) const { return cursor_->column_view(column); }
  std::string_view column_name(int column) const { return cursor_->column_name(column); }

 private:
  Cursor* cursor_;
};

/// One connection to the store, with a cache of prepared statements. Not thread-safe: one owner
/// thread at a time.
class Connection {
 public:
  virtual ~Connection() = default;
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  virtual Backend backend() const = 0;

  /// Returns the cached prepared statement for `sql`, preparing it on first use. The cache
  /// keeps the kCachedStatements most recently used (filters make SQL texts without end).
  virtual Statement prepare(std::string_view sql) = 0;
  static constexpr std::size_t kCachedStatements = 256;
  virtual std::size_t cached_statements() const = 0;
  /// Runs one or more statements that take no parameters.
  virtual void exec(const std::string& sql) = 0;

  /// Rows inserted, updated or deleted by the last statement run on this connection.
  virtual std::int64_t changes() const = 0;
  virtual bool in_transaction() const = 0;

  /// A SQLite file's absolute path; empty for ":memory:", temporary files and PostgreSQL.
  virtual std::string path() const = 0;
  /// What another connection opens to reach this same store (a reader thread's), with any
  /// password, so never for logs; empty when none can (":memory:").
  virtual std::string shared_location() const = 0;
  /// Where the store is, for messages and logs, without any password.
  virtual std::string location() const = 0;

  /// What the store's content is at, for caches of what it holds: differs from an earlier
  /// stamp once a row was inserted, updated or deleted through this connection, a transaction
  /// or savepoint was rolled back (undoing rows a cache may have read), or another connection
  /// (another process, another node) committed. Equal stamps mean no row changed in between.
  struct Stamp {
    std::int64_t changes = -1;  ///< rows changed plus rollbacks, on this connection
    std::int64_t data_version = -1;
    bool operator==(const Stamp&) const = default;
  };
  Stamp stamp() {
    if (!stamp_held_) return read_stamp();
    if (!held_stamp_) held_stamp_ = read_stamp();
    return *held_stamp_;
  }

  /// While a read-only snapshot is open (a reader thread's run of reads), nothing this
  /// connection reads can change, so the first stamp taken serves every read of the run instead
  /// of a statement each. Only for a connection that does not write meanwhile.
  class StampHold {
   public:
    explicit StampHold(Connection& connection) : connection_(connection) {
      connection_.stamp_held_ = true;
    }
    StampHold(const StampHold&) = delete;
    StampHold& operator=(const StampHold&) = delete;
    ~StampHold() {
      connection_.stamp_held_ = false;
      connection_.held_stamp_.reset();
    }

   private:
    Connection& connection_;
  };

  /// Longest a query may run, from its first step until it is reset (nested queries share the
  /// outermost one's budget); zero means no limit. A query past it stops with
  /// ErrorCode::kLimitExceeded, so one filter cannot stall every client.
  virtual void set_query_timeout(std::chrono::milliseconds timeout) { query_timeout_ = timeout; }
  std::chrono::milliseconds query_timeout() const { return query_timeout_; }
  /// The message of a query stopped by its budget, for every place that stops one.
  std::string budget_message(std::string_view what) const;
  /// Whether the running query's budget is spent.
  bool over_budget() const {
    return query_timeout_.count() > 0 && running_queries_ > 0 &&
           std::chrono::steady_clock::now() > deadline_;
  }

 protected:
  friend class Transaction;
  virtual Stamp read_stamp() = 0;
  /// A write transaction at the outermost level, a savepoint when nested.
  virtual void begin_transaction(bool nested) = 0;
  virtual void commit_transaction(bool nested) = 0;
  /// Never throws: a failed rollback leaves the engine to roll back when the connection ends.
  virtual void rollback_transaction(bool nested) noexcept = 0;

  /// Backends call these when a statement starts and stops running (nested queries share the
  /// outermost one's budget).
  void begin_query() {
    if (running_queries_++ > 0) return;
    deadline_ = std::chrono::steady_clock::now() + query_timeout_;
  }
  void end_query() { --running_queries_; }

 private:
  bool stamp_held_ = false;
  std::optional<Stamp> held_stamp_;
  std::chrono::milliseconds query_timeout_{0};
  std::chrono::steady_clock::time_point deadline_;
  int running_queries_ = 0;
};

/// Tells whether another connection (another process, another node) committed since the last
/// look, for a module that keeps what it read from the store and sees its own writes itself.
class CommitWatch {
 public:
  /// True on the first look, and whenever Stamp::data_version moved since the previous one.
  bool others_committed(Connection& db) {
    const std::int64_t version = db.stamp().data_version;
    return std::exchange(seen_, version) != version;
  }

 private:
  std::int64_t seen_ = -1;
};

/// A write transaction: at the outermost level one that takes the store's single write lock at
/// once (SQLite's BEGIN IMMEDIATE; on PostgreSQL an advisory lock every node's writers take), a
/// SAVEPOINT when nested, so a verb run inside a script can fail alone. Rolls back in the
/// destructor unless committed.
class Transaction {
 public:
  explicit Transaction(Connection& connection)
      : connection_(connection), nested_(connection.in_transaction()) {
    connection_.begin_transaction(nested_);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (!done_) connection_.rollback_transaction(nested_);
  }

  void commit() {
    connection_.commit_transaction(nested_);
    done_ = true;
  }

 private:
  Connection& connection_;
  bool nested_;
  bool done_ = false;
};

/// Whether `location` names a PostgreSQL database (`postgresql://` or `postgres://`) rather
/// than a SQLite file (a path, `sqlite:PATH` or ":memory:").
bool is_postgres(std::string_view location);

/// Opens the store at `location`: a PostgreSQL URL, or a SQLite path (created if needed unless
/// kReadOnly). Throws StorageError when it cannot.
std::unique_ptr<Connection> open(const std::string& location, OpenMode mode = OpenMode::kReadWrite);

/// Held while a writer creates or migrates the schema, released when the returned connection
/// closes. On PostgreSQL, nodes starting together take turns: CREATE TABLE IF NOT EXISTS and the
/// check for a missing column before ALTER TABLE both fail when two sessions run them at once.
/// Null on SQLite, whose schema changes take the file's write lock.
std::unique_ptr<Connection> lock_schema(const std::string& location);

}  // namespace verdict::storage
