#include "core/migrate.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>

#include "core/access/caller.hpp"
#include "core/engine.hpp"
#include "core/error.hpp"
#include "core/storage/catalog.hpp"
#include "tests/support/test_store.hpp"

namespace verdict::storage {
namespace {

namespace json = boost::json;

// A SQLite file such as a team would have after some weeks (experiments run, units assigned,
// conversions tracked, flags, a second project with a key, and a noun's table that a hook
// declared), copied into a fresh PostgreSQL schema. Registered only as postgres.CopyStoreTest.*.
class CopyStoreTest : public ::testing::Test {
 protected:
  // Units per experiment: the exposures of two fill more than one page of the comparison (5000
  // rows) and several inserts (1000 rows each).
  static constexpr int kUnits = 2600;

  void SetUp() override {
    if (!test_support::on_postgres()) {
      constexpr const char* kMissing =
          "CopyStoreTest copies into PostgreSQL: run it through ctest (postgres.CopyStoreTest.*), "
          "or set VERDICT_TEST_BACKEND=postgres and VERDICT_TEST_POSTGRES to a URL";
      if (test_support::in_ci()) FAIL() << kMissing;
      GTEST_SKIP() << kMissing;
    }
    source_ = (std::filesystem::temp_directory_path() /
               ("verdict-copy-" + std::to_string(std::random_device{}()) + ".db"))
                  .string();
    target_ = test_support::fresh_store();
  }

  void TearDown() override {
    if (source_.empty()) return;
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(source_ + suffix);
  }

  json::value run(Engine& engine, const std::string& noun, const std::string& verb,
                  json::object data = {}, std::string id = {},
                  const Caller& caller = Caller::local_operator()) {
    return engine.execute({.noun = noun,
                           .verb = verb,
                           .id = std::move(id),
                           .data = std::move(data),
                           .caller = caller});
  }

  // Two experiments run through their verbs, a flag evaluated, a project with a key and an
  // experiment of its own, and a hook noun's table.
  void build_source() {
    Engine engine(source_);
    for (const std::string name : {"Signup button", "Pricing page"}) {
      auto created =
          run(engine, "Experiment", "create",
              {{"name", name},
               {"primaryMetric", "signup"},
               {"seed", name + "-seed"},
               {"variants", json::array{{{"key", "control"}, {"name", "Control"}, {"weight", 50}},
                                        {{"key", "green"}, {"name", "Green"}, {"weight", 50}}}}});
      std::string id(created.at("id").as_string());
      experiments_.push_back(id);
      run(engine, "Experiment", "start", {}, id);
      json::array units, events;
      for (int i = 0; i < kUnits; ++i)
        units.push_back(json::object{{"unit", "u" + std::to_string(i)}});
      auto assignments =
          run(engine, "Experiment", "assign", {{"units", units}}, id).at("assignments").as_array();
      for (int i = 0; i < kUnits; ++i) {
        bool green = assignments[static_cast<std::size_t>(i)].at("variant") == "green";
        if (i % 10 < (green ? 3 : 1))
          events.push_back(json::object{
              {"unit", "u" + std::to_string(i)}, {"metric", "signup"}, {"value", 1.5 + i / 7.0}});
      }
      run(engine, "Experiment", "track", {{"events", events}}, id);
    }
    run(engine, "FeatureFlag", "create", {{"key", "new-checkout"}, {"name", "New checkout"}});
    run(engine, "FeatureFlag", "evaluate", {{"unit", "u1"}}, "new-checkout");
    engine.keys().create_project("acme", "Acme Inc.");
    secret_ = engine.keys().create_key("acme", Role::kWriter, "ci").secret;
    const Caller acme = engine.keys().operator_of("acme");
    run(engine, "Experiment", "create", {{"name", "Acme's test"}, {"primaryMetric", "buy"}}, {},
        acme);
    // A noun that a hook declared: its table has no counterpart in the built-in schema.
    engine.store().db().exec(
        "CREATE TABLE note (id TEXT PRIMARY KEY, version INTEGER NOT NULL, \"createdAt\" TEXT"
        " NOT NULL, \"updatedAt\" TEXT NOT NULL, project TEXT NOT NULL DEFAULT 'prj_default',"
        " body TEXT, score NUMERIC);"
        "INSERT INTO note VALUES ('n1', 1, 't', 't', 'prj_default', 'héllo', 3),"
        " ('n2', 2, 't', 't', 'prj_default', NULL, 0.1)");
  }

  std::int64_t rows(Connection& db, const std::string& table) {
    auto count = db.prepare("SELECT COUNT(*) FROM " + table);
    count.step();
    return count.column_int(0);
  }

  std::string source_;
  std::string target_;
  std::vector<std::string> experiments_;
  std::string secret_;
};

TEST_F(CopyStoreTest, CopiesEntitiesEventsStatisticsAndKeysAndVerifies) {
  build_source();
  CopyReport report = copy_store(source_, target_);
  EXPECT_EQ(report.to.find("password"), std::string::npos);
  auto entry = [&](std::string_view table) {
    auto found = std::ranges::find(report.tables, table, &TableCopy::table);
    EXPECT_NE(found, report.tables.end()) << table;
    return found == report.tables.end() ? TableCopy{} : *found;
  };
  EXPECT_EQ(entry("exposure").rows, 2 * kUnits);
  EXPECT_EQ(entry("project").rows, 2);
  EXPECT_EQ(entry("api_key").rows, 1);
  EXPECT_TRUE(entry("note").created);
  EXPECT_EQ(entry("note").rows, 2);
  EXPECT_FALSE(entry("event_log").created);
  // Referenced before referencing: the key's project exists when the key is inserted.
  EXPECT_LT(std::ranges::find(report.tables, "project", &TableCopy::table),
            std::ranges::find(report.tables, "api_key", &TableCopy::table));

  Engine source(source_);
  Engine target(target_);
  for (const auto& id : experiments_) {
    // Entities with their whole event history, and the analysis of the copied statistics.
    EXPECT_EQ(source.get("Experiment", id, true), target.get("Experiment", id, true));
    EXPECT_EQ(run(source, "Experiment", "analyze", {}, id),
              run(target, "Experiment", "analyze", {}, id));
  }
  EXPECT_EQ(source.get("FeatureFlag", "new-checkout", true),
            target.get("FeatureFlag", "new-checkout", true));
  auto projects = [](Engine& engine) {
    std::vector<std::string> out;
    for (const auto& p : engine.keys().projects())
      out.push_back(p.id + " " + p.slug + " " + p.name + " " + p.created_at);
    return out;
  };
  EXPECT_EQ(projects(source), projects(target));

  auto caller = target.keys().authenticate(secret_);
  ASSERT_TRUE(caller.has_value()) << "the key no longer authenticates";
  EXPECT_EQ(caller->project_slug, "acme");
  EXPECT_EQ(target.find(*caller, "Experiment", {}).items.size(), 1U);
  EXPECT_EQ(target.find("Experiment", {}).items.size(), 2U) << "projects stay apart";

  // The next event follows the copied ones rather than reusing a sequence number.
  auto history = source.get("Experiment", experiments_[0], true).at("history").as_array();
  auto last = rows(source.store().db(), "event_log");
  run(target, "Experiment", "update", {{"name", "Signup button, copied"}}, experiments_[0]);
  auto after = target.get("Experiment", experiments_[0], true).at("history").as_array();
  ASSERT_EQ(after.size(), history.size() + 1);
  EXPECT_GT(after.back().at("sequence").as_int64(), last);

  auto note = target.store().db().prepare("SELECT body, score FROM note ORDER BY id");
  ASSERT_TRUE(note.step());
  EXPECT_EQ(note.column_text(0), "héllo");
  EXPECT_EQ(note.column_double(1), 3);
  ASSERT_TRUE(note.step());
  EXPECT_TRUE(note.is_null(0));
  EXPECT_EQ(note.column_double(1), 0.1);
}

TEST_F(CopyStoreTest, RefusesATargetThatHoldsRowsNamingTheTable) {
  build_source();
  copy_store(source_, target_);
  try {
    copy_store(source_, target_);
    FAIL() << "a second copy into the same target was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kConflict);
    EXPECT_NE(std::string(error.what()).find("table '"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("already holds"), std::string::npos) << error.what();
  }
  Engine target(target_);
  EXPECT_EQ(rows(target.store().db(), "project"), 2) << "nothing was added by the refusal";
}

TEST_F(CopyStoreTest, AFailedCopyLeavesTheTargetAsItWas) {
  build_source();
  {
    // A value PostgreSQL's BIGINT cannot hold, in the last table copied: every other table is
    // written before the copy fails.
    Engine engine(source_);
    engine.store().db().exec("INSERT INTO variant_exposures VALUES ('x', 'not a number', 1)");
  }
  try {
    copy_store(source_, target_);
    FAIL() << "text in an integer column was copied";
  } catch (const StorageError& error) {
    EXPECT_NE(std::string(error.what()).find("table 'variant_exposures'"), std::string::npos)
        << error.what();
  }
  Engine target(target_);
  Connection& db = target.store().db();
  for (const char* table : {"event_log", "exposure", "metric_stats", "api_key", "experiment"})
    EXPECT_EQ(rows(db, table), 0) << table;
  EXPECT_EQ(rows(db, "project"), 1) << "only the default project that opening made";
  EXPECT_FALSE(has_table(db, "note")) << "the table made for the copy was rolled back";

  // With the bad row gone the same target takes the copy: nothing half-written is in the way.
  Engine(source_).store().db().exec("DELETE FROM variant_exposures WHERE experiment = 'x'");
  EXPECT_NO_THROW(copy_store(source_, target_));
}

TEST_F(CopyStoreTest, RefusesWrongLocationsNamingTheOption) {
  auto field_of = [](const std::string& from, const std::string& to) {
    try {
      copy_store(from, to);
    } catch (const Error& error) {
      return error.field();
    }
    return std::string("accepted");
  };
  EXPECT_EQ(field_of(source_, source_ + ".other"), "to");
  EXPECT_EQ(field_of(target_, target_), "from");
  EXPECT_EQ(field_of(source_, target_), "from") << "a missing file is not created";
  EXPECT_FALSE(std::filesystem::exists(source_));
}

}  // namespace
}  // namespace verdict::storage
