#pragma once

#include "core/stats/effect.hpp"

#include <array>

namespace verdict::stats {

/// Fixed-horizon two-sided Welch t-test on the effect (gbstats' TwoSidedTTest).
struct FixedHorizonResult {
  double estimate = 0;
  double standard_error = 0;
  std::array<double, 2> ci{0, 0};
  double p_value = 1;
};

/// Student t with the Welch-Satterthwaite degrees of freedom. An invalid effect (zero variance,
/// zero baseline) gives gbstats' uninformative default: estimate 0, CI [0, 0], p = 1.
FixedHorizonResult fixed_horizon_test(const EffectEstimate& effect, double alpha);

/// Always-valid result of the normal-mixture sequential test.
struct SequentialResult {
  double log_lr = 0;  ///< log of the mixture likelihood ratio (the e-value) at this look
  std::array<double, 2> ci{0, 0};
  double p_value = 1;  ///< min(1, 1 / likelihood ratio) at this look
};

/// gbstats' sequential rho for a two-sided test: the mixing scale that makes the confidence
/// sequence narrowest when the two arms hold `tuning_parameter` units.
double sequential_rho(double alpha, double tuning_parameter);

/// Half-width of the two-sided confidence sequence for per-unit variance `s2` after `n` units
/// in the two arms (gbstats' sequential_interval_halfwidth, Waudby-Smith et al. eq. 9).
double sequential_half_width(double s2, double n, double alpha, double tuning_parameter);

/// Half-width h of gbstats' always-valid one-sided interval (SequentialOneSidedTreatment*TTest,
/// Waudby-Smith et al. eq. 134, rho tuned for 2 alpha): the lift's upper bound is estimate + h
/// (interval (-inf, u]), its lower bound estimate - h. 0 for an invalid effect.
double sequential_one_sided_half_width(const EffectEstimate& effect, double alpha,
                                       double tuning_parameter);

/// mSPRT with mixing variance tau^2 = rho^2 * N * Var(estimate) (gbstats'
/// SequentialTwoSidedTTest): CI half-width from Waudby-Smith et al. and p-value 1/Lambda.
SequentialResult sequential_test(const EffectEstimate& effect, double alpha,
                                 double tuning_parameter);

/// Multiple of the current sample at which the always-valid p-value would reach `alpha` if the
/// estimate and per-unit variance stayed as they are; infinity when the estimate is zero.
double sample_multiple_to_significance(const EffectEstimate& effect, double alpha,
                                       double tuning_parameter);

}  // namespace verdict::stats
