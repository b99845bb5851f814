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
  /// This look alone (`log_lr`, `p_value`).
  SequentialResult sequential;
  /// The always-valid p over every look: the running minimum of `sequential.p_value` and the
  /// caller's previous_min_sequential_p.
  double running_min_p = 1;
  BayesianResult bayesian;
  std::optional<CupedSummary> cuped;  ///< absent without covariate, or when it has no information
};

/// The one source of significance: the stored winner and confidence and the recommendation's
/// text all come from it.
struct Decision {
  /// Running always-valid p per comparison, Holm-adjusted across treatments when there are
  /// several (equal to `sequential.p_value` with one treatment).
  std::vector<double> p_values;
  /// Comparison whose arm looks best (honours `inverse`); nullopt when the control does.
  std::optional<std::size_t> leader;
  /// Variant index (0 = control) the evidence supports shipping, when it is significant and
  /// the sample ratio matches: the leader when it beats the control, or the control when every
  /// treatment is significantly worse.
  std::optional<std::size_t> winner;
  double confidence = 0;  ///< 100 (1 - adjusted p) of the winner's decisive comparison
};

struct AnalysisResult {
  std::vector<VariantSummary> variants;
  SrmResult srm;
  std::vector<Comparison> comparisons;
  std::optional<ThompsonSampler::Result> bandit;  ///< proportion metrics only
  Decision decision;
  std::string recommendation;
};

}  // namespace verdict::stats
