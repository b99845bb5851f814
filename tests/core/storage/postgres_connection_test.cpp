#include "core/storage/postgres_connection.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>
#include <thread>

#include <unistd.h>

#include "core/error.hpp"
#include "tests/support/test_store.hpp"

namespace verdict::storage {
namespace {

using namespace std::chrono_literals;

// Each test works in a schema of its own, named in the URL (so it survives a reconnection), and
// tests can run in parallel against one cluster.
class PostgresConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_url_ = test_support::postgres_test_url();
    if (server_url_.empty()) {
      // ctest runs these only as postgres.*, beside the cluster its fixture starts; a binary run
      // by hand has none unless told.
      constexpr const char* kMissing =
          "no PostgreSQL to test: run through ctest (its postgres.cluster fixture starts one), or "
          "set VERDICT_TEST_POSTGRES to the URL `scripts/postgres-cluster.sh start DIR` prints";
      if (test_support::in_ci()) FAIL() << kMissing;
      GTEST_SKIP() << kMissing;
    }
    schema_ = "t_" + std::to_string(std::random_device{}()) + std::to_string(::getpid());
    open_postgres(server_url_, OpenMode::kReadWrite)->exec("CREATE SCHEMA " + schema_);
    url_ = url_of(schema_);
    db_ = open();
    db_->exec("CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT UNIQUE, score DOUBLE PRECISION)");
  }

  void TearDown() override {
    if (schema_.empty()) return;
    db_.reset();
    open_postgres(server_url_, OpenMode::kReadWrite)->exec("DROP SCHEMA " + schema_ + " CASCADE");
  }

  /// The test database's URL with `schema` as the search path.
  std::string url_of(const std::string& schema) const {
    return server_url_ + (server_url_.find('?') == std::string::npos ? "?" : "&") +
           "options=-c%20search_path%3D" + schema;
  }

  std::unique_ptr<Connection> open(OpenMode mode = OpenMode::kReadWrite) {
    return open_postgres(url_, mode);
  }

  void insert(Connection& db, std::int64_t id, std::string_view name) {
    db.prepare("INSERT INTO t (id, name) VALUES (?, ?)").bind(1, id).bind(2, name).run();
  }

  std::int64_t count(Connection& db, const std::string& sql) {
    auto statement = db.prepare(sql);
    EXPECT_TRUE(statement.step());
    return statement.column_int(0);
  }
  std::int64_t rows() { return count(*db_, "SELECT COUNT(*) FROM t"); }

  std::string server_url_;
  std::string url_;
  std::string schema_;
  std::unique_ptr<Connection> db_;
};

TEST_F(PostgresConnectionTest, NumbersPlaceholdersOutsideStringsIdentifiersAndComments) {
  // A bare `?` takes one more than the largest number so far, as in SQLite.
  auto statement =
      db_->prepare("SELECT '?' || ? AS \"why?\", ?3 /* ? */ AS b, ?2 AS c, ? AS d -- ?\n");
  statement.bind(1, "x").bind(2, 2).bind(3, 3).bind(4, 4);
  ASSERT_TRUE(statement.step());
  EXPECT_EQ(statement.column_text(0), "?x");
  EXPECT_EQ(statement.column_name(0), "why?");
  EXPECT_EQ(statement.column_int(1), 3);
  EXPECT_EQ(statement.column_int(2), 2);
  EXPECT_EQ(statement.column_int(3), 4);
  EXPECT_FALSE(statement.step());

  auto numbered = db_->prepare("SELECT ?2, ?1");
  numbered.bind(1, "one").bind(2, "two");
  ASSERT_TRUE(numbered.step());
  EXPECT_EQ(numbered.column_text(0), "two");
  EXPECT_EQ(numbered.column_text(1), "one");
}

TEST_F(PostgresConnectionTest, RefusesAPlaceholderOrBindingOutOfRange) {
  try {
    db_->prepare("SELECT ?0");
    FAIL() << "?0 was accepted";
  } catch (const StorageError& error) {
    EXPECT_EQ(error.reason(), "placeholder ?0 is out of range (1 to 65535)");
  }
  auto statement = db_->prepare("SELECT ?");
  EXPECT_THROW(statement.bind(2, 1), StorageError);
}

TEST_F(PostgresConnectionTest, ReadsValuesByTheirBindingAndColumnTypes) {
  constexpr std::int64_t kLarge = std::numeric_limits<std::int64_t>::max();
  auto statement = db_->prepare("SELECT ?, ?, ?, ?, ?, 1.5::numeric, true, false, 2::int4");
  statement.bind(1, kLarge).bind(2, 0.1).bind(3, "text").bind(4, nullptr).bind(5, 1e300);
  ASSERT_TRUE(statement.step());
  EXPECT_EQ(statement.column_type(0), ValueType::kInteger);
  EXPECT_EQ(statement.column_int(0), kLarge);
  EXPECT_EQ(statement.column_type(1), ValueType::kFloat);
  EXPECT_EQ(statement.column_double(1), 0.1);
  EXPECT_EQ(statement.column_type(2), ValueType::kText);
  EXPECT_EQ(statement.column_view(2), "text");
  EXPECT_EQ(statement.column_type(3), ValueType::kNull);
  EXPECT_TRUE(statement.is_null(3));
  EXPECT_EQ(statement.column_double(4), 1e300);
  EXPECT_EQ(statement.column_type(5), ValueType::kFloat);
  EXPECT_EQ(statement.column_double(5), 1.5);
  EXPECT_EQ(statement.column_int(5), 1);
  EXPECT_EQ(statement.column_type(6), ValueType::kInteger);
  EXPECT_EQ(statement.column_int(6), 1);
  EXPECT_EQ(statement.column_int(7), 0);
  EXPECT_EQ(statement.column_type(8), ValueType::kInteger);
  EXPECT_EQ(statement.column_double(8), 2.0);

  // Verdict never binds them, but they must not break the statement.
  auto special = db_->prepare("SELECT ?, ?");
  special.bind(1, std::numeric_limits<double>::quiet_NaN());
  special.bind(2, -std::numeric_limits<double>::infinity());
  ASSERT_TRUE(special.step());
  EXPECT_TRUE(std::isnan(special.column_double(0)));
  EXPECT_EQ(special.column_double(1), -std::numeric_limits<double>::infinity());
}

TEST_F(PostgresConnectionTest, ReadsAWholeSumOfBigintsAsAnInteger) {
  insert(*db_, 4'000'000'000, "a");
  insert(*db_, 5'000'000'000, "b");
  auto statement = db_->prepare("SELECT SUM(id), AVG(id), SUM(score) FROM t");
  ASSERT_TRUE(statement.step());
  EXPECT_EQ(statement.column_type(0), ValueType::kInteger);
  EXPECT_EQ(statement.column_int(0), 9'000'000'000);
  EXPECT_EQ(statement.column_type(1), ValueType::kFloat);
  EXPECT_EQ(statement.column_double(1), 4'500'000'000.0);
  EXPECT_EQ(statement.column_type(2), ValueType::kNull);
}

TEST_F(PostgresConnectionTest, RerunsOneSqlTextWithOtherBindingTypes) {
  constexpr const char* kInsert = "INSERT INTO t (id, name, score) VALUES (?, ?, ?)";
  db_->prepare(kInsert).bind(1, 1).bind(2, "a").bind(3, nullptr).run();
  db_->prepare(kInsert).bind(1, 2).bind(2, "b").bind(3, 7).run();
  db_->prepare(kInsert).bind(1, 3).bind(2, "c").bind(3, 2.5).run();
  EXPECT_EQ(db_->changes(), 1);
  // One SQL text in the cache, three statements on the server: one per binding types.
  EXPECT_EQ(db_->cached_statements(), 1u);
  EXPECT_EQ(
      count(*db_,
            "SELECT COUNT(*) FROM pg_prepared_statements WHERE statement LIKE 'INSERT INTO t%'"),
      3);

  auto statement = db_->prepare("SELECT score FROM t ORDER BY id");
  ASSERT_TRUE(statement.step());
  EXPECT_TRUE(statement.is_null(0));
  ASSERT_TRUE(statement.step());
  EXPECT_EQ(statement.column_double(0), 7.0);
  ASSERT_TRUE(statement.step());
  EXPECT_EQ(statement.column_double(0), 2.5);
  EXPECT_FALSE(statement.step());

  // Bindings stay across a reset; only what changes is bound again.
  auto select = db_->prepare("SELECT ?, ?");
  select.bind(1, nullptr).bind(2, "same");
  ASSERT_TRUE(select.step());
  EXPECT_EQ(select.column_type(0), ValueType::kNull);
  select.reset();
  select.bind(1, 42);
  ASSERT_TRUE(select.step());
  EXPECT_EQ(select.column_int(0), 42);
  EXPECT_EQ(select.column_text(1), "same");
}

TEST_F(PostgresConnectionTest, DropsTheLeastRecentlyUsedStatementsPastTheCacheLimit) {
  auto held = db_->prepare("SELECT 'held'");
  for (std::size_t i = 0; i < Connection::kCachedStatements + 20; ++i) {
    auto statement = db_->prepare("SELECT " + std::to_string(i) + " + ?");
    statement.bind(1, 1);
    ASSERT_TRUE(statement.step());
    EXPECT_EQ(statement.column_int(0), static_cast<std::int64_t>(i) + 1);
  }
  // The borrowed statement stayed and still runs.
  EXPECT_EQ(db_->cached_statements(), Connection::kCachedStatements);
  ASSERT_TRUE(held.step());
  EXPECT_EQ(held.column_text(0), "held");
  // The server holds no more statements than the cache: evicted ones were deallocated.
  EXPECT_LE(count(*db_, "SELECT COUNT(*) FROM pg_prepared_statements"),
            static_cast<std::int64_t>(Connection::kCachedStatements));
}

TEST_F(PostgresConnectionTest, CommitsAndRollsBackTransactions) {
  {
    Transaction transaction(*db_);
    EXPECT_TRUE(db_->in_transaction());
    insert(*db_, 1, "a");
    transaction.commit();
  }
  EXPECT_FALSE(db_->in_transaction());
  {
    Transaction transaction(*db_);
    insert(*db_, 2, "b");
  }
  EXPECT_FALSE(db_->in_transaction());
  EXPECT_EQ(rows(), 1);
}

TEST_F(PostgresConnectionTest, RollingBackANestedTransactionKeepsTheOuterOne) {
  {
    Transaction outer(*db_);
    insert(*db_, 1, "a");
    {
      Transaction inner(*db_);
      insert(*db_, 2, "b");
    }
    {
      // A failure inside a savepoint aborts only the savepoint.
      Transaction inner(*db_);
      EXPECT_THROW(insert(*db_, 3, "a"), StorageError);
    }
    {
      Transaction inner(*db_);
      insert(*db_, 4, "d");
      inner.commit();
    }
    EXPECT_TRUE(db_->in_transaction());
    outer.commit();
  }
  auto statement = db_->prepare("SELECT id FROM t ORDER BY id");
  std::vector<std::int64_t> ids;
  while (statement.step()) ids.push_back(statement.column_int(0));
  EXPECT_EQ(ids, (std::vector<std::int64_t>{1, 4}));
}

TEST_F(PostgresConnectionTest, RefusesToCommitATransactionAnErrorAborted) {
  {
    Transaction transaction(*db_);
    insert(*db_, 1, "a");
    EXPECT_THROW(insert(*db_, 2, "a"), StorageError);
    EXPECT_THROW(transaction.commit(), StorageError);
  }
  EXPECT_FALSE(db_->in_transaction());
  EXPECT_EQ(rows(), 0);
}

TEST_F(PostgresConnectionTest, ReportsAUniqueViolation) {
  insert(*db_, 1, "a");
  try {
    insert(*db_, 2, "a");
    FAIL() << "the duplicate name was accepted";
  } catch (const StorageError& error) {
    EXPECT_EQ(error.failure(), Failure::kUniqueViolation);
    EXPECT_EQ(error.reason(), "duplicate key value violates unique constraint \"t_name_key\"");
    EXPECT_NE(std::string(error.what()).find("INSERT INTO t"), std::string::npos) << error.what();
  }
  EXPECT_EQ(rows(), 1);
}

TEST_F(PostgresConnectionTest, ReportsALockHeldPastTheLockTimeoutAsBusy) {
  insert(*db_, 1, "a");
  auto other = open();
  other->exec("SET lock_timeout = 50");
  Transaction holder(*db_);
  db_->prepare("UPDATE t SET score = 1 WHERE id = 1").run();
  try {
    other->prepare("UPDATE t SET score = 2 WHERE id = 1").run();
    FAIL() << "the update did not wait for the lock";
  } catch (const StorageError& error) {
    EXPECT_EQ(error.failure(), Failure::kBusy) << error.what();
  }
}

TEST_F(PostgresConnectionTest, WritersTakeTurnsInASchemaButNotAcrossSchemas) {
  Transaction holder(*db_);
  auto same = open();
  same->exec("SET lock_timeout = 50");
  try {
    Transaction waiting(*same);
    FAIL() << "a second writer on the schema did not wait for the first";
  } catch (const StorageError& error) {
    EXPECT_EQ(error.failure(), Failure::kBusy) << error.what();
  }
  // Another Verdict in another schema of the database writes meanwhile.
  std::string other_schema = schema_ + "_other";
  open_postgres(server_url_, OpenMode::kReadWrite)->exec("CREATE SCHEMA " + other_schema);
  {
    auto elsewhere = open_postgres(url_of(other_schema), OpenMode::kReadWrite);
    elsewhere->exec("SET lock_timeout = 50");
    Transaction writing(*elsewhere);
    elsewhere->exec("CREATE TABLE t (id BIGINT PRIMARY KEY)");
    writing.commit();
  }
  open_postgres(server_url_, OpenMode::kReadWrite)
      ->exec("DROP SCHEMA " + other_schema + " CASCADE");
}

// Under load from several nodes a writer can wait for the writer lock past its query budget.
TEST_F(PostgresConnectionTest, AWriterThatWaitedPastItsBudgetForTheLockCanWriteAgain) {
  auto other = open();
  other->set_query_timeout(50ms);
  {
    Transaction holder(*db_);
    try {
      Transaction waiting(*other);
      FAIL() << "the transaction began while another held the writer lock";
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::kLimitExceeded) << error.what();
    }
    EXPECT_FALSE(other->in_transaction());
    EXPECT_EQ(count(*other, "SELECT COUNT(*) FROM t"), 0);
  }
  Transaction transaction(*other);
  insert(*other, 1, "a");
  transaction.commit();
  EXPECT_EQ(rows(), 1);
}

TEST_F(PostgresConnectionTest, ExecRunsSeveralStatementsAndCountsTheirChanges) {
  auto before = db_->stamp();
  db_->exec("INSERT INTO t (id) VALUES (1); INSERT INTO t (id) VALUES (2), (3)");
  EXPECT_EQ(db_->changes(), 2);
  EXPECT_EQ(db_->stamp().changes, before.changes + 3);
  EXPECT_THROW(db_->exec("SELECT 1; SELECT * FROM missing; INSERT INTO t (id) VALUES (4)"),
               StorageError);
  EXPECT_EQ(rows(), 3);
}

TEST_F(PostgresConnectionTest, StampChangesWhenAnotherConnectionCommits) {
  auto other = open();
  auto wait_for_change = [&](const Connection::Stamp& before) {
    for (auto until = std::chrono::steady_clock::now() + 5s;
         std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(5ms)) {
      if (db_->stamp() != before) return true;
    }
    return false;
  };

  auto before = db_->stamp();
  rows();
  EXPECT_EQ(db_->stamp(), before) << "a read changed the stamp";
  {
    Transaction transaction(*other);
    insert(*other, 1, "a");
    transaction.commit();
  }
  EXPECT_TRUE(wait_for_change(before)) << "a commit by another connection went unseen";

  // A write outside a transaction is committed, and announced, at once.
  before = db_->stamp();
  insert(*other, 2, "b");
  EXPECT_TRUE(wait_for_change(before)) << "an autocommitted write went unseen";

  // A rolled-back transaction changed nothing the others could see.
  before = db_->stamp();
  {
    Transaction transaction(*other);
    insert(*other, 3, "c");
  }
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(db_->stamp(), before);

  // Its own writes and rollbacks count too.
  insert(*db_, 4, "d");
  EXPECT_NE(db_->stamp(), before);
  before = db_->stamp();
  { Transaction transaction(*db_); }
  EXPECT_NE(db_->stamp(), before);
}

TEST_F(PostgresConnectionTest, StopsAQueryPastItsBudget) {
  db_->set_query_timeout(50ms);
  auto started = std::chrono::steady_clock::now();
  try {
    db_->prepare("SELECT pg_sleep(1)").step();
    FAIL() << "the query ran past its budget";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kLimitExceeded);
    EXPECT_NE(std::string(error.what()).find("stopped after 50 ms"), std::string::npos);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, 900ms);

  // Rolled back with its transaction, the timeout still holds after.
  {
    Transaction transaction(*db_);
    db_->set_query_timeout(60ms);
  }
  EXPECT_THROW(db_->prepare("SELECT pg_sleep(1)").step(), Error);

  // A query run while another is stepped shares the outer one's budget.
  db_->set_query_timeout(100ms);
  auto outer = db_->prepare("SELECT 1");
  ASSERT_TRUE(outer.step());
  std::this_thread::sleep_for(150ms);
  try {
    db_->prepare("SELECT 2").step();
    FAIL() << "the nested query ran past the outer one's budget";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kLimitExceeded);
  }
  outer.reset();

  db_->set_query_timeout(0ms);
  EXPECT_EQ(count(*db_, "SELECT COUNT(*) FROM pg_sleep(0.1)"), 1);
}

TEST_F(PostgresConnectionTest, ReadOnlyConnectionRefusesWrites) {
  insert(*db_, 1, "a");
  auto reader = open(OpenMode::kReadOnly);
  EXPECT_EQ(count(*reader, "SELECT COUNT(*) FROM t"), 1);
  EXPECT_THROW(insert(*reader, 2, "b"), StorageError);
  {
    Transaction transaction(*reader);
    EXPECT_THROW(reader->exec("DELETE FROM t"), StorageError);
  }
  EXPECT_EQ(rows(), 1);
}

TEST_F(PostgresConnectionTest, LocationHidesThePassword) {
  std::string with_password = url_;
  with_password.insert(with_password.find('@'), ":s3cret");
  with_password += "&password=s3cret&application_name=verdict";
  auto db = open_postgres(with_password, OpenMode::kReadWrite);
  EXPECT_EQ(db->location().find("s3cret"), std::string::npos) << db->location();
  EXPECT_NE(db->location().find("application_name=verdict"), std::string::npos);
  EXPECT_EQ(db->path(), "");
  EXPECT_EQ(db->backend(), Backend::kPostgres);
}

TEST_F(PostgresConnectionTest, ReportsABadUrlOrAnUnreachableServer) {
  auto reason_of = [](const std::string& url) {
    try {
      open_postgres(url, OpenMode::kReadWrite);
    } catch (const StorageError& error) {
      return error.reason();
    }
    return std::string("connected");
  };
  EXPECT_EQ(reason_of("host=localhost password=pw"),
            "not a PostgreSQL URL: expected postgresql://USER@HOST[:PORT]/DATABASE");
  EXPECT_EQ(reason_of("postgresql://user:pw@localhost/db?colour=blue"),
            "invalid PostgreSQL URL postgresql://user@localhost/db?colour=blue: invalid URI "
            "query parameter: \"colour\"");
  EXPECT_EQ(reason_of("postgresql://user:pw@localhost:notaport/db"),
            "cannot connect to postgresql://user@localhost:notaport/db: invalid integer value "
            "\"notaport\" for connection option \"port\"");
  try {
    open_postgres("postgresql://nobody@127.0.0.1:1/db?connect_timeout=2", OpenMode::kReadWrite);
    FAIL() << "connected to nothing";
  } catch (const StorageError& error) {
    EXPECT_EQ(error.failure(), Failure::kConnectionLost);
    EXPECT_NE(error.reason().find("cannot connect to postgresql://nobody@127.0.0.1:1/db"),
              std::string::npos)
        << error.reason();
  }
}

TEST_F(PostgresConnectionTest, ReconnectsOnceTheLostConnectionIsReported) {
  auto pid = count(*db_, "SELECT pg_backend_pid()");
  auto terminate = [&] {
    auto killer = open();
    // Waits until the process is gone, so the next statement surely finds it lost.
    EXPECT_EQ(count(*killer, "SELECT pg_terminate_backend(" + std::to_string(pid) + ", 5000)::int"),
              1);
  };
  terminate();
  try {
    rows();
    FAIL() << "the lost connection went unreported";
  } catch (const StorageError& error) {
    EXPECT_EQ(error.failure(), Failure::kConnectionLost) << error.what();
  }
  insert(*db_, 1, "a");  // on a new session, in the same schema
  EXPECT_EQ(rows(), 1);

  // Inside a transaction the rest of it must not run on a new session.
  pid = count(*db_, "SELECT pg_backend_pid()");
  {
    Transaction transaction(*db_);
    insert(*db_, 2, "b");
    terminate();
    EXPECT_THROW(insert(*db_, 3, "c"), StorageError);
    try {
      insert(*db_, 4, "d");
      FAIL() << "a statement ran after its transaction was lost";
    } catch (const StorageError& error) {
      EXPECT_EQ(error.failure(), Failure::kConnectionLost);
    }
  }
  EXPECT_EQ(rows(), 1);
}

}  // namespace
}  // namespace verdict::storage
