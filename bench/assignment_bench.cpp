// Assignment throughput in-process: the hash and range scan behind Verdict's assign verb
// (target: 1,000,000 assignments/s for a cached experiment) and targeting evaluation.
#include <cstdint>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/json/parse.hpp>

#include "bench/bench_units.hpp"
#include "core/assignment/allocation.hpp"
#include "core/assignment/condition.hpp"
#include "core/assignment/hash.hpp"

namespace {

namespace json = boost::json;
using namespace verdict::assignment;

using verdict::bench::kUnits;
using verdict::bench::make_units;

void BM_Hash(benchmark::State& state) {
  const std::vector<std::string> units = make_units();
  const int version = static_cast<int>(state.range(0));
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(hash("checkout-redesign", units[i++ & (kUnits - 1)], version));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Hash)->Arg(1)->Arg(2);

// The cached path: ranges laid out once with the experiment, one hash per unit.
void BM_AssignCached(benchmark::State& state) {
  const std::vector<std::string> units = make_units();
  const std::vector<double> weights{0.25, 0.25, 0.25, 0.25};
  const Allocation allocation("checkout-redesign", 0.8, weights, 2);
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(allocation.assign(units[i++ & (kUnits - 1)]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AssignCached);

// Validating and laying out the ranges on every call, as a caller without a cache would.
void BM_AssignUncached(benchmark::State& state) {
  const std::vector<std::string> units = make_units();
  const std::vector<double> weights{0.5, 0.5};
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(assign("checkout-redesign", units[i++ & (kUnits - 1)], 1, weights, 2));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AssignUncached);

// A typical audience: country list, version range, numeric threshold, user-agent regex.
void BM_EvalCondition(benchmark::State& state) {
  const json::object condition = json::parse(R"({
    "country": {"$in": ["US", "CA", "GB", "DE"]},
    "appVersion": {"$vgte": "2.4.0", "$vlt": "3.0.0"},
    "purchases": {"$gt": 2},
    "browser": {"$regex": "(Chrome|Firefox)/1[0-9]{2}"},
    "$or": [{"plan": "pro"}, {"beta": true}]
  })")
                                     .as_object();
  const json::object attributes = json::parse(R"({
    "id": "user-42", "country": "CA", "appVersion": "2.7.1", "purchases": 5,
    "browser": "Mozilla/5.0 Chrome/124.0 Safari/537.36", "plan": "free", "beta": true
  })")
                                      .as_object();
  for (auto _ : state) benchmark::DoNotOptimize(eval_condition(attributes, condition));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EvalCondition);

// Equality and membership only: the common case without regex or version parsing.
void BM_EvalConditionSimple(benchmark::State& state) {
  const json::object condition =
      json::parse(R"({"country": {"$in": ["US", "CA"]}, "plan": "pro", "age": {"$gte": 18}})")
          .as_object();
  const json::object attributes =
      json::parse(R"({"country": "US", "plan": "pro", "age": 30})").as_object();
  for (auto _ : state) benchmark::DoNotOptimize(eval_condition(attributes, condition));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EvalConditionSimple);

}  // namespace
