#pragma once

#include "core/stats/analysis_input.hpp"

#include <optional>
#include <string>

namespace verdict::stats {

/// Mean and variance of one arm's metric, optionally regression-adjusted (CUPED). With
/// theta == 0 the adjusted fields equal the unadjusted ones.
struct ArmStatistic {
  double n = 0;
  double mean = 0;             ///< adjusted mean: post mean - theta * pre mean
  double unadjusted_mean = 0;  ///< post-period mean; the denominator of the relative lift
  double variance = 0;         ///< adjusted per-unit variance
  double unadjusted_variance = 0;
  double pre_variance = 0;
  double covariance = 0;  ///< per-unit covariance of post metric and pre-period covariate
  double theta = 0;
};

/// Per-unit mean and variance of a variant, as gbstats defines them: binomial p(1-p) for
/// proportions, the n-1 sample variance for means; zero when n is too small to tell.
ArmStatistic arm_statistic(const VariantData& variant, MetricType type);

/// The CUPED adjustment of one control/treatment pair.
struct CupedAdjustment {
  double theta = 0;
  ArmStatistic control;
  ArmStatistic treatment;
};

/// Pooled CUPED theta over the two arms (gbstats' compute_theta) and the adjusted statistics.
/// Returns nullopt when the covariate carries no information (zero pooled variance of the
/// pre- or post-period metric), in which case the plain analysis applies.
std::optional<CupedAdjustment> cuped_adjustment(const VariantData& control,
                                                const VariantData& treatment, MetricType type);

/// Reasons a comparison has no estimate (gbstats' ZERO_NEGATIVE_VARIANCE and
/// BASELINE_VARIATION_ZERO).
inline constexpr const char* kZeroVariance =
    "zero variance: an arm has fewer than two units or a metric that does not vary";
inline constexpr const char* kZeroBaseline = "the control mean is 0, so there is no baseline";

/// Point estimate and standard error of the treatment effect (gbstats' EffectMoments).
struct EffectEstimate {
  bool valid = false;  ///< false: zero variance or zero baseline; every test reports its default
  /// Why the comparison is not valid (gbstats' errorMessage), empty when valid.
  std::string error;
  double estimate = 0;
  double standard_error = 0;
  double welch_dof = 0;
  double total_n = 0;  ///< units in the two arms, the N of the sequential test
};

/// Relative lift (delta method, denominator |unadjusted control mean|, as gbstats since PR #6658)
/// or absolute difference. Like gbstats, a control mean of 0 invalidates both kinds.
/// `relative_variance`, when given, replaces the delta-method variance of the relative lift
/// (CUPED ratio metrics compute theirs from the full gradient).
EffectEstimate estimate_effect(const ArmStatistic& control, const ArmStatistic& treatment,
                               DifferenceType difference_type,
                               std::optional<double> relative_variance = std::nullopt);

}  // namespace verdict::stats
