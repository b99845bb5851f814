#include "core/sqlite.hpp"

#include <gtest/gtest.h>

namespace verdict::sqlite {
namespace {

class SqliteTest : public ::testing::Test {
 protected:
  void SetUp() override { db_.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"); }

  void insert(std::int64_t id, std::string_view name) {
    db_.prepare("INSERT INTO t (id, name) VALUES (?, ?)").bind(1, id).bind(2, name).run();
  }

  std::int64_t rows() {
    auto statement = db_.prepare("SELECT COUNT(*) FROM t");
    statement.step();
    return statement.column_int(0);
  }

  Database db_{":memory:"};
};

TEST_F(SqliteTest, TransactionCommits) {
  {
    Transaction transaction(db_);
    EXPECT_TRUE(db_.in_transaction());
    insert(1, "a");
    transaction.commit();
  }
  EXPECT_FALSE(db_.in_transaction());
  EXPECT_EQ(rows(), 1);
}

TEST_F(SqliteTest, TransactionRollsBackUnlessCommitted) {
  {
    Transaction transaction(db_);
    insert(1, "a");
  }
  EXPECT_FALSE(db_.in_transaction());
  EXPECT_EQ(rows(), 0);
}

TEST_F(SqliteTest, TransactionRollsBackWhenAnExceptionUnwinds) {
  try {
    Transaction transaction(db_);
    insert(1, "a");
    insert(2, "a");  // unique violation
    transaction.commit();
    FAIL();
  } catch (const StorageError& error) {
    EXPECT_EQ(error.code(), SQLITE_CONSTRAINT_UNIQUE);
  }
  EXPECT_FALSE(db_.in_transaction());
  EXPECT_EQ(rows(), 0);
}

TEST_F(SqliteTest, NestedTransactionRollsBackToItsSavepointOnly) {
  {
    Transaction outer(db_);
    insert(1, "outer");
    {
      Transaction inner(db_);
      insert(2, "inner");
      EXPECT_EQ(rows(), 2);
    }  // not committed: back to the savepoint
    EXPECT_TRUE(db_.in_transaction());
    EXPECT_EQ(rows(), 1);
    {
      Transaction inner(db_);
      insert(3, "kept");
      inner.commit();
    }
    EXPECT_TRUE(db_.in_transaction());
    outer.commit();
  }
  EXPECT_EQ(rows(), 2);
  auto statement = db_.prepare("SELECT name FROM t ORDER BY id");
  ASSERT_TRUE(statement.step());
  EXPECT_EQ(statement.column_text(0), "outer");
  ASSERT_TRUE(statement.step());
  EXPECT_EQ(statement.column_text(0), "kept");
}

TEST_F(SqliteTest, OuterRollbackDiscardsCommittedInnerWork) {
  {
    Transaction outer(db_);
    Transaction inner(db_);
    insert(1, "a");
    inner.commit();
  }
  EXPECT_EQ(rows(), 0);
}

TEST_F(SqliteTest, BindsAndReadsEveryType) {
  db_.exec("CREATE TABLE v (i INTEGER, d REAL, s TEXT, n TEXT)");
  db_.prepare("INSERT INTO v VALUES (?, ?, ?, ?)")
      .bind(1, std::int64_t{1} << 40)
      .bind(2, 2.5)
      .bind(3, std::string_view("he\0llo", 6))
      .bind(4, nullptr)
      .run();
  auto statement = db_.prepare("SELECT i, d, s, n FROM v");
  ASSERT_TRUE(statement.step());
  EXPECT_EQ(statement.column_count(), 4);
  EXPECT_EQ(statement.column_int(0), std::int64_t{1} << 40);
  EXPECT_EQ(statement.column_double(1), 2.5);
  EXPECT_EQ(statement.column_text(2), std::string("he\0llo", 6));
  EXPECT_TRUE(statement.is_null(3));
  EXPECT_EQ(statement.column_text(3), "");
  EXPECT_EQ(statement.column_name(2), "s");
  EXPECT_FALSE(statement.step());
}

TEST_F(SqliteTest, CachedStatementIsResetAndRebound) {
  insert(1, "a");
  insert(2, "b");
  for (int round = 0; round < 3; ++round) {
    auto statement = db_.prepare("SELECT name FROM t WHERE id = ?");
    statement.bind(1, 2);
    ASSERT_TRUE(statement.step());  // the previous handle left it mid-step
    EXPECT_EQ(statement.column_text(0), "b");
  }
}

TEST_F(SqliteTest, PrepareErrorsCarryTheSql) {
  try {
    db_.prepare("SELECT nope FROM t");
    FAIL();
  } catch (const StorageError& error) {
    EXPECT_EQ(error.code(), SQLITE_ERROR);
    EXPECT_NE(std::string(error.what()).find("nope"), std::string::npos);
  }
  EXPECT_THROW(db_.exec("NOT SQL"), StorageError);
}

TEST_F(SqliteTest, RegexpFunctionSearchesAndReportsBadPatterns) {
  auto match = [&](const char* pattern, const char* subject) {
    auto statement = db_.prepare("SELECT ? REGEXP ?");
    statement.bind(1, subject).bind(2, pattern);
    statement.step();
    return statement.column_int(0);
  };
  EXPECT_EQ(match("b+", "abbc"), 1);
  EXPECT_EQ(match("^b", "abbc"), 0);
  try {
    match("(", "x");
    FAIL();
  } catch (const StorageError& error) {
    EXPECT_NE(std::string(error.what()).find("$regex"), std::string::npos) << error.what();
  }
}

TEST_F(SqliteTest, RegexpOnLongSubjectsFailsCleanly) {
  db_.exec("CREATE TABLE long (s TEXT)");
  db_.prepare("INSERT INTO long VALUES (?)").bind(1, std::string(65536, 'a')).run();
  auto count = [&](const char* pattern) {
    auto statement = db_.prepare("SELECT COUNT(*) FROM long WHERE s REGEXP ?");
    statement.bind(1, pattern);
    statement.step();
    return statement.column_int(0);
  };
  EXPECT_EQ(count("a$"), 1);
  // Quadratic backtracking over 64 KiB: the complexity bound must end it with a clear error,
  // never a silent "no match" (issue 12: the test passed either way).
  try {
    count("(a|b)*c");
    ADD_FAILURE() << "the regex complexity bound did not fire";
  } catch (const StorageError& error) {
    EXPECT_NE(std::string(error.what()).find("$regex: pattern too complex"), std::string::npos)
        << error.what();
  }
}

TEST(SqliteOpenTest, UnopenablePathThrows) {
  EXPECT_THROW(Database("/nonexistent-dir/verdict/x.db"), StorageError);
}

}  // namespace
}  // namespace verdict::sqlite
