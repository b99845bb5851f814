#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/storage/connection.hpp"

namespace verdict::storage {

/// A connection to a PostgreSQL database through libpq.
///
/// - SQL keeps SQLite's placeholders (`?` and `?NNN`); they become `$n` when a text is first
///   prepared. Parameters are typed by how they are bound (an int is int8, a double float8, text
///   and NULL are left for the server to infer), and the server fixes those types at PREPARE:
///   so a statement is prepared at its first step, once per SQL text and binding types.
/// - A statement's first step runs it and fetches every row; `column_count()` and
///   `column_name()` are known only from then on.
/// - Any failed statement aborts the whole transaction it runs in (PostgreSQL has no
///   statement-level rollback): only a savepoint, or the transaction's end, recovers from it.
/// - Text compares by the database's collation: SQLite's bytewise order needs `COLLATE "C"`
///   (or a database created with `--no-locale`).
/// - A lost connection is reported as Failure::kConnectionLost; the next prepare() or exec()
///   outside a transaction reconnects once. Nothing is retried.
class PostgresConnection final : public Connection {
 public:
  PostgresConnection(const std::string& url, OpenMode mode);
  ~PostgresConnection() override;

  Backend backend() const override { return Backend::kPostgres; }
  Statement prepare(std::string_view sql) override;
  std::size_t cached_statements() const override { return cache_.size(); }
  void exec(const std::string& sql) override;
  std::int64_t changes() const override { return last_changes_; }
  bool in_transaction() const override;
  std::string path() const override { return {}; }
  std::string shared_location() const override { return url_; }
  std::string location() const override { return location_; }
  /// Also the server's `statement_timeout`, which stops a statement while it runs.
  void set_query_timeout(std::chrono::milliseconds timeout) override;

  /// Seeds the advisory lock every write transaction holds until it ends ("verdict" in ASCII):
  /// the lock is `hashtextextended(channel, kWriterLock)` with this schema's channel (kChannel),
  /// so one per schema.
  static constexpr std::int64_t kWriterLock = 0x76657264696374;
  /// The first key of the session lock held while a node creates or migrates the schema (the
  /// second is the schema's hash): a key space of its own, apart from kWriterLock's.
  static constexpr std::int32_t kSchemaLock = 0x76657264;
  /// The channel every connection listens on and notifies when it commits changed rows, with
  /// `.` and the schema after it.
  static constexpr const char* kChannel = "verdict_changes";

 protected:
  Stamp read_stamp() override;
  void begin_transaction(bool nested) override;
  void commit_transaction(bool nested) override;
  void rollback_transaction(bool nested) noexcept override;

 private:
  class PgCursor;
  struct ConnectionDeleter {
    void operator()(PGconn* conn) const;
  };
  struct ResultDeleter {
    void operator()(PGresult* result) const { PQclear(result); }
  };
  using Result = std::unique_ptr<PGresult, ResultDeleter>;
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
  };

  /// Throws unless `result` is a success; on success counts the rows it changed.
  Result check(Result result, std::string_view sql);
  /// Runs parameterless statements, all of their results checked; returns the last one's.
  Result run_simple(const std::string& sql);
  /// Counts what a successful command changed, for changes() and stamp().
  void count_changes(PGresult* result);
  /// Counts the notifications of other connections' commits that libpq has received.
  void count_notifications();
  /// An autocommitted write is visible to others at once: tell them now.
  void notify_if_committed();
  /// Reconnects a lost connection when no transaction was open on it.
  void ensure_connected();
  void set_up_session();
  /// DEALLOCATEs the server-side statements of cursors the cache dropped.
  void deallocate_evicted();
  /// Throws the failure `result` reports, or the connection's when there is no result.
  [[noreturn]] void fail(const PGresult* result, std::string_view sql) const;

  std::unique_ptr<PGconn, ConnectionDeleter> conn_;
  std::string url_;
  std::string location_;
  std::string notify_sql_;  ///< announces a commit on this schema's channel
  std::string begin_sql_;   ///< begins a write transaction holding this schema's writer lock
  OpenMode mode_;
  std::unordered_map<std::string, std::unique_ptr<PgCursor>, TextHash, std::equal_to<>> cache_;
  std::list<std::string> recency_;  ///< SQL texts, most recently used first
  /// Server-side statements of evicted cursors, deallocated once the transaction allows it.
  std::vector<std::string> evicted_;
  std::uint64_t next_statement_ = 0;  ///< names server-side statements
  /// Bumped by each reconnection: statements prepared before it are gone from the server.
  std::uint64_t session_ = 0;
  int depth_ = 0;  ///< Transactions open on this connection
  std::int64_t last_changes_ = 0;
  std::int64_t total_changes_ = 0;       ///< rows changed plus rollbacks, for stamp()
  std::int64_t notifications_ = 0;       ///< commits by other connections seen, for stamp()
  bool unannounced_ = false;             ///< rows changed that no notification covers yet
  bool timeout_in_transaction_ = false;  ///< a rollback may undo the statement_timeout set
};

/// Opens the PostgreSQL database at `url` (`postgresql://` or `postgres://`). Throws
/// StorageError with the server's or libpq's reason when it cannot.
std::unique_ptr<Connection> open_postgres(const std::string& url, OpenMode mode);

}  // namespace verdict::storage
