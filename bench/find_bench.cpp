// find at scale (issue 20): Store::find over VERDICT_BENCH_ROWS metrics (default 1,000,000) in a
// WAL file database, built once into the temp directory and reused by later runs.
//  - page 1 and page 5000 of the whole table (keyset cursors: page 5000 costs what page 1 does);
//  - the first page of an indexed filter that matches a tenth of the rows (served by (name, id));
//  - an unindexed filter: a scan of the table, bounded by the query budget (--query-timeout);
// and, in the same run, the statements of the previous design as the limit they are compared
// with: LIMIT/OFFSET for page 5000, and the single-column index that sorted every match by id.
// Not part of the test suite: `build/bench/find_bench`.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "core/storage/connection.hpp"
#include "core/store.hpp"

namespace {

namespace json = boost::json;
using verdict::FindQuery;
using verdict::Schema;
using verdict::Store;

constexpr int kPageSize = 20;
constexpr int kFarPage = 5000;
constexpr int kNames = 10;  // an indexed name matches a tenth of the rows

long rows() {
  const char* text = std::getenv("VERDICT_BENCH_ROWS");
  return text ? std::atol(text) : 1000000;
}

std::string metric_id(long i) {
  char id[32];
  std::snprintf(id, sizeof id, "metric_%08ld", i);
  return id;
}

struct Data {
  Schema schema = Schema::builtin();
  std::unique_ptr<Store> store;
  const verdict::Noun& metric = schema.noun("Metric");
  std::string far_cursor;  // the cursor that asks for page kFarPage

  Data() {
    auto path = std::filesystem::temp_directory_path() /
                ("verdict-find-bench-" + std::to_string(rows()) + ".db");
    bool fresh = !std::filesystem::exists(path);
    store = std::make_unique<Store>(path.string(), schema);
    if (fresh) fill();
    // The old design's index, to measure its plan in the same run; harmless to the new plans,
    // which the planner picks on its own.
    store->db().exec("CREATE INDEX IF NOT EXISTS bench_metric_name_only ON metric(name)");
    FindQuery query{.limit = kPageSize};
    for (int page = 1; page < kFarPage; ++page)
      query.cursor = store->find(metric, query).next_cursor;
    far_cursor = query.cursor;
  }

  void fill() {
    verdict::storage::Transaction transaction(store->db());
    for (long i = 0; i < rows(); ++i) {
      json::object entity{{"id", metric_id(i)},
                          {"version", 1},
                          {"createdAt", "2026-01-01T00:00:00.000Z"},
                          {"updatedAt", "2026-01-01T00:00:00.000Z"},
                          {"name", "m" + std::to_string(i % kNames)},
                          {"value", i}};
      // One row in the whole table has the unindexed type the scan looks for.
      entity["type"] = i == rows() / 2 ? "Rare" : "Conversion";
      store->insert(metric, entity);
    }
    transaction.commit();
  }
};

// Steps a raw statement to its end, as find does, and counts its rows.
int run_raw(verdict::storage::Statement statement, const std::string& name) {
  statement.bind(1, name);
  statement.bind(2, kPageSize + 1);
  int rows = 0;
  while (statement.step()) ++rows;
  return rows;
}

Data& data() {
  static Data instance;
  return instance;
}

void BM_FindFirstPage(benchmark::State& state) {
  auto& d = data();
  for (auto _ : state) benchmark::DoNotOptimize(d.store->find(d.metric, {.limit = kPageSize}));
}
BENCHMARK(BM_FindFirstPage)->Unit(benchmark::kMicrosecond);

void BM_FindPage5000(benchmark::State& state) {
  auto& d = data();
  for (auto _ : state)
    benchmark::DoNotOptimize(d.store->find(d.metric, {.limit = kPageSize, .cursor = d.far_cursor}));
}
BENCHMARK(BM_FindPage5000)->Unit(benchmark::kMicrosecond);

// The previous design's page 5000: the same rows read through an OFFSET.
void BM_OffsetPage5000(benchmark::State& state) {
  auto& d = data();
  const std::string offset = std::to_string((kFarPage - 1) * kPageSize);
  for (auto _ : state)
    benchmark::DoNotOptimize(run_raw(
        d.store->db().prepare(
            "SELECT * FROM metric WHERE ? <> '' ORDER BY \"id\" ASC LIMIT ? OFFSET " + offset),
        "any"));
}
BENCHMARK(BM_OffsetPage5000)->Unit(benchmark::kMicrosecond);

void BM_FindIndexedFilterFirstPage(benchmark::State& state) {
  auto& d = data();
  for (auto _ : state)
    benchmark::DoNotOptimize(
        d.store->find(d.metric, {.filter = {{"name", "m3"}}, .limit = kPageSize}));
}
BENCHMARK(BM_FindIndexedFilterFirstPage)->Unit(benchmark::kMicrosecond);

// The previous design's plan for the same page: the single-column index, every match sorted.
void BM_SingleColumnIndexFirstPage(benchmark::State& state) {
  auto& d = data();
  for (auto _ : state)
    benchmark::DoNotOptimize(
        run_raw(d.store->db().prepare("SELECT * FROM metric INDEXED BY bench_metric_name_only "
                                      "WHERE \"name\" = ? ORDER BY \"id\" ASC LIMIT ?"),
                "m3"));
}
BENCHMARK(BM_SingleColumnIndexFirstPage)->Unit(benchmark::kMicrosecond);

void BM_FindNewestFirst(benchmark::State& state) {
  auto& d = data();
  for (auto _ : state)
    benchmark::DoNotOptimize(
        d.store->find(d.metric, {.sort = {{"createdAt", "desc"}}, .limit = kPageSize}));
}
BENCHMARK(BM_FindNewestFirst)->Unit(benchmark::kMicrosecond);

// An unindexed filter reads every row: documented as a scan, stopped by the query budget.
void BM_FindUnindexedFilterScan(benchmark::State& state) {
  auto& d = data();
  for (auto _ : state)
    benchmark::DoNotOptimize(
        d.store->find(d.metric, {.filter = {{"type", "Rare"}}, .limit = kPageSize}));
}
BENCHMARK(BM_FindUnindexedFilterScan)->Unit(benchmark::kMillisecond);

}  // namespace
