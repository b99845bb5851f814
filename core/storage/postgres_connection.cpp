#include "core/storage/postgres_connection.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <optional>

#include "core/error.hpp"
#include "core/log.hpp"

namespace verdict::storage {

namespace {

// Type OIDs of the built-in types (catalog/pg_type_d.h, a server header); they never change.
constexpr Oid kUnknownOid = 0;
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kOidOid = 26;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

// The most parameters one statement may have: the protocol counts them in 16 bits.
constexpr int kMaxParameters = 65535;

std::string first_line(const char* message) {
  std::string_view text = message != nullptr ? message : "";
  text = text.substr(0, text.find('\n'));
  return std::string(text.empty() ? "unknown libpq error" : text);
}

// SQLite's placeholders as PostgreSQL's: `?NNN` keeps its number, and a bare `?` takes one more
// than the largest number so far (SQLite's rule). Quoted strings, quoted identifiers and
// comments are copied as they are.
std::pair<std::string, int> number_placeholders(std::string_view sql) {
  std::string text;
  text.reserve(sql.size() + 16);
  int parameters = 0;
  auto copy_until = [&](std::size_t from, std::size_t end) {
    end = end == std::string_view::npos ? sql.size() : end;
    text.append(sql.substr(from, end - from));
    return end;
  };
  for (std::size_t i = 0; i < sql.size();) {
    char c = sql[i];
    char next = i + 1 < sql.size() ? sql[i + 1] : '\0';
    if (c == '\'' || c == '"') {
      // A doubled quote inside is read as two quoted runs side by side: the same text.
      std::size_t end = sql.find(c, i + 1);
      i = copy_until(i, end == std::string_view::npos ? end : end + 1);
    } else if (c == '-' && next == '-') {
      i = copy_until(i, sql.find('\n', i));
    } else if (c == '/' && next == '*') {
      std::size_t end = sql.find("*/", i + 2);
      i = copy_until(i, end == std::string_view::npos ? end : end + 2);
    } else if (c == '?') {
      std::size_t digits = i + 1;
      while (digits < sql.size() && sql[digits] >= '0' && sql[digits] <= '9') ++digits;
      int number = parameters + 1;
      if (digits > i + 1) {
        auto [end, error] = std::from_chars(sql.data() + i + 1, sql.data() + digits, number);
        if (error != std::errc() || number < 1) number = 0;
      }
      if (number < 1 || number > kMaxParameters)
        throw StorageError(Failure::kOther,
                           "placeholder " + std::string(sql.substr(i, digits - i)) +
                               " is out of range (1 to " + std::to_string(kMaxParameters) + ")",
                           sql);
      parameters = std::max(parameters, number);
      text += '$';
      text += std::to_string(number);
      i = digits;
    } else {
      text += c;
      ++i;
    }
  }
  return {std::move(text), parameters};
}

// The URL without its password, whether in the user part or as a `password=` parameter.
std::string without_password(std::string_view url) {
  std::string result;
  std::size_t scheme = url.find("://");
  std::size_t authority = scheme == std::string_view::npos ? 0 : scheme + 3;
  std::size_t authority_end = std::min(url.find('/', authority), url.find('?', authority));
  std::string_view host_part = url.substr(authority, authority_end - authority);
  std::size_t at = host_part.rfind('@');
  std::size_t colon = at == std::string_view::npos ? at : host_part.substr(0, at).find(':');
  if (colon != std::string_view::npos) {
    result.append(url.substr(0, authority + colon));
    result.append(url.substr(authority + at, authority_end - authority - at));
  } else {
    result.append(url.substr(0, authority_end));
  }
  if (authority_end == std::string_view::npos) return result;
  std::size_t query = url.find('?', authority_end);
  result.append(url.substr(authority_end, query - authority_end));
  if (query == std::string_view::npos) return result;
  char separator = '?';
  for (std::size_t start = query + 1; start <= url.size();) {
    std::size_t end = std::min(url.find('&', start), url.size());
    std::string_view parameter = url.substr(start, end - start);
    if (!parameter.empty() && !parameter.starts_with("password=")) {
      result += separator;
      result.append(parameter);
      separator = '&';
    }
    start = end + 1;
  }
  return result;
}

Failure failure_of(std::string_view sqlstate, bool connected) {
  // 57P01-57P03: the server is shutting down or restarting, which ends the session too.
  if (!connected || sqlstate.starts_with("08") || sqlstate.starts_with("57P"))
    return Failure::kConnectionLost;
  if (sqlstate == "23505") return Failure::kUniqueViolation;
  if (sqlstate == "40001" || sqlstate == "40P01") return Failure::kSerialization;
  if (sqlstate == "55P03") return Failure::kBusy;
  if (sqlstate.starts_with("53") || sqlstate.starts_with("58")) return Failure::kIo;
  if (sqlstate.starts_with("22")) return Failure::kInvalidInput;
  return Failure::kOther;
}

std::optional<std::int64_t> whole_integer(std::string_view text) {
  std::int64_t integer = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), integer);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return integer;
}

// Integers as SQLite reads them from text: the whole text when it is one, else its numeric
// prefix, truncated toward zero when it is a decimal.
std::int64_t integer_of(std::string_view text) {
  if (auto integer = whole_integer(text)) return *integer;
  double real = 0;
  if (std::from_chars(text.data(), text.data() + text.size(), real).ec != std::errc()) return 0;
  if (std::isnan(real)) return 0;
  // Clamped: converting a double beyond int64's range is undefined.
  constexpr double kLimit = 9223372036854775807.0;
  if (real >= kLimit) return std::numeric_limits<std::int64_t>::max();
  if (real <= -kLimit) return std::numeric_limits<std::int64_t>::min();
  return static_cast<std::int64_t>(real);
}

bool succeeded(const PGresult* result) {
  switch (PQresultStatus(result)) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_EMPTY_QUERY:
      return true;
    default:
      return false;
  }
}

}  // namespace

// One SQL text: its bindings, its current result, and the server-side statements prepared for
// it, one per combination of binding types.
class PostgresConnection::PgCursor final : public Cursor {
 public:
  PgCursor(PostgresConnection& connection, std::string_view sql)
      : connection_(connection), sql_(sql) {
    auto [text, parameters] = number_placeholders(sql);
    text_ = std::move(text);
    parameters_.resize(static_cast<std::size_t>(parameters));
  }

  void bind_null(int index) override { parameter(index) = {}; }
  void bind_int(int index, std::int64_t value) override { bind_number(index, kInt8Oid, value); }
  void bind_double(int index, double value) override { bind_number(index, kFloat8Oid, value); }
  // libpq takes text parameters NUL-terminated, so the text is copied even when `copy` is false.
  void bind_text(int index, std::string_view value, bool) override {
    if (value.find('\0') != std::string_view::npos)
      throw StorageError(Failure::kOther,
                         "parameter " + std::to_string(index) +
                             " holds a NUL character, which PostgreSQL text cannot store",
                         sql_);
    Parameter& target = parameter(index);
    target.type = kUnknownOid;
    target.null = false;
    target.text.assign(value);
  }

  void reset() override {
    result_.reset();
    row_ = -1;
    if (std::exchange(started_, false)) connection_.end_query();
  }

  bool step() override {
    if (!result_) {
      if (!started_) {
        started_ = true;
        connection_.begin_query();
      }
      // Nested queries share the outermost one's budget; the server's statement_timeout
      // bounds each statement alone.
      if (connection_.over_budget())
        throw Error(ErrorCode::kLimitExceeded, connection_.budget_message("query"));
      execute();
    }
    if (row_ + 1 >= PQntuples(result_.get())) {
      row_ = PQntuples(result_.get());
      return false;
    }
    ++row_;
    return true;
  }

  void release() noexcept override {
    reset();
    std::fill(parameters_.begin(), parameters_.end(), Parameter{});
    --borrowers_;
  }

  int column_count() const override { return result_ ? PQnfields(result_.get()) : 0; }

  ValueType column_type(int column) const override {
    if (!result_ || PQgetisnull(result_.get(), row_, column)) return ValueType::kNull;
    switch (PQftype(result_.get(), column)) {
      case kInt2Oid:
      case kInt4Oid:
      case kInt8Oid:
      case kOidOid:
      case kBoolOid:
        return ValueType::kInteger;
      case kFloat4Oid:
      case kFloat8Oid:
        return ValueType::kFloat;
      // SUM and AVG of integers are numeric: a whole one reads as an integer, as in SQLite.
      case kNumericOid:
        return whole_integer(column_view(column)) ? ValueType::kInteger : ValueType::kFloat;
      default:
        return ValueType::kText;
    }
  }

  std::int64_t column_int(int column) const override {
    if (is_bool(column)) return column_view(column) == "t" ? 1 : 0;
    return integer_of(column_view(column));
  }

  double column_double(int column) const override {
    if (is_bool(column)) return column_view(column) == "t" ? 1 : 0;
    std::string_view text = column_view(column);
    double value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    return value;
  }

  std::string_view column_view(int column) const override {
    if (!result_ || PQgetisnull(result_.get(), row_, column)) return {};
    return {PQgetvalue(result_.get(), row_, column),
            static_cast<std::size_t>(PQgetlength(result_.get(), row_, column))};
  }

  std::string_view column_name(int column) const override {
    const char* name = result_ ? PQfname(result_.get(), column) : nullptr;
    return name != nullptr ? name : "";
  }

  Cursor& borrow() {
    ++borrowers_;
    return *this;
  }
  bool borrowed() const { return borrowers_ > 0; }
  /// The server-side statements that still exist, for DEALLOCATE when the cache drops this.
  std::vector<std::string> server_statements() const {
    std::vector<std::string> names;
    if (session_ != connection_.session_) return names;
    for (const auto& [types, name] : prepared_) names.push_back(name);
    return names;
  }

  std::list<std::string>::iterator recency;

 private:
  struct Parameter {
    Oid type = kUnknownOid;
    bool null = true;
    std::string text;
  };

  Parameter& parameter(int index) {
    if (index < 1 || index > static_cast<int>(parameters_.size()))
      throw StorageError(Failure::kOther,
                         "bind: parameter " + std::to_string(index) + " is out of range (the " +
                             "statement has " + std::to_string(parameters_.size()) + ")",
                         sql_);
    return parameters_[static_cast<std::size_t>(index) - 1];
  }

  template <typename Number>
  void bind_number(int index, Oid type, Number value) {
    Parameter& target = parameter(index);
    target.type = type;
    target.null = false;
    // Shortest text that reads back as the same value, exactly for integers and doubles.
    char buffer[32];
    auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
    target.text.assign(buffer, error == std::errc() ? end : buffer);
  }

  bool is_bool(int column) const { return result_ && PQftype(result_.get(), column) == kBoolOid; }

  void execute() {
    PGconn* conn = connection_.conn_.get();
    if (session_ != connection_.session_) {
      prepared_.clear();
      session_ = connection_.session_;
    }
    std::vector<Oid> types;
    std::vector<const char*> values;
    types.reserve(parameters_.size());
    values.reserve(parameters_.size());
    for (const Parameter& parameter : parameters_) {
      types.push_back(parameter.type);
      values.push_back(parameter.null ? nullptr : parameter.text.c_str());
    }
    auto it = prepared_.find(types);
    if (it == prepared_.end()) {
      std::string name = "verdict_" + std::to_string(connection_.next_statement_++);
      connection_.check(Result(PQprepare(conn, name.c_str(), text_.c_str(),
                                         static_cast<int>(types.size()), types.data())),
                        sql_);
      it = prepared_.emplace(std::move(types), std::move(name)).first;
    }
    result_ = connection_.check(
        Result(PQexecPrepared(conn, it->second.c_str(), static_cast<int>(values.size()),
                              values.data(), nullptr, nullptr, 0)),
        sql_);
    row_ = -1;
    connection_.notify_if_committed();
  }

  PostgresConnection& connection_;
  std::string sql_;   ///< as the caller wrote it, for messages
  std::string text_;  ///< with `$n` placeholders
  std::vector<Parameter> parameters_;
  std::map<std::vector<Oid>, std::string> prepared_;  ///< binding types -> server statement
  std::uint64_t session_ = 0;  ///< the connection's session `prepared_` belongs to
  Result result_;
  int row_ = -1;
  int borrowers_ = 0;
  bool started_ = false;  ///< its query budget is running
};

PostgresConnection::PostgresConnection(const std::string& url, OpenMode mode)
    : url_(url), location_(without_password(url)), mode_(mode) {
  // libpq also takes `key=value` strings, whose password location() would not hide.
  if (!url.starts_with("postgresql://") && !url.starts_with("postgres://"))
    throw StorageError(Failure::kOther,
                       "not a PostgreSQL URL: expected postgresql://USER@HOST[:PORT]/DATABASE");
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    std::string reason = "invalid PostgreSQL URL " + location_ + ": " +
                         (error != nullptr ? first_line(error) : std::string("out of memory"));
    PQfreemem(error);
    throw StorageError(Failure::kOther, reason);
  }
  PQconninfoFree(options);
  conn_.reset(PQconnectdb(url.c_str()));
  if (conn_ == nullptr)
    throw StorageError(Failure::kIo, "cannot connect to " + location_ + ": out of memory");
  if (PQstatus(conn_.get()) != CONNECTION_OK)
    throw StorageError(Failure::kConnectionLost, "cannot connect to " + location_ + ": " +
                                                     first_line(PQerrorMessage(conn_.get())));
  // Notices (a DROP ... IF EXISTS that found nothing) go to the log, not to stderr.
  PQsetNoticeProcessor(
      conn_.get(),
      [](void*, const char* message) {
        std::string_view text = message;
        while (text.ends_with('\n')) text.remove_suffix(1);
        log(LogLevel::kDebug, "postgresql: " + std::string(text));
      },
      nullptr);
  set_up_session();
}

PostgresConnection::~PostgresConnection() = default;

void PostgresConnection::ConnectionDeleter::operator()(PGconn* conn) const {
  PQfinish(conn);
}

void PostgresConnection::set_up_session() {
  // One channel and one writer lock per schema: Verdicts that share a database in schemas of
  // their own (and tests running in parallel) neither empty each other's caches nor wait for
  // each other's writes.
  Result schema = run_simple("SELECT current_schema()");
  std::string name = std::string(kChannel) + "." +
                     (PQgetisnull(schema.get(), 0, 0) ? "" : PQgetvalue(schema.get(), 0, 0));
  std::string quoted_literal = "'", quoted_identifier = "\"";
  for (char c : name) {
    quoted_literal += c == '\'' ? "''" : std::string(1, c);
    quoted_identifier += c == '"' ? "\"\"" : std::string(1, c);
  }
  notify_sql_ = "SELECT pg_notify(" + quoted_literal + "', '')";
  begin_sql_ = "BEGIN; SELECT pg_advisory_xact_lock(hashtextextended(" + quoted_literal + "', " +
               std::to_string(kWriterLock) + "))";
  // LISTEN first: a read-only session still hears other connections' commits.
  std::string setup = "LISTEN " + quoted_identifier + "\"; SET client_encoding = 'UTF8'";
  if (mode_ == OpenMode::kReadOnly) setup += "; SET default_transaction_read_only = on";
  if (query_timeout().count() > 0)
    setup += "; SET statement_timeout = " + std::to_string(query_timeout().count());
  run_simple(setup);
}

void PostgresConnection::ensure_connected() {
  if (PQstatus(conn_.get()) == CONNECTION_OK) return;
  // A new session inside an open Transaction would run its remaining statements outside it.
  if (depth_ > 0)
    throw StorageError(Failure::kConnectionLost,
                       "the connection to " + location_ +
                           " was lost inside a transaction, which the server rolled back");
  PQreset(conn_.get());
  if (PQstatus(conn_.get()) != CONNECTION_OK)
    throw StorageError(Failure::kConnectionLost, "cannot reconnect to " + location_ + ": " +
                                                     first_line(PQerrorMessage(conn_.get())));
  ++session_;
  evicted_.clear();
  // Notifications sent while the connection was down are lost: assume something changed.
  ++notifications_;
  set_up_session();
}

Statement PostgresConnection::prepare(std::string_view sql) {
  ensure_connected();
  // Looked up by the view: a cache hit, the hot path of every verb, allocates nothing.
  auto it = cache_.find(sql);
  if (it != cache_.end()) {
    recency_.splice(recency_.begin(), recency_, it->second->recency);
    return Statement(it->second->borrow());
  }
  auto cursor = std::make_unique<PgCursor>(*this, sql);
  // The least recently used statement that nobody is stepping goes; a borrowed one stays even
  // if the cache runs over for a while (nesting is a few levels deep at most).
  for (auto old = recency_.end(); cache_.size() >= kCachedStatements && old != recency_.begin();) {
    --old;
    auto victim = cache_.find(*old);
    if (victim->second->borrowed()) continue;
    for (auto& name : victim->second->server_statements()) evicted_.push_back(std::move(name));
    cache_.erase(victim);
    old = recency_.erase(old);
  }
  deallocate_evicted();
  recency_.emplace_front(sql);
  cursor->recency = recency_.begin();
  it = cache_.emplace(std::string(sql), std::move(cursor)).first;
  return Statement(it->second->borrow());
}

void PostgresConnection::deallocate_evicted() {
  // In a transaction that an error aborted, the server refuses every command but a rollback:
  // the statements wait for the next prepare.
  if (evicted_.empty() || PQtransactionStatus(conn_.get()) == PQTRANS_INERROR) return;
  std::string sql;
  for (const auto& name : evicted_) sql += "DEALLOCATE " + name + ";";
  evicted_.clear();
  run_simple(sql);
}

void PostgresConnection::exec(const std::string& sql) {
  ensure_connected();
  run_simple(sql);
  notify_if_committed();
}

bool PostgresConnection::in_transaction() const {
  switch (PQtransactionStatus(conn_.get())) {
    case PQTRANS_ACTIVE:
    case PQTRANS_INTRANS:
    case PQTRANS_INERROR:
      return true;
    default:
      // A lost connection knows no status, but the caller's Transaction is still open.
      return depth_ > 0;
  }
}

PostgresConnection::Result PostgresConnection::run_simple(const std::string& sql) {
  if (PQsendQuery(conn_.get(), sql.c_str()) == 0) fail(nullptr, sql);
  // Every result is collected, even past a failure, so the connection is ready for the next.
  Result last;
  Result failed;
  while (PGresult* next = PQgetResult(conn_.get())) {
    Result result(next);
    if (failed) continue;
    if (succeeded(next)) {
      count_changes(next);
      last = std::move(result);
    } else {
      failed = std::move(result);
    }
  }
  count_notifications();
  if (failed || !last) fail(failed.get(), sql);
  return last;
}

PostgresConnection::Result PostgresConnection::check(Result result, std::string_view sql) {
  count_notifications();
  if (!result || !succeeded(result.get())) fail(result.get(), sql);
  count_changes(result.get());
  return result;
}

void PostgresConnection::count_changes(PGresult* result) {
  std::string_view command = PQcmdStatus(result);
  if (command.starts_with("INSERT") || command.starts_with("UPDATE") ||
      command.starts_with("DELETE") || command.starts_with("MERGE")) {
    last_changes_ = integer_of(PQcmdTuples(result));
    total_changes_ += last_changes_;
    if (last_changes_ > 0) unannounced_ = true;
  } else if (command.starts_with("TRUNCATE") || command.starts_with("DROP") ||
             command.starts_with("ALTER")) {
    // They change what a table holds without a count of rows.
    ++total_changes_;
    unannounced_ = true;
  }
}

void PostgresConnection::notify_if_committed() {
  if (!unannounced_ || PQtransactionStatus(conn_.get()) != PQTRANS_IDLE) return;
  unannounced_ = false;
  run_simple(notify_sql_);
}

void PostgresConnection::begin_transaction(bool nested) {
  if (!nested) ensure_connected();
  // Writers take turns, across every node on the database, as SQLite's writers do on one file:
  // the event log's sequence is then also the commit order (a reader paging by it never skips
  // an event committed late), and no two transactions can deadlock or write on stale reads.
  if (nested) {
    run_simple("SAVEPOINT nested");
  } else {
    try {
      run_simple(begin_sql_);
    } catch (...) {
      // Waiting for the lock past the query budget fails after BEGIN: no Transaction owns the
      // open block to roll it back, and every later statement on the session would fail.
      if (PQstatus(conn_.get()) == CONNECTION_OK &&
          PQtransactionStatus(conn_.get()) != PQTRANS_IDLE)
        PQclear(PQexec(conn_.get(), "ROLLBACK"));
      throw;
    }
  }
  ++depth_;
}

void PostgresConnection::commit_transaction(bool nested) {
  // The server answers COMMIT of an aborted transaction by rolling it back, without an error.
  if (PQtransactionStatus(conn_.get()) == PQTRANS_INERROR)
    throw StorageError(Failure::kOther,
                       "cannot commit: an earlier statement failed, so the transaction is aborted");
  if (nested) {
    run_simple("RELEASE nested");
  } else {
    // The notification goes out with the commit, never without it.
    run_simple(unannounced_ ? notify_sql_ + "; COMMIT" : std::string("COMMIT"));
    unannounced_ = false;
    timeout_in_transaction_ = false;
  }
  --depth_;
}

void PostgresConnection::rollback_transaction(bool nested) noexcept {
  --depth_;
  // Counted before it runs: a rollback that fails may still have undone rows.
  ++total_changes_;
  if (!nested) unannounced_ = false;
  if (PQstatus(conn_.get()) != CONNECTION_OK) return;
  // Destructors never throw: a failed rollback leaves the server to roll back when the
  // connection ends.
  try {
    run_simple(nested ? "ROLLBACK TO nested; RELEASE nested" : "ROLLBACK");
    // A SET is undone with the transaction it ran in.
    if (timeout_in_transaction_) {
      run_simple("SET statement_timeout = " + std::to_string(query_timeout().count()));
      if (!nested) timeout_in_transaction_ = false;
    }
  } catch (const std::exception&) {
  }
}

void PostgresConnection::set_query_timeout(std::chrono::milliseconds timeout) {
  Connection::set_query_timeout(timeout);
  ensure_connected();
  run_simple("SET statement_timeout = " + std::to_string(timeout.count()));
  if (in_transaction()) timeout_in_transaction_ = true;
}

Connection::Stamp PostgresConnection::read_stamp() {
  // Without blocking: only what has arrived.
  if (PQstatus(conn_.get()) == CONNECTION_OK && PQconsumeInput(conn_.get()) == 1)
    count_notifications();
  return {total_changes_, notifications_};
}

void PostgresConnection::count_notifications() {
  // libpq queues the notifications that arrive with results: read after every command, a
  // connection that never asks for its stamp does not hoard them.
  PGconn* conn = conn_.get();
  while (PGnotify* notification = PQnotifies(conn)) {
    // Its own commits are counted in `changes` already.
    if (notification->be_pid != PQbackendPID(conn)) ++notifications_;
    PQfreemem(notification);
  }
}

void PostgresConnection::fail(const PGresult* result, std::string_view sql) const {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string_view sqlstate = state != nullptr ? state : "";
  // 57014 is also a cancel request, which only the statement_timeout sends here.
  if (sqlstate == "57014" && query_timeout().count() > 0)
    throw Error(ErrorCode::kLimitExceeded, budget_message("query"));
  const char* primary =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string reason = primary != nullptr ? primary : first_line(PQerrorMessage(conn_.get()));
  throw StorageError(failure_of(sqlstate, PQstatus(conn_.get()) == CONNECTION_OK), reason, sql);
}

std::unique_ptr<Connection> open_postgres(const std::string& url, OpenMode mode) {
  return std::make_unique<PostgresConnection>(url, mode);
}

}  // namespace verdict::storage
