// Analysis of a 10-arm experiment: the cost must not depend on the number of units, since the
// engine works on sufficient statistics and the bandit integrates over a fixed grid.
#include "core/stats/analysis.hpp"

#include <benchmark/benchmark.h>

#include <cmath>

namespace {

using verdict::stats::AnalysisInput;
using verdict::stats::MetricType;

constexpr int kArms = 10;

// Ten arms of `units` each; conversion rates 10.0%, 10.1%, ... so every arm is in contention.
AnalysisInput ten_arm_experiment(MetricType type, double units) {
  AnalysisInput input;
  input.metric_type = type;
  for (int arm = 0; arm < kArms; ++arm) {
    verdict::stats::VariantData variant;
    variant.n = units;
    variant.sum = std::round(units * (0.100 + 0.001 * arm));
    variant.sum_squares = type == MetricType::kProportion ? variant.sum : 3 * variant.sum;
    input.variants.push_back(variant);
  }
  input.weights.assign(kArms, 1.0 / kArms);
  return input;
}

void analyze_ten_arms(benchmark::State& state, MetricType type) {
  const AnalysisInput input = ten_arm_experiment(type, static_cast<double>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(verdict::stats::analyze(input));
  }
}

void BM_AnalyzeTenArmsProportion(benchmark::State& state) {
  analyze_ten_arms(state, MetricType::kProportion);
}
void BM_AnalyzeTenArmsMean(benchmark::State& state) {
  analyze_ten_arms(state, MetricType::kMean);
}

BENCHMARK(BM_AnalyzeTenArmsProportion)->Arg(1'000)->Arg(10'000'000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AnalyzeTenArmsMean)->Arg(1'000)->Arg(10'000'000)->Unit(benchmark::kMicrosecond);

}  // namespace
