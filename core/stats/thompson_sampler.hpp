#pragma once

#include <vector>

namespace verdict::stats {

/// Units and conversions of one bandit arm.
struct ArmCounts {
  double n = 0;
  double successes = 0;
};

/// Beta(successes + 1, failures + 1): the posterior under a uniform prior.
struct BetaPosterior {
  double alpha = 1;
  double beta = 1;
};

BetaPosterior beta_posterior(const ArmCounts& arm);

/// P(X_b > X_a) for independent Beta posteriors. Exact closed form (Evan Miller's sum, taken
/// over the smallest integer parameter) when that parameter is at most 20,000;
/// numerical integration otherwise.
double probability_b_beats_a(const BetaPosterior& a, const BetaPosterior& b);

/// Probability that each arm has the highest rate. Deterministic: the two-arm closed form, or
/// Gauss-Legendre quadrature of f_k(x) * prod_{j != k} F_j(x) on one grid shared by all arms,
/// with the CDFs integrated from the same nodes. Cost depends on the number of arms only, not
/// on the units. Throws verdict::Error unless every alpha and beta is finite and >= 1.
std::vector<double> probability_best(const std::vector<BetaPosterior>& posteriors);

/// gbstats' additive floor: floor + (1 - k floor) w_i / sum(w) for k arms, so every arm keeps at
/// least `floor` and the arms above it keep their posterior spacing. When k floor >= 1 the
/// floors cannot all fit and the split is uniform, as in gbstats.
std::vector<double> apply_weight_floor(const std::vector<double>& weights, double floor);

/// Thompson-sampling bandit allocation for proportion metrics.
class ThompsonSampler {
 public:
  struct Config {
    double floor = 0.01;     ///< minimum weight per arm
    double min_units = 100;  ///< reweight only once every arm has this many units
    bool inverse = false;    ///< lower rates are better: "best" is the lowest rate
  };

  struct Result {
    std::vector<BetaPosterior> posteriors;
    std::vector<double> probability_best;
    std::vector<double> weights;
    bool reweighted = false;  ///< false: weights are the configured split (too few units)
  };

  explicit ThompsonSampler(Config config) : config_(config) {}
  ThompsonSampler() : ThompsonSampler(Config{}) {}

  /// New assignment weights. `configured_weights` (normalised here) are returned unchanged
  /// until every arm has `min_units` units. Throws verdict::Error naming the field for negative
  /// or non-finite counts, successes outside [0, n], or a weight count that differs from the
  /// arm count. Thread-safe: the sampler holds only configuration.
  Result update(const std::vector<ArmCounts>& arms,
                const std::vector<double>& configured_weights) const;

 private:
  Config config_;
};

}  // namespace verdict::stats
