// The statement cache and the per-query budget (issue 12, items 12 and 13).

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <string>

#include "core/error.hpp"
#include "core/filter.hpp"
#include "core/schema.hpp"
#include "core/storage/sqlite_connection.hpp"

namespace verdict::storage {
namespace {

namespace json = boost::json;

TEST(StatementCacheTest, KeepsTheMostRecentlyUsedOnly) {
  SqliteConnection db(":memory:");
  db.exec("CREATE TABLE t (x INTEGER)");
  for (int i = 0; i < 1000; ++i) {
    auto statement = db.prepare("SELECT " + std::to_string(i) + " FROM t");
    statement.step();
  }
  EXPECT_EQ(db.cached_statements(), SqliteConnection::kCachedStatements);
}

TEST(StatementCacheTest, ABorrowedStatementOutlivesEviction) {
  SqliteConnection db(":memory:");
  db.exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3);");
  auto held = db.prepare("SELECT x FROM t ORDER BY x");
  ASSERT_TRUE(held.step());
  for (int i = 0; i < 2 * static_cast<int>(SqliteConnection::kCachedStatements); ++i)
    db.prepare("SELECT " + std::to_string(i)).step();
  // Still the same, still mid-iteration (a finalized statement would be a use after free).
  EXPECT_EQ(held.column_int(0), 1);
  ASSERT_TRUE(held.step());
  EXPECT_EQ(held.column_int(0), 2);
  EXPECT_LE(db.cached_statements(), SqliteConnection::kCachedStatements + 1);
}

TEST(QueryBudgetTest, ARunawayQueryStopsWithALimitError) {
  SqliteConnection db(":memory:");
  db.set_query_timeout(std::chrono::milliseconds(50));
  auto statement = db.prepare(
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT COUNT(*) FROM n");
  try {
    statement.step();
    FAIL() << "an endless query finished";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kLimitExceeded);
    EXPECT_NE(std::string(error.what()).find("stopped after 50 ms"), std::string::npos)
        << error.what();
  }
}

TEST(QueryBudgetTest, EachQueryGetsAFreshBudget) {
  SqliteConnection db(":memory:");
  db.set_query_timeout(std::chrono::milliseconds(50));
  auto endless = [&] {
    db.prepare(
          "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
          "SELECT COUNT(*) FROM n")
        .step();
  };
  EXPECT_THROW(endless(), Error);
  // The budget of the stopped query does not leak into the next one.
  auto quick = db.prepare("SELECT 42");
  ASSERT_TRUE(quick.step());
  EXPECT_EQ(quick.column_int(0), 42);
}

TEST(QueryBudgetTest, InListsOfAnyLengthShareOneSqlText) {
  Schema schema = Schema::builtin();
  const Noun& experiment = schema.noun("Experiment");
  auto sql_for = [&](int length) {
    json::array names;
    for (int i = 0; i < length; ++i) names.emplace_back("n" + std::to_string(i));
    return compile_filter(experiment, {{"name", {{"$in", names}}}, {"slug", {{"$nin", names}}}});
  };
  auto one = sql_for(1);
  auto many = sql_for(1000);
  EXPECT_EQ(one.sql, many.sql);
  ASSERT_EQ(many.params.size(), 2u);
  EXPECT_EQ(json::parse(many.params[0].as_string()).as_array().size(), 1000u);
}

}  // namespace
}  // namespace verdict::storage
