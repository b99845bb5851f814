// Assignment, tracking and analysis throughput in-process (issue 6):
//  - assignment for a cached experiment: Allocation::assign alone (target 1,000,000/s) and the
//    full assign verb through Engine::execute, one unit or a batch per call;
//  - tracked events per second through the track verb with {events: [...]} batches on a file
//    database (target 500,000/s);
//  - analyze latency for an experiment with 10 million units (target under 5 ms).
// Each Engine::execute is its own committed transaction (WAL, synchronous=NORMAL), as the server
// commits a group of pipelined lines; the server's figures come from bench/verdict_load.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/assignment/allocation.hpp"
#include "core/engine.hpp"
#include "plugins/lua_hook_runner.hpp"

namespace {

namespace json = boost::json;
using verdict::Engine;
using verdict::VerbRequest;

constexpr std::size_t kUnits = 1 << 16;  // a power of two, so an index wraps with a mask

std::string unit_name(std::size_t i) {
  return "user-" + std::to_string(i);
}

/// A database file in the temp directory, removed with its WAL and shared-memory files.
class TempDb {
 public:
  TempDb() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("verdict-tracking-bench-" + std::to_string(::getpid()) + "-" +
             std::to_string(counter++) + ".db");
  }
  TempDb(const TempDb&) = delete;
  TempDb& operator=(const TempDb&) = delete;
  ~TempDb() {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(path_.string() + suffix, ec);
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

/// An engine on ":memory:" (memory = true) or on a fresh temp file.
struct Fixture {
  explicit Fixture(bool memory) : engine(memory ? ":memory:" : db.path()) {}
  TempDb db;
  Engine engine;
};

json::value execute(Engine& engine, const std::string& verb, const std::string& id,
                    json::object data = {}) {
  return engine.execute({.noun = "Experiment", .verb = verb, .id = id, .data = std::move(data)});
}

/// A started two-variant experiment with `primaryMetric` purchase and `metrics` (a CSV).
std::string start_experiment(Engine& engine, const std::string& metrics = {}, bool bandit = false) {
  json::object data{{"name", "Checkout button color"},
                    {"primaryMetric", "purchase"},
                    {"variants", json::array{{{"key", "control"}, {"weight", 50}},
                                             {{"key", "green"}, {"weight", 50}}}}};
  if (!metrics.empty()) data["metrics"] = metrics;
  if (bandit) data["banditEnabled"] = true;
  std::string id(execute(engine, "create", {}, std::move(data)).at("id").as_string());
  execute(engine, "start", id);
  return id;
}

json::object units_batch(std::size_t first, std::size_t count) {
  json::array units;
  for (std::size_t i = first; i < first + count; ++i)
    units.push_back(json::object{{"unit", unit_name(i)}});
  return {{"units", std::move(units)}};
}

// The hash and the range scan alone: what a cached experiment costs per unit.
void BM_AllocationAssign(benchmark::State& state) {
  std::vector<std::string> units;
  for (std::size_t i = 0; i < kUnits; ++i) units.push_back(unit_name(i));
  const std::vector<double> weights{0.5, 0.5};
  const verdict::assignment::Allocation allocation("experiment_7aREuemo", 1.0, weights, 2);
  std::size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(allocation.assign(units[i++ & (kUnits - 1)]));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AllocationAssign);

// The assign verb for one new unit per call: load the experiment, hash, record the exposure,
// commit. Arg 0: ":memory:", 1: temp file, 2: temp file with the shipped Lua hooks installed
// (as `verdict serve` runs), so the hook host's per-verb cost shows.
void BM_EngineAssignOne(benchmark::State& state) {
  Fixture fixture(state.range(0) == 0);
  std::shared_ptr<verdict::plugins::LuaHookRunner> hooks;
  if (state.range(0) == 2) {
    hooks = std::make_shared<verdict::plugins::LuaHookRunner>(fixture.engine,
                                                              verdict::plugins::HookOptions{});
    fixture.engine.set_hooks(hooks);
  }
  std::string id = start_experiment(fixture.engine);
  std::size_t i = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(execute(fixture.engine, "assign", id, {{"unit", unit_name(i++)}}));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EngineAssignOne)->ArgName("db")->Arg(0)->Arg(1)->Arg(2);

// The assign verb with {units: [...]}: one transaction per batch of new units.
// Args: db (0 memory, 1 file), batch size.
void BM_EngineAssignBatch(benchmark::State& state) {
  Fixture fixture(state.range(0) == 0);
  std::string id = start_experiment(fixture.engine);
  const auto batch = static_cast<std::size_t>(state.range(1));
  std::size_t next = 0;
  for (auto _ : state) {
    state.PauseTiming();
    json::object data = units_batch(next, batch);
    next += batch;
    state.ResumeTiming();
    benchmark::DoNotOptimize(execute(fixture.engine, "assign", id, std::move(data)));
  }
  state.SetItemsProcessed(state.iterations() * state.range(1));
}
BENCHMARK(BM_EngineAssignBatch)
    ->ArgNames({"db", "batch"})
    ->Args({0, 1000})
    ->Args({1, 1000})
    ->Args({1, 10000})
    ->Unit(benchmark::kMillisecond);

// The track verb with {events: [...]} on a temp file: each event looks up the unit's exposure,
// upserts its per-unit value and updates the sufficient statistics. 100,000 units are assigned
// first; batches cycle through them. Args: batch size, value (0: conversions, 1: a mean metric
// with a covariate), bandit (1: a bandit, whose posterior follows every track of its primary
// metric).
void BM_TrackBatch(benchmark::State& state) {
  constexpr std::size_t kAssigned = 100000;
  Fixture fixture(false);
  std::string id = start_experiment(fixture.engine, {}, state.range(2) != 0);
  for (std::size_t first = 0; first < kAssigned; first += 10000)
    execute(fixture.engine, "assign", id, units_batch(first, 10000));
  const auto batch = static_cast<std::size_t>(state.range(0));
  const bool values = state.range(1) != 0;
  std::vector<VerbRequest> requests;
  for (std::size_t first = 0; first + batch <= kAssigned; first += batch) {
    json::array events;
    for (std::size_t i = first; i < first + batch; ++i) {
      json::object event{{"unit", unit_name(i)}, {"metric", values ? "revenue" : "purchase"}};
      if (values) {
        event["value"] = static_cast<double>(i % 97) * 0.5;
        event["covariate"] = static_cast<double>(i % 13);
      }
      events.push_back(std::move(event));
    }
    requests.push_back(
        {.noun = "Experiment", .verb = "track", .id = id, .data = {{"events", std::move(events)}}});
  }
  std::size_t i = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(fixture.engine.execute(requests[i++ % requests.size()]));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_TrackBatch)
    ->ArgNames({"batch", "value", "bandit"})
    ->Args({1000, 0, 0})
    ->Args({10000, 0, 0})
    ->Args({10000, 1, 0})
    ->Args({100, 0, 1})
    ->Unit(benchmark::kMillisecond);

// Analyze for an experiment with `units` exposed units, on a temp file. Analysis reads only the
// per-variant sufficient statistics (variant_exposures, metric_stats), so with real = 0 they are
// written directly by SQL (10% vs 11.5% conversion, 50/50 split) instead of assigning 10 million
// units one by one. With real = 1 every unit is a real exposure row and every converter a real
// unit_metric row, and the statistics are rebuilt from them, to show the latency does not grow
// with the rows. extra: secondary mean metrics (with covariates) analyzed beside the primary.
void BM_Analyze(benchmark::State& state) {
  const auto units = state.range(0);
  const bool real = state.range(1) != 0;
  const auto extra = state.range(2);
  Fixture fixture(false);
  std::vector<std::string> secondary;
  std::string metrics;
  for (int m = 0; m < extra; ++m) {
    secondary.push_back("revenue_" + std::to_string(m));
    metrics += (metrics.empty() ? "" : ",") + secondary.back();
  }
  std::string id = start_experiment(fixture.engine, metrics);
  execute(fixture.engine, "run", id);
  auto& db = fixture.engine.store().db();
  const std::string quoted = "'" + id + "'";
  db.exec("BEGIN IMMEDIATE");
  if (real) {
    // Units alternate variants; a unit converts when its number falls in its variant's rate.
    db.exec("WITH RECURSIVE u(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM u WHERE i + 1 < " +
            std::to_string(units) +
            ") INSERT INTO exposure (experiment, unit, variant, variant_key, bucket, at) SELECT " +
            quoted +
            ", 'user-' || i, i % 2, CASE i % 2 WHEN 0 THEN 'control' ELSE 'green' END,"
            " (i % 10000) / 10000.0, '2026-01-01T00:00:00Z' FROM u");
    db.exec(
        "INSERT INTO unit_metric (experiment, metric, unit, variant, value, covariate, events)"
        " SELECT experiment, 'purchase', unit, variant, 1, NULL, 1"
        " FROM exposure WHERE experiment = " +
        quoted +
        " AND (CAST(substr(unit, 6) AS INTEGER) / 2) % 1000 < CASE variant WHEN 0 THEN 100"
        " ELSE 115 END");
    db.exec(
        "INSERT OR REPLACE INTO variant_exposures SELECT experiment, variant, COUNT(*)"
        " FROM exposure WHERE experiment = " +
        quoted + " GROUP BY variant");
    db.exec(
        "INSERT OR REPLACE INTO metric_stats (experiment, metric, variant, sum, sum_squares)"
        " SELECT experiment, metric, variant, SUM(value), SUM(value * value) FROM unit_metric"
        " WHERE experiment = " +
        quoted + " GROUP BY variant");
  } else {
    const auto half = units / 2;
    db.exec("INSERT OR REPLACE INTO variant_exposures VALUES (" + quoted + ", 0, " +
            std::to_string(half) + "), (" + quoted + ", 1, " + std::to_string(units - half) + ")");
    const auto control = half / 10, green = (units - half) * 115 / 1000;
    db.exec(
        "INSERT OR REPLACE INTO metric_stats (experiment, metric, variant, sum, sum_squares)"
        " VALUES (" +
        quoted + ", 'purchase', 0, " + std::to_string(control) + ", " + std::to_string(control) +
        "), (" + quoted + ", 'purchase', 1, " + std::to_string(green) + ", " +
        std::to_string(green) + ")");
  }
  db.exec("INSERT OR REPLACE INTO experiment_metric VALUES (" + quoted +
          ", 'purchase', 'binomial')");
  for (const auto& name : secondary) {
    std::string metric = "'" + name + "'";
    db.exec("INSERT OR REPLACE INTO experiment_metric VALUES (" + quoted + ", " + metric +
            ", 'mean')");
    // Per variant: n units with mean 20 (control) or 21 (green), sd 8, covariate correlated.
    for (int v = 0; v < 2; ++v) {
      double n = static_cast<double>(v == 0 ? units / 2 : units - units / 2);
      double mean = v == 0 ? 20 : 21, pre = 19;
      db.exec("INSERT OR REPLACE INTO metric_stats VALUES (" + quoted + ", " + metric + ", " +
              std::to_string(v) + ", " + std::to_string(n * mean) + ", " +
              std::to_string(n * (mean * mean + 64)) + ", " + std::to_string(n * pre) + ", " +
              std::to_string(n * (pre * pre + 64)) + ", " + std::to_string(n * (mean * pre + 32)) +
              ", " + std::to_string(n) + ")");
    }
  }
  db.exec("COMMIT");
  auto first = execute(fixture.engine, "analyze", id);
  if (first.at("variants").at(0).at("exposures").to_number<std::int64_t>() +
          first.at("variants").at(1).at("exposures").to_number<std::int64_t>() !=
      units)
    state.SkipWithError("the analysis does not see every unit");
  for (auto _ : state) benchmark::DoNotOptimize(execute(fixture.engine, "analyze", id));
  state.SetLabel(json::serialize(first.at("recommendation")).substr(0, 60));
}
BENCHMARK(BM_Analyze)
    ->ArgNames({"units", "real", "extra"})
    ->Args({10000000, 0, 0})
    ->Args({10000000, 0, 2})
    ->Args({1000000, 1, 0})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(1);

}  // namespace
