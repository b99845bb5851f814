#pragma once

#include "core/stats/analysis_input.hpp"
#include "core/stats/effect.hpp"

#include <array>

namespace verdict::stats {

/// Gaussian posterior on the effect (gbstats' EffectBayesianABTest).
struct BayesianResult {
  double chance_to_win = 0.5;  ///< P(treatment better); "better" means lower for inverse metrics
  double mean = 0;             ///< posterior mean of the effect
  double stddev = 0;
  std::array<double, 2> ci{0, 0};  ///< equal-tailed credible interval at level 1 - alpha
  /// Expected loss of choosing [control, treatment], in units of the effect.
  std::array<double, 2> risk{0, 0};
};

/// The prior on the scale of the effect: a relative prior N(m, s^2) becomes
/// N(m |c|, s^2 c^2) for an absolute difference, c the control's unadjusted mean (gbstats'
/// EffectBayesianABTest with prior_type "relative"). Other combinations are used as given, as
/// gbstats does (its reverse scaling is unreachable).
Prior scaled_prior(const Prior& prior, DifferenceType difference_type, double control_mean);

/// Flat prior: the posterior is N(estimate, se^2). Proper prior N(m, s^2) (already on the
/// effect's scale): precision-weighted.
/// An invalid effect gives gbstats' default (chance 0.5, zero interval and risk).
BayesianResult bayesian_test(const EffectEstimate& effect, const Prior& prior, double alpha,
                             bool inverse);

}  // namespace verdict::stats
