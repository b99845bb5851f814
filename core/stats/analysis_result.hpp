#pragma once

#include "core/stats/bayesian.hpp"
#include "core/stats/frequentist.hpp"
#include "core/stats/srm.hpp"
#include "core/stats/thompson_sampler.hpp"

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace verdict::stats {

struct VariantSummary {
  double n = 0;
  double mean = 0;
  double variance = 0;
};

/// Fixed-horizon lift with p-values adjusted across all treatments.
struct LiftResult : FixedHorizonResult {
  double p_value_holm = 1;
  double p_value_bh = 1;
};

struct CupedSummary {
  double theta = 0;
  std::array<double, 2> adjusted_variance{0, 0};  ///< [control, treatment], per unit
};

/// One treatment against the control.
struct Comparison {
  std::size_t variant = 0;  ///< index of the treatment in the input
  EffectEstimate effect;
  LiftResult lift;
  /// `p_value` already includes the caller's previous_min_sequential_p (running minimum).
  SequentialResult sequential;
  BayesianResult bayesian;
  std::optional<CupedSummary> cuped;  ///< absent without covariate, or when it has no information
};

struct AnalysisResult {
  std::vector<VariantSummary> variants;
  SrmResult srm;
  std::vector<Comparison> comparisons;
  std::optional<ThompsonSampler::Result> bandit;  ///< proportion metrics only
  std::string recommendation;
};

}  // namespace verdict::stats
