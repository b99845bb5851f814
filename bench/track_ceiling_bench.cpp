// The storage ceiling of `track` (issue 20), measured in one run beside the verb itself:
//  - BM_EngineTrack: the track verb through Engine::execute, batches of 10,000 conversions;
//  - BM_RawSqliteTrackStatements: the raw SQLite C API running the statements EventWriter runs
//    for a conversion (a repeat: one UPDATE; a first conversion: that UPDATE, the exposure read
//    and an insert) and per batch (statistics and observed conversions; the units the observed
//    boundary passes, counted once each), prepared once, on the same tables, with the same
//    PRAGMAs;
//  - BM_RawSqliteUpsertOnly: one prepared upsert per event without the exposure check, the
//    write-only ceiling.
// Each works on its own temp file with 100,000 units assigned through the engine, so the
// tables, indexes and page layout are Verdict's own. The statement texts are the verb's own
// (core/tracking/tracking_statements.hpp); TrackingStoreTest checks which of them a conversion
// runs. Not part of the test suite: `build/bench/track_ceiling_bench`.
#include <benchmark/benchmark.h>

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/engine.hpp"
#include "core/tracking/tracking_statements.hpp"

namespace {

namespace json = boost::json;
using verdict::Engine;

constexpr std::size_t kAssigned = 100000;
constexpr std::size_t kBatch = 10000;
// Two passes over the units: every benchmark runs the same mix of first and repeat conversions
// (a repeat is one statement, a first conversion three), whatever the machine's speed.
constexpr std::int64_t kIterations = 2 * kAssigned / kBatch;

std::string unit_name(std::size_t i) {
  return "user-" + std::to_string(i);
}

std::string temp_path() {
  static std::atomic<int> counter{0};
  return (std::filesystem::temp_directory_path() /
          ("verdict-track-ceiling-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) +
           ".db"))
      .string();
}

void remove_db(const std::string& path) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix, ec);
}

json::value execute(Engine& engine, const std::string& verb, const std::string& id,
                    json::object data = {}) {
  return engine.execute({.noun = "Experiment", .verb = verb, .id = id, .data = std::move(data)});
}

/// A running experiment with kAssigned units assigned and the metric declared, on a file.
struct Setup {
  std::string path = temp_path();
  std::string id;

  explicit Setup(Engine& engine) {
    id = std::string(execute(engine, "create", {},
                             {{"name", "Ceiling"},
                              {"primaryMetric", "purchase"},
                              {"variants", json::array{{{"key", "control"}, {"weight", 50}},
                                                       {{"key", "green"}, {"weight", 50}}}}})
                         .at("id")
                         .as_string());
    execute(engine, "start", id);
    for (std::size_t first = 0; first < kAssigned; first += 10000) {
      json::array units;
      for (std::size_t i = first; i < first + 10000; ++i)
        units.push_back(json::object{{"unit", unit_name(i)}});
      execute(engine, "assign", id, {{"units", std::move(units)}});
    }
    execute(engine, "track", id, {{"unit", unit_name(0)}, {"metric", "purchase"}});
  }
};

// The same row written blind: no exposure check, nothing read.
constexpr const char* kUpsert =
    "INSERT INTO unit_metric (experiment, metric, unit, variant, value, covariate, events, at)"
    " VALUES (?, ?, ?, ?, ?, ?, 1, ?) ON CONFLICT (experiment, metric, unit) DO UPDATE SET"
    " value = excluded.value, covariate = excluded.covariate, events = events + 1";

/// A prepared database file for the raw benchmarks, the engine closed; removed at the end.
struct PreparedFile {
  std::string path = temp_path();
  std::string id;

  PreparedFile() {
    Engine engine(path);
    id = Setup(engine).id;
  }
  PreparedFile(const PreparedFile&) = delete;
  PreparedFile& operator=(const PreparedFile&) = delete;
  ~PreparedFile() { remove_db(path); }
};

void check(int rc, sqlite3* db) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
    throw std::runtime_error(sqlite3_errmsg(db));
}

/// A raw connection with Verdict's PRAGMAs (core/sqlite.cpp) and statements prepared once.
class Raw {
 public:
  explicit Raw(const std::string& path) {
    check(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr),
          db_);
    check(sqlite3_exec(db_,
                       "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                       "PRAGMA foreign_keys=ON;",
                       nullptr, nullptr, nullptr),
          db_);
  }
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;
  ~Raw() {
    for (auto* statement : statements_) sqlite3_finalize(statement);
    sqlite3_close_v2(db_);
  }

  sqlite3_stmt* prepare(const char* sql) {
    sqlite3_stmt* statement = nullptr;
    check(sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement, nullptr), db_);
    statements_.push_back(statement);
    return statement;
  }
  sqlite3* handle() const { return db_; }
  void exec(const char* sql) { check(sqlite3_exec(db_, sql, nullptr, nullptr, nullptr), db_); }
  void run(sqlite3_stmt* statement) {
    int rc;
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
    }
    check(rc, db_);
    sqlite3_reset(statement);
  }

 private:
  sqlite3* db_ = nullptr;
  std::vector<sqlite3_stmt*> statements_;
};

void bind_text(sqlite3_stmt* statement, int index, const std::string& text) {
  sqlite3_bind_text(statement, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

std::vector<std::string> units() {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < kAssigned; ++i) names.push_back(unit_name(i));
  return names;
}

void BM_EngineTrack(benchmark::State& state) {
  std::string path = temp_path();
  {
    Engine engine(path);
    Setup setup(engine);
    std::vector<verdict::VerbRequest> requests;
    for (std::size_t first = 0; first + kBatch <= kAssigned; first += kBatch) {
      json::array events;
      for (std::size_t i = first; i < first + kBatch; ++i)
        events.push_back(json::object{{"unit", unit_name(i)}, {"metric", "purchase"}});
      requests.push_back({.noun = "Experiment",
                          .verb = "track",
                          .id = setup.id,
                          .data = {{"events", std::move(events)}}});
    }
    std::size_t i = 0;
    for (auto _ : state) benchmark::DoNotOptimize(engine.execute(requests[i++ % requests.size()]));
  }
  remove_db(path);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
}
BENCHMARK(BM_EngineTrack)->Unit(benchmark::kMillisecond)->Iterations(kIterations);

void BM_RawSqliteTrackStatements(benchmark::State& state) {
  PreparedFile file;
  const std::string& id = file.id;
  {
    Raw raw(file.path);
    auto* count = raw.prepare(verdict::tracking::sql::kCountEvent);
    auto* exposure = raw.prepare(verdict::tracking::sql::kReadExposure);
    auto* insert = raw.prepare(verdict::tracking::sql::kInsertUnitRow);
    auto* apply = raw.prepare(verdict::tracking::sql::kApplyStats);
    // The batch's conversions, all of observed units once the boundary has moved to its
    // newest unit; TrackingStore::set_sequence counts the units it passes, once each.
    auto* observe_conversions = raw.prepare(verdict::tracking::sql::kAddObservedConversions);
    auto* observe_units = raw.prepare(verdict::tracking::sql::kObserveUnits);
    auto* sequence =
        raw.prepare("UPDATE exposure_sequence SET observed_through = ? WHERE experiment = ?");
    std::int64_t observed_through = 0;
    {
      auto* read =
          raw.prepare("SELECT observed_through FROM exposure_sequence WHERE experiment = ?");
      bind_text(read, 1, id);
      if (sqlite3_step(read) == SQLITE_ROW) observed_through = sqlite3_column_int64(read, 0);
      sqlite3_reset(read);
    }
    const std::string metric = "purchase", at = "2026-01-01T00:00:00.000Z";
    // Bound once, as EventWriter binds them once per batch; bindings survive a reset.
    for (auto* statement : {count, exposure, insert}) bind_text(statement, 1, id);
    bind_text(insert, 7, at);
    const auto names = units();
    std::size_t next = 0;
    for (auto _ : state) {
      raw.exec("BEGIN IMMEDIATE");
      double sums[2] = {0, 0};
      std::int64_t newest = 0;
      for (std::size_t k = 0; k < kBatch; ++k) {
        const std::string& unit = names[next++ % kAssigned];
        bind_text(count, 2, metric);
        bind_text(count, 3, unit);
        raw.run(count);
        if (sqlite3_changes(raw.handle()) == 1) continue;
        bind_text(exposure, 2, unit);
        if (sqlite3_step(exposure) != SQLITE_ROW) throw std::runtime_error("unassigned unit");
        int variant = sqlite3_column_int(exposure, 0);
        std::int64_t sequence = sqlite3_column_int64(exposure, 1);
        sqlite3_reset(exposure);
        newest = std::max(newest, sequence);
        bind_text(insert, 2, metric);
        bind_text(insert, 3, unit);
        sqlite3_bind_int(insert, 4, variant);
        sqlite3_bind_double(insert, 5, 1.0);
        sqlite3_bind_null(insert, 6);
        sqlite3_bind_int64(insert, 8, sequence);
        raw.run(insert);
        sums[variant] += 1.0;
      }
      for (int variant = 0; variant < 2; ++variant) {
        // A batch of repeats changes no statistic: the verb writes none.
        if (sums[variant] == 0) continue;
        bind_text(apply, 1, id);
        bind_text(apply, 2, metric);
        sqlite3_bind_int(apply, 3, variant);
        for (int column = 4; column <= 9; ++column) sqlite3_bind_double(apply, column, 0);
        sqlite3_bind_double(apply, 4, sums[variant]);
        sqlite3_bind_double(apply, 5, sums[variant]);
        raw.run(apply);
        bind_text(observe_conversions, 1, id);
        bind_text(observe_conversions, 2, metric);
        sqlite3_bind_int(observe_conversions, 3, variant);
        sqlite3_bind_int64(observe_conversions, 4, static_cast<std::int64_t>(sums[variant]));
        raw.run(observe_conversions);
      }
      if (newest > observed_through) {
        bind_text(observe_units, 1, id);
        sqlite3_bind_int64(observe_units, 2, observed_through);
        sqlite3_bind_int64(observe_units, 3, newest);
        raw.run(observe_units);
        observed_through = newest;
        sqlite3_bind_int64(sequence, 1, newest);
        bind_text(sequence, 2, id);
        raw.run(sequence);
      }
      raw.exec("COMMIT");
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
}
BENCHMARK(BM_RawSqliteTrackStatements)->Unit(benchmark::kMillisecond)->Iterations(kIterations);

void BM_RawSqliteUpsertOnly(benchmark::State& state) {
  PreparedFile file;
  const std::string& id = file.id;
  {
    Raw raw(file.path);
    auto* upsert = raw.prepare(kUpsert);
    const std::string metric = "purchase", at = "2026-01-01T00:00:00.000Z";
    const auto names = units();
    std::size_t next = 0;
    for (auto _ : state) {
      raw.exec("BEGIN IMMEDIATE");
      for (std::size_t k = 0; k < kBatch; ++k) {
        std::size_t i = next++ % kAssigned;
        bind_text(upsert, 1, id);
        bind_text(upsert, 2, metric);
        bind_text(upsert, 3, names[i]);
        sqlite3_bind_int(upsert, 4, static_cast<int>(i % 2));
        sqlite3_bind_double(upsert, 5, 1.0);
        sqlite3_bind_null(upsert, 6);
        bind_text(upsert, 7, at);
        raw.run(upsert);
      }
      raw.exec("COMMIT");
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
}
BENCHMARK(BM_RawSqliteUpsertOnly)->Unit(benchmark::kMillisecond)->Iterations(kIterations);

}  // namespace
