#include "core/storage/sqlite_connection.hpp"

#include <boost/regex.hpp>

#include <chrono>
#include <memory>
#include <thread>
#include <utility>

#include "core/error.hpp"

namespace verdict::storage {

namespace {

// How many virtual-machine instructions run between two looks at the query deadline.
constexpr int kProgressInterval = 1000;
// How long a statement waits for another connection's lock before it fails as busy.
constexpr std::chrono::milliseconds kBusyTimeout{5000};

Failure failure_of(int code) {
  if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY)
    return Failure::kUniqueViolation;
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Failure::kBusy;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_CANTOPEN:
      return Failure::kIo;
    default:
      return Failure::kOther;
  }
}

// REGEXP for `$regex` filters. Patterns are compiled once per statement through SQLite's
// auxiliary data; a pattern that does not compile is reported as an error, not a silent miss.
// Boost.Regex rather than std::regex: libstdc++'s matcher recurses once per character and
// overflows the stack on values of a few thousand bytes, while Boost's is non-recursive and
// throws once a match exceeds its complexity bounds.
void regexp_function(sqlite3_context* context, int, sqlite3_value** argv) {
  // One match may take milliseconds, and the progress handler does not run inside it: the
  // query's budget is checked per row here too, so many costly rows cannot add up.
  if (const auto* db = static_cast<const Connection*>(sqlite3_user_data(context));
      db->over_budget())
    return sqlite3_result_error(context, db->budget_message("$regex").c_str(), -1);
  auto* pattern = static_cast<boost::regex*>(sqlite3_get_auxdata(context, 0));
  std::unique_ptr<boost::regex> compiled;
  if (pattern == nullptr) {
    const auto* text = sqlite3_value_text(argv[0]);
    if (text == nullptr) return sqlite3_result_int(context, 0);
    try {
      compiled = std::make_unique<boost::regex>(reinterpret_cast<const char*>(text),
                                                boost::regex::ECMAScript);
    } catch (const std::exception&) {
      return sqlite3_result_error(context, "$regex: invalid pattern", -1);
    }
    pattern = compiled.get();
  }
  const auto* subject = sqlite3_value_text(argv[1]);
  if (subject == nullptr) {
    sqlite3_result_int(context, 0);
  } else {
    try {
      sqlite3_result_int(
          context, boost::regex_search(reinterpret_cast<const char*>(subject), *pattern) ? 1 : 0);
    } catch (const std::exception&) {
      sqlite3_result_error(context, "$regex: pattern too complex for this value", -1);
    }
  }
  // Last: SQLite may destroy the pattern inside sqlite3_set_auxdata itself.
  if (compiled)
    sqlite3_set_auxdata(context, 0, compiled.release(),
                        [](void* p) { delete static_cast<boost::regex*>(p); });
}

}  // namespace

std::string sqlite_path(std::string_view location) {
  constexpr std::string_view kPrefix = "sqlite:";
  if (location.starts_with(kPrefix)) location.remove_prefix(kPrefix.size());
  return std::string(location);
}

/// One cached prepared statement, lent to one Statement at a time (or a few, nested).
class SqliteConnection::SqliteCursor final : public Cursor {
 public:
  SqliteCursor(SqliteConnection& connection, sqlite3_stmt* statement,
               std::list<std::string>::iterator recency)
      : connection_(connection), statement_(statement), recency_(recency) {}

  void bind_null(int index) override { check(sqlite3_bind_null(statement_.get(), index)); }
  void bind_int(int index, std::int64_t value) override {
    check(sqlite3_bind_int64(statement_.get(), index, value));
  }
  void bind_double(int index, double value) override {
    check(sqlite3_bind_double(statement_.get(), index, value));
  }
  void bind_text(int index, std::string_view value, bool copy) override {
    check(sqlite3_bind_text64(statement_.get(), index, value.data(), value.size(),
                              copy ? SQLITE_TRANSIENT : SQLITE_STATIC, SQLITE_UTF8));
  }
  void reset() override {
    sqlite3_reset(statement_.get());
    if (std::exchange(started_, false)) connection_.end_query();
  }
  bool step() override {
    if (!started_) {
      started_ = true;
      // A stop the progress handler made belongs to the query it interrupted, not to this one.
      connection_.interrupted_ = false;
      connection_.begin_query();
    }
    int rc = sqlite3_step(statement_.get());
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    if (rc == SQLITE_INTERRUPT && connection_.interrupted_)
      throw Error(ErrorCode::kLimitExceeded, connection_.budget_message("query"));
    connection_.fail(rc, sqlite3_sql(statement_.get()));
  }
  void release() noexcept override {
    sqlite3_reset(statement_.get());
    sqlite3_clear_bindings(statement_.get());
    --borrowers_;
    if (std::exchange(started_, false)) connection_.end_query();
  }

  int column_count() const override { return sqlite3_column_count(statement_.get()); }
  ValueType column_type(int column) const override {
    switch (sqlite3_column_type(statement_.get(), column)) {
      case SQLITE_NULL:
        return ValueType::kNull;
      case SQLITE_INTEGER:
        return ValueType::kInteger;
      case SQLITE_FLOAT:
        return ValueType::kFloat;
      default:
        return ValueType::kText;
    }
  }
  std::int64_t column_int(int column) const override {
    return sqlite3_column_int64(statement_.get(), column);
  }
  double column_double(int column) const override {
    return sqlite3_column_double(statement_.get(), column);
  }
  std::string_view column_view(int column) const override {
    const auto* text = sqlite3_column_text(statement_.get(), column);
    if (text == nullptr) return {};
    return {reinterpret_cast<const char*>(text),
            static_cast<std::size_t>(sqlite3_column_bytes(statement_.get(), column))};
  }
  std::string_view column_name(int column) const override {
    return sqlite3_column_name(statement_.get(), column);
  }

  Statement borrow() {
    ++borrowers_;
    return Statement(*this);
  }
  bool borrowed() const { return borrowers_ > 0; }
  std::list<std::string>::iterator recency() const { return recency_; }

 private:
  void check(int rc) const {
    if (rc != SQLITE_OK) connection_.fail(rc, "bind");
  }

  SqliteConnection& connection_;
  std::unique_ptr<sqlite3_stmt, StatementDeleter> statement_;
  std::list<std::string>::iterator recency_;
  int borrowers_ = 0;
  bool started_ = false;  ///< its query budget is running
};

SqliteConnection::SqliteConnection(const std::string& path, OpenMode mode) : location_(path) {
  int flags = mode == OpenMode::kReadOnly ? SQLITE_OPEN_READONLY
                                          : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    int code = db_ ? sqlite3_extended_errcode(db_) : rc;
    sqlite3_close(db_);
    throw StorageError(failure_of(code), "cannot open database " + path + ": " + message);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, static_cast<int>(kBusyTimeout.count()));
  sqlite3_create_function_v2(db_, "regexp", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                             static_cast<Connection*>(this), regexp_function, nullptr, nullptr,
                             nullptr);
  sqlite3_progress_handler(db_, kProgressInterval, &SqliteConnection::on_progress, this);
  // Also the rollbacks SQLite does by itself (a full disk, an I/O error), not only ours.
  sqlite3_rollback_hook(db_, &SqliteConnection::on_rollback, this);
  // WAL with synchronous=NORMAL: a committed transaction survives a process crash, which is
  // the durability Verdict promises; FULL would add an fsync per commit for power loss.
  if (mode == OpenMode::kReadOnly) return;
  enter_wal_mode();
  exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
}

void SqliteConnection::enter_wal_mode() {
  // Turning a new file to WAL takes its exclusive lock, for which SQLite does not wait (its busy
  // handler is skipped where waiting could deadlock), so a second process opening the same new
  // file at that moment failed with "database is locked". It tries again for the busy timeout.
  const auto deadline = std::chrono::steady_clock::now() + kBusyTimeout;
  for (;;) {
    try {
      exec("PRAGMA journal_mode=WAL");
      return;
    } catch (const StorageError& error) {
      if (error.failure() != Failure::kBusy || std::chrono::steady_clock::now() > deadline) throw;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

SqliteConnection::~SqliteConnection() {
  cache_.clear();
  sqlite3_close_v2(db_);
}

std::string SqliteConnection::path() const {
  const char* file = sqlite3_db_filename(db_, "main");
  return file ? file : "";
}

std::string SqliteConnection::location() const {
  return location_;
}

Statement SqliteConnection::prepare(std::string_view sql) {
  // Looked up by the view: a cache hit, the hot path of every verb, allocates nothing.
  auto it = cache_.find(sql);
  if (it != cache_.end()) {
    recency_.splice(recency_.begin(), recency_, it->second->recency());
    return it->second->borrow();
  }
  sqlite3_stmt* statement = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
  if (rc != SQLITE_OK) fail(rc, sql);
  // The least recently used statement that nobody is stepping goes; a borrowed one stays even
  // if the cache runs over for a while (nesting is a few levels deep at most).
  for (auto old = recency_.end(); cache_.size() >= kCachedStatements && old != recency_.begin();) {
    --old;
    auto victim = cache_.find(*old);
    if (victim->second->borrowed()) continue;
    cache_.erase(victim);
    old = recency_.erase(old);
  }
  recency_.emplace_front(sql);
  it = cache_
           .emplace(std::string(sql),
                    std::make_unique<SqliteCursor>(*this, statement, recency_.begin()))
           .first;
  return it->second->borrow();
}

void SqliteConnection::on_rollback(void* connection) {
  ++static_cast<SqliteConnection*>(connection)->rollbacks_;
}

Connection::Stamp SqliteConnection::read_stamp() {
  auto statement = prepare("PRAGMA data_version");
  statement.step();
  return {sqlite3_total_changes64(db_) + rollbacks_, statement.column_int(0)};
}

int SqliteConnection::on_progress(void* connection) {
  auto* self = static_cast<SqliteConnection*>(connection);
  if (!self->over_budget()) return 0;
  self->interrupted_ = true;
  return 1;
}

void SqliteConnection::exec(const std::string& sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    int extended = sqlite3_extended_errcode(db_);
    throw StorageError(failure_of(extended != SQLITE_OK ? extended : rc), text, sql);
  }
}

std::optional<std::string> SqliteConnection::checkpoint() {
  int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  if (rc == SQLITE_OK || rc == SQLITE_BUSY) return std::nullopt;
  return sqlite3_errmsg(db_);
}

void SqliteConnection::fail(int code, std::string_view context) const {
  int extended = sqlite3_extended_errcode(db_);
  throw StorageError(failure_of(extended != SQLITE_OK ? extended : code), sqlite3_errmsg(db_),
                     context);
}

// Savepoints nest LIFO, so one fixed name always addresses the innermost one, and the three
// statements stay in the prepared-statement cache instead of being parsed per verb.
void SqliteConnection::begin_transaction(bool nested) {
  prepare(nested ? "SAVEPOINT nested" : "BEGIN IMMEDIATE").run();
}

void SqliteConnection::commit_transaction(bool nested) {
  prepare(nested ? "RELEASE nested" : "COMMIT").run();
}

void SqliteConnection::rollback_transaction(bool nested) noexcept {
  // Counted before it runs: a ROLLBACK TO fires no rollback hook, and a rollback that fails
  // may still have undone rows.
  ++rollbacks_;
  try {
    if (nested) {
      prepare("ROLLBACK TO nested").run();
      prepare("RELEASE nested").run();
    } else {
      prepare("ROLLBACK").run();
    }
  } catch (const std::exception&) {
  }
}

}  // namespace verdict::storage
