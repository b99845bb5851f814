// A database written before projects existed (main at 9ae4b8c) opens with its data in `default`.
#include <gtest/gtest.h>

#include "core/engine.hpp"
#include "core/error.hpp"
#include "core/filter.hpp"
#include "core/storage/sqlite_connection.hpp"
#include "tests/support/server_process.hpp"

namespace verdict {
namespace {

namespace json = boost::json;

// The layout the previous release wrote, statement for statement: noun tables without a
// project, unique indexes on the field alone, the event log and exposures without projects.
void write_previous_schema(storage::Connection& db, const Schema& schema) {
  db.exec(R"(
    CREATE TABLE event_log (
      sequence INTEGER PRIMARY KEY AUTOINCREMENT,
      type TEXT NOT NULL, noun TEXT NOT NULL, entity_id TEXT NOT NULL, verb TEXT NOT NULL,
      data TEXT NOT NULL, actor TEXT, at TEXT NOT NULL);
    CREATE INDEX event_log_entity ON event_log(entity_id, sequence);
    CREATE TRIGGER event_log_no_update BEFORE UPDATE ON event_log
      BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
    CREATE TRIGGER event_log_no_delete BEFORE DELETE ON event_log
      BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
    CREATE TABLE exposure (
      experiment TEXT NOT NULL, unit TEXT NOT NULL, variant INTEGER NOT NULL,
      variant_key TEXT NOT NULL, bucket REAL NOT NULL, at TEXT NOT NULL,
      sequence INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (experiment, unit)) WITHOUT ROWID;
    CREATE TABLE unit_metric (
      experiment TEXT NOT NULL, metric TEXT NOT NULL, unit TEXT NOT NULL, variant INTEGER NOT NULL,
      value REAL NOT NULL, covariate REAL, events INTEGER NOT NULL, at TEXT,
      PRIMARY KEY (experiment, metric, unit)) WITHOUT ROWID;)");
  for (const auto& noun : schema.nouns()) {
    std::string table = quote_identifier(noun->table);
    db.exec("CREATE TABLE " + table +
            " (\"id\" TEXT PRIMARY KEY, \"version\" INTEGER NOT NULL, \"createdAt\" TEXT NOT NULL,"
            " \"updatedAt\" TEXT NOT NULL)");
    for (const auto& field : noun->fields) {
      db.exec("ALTER TABLE " + table + " ADD COLUMN " + quote_identifier(field.name) + " " +
              (field.type == FieldType::kNumber    ? "NUMERIC"
               : field.type == FieldType::kBoolean ? "INTEGER"
                                                   : "TEXT"));
      if (field.indexed || field.unique)
        db.exec(std::string("CREATE ") + (field.unique ? "UNIQUE " : "") + "INDEX " +
                quote_identifier(noun->table + "_" + field.name) + " ON " + table + "(" +
                quote_identifier(field.name) + ")");
    }
  }
}

class LegacyDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override { test_support::remove_database(path_); }
  void TearDown() override { test_support::remove_database(path_); }
  std::string path_ = test_support::temp_path("legacy_database", "db");
};

TEST_F(LegacyDatabaseTest, OpensWithItsDataInTheDefaultProject) {
  Schema schema = Schema::builtin();
  const Noun& experiments = schema.noun("Experiment");
  std::string id = experiments.id_prefix + "_Old00001";
  {
    storage::SqliteConnection db(path_);
    write_previous_schema(db, schema);
    auto insert = db.prepare("INSERT INTO " + quote_identifier(experiments.table) +
                             " (id, version, createdAt, updatedAt, name, slug, status)"
                             " VALUES (?, 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z',"
                             " 'Legacy', 'legacy', 'Draft')");
    insert.bind(1, id).run();
    auto event = db.prepare(
        "INSERT INTO event_log (type, noun, entity_id, verb, data, actor, at) VALUES"
        " ('Experiment.Created', 'Experiment', ?, 'create', '{}', 'stdio',"
        " '2026-01-01T00:00:00Z')");
    event.bind(1, id).run();
    auto exposure = db.prepare(
        "INSERT INTO exposure (experiment, unit, variant, variant_key, bucket, at, sequence)"
        " VALUES (?, 'u1', 0, 'control', 0.25, '2026-01-01T00:00:00Z', 1)");
    exposure.bind(1, id).run();
    auto converted = db.prepare(
        "INSERT INTO unit_metric (experiment, metric, unit, variant, value, events, at)"
        " VALUES (?, 'purchase', 'u1', 0, 1, 1, '2026-01-01T00:00:01Z')");
    converted.bind(1, id).run();
  }

  Engine engine(path_);
  auto legacy = engine.get("Experiment", "legacy", true);
  EXPECT_EQ(legacy.at("id").as_string(), id);
  ASSERT_EQ(legacy.at("history").as_array().size(), 1u);
  EXPECT_EQ(legacy.at("history").at(0).at("actor"), "stdio");
  FindQuery query;
  query.filter = {{"subject", id}};
  EXPECT_EQ(engine.find("Event", query).items.size(), 2u)
      << "the old exposure and conversion are in default";
  // The per-unit rows now carry their exposure's sequence, which tracking returns.
  auto sequence = engine.store().db().prepare("SELECT sequence FROM unit_metric WHERE unit = 'u1'");
  ASSERT_TRUE(sequence.step());
  EXPECT_EQ(sequence.column_int(0), 1);

  engine.keys().create_project("acme", "");
  Caller acme = engine.keys().operator_of("acme");
  EXPECT_THROW(engine.get(acme, "Experiment", "legacy"), Error);
  EXPECT_TRUE(engine.find(acme, "Event", query).items.empty());
  // The old index made the slug unique across the file; now it is unique per project.
  auto theirs = engine.execute(
      {.noun = "Experiment", .verb = "create", .data = {{"name", "Legacy"}}, .caller = acme});
  EXPECT_EQ(theirs.at("slug"), "legacy");
  auto ours =
      engine.execute({.noun = "Experiment", .verb = "create", .data = {{"name", "Legacy"}}});
  EXPECT_EQ(ours.at("slug"), "legacy-2");
  auto updated = engine.execute(
      {.noun = "Experiment", .verb = "update", .id = "legacy", .data = {{"description", "kept"}}});
  EXPECT_EQ(updated.at("version"), 2);
}

}  // namespace
}  // namespace verdict
