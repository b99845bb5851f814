#include "core/sqlite.hpp"

#include <boost/regex.hpp>

#include <memory>

#include "core/error.hpp"

namespace verdict::sqlite {

namespace {

// How many virtual-machine instructions run between two looks at the query deadline.
constexpr int kProgressInterval = 1000;

}  // namespace

Statement::~Statement() {
  if (statement_ != nullptr) {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
    --*borrowers_;
    if (started_) db_->end_query();
  }
}

Statement& Statement::bind(int index, std::nullptr_t) {
  if (int rc = sqlite3_bind_null(statement_, index); rc != SQLITE_OK) db_->fail(rc, "bind");
  return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
  if (int rc = sqlite3_bind_int64(statement_, index, value); rc != SQLITE_OK) db_->fail(rc, "bind");
  return *this;
}

Statement& Statement::bind(int index, double value) {
  if (int rc = sqlite3_bind_double(statement_, index, value); rc != SQLITE_OK)
    db_->fail(rc, "bind");
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  int rc = sqlite3_bind_text64(statement_, index, value.data(), value.size(), SQLITE_TRANSIENT,
                               SQLITE_UTF8);
  if (rc != SQLITE_OK) db_->fail(rc, "bind");
  return *this;
}

Statement& Statement::bind_static(int index, std::string_view value) {
  int rc = sqlite3_bind_text64(statement_, index, value.data(), value.size(), SQLITE_STATIC,
                               SQLITE_UTF8);
  if (rc != SQLITE_OK) db_->fail(rc, "bind");
  return *this;
}

void Statement::reset() {
  sqlite3_reset(statement_);
  if (std::exchange(started_, false)) db_->end_query();
}

bool Statement::step() {
  if (!started_) {
    started_ = true;
    db_->begin_query();
  }
  int rc = sqlite3_step(statement_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  if (rc == SQLITE_INTERRUPT && db_->interrupted_)
    throw Error(ErrorCode::kLimitExceeded, db_->budget_message("query"));
  db_->fail(rc, sqlite3_sql(statement_));
}

void Statement::run() {
  while (step()) {
  }
}

int Statement::column_count() const {
  return sqlite3_column_count(statement_);
}
int Statement::column_type(int column) const {
  return sqlite3_column_type(statement_, column);
}
std::int64_t Statement::column_int(int column) const {
  return sqlite3_column_int64(statement_, column);
}
double Statement::column_double(int column) const {
  return sqlite3_column_double(statement_, column);
}
std::string Statement::column_text(int column) const {
  const auto* text = sqlite3_column_text(statement_, column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<std::size_t>(sqlite3_column_bytes(statement_, column)));
}
std::string_view Statement::column_view(int column) const {
  const auto* text = sqlite3_column_text(statement_, column);
  if (text == nullptr) return {};
  return {reinterpret_cast<const char*>(text),
          static_cast<std::size_t>(sqlite3_column_bytes(statement_, column))};
}
std::string_view Statement::column_name(int column) const {
  return sqlite3_column_name(statement_, column);
}

namespace {

// REGEXP for `$regex` filters. Patterns are compiled once per statement through SQLite's
// auxiliary data; a pattern that does not compile is reported as an error, not a silent miss.
// Boost.Regex rather than std::regex: libstdc++'s matcher recurses once per character and
// overflows the stack on values of a few thousand bytes, while Boost's is non-recursive and
// throws once a match exceeds its complexity bounds.
void regexp_function(sqlite3_context* context, int, sqlite3_value** argv) {
  // One match may take milliseconds, and the progress handler does not run inside it: the
  // query's budget is checked per row here too, so many costly rows cannot add up.
  if (const auto* db = static_cast<const Database*>(sqlite3_user_data(context)); db->over_budget())
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

Database::Database(const std::string& path, OpenMode mode) {
  int flags = mode == OpenMode::kReadOnly ? SQLITE_OPEN_READONLY
                                          : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    throw StorageError(rc, "cannot open database " + path + ": " + message);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, 5000);
  sqlite3_create_function_v2(db_, "regexp", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, this,
                             regexp_function, nullptr, nullptr, nullptr);
  sqlite3_progress_handler(db_, kProgressInterval, &Database::on_progress, this);
  // Also the rollbacks SQLite does by itself (a full disk, an I/O error), not only ours.
  sqlite3_rollback_hook(db_, &Database::on_rollback, this);
  // WAL with synchronous=NORMAL: a committed transaction survives a process crash, which is
  // the durability Verdict promises; FULL would add an fsync per commit for power loss.
  if (mode == OpenMode::kReadOnly) return;
  exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
}

std::string Database::path() const {
  const char* file = sqlite3_db_filename(db_, "main");
  return file ? file : "";
}

Database::~Database() {
  cache_.clear();
  sqlite3_close_v2(db_);
}

Statement Database::prepare(std::string_view sql) {
  // Looked up by the view: a cache hit, the hot path of every verb, allocates nothing.
  auto it = cache_.find(sql);
  if (it != cache_.end()) {
    recency_.splice(recency_.begin(), recency_, it->second.recency);
    return Statement(it->second.statement.get(), *this, it->second.borrowers);
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
    if (victim->second.borrowers > 0) continue;
    cache_.erase(victim);
    old = recency_.erase(old);
  }
  recency_.emplace_front(sql);
  it = cache_.emplace(std::string(sql), Cached{{statement, {}}, recency_.begin(), 0}).first;
  return Statement(statement, *this, it->second.borrowers);
}

void Database::begin_query() {
  if (running_queries_++ > 0) return;
  interrupted_ = false;
  deadline_ = std::chrono::steady_clock::now() + query_timeout_;
}

void Database::end_query() {
  --running_queries_;
}

bool Database::over_budget() const {
  return query_timeout_.count() > 0 && running_queries_ > 0 &&
         std::chrono::steady_clock::now() > deadline_;
}

std::string Database::budget_message(std::string_view what) const {
  return std::string(what) + ": stopped after " + std::to_string(query_timeout_.count()) +
         " ms, the longest a query may run (--query-timeout); narrow the filter or lower the "
         "limit";
}

void Database::on_rollback(void* database) {
  ++static_cast<Database*>(database)->rollbacks_;
}

Database::Stamp Database::stamp() {
  auto statement = prepare("PRAGMA data_version");
  statement.step();
  return {sqlite3_total_changes64(db_) + rollbacks_, statement.column_int(0)};
}

int Database::on_progress(void* database) {
  auto* self = static_cast<Database*>(database);
  if (!self->over_budget()) return 0;
  self->interrupted_ = true;
  return 1;
}

void Database::exec(const std::string& sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    throw StorageError(rc, text, sql);
  }
}

void Database::fail(int code, std::string_view context) const {
  int extended = sqlite3_extended_errcode(db_);
  throw StorageError(extended != SQLITE_OK ? extended : code, sqlite3_errmsg(db_), context);
}

// Savepoints nest LIFO, so one fixed name always addresses the innermost one, and the three
// statements stay in the prepared-statement cache instead of being parsed per verb.
Transaction::Transaction(Database& database) : db_(database), nested_(database.in_transaction()) {
  db_.prepare(nested_ ? "SAVEPOINT nested" : "BEGIN IMMEDIATE").run();
}

Transaction::~Transaction() {
  if (done_) return;
  // Counted before it runs: a ROLLBACK TO fires no rollback hook, and a rollback that fails
  // may still have undone rows.
  ++db_.rollbacks_;
  // Destructors never throw: a failed rollback leaves SQLite to roll back on close.
  try {
    if (nested_) {
      db_.prepare("ROLLBACK TO nested").run();
      db_.prepare("RELEASE nested").run();
    } else {
      db_.prepare("ROLLBACK").run();
    }
  } catch (const std::exception&) {
  }
}

void Transaction::commit() {
  db_.prepare(nested_ ? "RELEASE nested" : "COMMIT").run();
  done_ = true;
}

}  // namespace verdict::sqlite
