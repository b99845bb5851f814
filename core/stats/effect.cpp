#include "core/stats/effect.hpp"

#include <algorithm>
#include <cmath>

namespace verdict::stats {
namespace {

struct Moments {
  double n;
  double sum;
  double sum_squares;
};

double mean_of(const Moments& m) {
  return m.n == 0 ? 0 : m.sum / m.n;
}

double variance_of(const Moments& m, MetricType type) {
  if (type == MetricType::kProportion) {
    const double p = mean_of(m);
    return p * (1 - p);
  }
  if (m.n <= 1) return 0;
  // Validated input undershoots sum^2/n by rounding at most.
  return std::max(0.0, (m.sum_squares - m.sum * m.sum / m.n) / (m.n - 1));
}

// Proportions use the population covariance and means the sample covariance, as gbstats does.
double covariance_of(const Moments& post, const Moments& pre, double sum_of_products,
                     MetricType type) {
  const double n = post.n;
  if (n <= 1) return 0;
  if (type == MetricType::kProportion) return sum_of_products / n - post.sum * pre.sum / (n * n);
  return (sum_of_products - post.sum * pre.sum / n) / (n - 1);
}

Moments post_moments(const VariantData& variant) {
  return {variant.n, variant.sum, variant.sum_squares};
}

// gbstats treats the covariate as the same kind of statistic as the metric.
Moments pre_moments(const VariantData& variant, MetricType type) {
  const Covariate& covariate = *variant.covariate;
  return {variant.n, covariate.pre_sum,
          type == MetricType::kProportion ? covariate.pre_sum : covariate.pre_sum_squares};
}

ArmStatistic adjusted(const VariantData& variant, MetricType type, double theta) {
  ArmStatistic arm = arm_statistic(variant, type);
  const Moments pre = pre_moments(variant, type);
  arm.theta = theta;
  arm.pre_variance = variant.n <= 1 ? 0 : variance_of(pre, type);
  arm.covariance =
      covariance_of(post_moments(variant), pre, variant.covariate->post_pre_sum_of_products, type);
  arm.mean = arm.unadjusted_mean - theta * mean_of(pre);
  if (variant.n > 1) {
    arm.variance =
        arm.unadjusted_variance + theta * theta * arm.pre_variance - 2 * theta * arm.covariance;
  }
  return arm;
}

}  // namespace

ArmStatistic arm_statistic(const VariantData& variant, MetricType type) {
  const Moments moments = post_moments(variant);
  ArmStatistic arm;
  arm.n = variant.n;
  arm.mean = arm.unadjusted_mean = mean_of(moments);
  arm.variance = arm.unadjusted_variance = variance_of(moments, type);
  return arm;
}

std::optional<CupedAdjustment> cuped_adjustment(const VariantData& control,
                                                const VariantData& treatment, MetricType type) {
  if (!control.covariate || !treatment.covariate) return std::nullopt;
  const Moments a_pre = pre_moments(control, type);
  const Moments b_pre = pre_moments(treatment, type);
  const Moments joint_post{control.n + treatment.n, control.sum + treatment.sum,
                           control.sum_squares + treatment.sum_squares};
  const Moments joint_pre{joint_post.n, a_pre.sum + b_pre.sum,
                          a_pre.sum_squares + b_pre.sum_squares};
  const double pre_variance = variance_of(joint_pre, type);
  if (pre_variance <= 0 || variance_of(joint_post, type) <= 0) return std::nullopt;
  const double joint_products =
      control.covariate->post_pre_sum_of_products + treatment.covariate->post_pre_sum_of_products;
  const double theta = covariance_of(joint_post, joint_pre, joint_products, type) / pre_variance;
  if (theta == 0 || !std::isfinite(theta)) return std::nullopt;
  return CupedAdjustment{theta, adjusted(control, type, theta), adjusted(treatment, type, theta)};
}

EffectEstimate estimate_effect(const ArmStatistic& a, const ArmStatistic& b,
                               DifferenceType difference_type,
                               std::optional<double> relative_variance) {
  EffectEstimate effect;
  effect.total_n = a.n + b.n;
  const auto invalid_effect = [&](const char* reason) {
    return EffectEstimate{.error = reason, .total_n = effect.total_n};
  };
  if (a.variance <= 0 || b.variance <= 0) return invalid_effect(kZeroVariance);
  // gbstats refuses a zero control mean for the absolute difference too.
  if (a.mean == 0 || a.unadjusted_mean == 0) return invalid_effect(kZeroBaseline);

  const bool relative = difference_type == DifferenceType::kRelative;
  double variance = 0;
  if (relative) {
    // gbstats' frequentist_variance_relative_cuped; with theta == 0 it is the plain delta method.
    // The sign of the baseline cancels in the variance; the estimate divides by its magnitude so
    // that an improvement of a negative metric is a positive lift.
    const double baseline = a.unadjusted_mean;
    const double ratio = b.unadjusted_mean / baseline;
    const double control_term = a.unadjusted_variance * ratio * ratio -
                                2 * a.theta * a.covariance * ratio +
                                a.theta * a.theta * a.pre_variance;
    variance = relative_variance.value_or(b.variance / (b.n * baseline * baseline) +
                                          control_term / (a.n * baseline * baseline));
    effect.estimate = (b.mean - a.mean) / std::abs(baseline);
  } else {
    variance = b.variance / b.n + a.variance / a.n;
    effect.estimate = b.mean - a.mean;
  }
  if (!(variance > 0) || !std::isfinite(variance)) return invalid_effect(kZeroVariance);

  const double va = a.variance / a.n;
  const double vb = b.variance / b.n;
  effect.welch_dof = (va + vb) * (va + vb) / (vb * vb / (b.n - 1) + va * va / (a.n - 1));
  if (!std::isfinite(effect.welch_dof) || !(effect.welch_dof > 0))
    return invalid_effect(kZeroVariance);
  effect.standard_error = std::sqrt(variance);
  effect.valid = true;
  return effect;
}

}  // namespace verdict::stats
