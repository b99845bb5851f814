#pragma once

#include "core/stats/analysis_input.hpp"
#include "core/stats/effect.hpp"

#include <optional>

namespace verdict::stats {

/// Kinds of a ratio metric's numerator and denominator.
struct RatioTypes {
  MetricType numerator = MetricType::kMean;
  MetricType denominator = MetricType::kMean;
};

/// A ratio arm as gbstats' RatioStatistic sees it: mean = sum m / sum d (0 when sum d is 0),
/// per-unit variance by the delta method (variance_of_ratios; 0 when the denominator mean is 0
/// or n <= 1). `variant.ratio` must be set.
ArmStatistic ratio_arm_statistic(const VariantData& variant, RatioTypes types);

/// CUPED for a ratio pair (gbstats' RegressionAdjustedRatioStatistic): theta pooled over the
/// pair from the gradient at theta = 1, the adjusted arms, and the variance of the relative lift
/// (frequentist_variance_relative_cuped_ratio). nullopt when either arm lacks the covariate or
/// |theta| < 1e-8 (gbstats then analyses the plain ratios).
struct RatioCupedAdjustment {
  double theta = 0;
  ArmStatistic control;
  ArmStatistic treatment;
  double relative_variance = 0;  ///< variance of the relative lift estimate (not per unit)
};
std::optional<RatioCupedAdjustment> ratio_cuped_adjustment(const VariantData& control,
                                                           const VariantData& treatment,
                                                           RatioTypes types);

}  // namespace verdict::stats
