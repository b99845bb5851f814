// Flag evaluation in-process: the GrowthBook feature evaluator on a flag with a targeting rule
// and a percentage rollout (published reference points: flagd about 1.4 us static and 10.6 us
// fractional per evaluation), and the whole `do FeatureFlag evaluate` verb over SQLite.
#include <cstdint>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/json/parse.hpp>

#include "bench/bench_units.hpp"
#include "core/engine.hpp"
#include "core/flags/feature_rules.hpp"

namespace {

namespace json = boost::json;

using verdict::bench::kUnits;
using verdict::bench::make_units;

const char* const kFlag = R"({"defaultValue":false,"rules":[
  {"id":"staff","condition":{"country":{"$in":["SE","NO"]},"plan":"pro"},"force":true},
  {"id":"rolloutPercentage","force":true,"coverage":0.3,"hashAttribute":"id","seed":"new-nav",
   "hashVersion":2}]})";

void BM_FeatureTargetingAndRollout(benchmark::State& state) {
  const std::vector<std::string> units = make_units();
  const verdict::flags::CompiledFeature feature("new-nav", json::parse(kFlag).as_object());
  const verdict::flags::FeatureLookup lookup =
      [&](std::string_view) -> const verdict::flags::CompiledFeature* { return &feature; };
  verdict::assignment::RunContext context;
  context.attributes = {{"country", "US"}, {"plan", "free"}};
  std::size_t i = 0;
  for (auto _ : state) {
    context.attributes["id"] = units[i++ & (kUnits - 1)];
    benchmark::DoNotOptimize(verdict::flags::evaluate_feature("new-nav", context, lookup));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FeatureTargetingAndRollout);

void BM_EvaluateVerb(benchmark::State& state) {
  const std::vector<std::string> units = make_units();
  verdict::Engine engine(":memory:");
  json::object flag = json::parse(kFlag).as_object();
  auto created =
      engine.execute({.noun = "FeatureFlag",
                      .verb = "create",
                      .data = {{"key", "new-nav"},
                               {"name", "New navigation"},
                               {"type", "Boolean"},
                               {"defaultValue", false},
                               {"targetingRules", json::array{flag.at("rules").as_array()[0]}},
                               {"rolloutPercentage", 30}}});
  const std::string id(created.at("id").as_string());
  engine.execute({.noun = "FeatureFlag", .verb = "enable", .id = id});
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        engine.execute({.noun = "FeatureFlag",
                        .verb = "evaluate",
                        .id = "new-nav",
                        .data = {{"unit", units[i++ & (kUnits - 1)]},
                                 {"attributes", {{"country", "US"}, {"plan", "free"}}}}}));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EvaluateVerb);

}  // namespace
