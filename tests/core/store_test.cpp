#include "core/store.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <set>

#include "core/error.hpp"
#include "core/json_style.hpp"
#include "tests/support/test_store.hpp"

namespace verdict {
namespace {

namespace json = boost::json;

json::object metric(std::string id, std::string name, json::value value, json::value type = {}) {
  json::object entity{{"id", std::move(id)},
                      {"version", 1},
                      {"createdAt", "2026-01-01T00:00:00.000Z"},
                      {"updatedAt", "2026-01-01T00:00:00.000Z"},
                      {"name", std::move(name)},
                      {"value", std::move(value)}};
  if (!type.is_null()) entity["type"] = std::move(type);
  return entity;
}

std::vector<std::string> ids(const FindResult& result) {
  std::vector<std::string> out;
  for (const auto& item : result.items) out.emplace_back(item.at("id").as_string());
  return out;
}

std::string error_field(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.field();
  }
  return "<no error>";
}

class StoreTest : public ::testing::Test {
 protected:
  Schema schema_ = Schema::builtin();
  Store store_{test_support::fresh_store(), schema_};
  const Noun& metric_ = schema_.noun("Metric");

  // m1..m5: value 10..50; m1, m2 typed Conversion, m3 Revenue, m4, m5 untyped.
  void seed_five() {
    store_.insert(metric_, metric("metric_00000001", "alpha", 10, "Conversion"));
    store_.insert(metric_, metric("metric_00000002", "beta", 20, "Conversion"));
    store_.insert(metric_, metric("metric_00000003", "gamma", 30.5, "Revenue"));
    store_.insert(metric_, metric("metric_00000004", "delta", 40));
    store_.insert(metric_, metric("metric_00000005", "epsilon", 50));
  }

  std::vector<std::string> match(const json::object& filter) {
    return ids(store_.find(metric_, {.filter = filter}));
  }
};

using Ids = std::vector<std::string>;

TEST_F(StoreTest, InsertThenGetRoundTripsTypes) {
  const Noun& experiment = schema_.noun("Experiment");
  json::object entity{{"id", "experiment_AAAAAAAA"},
                      {"version", 1},
                      {"createdAt", "2026-01-01T00:00:00.000Z"},
                      {"updatedAt", "2026-01-01T00:00:00.000Z"},
                      {"name", "Pricing"},
                      {"slug", "pricing"},
                      {"status", "Draft"},
                      {"banditEnabled", false},
                      {"trafficAllocation", 12.5},
                      {"sampleSize", 1000},
                      {"variants", json::array{{{"key", "a"}, {"weight", 50}}}}};
  store_.insert(experiment, entity);
  auto stored = store_.get(experiment, "experiment_AAAAAAAA");
  ASSERT_TRUE(stored);
  EXPECT_EQ(*stored, entity);
  EXPECT_EQ(store_.get(experiment, "pricing"), stored);
  EXPECT_FALSE(store_.get(experiment, "nope"));
  EXPECT_TRUE(store_.exists(experiment, "experiment_AAAAAAAA"));
  EXPECT_FALSE(store_.exists(experiment, "pricing"));
}

TEST_F(StoreTest, GetJsonSplicesStoredJsonAndRewritesOldDoubles) {
  const Noun& experiment = schema_.noun("Experiment");
  json::object entity{{"id", "experiment_AAAAAAAA"},
                      {"version", 1},
                      {"createdAt", "2026-01-01T00:00:00.000Z"},
                      {"updatedAt", "2026-01-01T00:00:00.000Z"},
                      {"name", "Line\nbreak"},
                      {"trafficAllocation", 12.5},
                      {"variants", json::array{{{"key", "a"}, {"weight", 0.5}, {"on", true}},
                                               {{"key", "e\"1"}, {"weight", 1e-9}}}}};
  store_.insert(experiment, entity);
  // Stored as replies write JSON: spliced as it is, in get's member order.
  auto object_text = [&] { return to_json_text(*store_.get(experiment, "experiment_AAAAAAAA")); };
  EXPECT_EQ(store_.get_json(experiment, "experiment_AAAAAAAA"), object_text());
  EXPECT_EQ(json::parse(*store_.get_json(experiment, "experiment_AAAAAAAA")), entity);
  // Files from earlier versions hold Boost.JSON's doubles (5E-1): rewritten, not spliced.
  store_.db().exec("UPDATE " + experiment.table + " SET \"variants\" = '" +
                   json::serialize(entity.at("variants")) + "'");
  ASSERT_NE(json::serialize(entity.at("variants")).find("E-1"), std::string::npos);
  auto text = store_.get_json(experiment, "experiment_AAAAAAAA");
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, object_text());
  EXPECT_NE(text->find(R"({"key":"a","weight":0.5,"on":true})"), std::string::npos) << *text;
  EXPECT_NE(text->find(R"("weight":1e-9)"), std::string::npos) << *text;
  EXPECT_FALSE(store_.get_json(experiment, "nope"));
}

TEST_F(StoreTest, FindsWithEachComparisonOperator) {
  seed_five();
  EXPECT_EQ(match({{"value", {{"$eq", 20}}}}), (Ids{"metric_00000002"}));
  EXPECT_EQ(match({{"value", {{"$ne", 20}}}}),
            (Ids{"metric_00000001", "metric_00000003", "metric_00000004", "metric_00000005"}));
  EXPECT_EQ(match({{"value", {{"$gt", 30.5}}}}), (Ids{"metric_00000004", "metric_00000005"}));
  EXPECT_EQ(match({{"value", {{"$gte", 30.5}}}}),
            (Ids{"metric_00000003", "metric_00000004", "metric_00000005"}));
  EXPECT_EQ(match({{"value", {{"$lt", 20}}}}), (Ids{"metric_00000001"}));
  EXPECT_EQ(match({{"value", {{"$lte", 20}}}}), (Ids{"metric_00000001", "metric_00000002"}));
  EXPECT_EQ(match({{"value", {{"$gt", 10}, {"$lt", 40}}}}),
            (Ids{"metric_00000002", "metric_00000003"}));
  EXPECT_EQ(match({{"name", "gamma"}}), (Ids{"metric_00000003"}));
}

TEST_F(StoreTest, NeAndNinIncludeMissingValues) {
  seed_five();
  EXPECT_EQ(match({{"type", {{"$ne", "Conversion"}}}}),
            (Ids{"metric_00000003", "metric_00000004", "metric_00000005"}));
  EXPECT_EQ(match({{"type", {{"$nin", json::array{"Conversion", "Revenue"}}}}}),
            (Ids{"metric_00000004", "metric_00000005"}));
  EXPECT_EQ(match({{"type", {{"$in", json::array{"Revenue", "Other"}}}}}),
            (Ids{"metric_00000003"}));
  EXPECT_EQ(match({{"type", {{"$in", json::array{}}}}}), Ids{});
  EXPECT_EQ(match({{"type", {{"$nin", json::array{}}}}}).size(), 5u);
}

TEST_F(StoreTest, ExistsAndNullEquality) {
  seed_five();
  EXPECT_EQ(match({{"type", {{"$exists", false}}}}), (Ids{"metric_00000004", "metric_00000005"}));
  EXPECT_EQ(match({{"type", {{"$exists", true}}}}).size(), 3u);
  EXPECT_EQ(match({{"type", nullptr}}), (Ids{"metric_00000004", "metric_00000005"}));
}

TEST_F(StoreTest, RegexMatchesAnywhereAndCanAnchor) {
  seed_five();
  EXPECT_EQ(match({{"name", {{"$regex", "ta$"}}}}), (Ids{"metric_00000002", "metric_00000004"}));
  EXPECT_EQ(match({{"name", {{"$regex", "^(alpha|gamma)$"}}}}),
            (Ids{"metric_00000001", "metric_00000003"}));
  EXPECT_EQ(match({{"type", {{"$regex", "."}}}}).size(), 3u);
}

TEST_F(StoreTest, RegexOnLongValuesDoesNotCrash) {
  // std::regex recurses per character and overflowed the stack on long values.
  store_.insert(metric_, metric("metric_00000001", std::string(60000, 'a'), 1));
  try {
    auto found = match({{"name", {{"$regex", "(a|b)*c"}}}});
    EXPECT_TRUE(found.empty());
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kLimitExceeded) << error.what();
    EXPECT_EQ(error.field(), "filter");
  }
  EXPECT_EQ(match({{"name", {{"$regex", "^a+$"}}}}).size(), 1u);
}

TEST_F(StoreTest, LogicalOperators) {
  seed_five();
  EXPECT_EQ(match({{"$or", json::array{{{"name", "alpha"}}, {{"value", {{"$gte", 50}}}}}}}),
            (Ids{"metric_00000001", "metric_00000005"}));
  EXPECT_EQ(match({{"$and", json::array{{{"type", "Conversion"}}, {{"value", {{"$gt", 10}}}}}}}),
            (Ids{"metric_00000002"}));
  EXPECT_EQ(match({{"$nor", json::array{{{"type", "Conversion"}}, {{"value", {{"$gte", 40}}}}}}}),
            (Ids{"metric_00000003"}));
  // Mixed top level: implicit AND with a logical operator.
  EXPECT_EQ(match({{"type", "Conversion"},
                   {"$or", json::array{{{"name", "beta"}}, {{"name", "gamma"}}}}}),
            (Ids{"metric_00000002"}));
}

TEST_F(StoreTest, NorMatchesEntitiesWhereTheFieldIsMissing) {
  seed_five();
  // MongoDB's $nor selects documents that fail every clause, including those without the field.
  EXPECT_EQ(match({{"$nor", json::array{{{"type", "Conversion"}}}}}),
            (Ids{"metric_00000003", "metric_00000004", "metric_00000005"}));
}

TEST_F(StoreTest, SortsAscendingAndDescending) {
  seed_five();
  EXPECT_EQ(ids(store_.find(metric_, {.sort = {{"value", "desc"}}})),
            (Ids{"metric_00000005", "metric_00000004", "metric_00000003", "metric_00000002",
                 "metric_00000001"}));
  EXPECT_EQ(ids(store_.find(metric_, {.sort = {{"name", "asc"}}})),
            (Ids{"metric_00000001", "metric_00000002", "metric_00000004", "metric_00000005",
                 "metric_00000003"}));
  // Ties broken by id; missing values sort first ascending.
  EXPECT_EQ(ids(store_.find(metric_, {.sort = {{"type", 1}, {"value", -1}}})),
            (Ids{"metric_00000005", "metric_00000004", "metric_00000002", "metric_00000001",
                 "metric_00000003"}));
}

TEST_F(StoreTest, LimitIsBoundedAndDefaultsTo20) {
  for (int i = 0; i < 25; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "metric_%08d", i);
    store_.insert(metric_, metric(id, "m", i));
  }
  EXPECT_EQ(FindQuery{}.limit, 20);
  EXPECT_EQ(store_.find(metric_, {}).items.size(), 20u);
  EXPECT_EQ(error_field([&] { store_.find(metric_, {.limit = 0}); }), "limit");
  EXPECT_EQ(error_field([&] { store_.find(metric_, {.limit = 1001}); }), "limit");
  EXPECT_EQ(error_field([&] { store_.find(metric_, {.limit = -1}); }), "limit");
  EXPECT_EQ(store_.find(metric_, {.limit = 1000}).items.size(), 25u);
  EXPECT_EQ(store_.find(metric_, {.limit = 1}).items.size(), 1u);
}

TEST_F(StoreTest, PagesThroughFiftyItemsWithoutDuplicatesOrGaps) {
  for (int i = 0; i < 50; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "metric_%08d", i);
    // Many equal values: the id tie-breaker must keep the order total.
    store_.insert(metric_, metric(id, "m", i % 4));
  }
  for (const char* direction : {"asc", "desc"}) {
    FindQuery query{.sort = {{"value", direction}}, .limit = 7};
    std::vector<std::string> seen;
    int pages = 0;
    do {
      auto page = store_.find(metric_, query);
      ASSERT_LE(page.items.size(), 7u);
      for (auto& id : ids(page)) seen.push_back(id);
      query.cursor = page.next_cursor;
      ASSERT_LT(++pages, 20) << "cursor never ends";
    } while (!query.cursor.empty());
    EXPECT_EQ(pages, 8) << direction;
    ASSERT_EQ(seen.size(), 50u) << direction;
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 50u) << direction;
    auto all = ids(store_.find(metric_, {.sort = {{"value", direction}}, .limit = 1000}));
    EXPECT_EQ(seen, all) << direction;
  }
}

TEST_F(StoreTest, CursorContinuesAfterTheLastRowEvenWhenEarlierRowsChange) {
  for (int i = 10; i < 20; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "metric_%08d", i);
    store_.insert(metric_, metric(id, "m", i));
  }
  auto first = store_.find(metric_, {.limit = 4});
  ASSERT_EQ(ids(first).back(), "metric_00000013");
  // Rows before the cursor come and go between pages: an offset would repeat or skip rows.
  store_.insert(metric_, metric("metric_00000001", "m", 1));
  store_.insert(metric_, metric("metric_00000002", "m", 2));
  store_.remove(metric_, "metric_00000010");
  EXPECT_EQ(ids(store_.find(metric_, {.limit = 2, .cursor = first.next_cursor})),
            (Ids{"metric_00000014", "metric_00000015"}));
}

TEST_F(StoreTest, KeysetPagesMatchTheFullOrderWithNullsDoublesAndMixedDirections) {
  const json::value values[] = {nullptr, 1, 2.5, 0.1 + 0.2, 0.30000000000000004, -7, 1e300};
  const json::value types[] = {nullptr, "Conversion", "Revenue"};
  for (int i = 0; i < 42; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "metric_%08d", i);
    store_.insert(metric_, metric(id, "m" + std::to_string(i % 5), values[i % 7], types[i % 3]));
  }
  const json::object sorts[] = {{{"value", "asc"}},
                                {{"value", "desc"}},
                                {{"type", "asc"}, {"value", "desc"}},
                                {{"type", "desc"}, {"value", "asc"}},
                                {{"type", "asc"}, {"value", "asc"}},
                                {{"version", "desc"}, {"createdAt", "desc"}},
                                {{"createdAt", "desc"}},
                                {{"name", "asc"}, {"id", "desc"}}};
  for (const auto& sort : sorts) {
    auto all = ids(store_.find(metric_, {.sort = sort, .limit = 1000}));
    ASSERT_EQ(all.size(), 42u);
    FindQuery query{.sort = sort, .limit = 4};
    std::vector<std::string> seen;
    do {
      auto page = store_.find(metric_, query);
      for (auto& id : ids(page)) seen.push_back(id);
      query.cursor = page.next_cursor;
      ASSERT_LT(seen.size(), 50u) << "cursor never ends";
    } while (!query.cursor.empty());
    EXPECT_EQ(seen, all) << json::serialize(sort);
  }
}

TEST_F(StoreTest, IndexedFilterPagesWithoutSortingEveryMatch) {
  auto& db = store_.db();
  const bool postgres = db.backend() == storage::Backend::kPostgres;
  if (postgres) {
    // A handful of rows is cheaper to scan and sort, so PostgreSQL's planner would not show
    // the index it has: made dear, a scan or sort appears only where no index serves.
    db.exec("SET enable_seqscan = off; SET enable_sort = off");
  }
  // PostgreSQL 15 explains no statement with parameters, so the values are written in.
  auto plan = [&](std::string sql) {
    for (std::string_view value : {"'prj_default'", "'m'", "'metric_00000001'"})
      sql.replace(sql.find('?'), 1, postgres ? value : "?");
    std::string steps;
    auto explain = db.prepare((postgres ? "EXPLAIN " : "EXPLAIN QUERY PLAN ") + sql);
    if (!postgres) explain.bind(1, "prj_default").bind(2, "m").bind(3, "metric_00000001");
    while (explain.step()) steps += explain.column_text(postgres ? 0 : 3) + "\n";
    return steps;
  };
  const char* sort_step = postgres ? "Sort" : "TEMP B-TREE";
  std::string by_name = plan(
      "SELECT \"id\" FROM \"metric\" WHERE \"project\" = ? AND \"name\" = ? AND \"id\" > ? "
      "ORDER BY \"id\" LIMIT 21");
  EXPECT_NE(by_name.find(postgres ? "metric_name_id" : "INDEX metric_name_id"), std::string::npos)
      << by_name;
  EXPECT_EQ(by_name.find(sort_step), std::string::npos) << by_name;
  std::string newest = plan(
      "SELECT \"id\" FROM \"metric\" WHERE \"project\" = ? AND (\"createdAt\", \"id\") > (?, ?) "
      "ORDER BY \"createdAt\", \"id\" LIMIT 21");
  EXPECT_EQ(newest.find(sort_step), std::string::npos) << newest;
}

TEST_F(StoreTest, LastFullPageHasNoCursor) {
  seed_five();
  auto page = store_.find(metric_, {.limit = 5});
  EXPECT_EQ(page.items.size(), 5u);
  EXPECT_TRUE(page.next_cursor.empty());
}

TEST_F(StoreTest, CursorFromAnotherQueryIsRefused) {
  seed_five();
  auto page = store_.find(metric_, {.filter = {{"value", {{"$gt", 0}}}}, .limit = 2});
  ASSERT_FALSE(page.next_cursor.empty());
  EXPECT_EQ(
      ids(store_.find(
          metric_, {.filter = {{"value", {{"$gt", 0}}}}, .limit = 2, .cursor = page.next_cursor})),
      (Ids{"metric_00000003", "metric_00000004"}));
  EXPECT_EQ(
      error_field([&] {
        store_.find(metric_, {.filter = {{"value", {{"$gt", 1}}}}, .cursor = page.next_cursor});
      }),
      "cursor");
  EXPECT_EQ(error_field([&] {
              store_.find(metric_, {.filter = {{"value", {{"$gt", 0}}}},
                                    .sort = {{"name", "asc"}},
                                    .cursor = page.next_cursor});
            }),
            "cursor");
  EXPECT_EQ(
      error_field([&] { store_.find(schema_.noun("Contact"), {.cursor = page.next_cursor}); }),
      "cursor");
  for (const char* forged : {"abc", "-1.5", "2", "2.x", "1e3.5", "7c", "00", "zz"})
    EXPECT_EQ(error_field([&] { store_.find(metric_, {.cursor = forged}); }), "cursor") << forged;
}

TEST_F(StoreTest, SqlLookingValuesAreBoundParameters) {
  seed_five();
  EXPECT_TRUE(match({{"name", "x' OR 1=1 --"}}).empty());
  EXPECT_TRUE(match({{"name", "\" OR 1=1 --"}}).empty());
  EXPECT_TRUE(match({{"name", {{"$in", json::array{"'); DROP TABLE metric; --"}}}}}).empty());
  EXPECT_TRUE(match({{"name", {{"$regex", "'; DROP TABLE metric; --"}}}}).empty());
  store_.insert(metric_, metric("metric_00000006", "x'); DROP TABLE metric; --", 1));
  EXPECT_EQ(match({{"name", "x'); DROP TABLE metric; --"}}), (Ids{"metric_00000006"}));
  EXPECT_EQ(store_.find(metric_, {.limit = 100}).items.size(), 6u);
  EXPECT_EQ(store_.count(metric_, {}), 6);
}

TEST_F(StoreTest, UpdateWithAStaleVersionIsAConflictAndChangesNothing) {
  store_.insert(metric_, metric("metric_00000001", "alpha", 10));
  auto changed = metric("metric_00000001", "alpha", 11);
  changed["version"] = 2;
  store_.update(metric_, changed, 1);
  auto stale = metric("metric_00000001", "alpha", 99);
  stale["version"] = 2;
  try {
    store_.update(metric_, stale, 1);
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kConflict);
    EXPECT_EQ(error.field(), "version");
  }
  auto stored = store_.get(metric_, "metric_00000001");
  EXPECT_EQ(stored->at("value"), 11);
  EXPECT_EQ(stored->at("version"), 2);
}

TEST_F(StoreTest, UniqueIndexRefusesDuplicates) {
  const Noun& flag = schema_.noun("FeatureFlag");
  auto make = [](std::string id) {
    return json::object{{"id", std::move(id)},       {"version", 1},
                        {"createdAt", "2026-01-01"}, {"updatedAt", "2026-01-01"},
                        {"key", "checkout"},         {"name", "n"}};
  };
  store_.insert(flag, make("featureFlag_00000001"));
  try {
    store_.insert(flag, make("featureFlag_00000002"));
    FAIL();
  } catch (const storage::StorageError& error) {
    EXPECT_EQ(error.failure(), storage::Failure::kUniqueViolation);
  }
  EXPECT_EQ(store_.find_unique(flag, *flag.field("key"), "checkout"), "featureFlag_00000001");
  EXPECT_FALSE(store_.find_unique(flag, *flag.field("key"), "other"));
}

TEST_F(StoreTest, EventLogIsAppendOnly) {
  auto sequence = store_.append_event({.type = "Metric.Created",
                                       .noun = "Metric",
                                       .entity_id = "metric_00000001",
                                       .verb = "create",
                                       .data = {{"name", "alpha"}},
                                       .actor = "claude"});
  EXPECT_GT(sequence, 0);
  try {
    store_.db().exec("UPDATE event_log SET verb = 'forged'");
    FAIL() << "UPDATE succeeded";
  } catch (const storage::StorageError& error) {
    EXPECT_NE(std::string(error.what()).find("append-only"), std::string::npos);
  }
  EXPECT_THROW(store_.db().exec("DELETE FROM event_log"), storage::StorageError);
  auto history = store_.history("metric_00000001");
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].verb, "create");
  EXPECT_EQ(history[0].actor, "claude");
  EXPECT_EQ(history[0].data, (json::object{{"name", "alpha"}}));
  EXPECT_FALSE(history[0].at.empty());
}

TEST_F(StoreTest, HistoryIsPerEntityInOrder) {
  for (const char* verb : {"create", "update", "delete"})
    store_.append_event(
        {.type = "Metric.X", .noun = "Metric", .entity_id = "metric_1", .verb = verb});
  store_.append_event(
      {.type = "Metric.X", .noun = "Metric", .entity_id = "metric_2", .verb = "create"});
  auto history = store_.history("metric_1");
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0].verb, "create");
  EXPECT_EQ(history[2].verb, "delete");
  EXPECT_LT(history[0].sequence, history[1].sequence);
  EXPECT_EQ(store_.events_since(history[2].sequence).size(), 1u);
  auto json = to_json(history[0]);
  EXPECT_EQ(json.at("entityId"), "metric_1");
  EXPECT_FALSE(json.contains("actor"));
}

TEST_F(StoreTest, RemoveDeletesTheRow) {
  seed_five();
  store_.remove(metric_, "metric_00000001");
  EXPECT_FALSE(store_.get(metric_, "metric_00000001"));
  EXPECT_EQ(store_.count(metric_, {}), 4);
}

class StoreFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("verdict_store_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db");
    Cleanup();
  }
  void TearDown() override { Cleanup(); }
  void Cleanup() {
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(path_.string() + suffix);
  }
  std::filesystem::path path_;
};

TEST_F(StoreFileTest, DataSurvivesCloseAndReopenInWalMode) {
  Schema schema = Schema::builtin();
  const Noun& metric_noun = schema.noun("Metric");
  {
    Store store(path_.string(), schema);
    {
      auto mode = store.db().prepare("PRAGMA journal_mode");
      ASSERT_TRUE(mode.step());
      EXPECT_EQ(mode.column_text(0), "wal");
    }
    storage::Transaction transaction(store.db());
    store.insert(metric_noun, metric("metric_00000001", "alpha", 10));
    store.append_event({.type = "Metric.Created",
                        .noun = "Metric",
                        .entity_id = "metric_00000001",
                        .verb = "create"});
    transaction.commit();
  }
  Store reopened(path_.string(), schema);
  auto stored = reopened.get(metric_noun, "metric_00000001");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->at("value"), 10);
  EXPECT_EQ(reopened.history("metric_00000001").size(), 1u);
  auto busy = reopened.db().prepare("PRAGMA busy_timeout");
  ASSERT_TRUE(busy.step());
  EXPECT_GT(busy.column_int(0), 0);
  auto keys = reopened.db().prepare("PRAGMA foreign_keys");
  ASSERT_TRUE(keys.step());
  EXPECT_EQ(keys.column_int(0), 1);
}

TEST_F(StoreFileTest, MigrationAddsColumnsAndKeepsRows) {
  Schema schema = Schema::builtin();
  {
    Store store(path_.string(), schema);
    store.insert(schema.noun("Metric"), metric("metric_00000001", "alpha", 10));
    // The single-column index of an indexed field, as files from before keyset paging have.
    store.db().exec("DROP INDEX metric_name_id; CREATE INDEX metric_name ON metric(name)");
  }
  schema.add_field("Metric", parse_field("unit", "string#"));
  Store store(path_.string(), schema);
  store.migrate();  // idempotent: the constructor already migrated
  std::set<std::string> columns;
  auto info = store.db().prepare("SELECT name FROM pragma_table_info('metric')");
  while (info.step()) columns.insert(info.column_text(0));
  EXPECT_TRUE(columns.contains("unit"));
  auto has_index = [&](const char* name) {
    auto index =
        store.db().prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?");
    index.bind(1, name);
    return index.step();
  };
  EXPECT_TRUE(has_index("metric_unit_id"));
  EXPECT_TRUE(has_index("metric_name_id"));
  EXPECT_TRUE(has_index("metric_createdAt_id"));
  EXPECT_FALSE(has_index("metric_name"));
  const Noun& metric_noun = schema.noun("Metric");
  auto old_row = store.get(metric_noun, "metric_00000001");
  ASSERT_TRUE(old_row);
  EXPECT_EQ(old_row->at("name"), "alpha");
  EXPECT_FALSE(old_row->contains("unit"));
  auto with_unit = metric("metric_00000002", "beta", 2);
  with_unit["unit"] = "ms";
  store.insert(metric_noun, with_unit);
  EXPECT_EQ(ids(store.find(metric_noun, {.filter = {{"unit", "ms"}}})), (Ids{"metric_00000002"}));
}

TEST_F(StoreTest, MigrateAtRunTimeOnTheSameStore) {
  seed_five();
  schema_.add_field("Metric", parse_field("unit", "string"));
  store_.migrate();
  auto row = store_.get(metric_, "metric_00000003");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->at("value"), 30.5);
  EXPECT_FALSE(row->contains("unit"));
  EXPECT_EQ(store_.count(metric_, {{"unit", {{"$exists", false}}}}), 5);
}

}  // namespace
}  // namespace verdict
