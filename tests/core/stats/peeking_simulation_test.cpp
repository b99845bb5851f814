// A/A tests looked at 20 times: the always-valid decision must keep its false-positive rate
// under alpha, where the fixed-horizon p-value read at every look does not.
#include "core/stats/analysis.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

namespace verdict::stats {
namespace {

// Sufficient statistics of `n` more draws from N(mean, sd^2), drawn exactly: the sum is normal
// and the centred sum of squares sd^2 chi^2(n - 1), independent of it.
void add_normal_draws(VariantData& variant, double n, double mean, double sd,
                      std::mt19937_64& random) {
  std::normal_distribution<double> sum(n * mean, sd * std::sqrt(n));
  std::gamma_distribution<double> chi_square((n - 1) / 2, 2);
  const double batch_sum = sum(random);
  const double batch_squares = sd * sd * chi_square(random) + batch_sum * batch_sum / n;
  variant.n += n;
  variant.sum += batch_sum;
  variant.sum_squares += batch_squares;
}

TEST(PeekingSimulationTest, AlwaysValidDecisionKeepsItsFalsePositiveRateUnderTwentyLooks) {
  constexpr int kExperiments = 1000;
  constexpr int kLooks = 20;
  constexpr double kUnitsPerLook = 500;  // per arm
  std::mt19937_64 random(42);
  int always_valid_positives = 0;
  int naive_positives = 0;
  for (int experiment = 0; experiment < kExperiments; ++experiment) {
    AnalysisInput input;
    input.variants.resize(2);
    input.weights = {0.5, 0.5};
    bool always_valid = false;
    bool naive = false;
    for (int look = 0; look < kLooks; ++look) {
      for (VariantData& variant : input.variants)
        add_normal_draws(variant, kUnitsPerLook, 10, 4, random);
      const AnalysisResult result = analyze(input);
      input.variants[1].previous_min_sequential_p = result.comparisons[0].running_min_p;
      always_valid = always_valid || result.decision.winner.has_value();
      naive = naive || result.comparisons[0].lift.p_value < input.alpha;
    }
    always_valid_positives += always_valid;
    naive_positives += naive;
  }
  const double rate = static_cast<double>(always_valid_positives) / kExperiments;
  const double naive_rate = static_cast<double>(naive_positives) / kExperiments;
  std::printf(
      "A/A, %d experiments x %d looks: always-valid false-positive rate %.1f%%, "
      "fixed-horizon p read at every look %.1f%%\n",
      kExperiments, kLooks, 100 * rate, 100 * naive_rate);
  EXPECT_LT(rate, 0.05);
  // The simulation has the power to show why: peeking at the fixed-horizon p inflates it.
  EXPECT_GT(naive_rate, 0.10);
}

}  // namespace
}  // namespace verdict::stats
