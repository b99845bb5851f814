#include "core/stats/ratio.hpp"

#include <array>
#include <cmath>

namespace verdict::stats {
namespace {

// One component of a ratio (numerator or denominator, post or pre): gbstats'
// SampleMeanStatistic or ProportionStatistic.
struct Component {
  double n = 0;
  double sum = 0;
  double sum_squares = 0;
  bool proportion = false;

  double mean() const { return n == 0 ? 0 : sum / n; }
  double variance() const {
    if (proportion) return mean() * (1 - mean());
    if (n <= 1) return 0;
    return (sum_squares - sum * sum / n) / (n - 1);
  }
};

// compute_covariance: the population form when both sides are proportions, else n - 1.
double covariance(const Component& a, const Component& b, double sum_of_products) {
  const double n = a.n;
  if (n <= 1) return 0;
  if (a.proportion && b.proportion) return sum_of_products / n - a.sum * b.sum / (n * n);
  return (sum_of_products - a.sum * b.sum / n) / (n - 1);
}

using Vector = std::array<double, 4>;
using Matrix = std::array<Vector, 4>;

double quadratic_form(const Vector& x, const Matrix& m, const Vector& y) {
  double total = 0;
  for (std::size_t i = 0; i < 4; ++i)
    for (std::size_t j = 0; j < 4; ++j) total += x[i] * m[i][j] * y[j];
  return total;
}

// The four components of a CUPED ratio arm: m_post, d_post, m_pre, d_pre.
struct RatioArm {
  double n = 0;
  std::array<Component, 4> parts;
  Matrix lambda{};  ///< per-unit covariance of the four components

  RatioArm(const VariantData& variant, RatioTypes types) : n(variant.n) {
    const RatioSums& post = *variant.ratio;
    const RatioCovariate& pre = *variant.ratio_covariate;
    const bool m_prop = types.numerator == MetricType::kProportion;
    const bool d_prop = types.denominator == MetricType::kProportion;
    parts = {Component{n, post.m_sum, post.m_sum_squares, m_prop},
             Component{n, post.d_sum, post.d_sum_squares, d_prop},
             Component{n, pre.m_pre_sum, pre.m_pre_sum_squares, m_prop},
             Component{n, pre.d_pre_sum, pre.d_pre_sum_squares, d_prop}};
    const double products[4][4] = {
        {0, post.m_d_sum_of_products, pre.m_post_m_pre_sum_of_products,
         pre.m_post_d_pre_sum_of_products},
        {0, 0, pre.m_pre_d_post_sum_of_products, pre.d_post_d_pre_sum_of_products},
        {0, 0, 0, pre.m_pre_d_pre_sum_of_products},
        {0, 0, 0, 0}};
    for (std::size_t i = 0; i < 4; ++i) {
      lambda[i][i] = parts[i].variance();
      for (std::size_t j = i + 1; j < 4; ++j)
        lambda[i][j] = lambda[j][i] = covariance(parts[i], parts[j], products[i][j]);
    }
  }

  double mean_post() const { return parts[1].sum == 0 ? 0 : parts[0].sum / parts[1].sum; }
  double mean_pre() const { return parts[3].sum == 0 ? 0 : parts[2].sum / parts[3].sum; }
  double adjusted_mean(double theta) const {
    if (parts[1].sum == 0 || parts[3].sum == 0) return 0;
    return mean_post() - theta * mean_pre();
  }
  // Gradient of ratio_post - theta * ratio_pre in the four component means.
  Vector nabla(double theta) const {
    const double m = parts[0].mean(), d = parts[1].mean();
    const double x = parts[2].mean(), z = parts[3].mean();
    if (d == 0 || z == 0) return {0, 0, 0, 0};
    return {1 / d, -m / (d * d), -theta / z, theta * x / (z * z)};
  }
  double variance(double theta) const {
    const Vector g = nabla(theta);
    return quadratic_form(g, lambda, g);
  }
  // var_pre and covariance of gbstats at theta = 1: the pre-ratio block and the cross block.
  double pre_variance() const {
    const Vector g = nabla(1);
    return quadratic_form({0, 0, g[2], g[3]}, lambda, {0, 0, g[2], g[3]});
  }
  double cross_covariance() const {
    const Vector g = nabla(1);
    return quadratic_form({0, 0, g[2], g[3]}, lambda, {g[0], g[1], 0, 0});
  }

  ArmStatistic statistic(double theta) const {
    ArmStatistic arm;
    arm.n = n;
    arm.mean = adjusted_mean(theta);
    arm.unadjusted_mean = mean_post();
    arm.variance = variance(theta);
    arm.unadjusted_variance = variance(0);
    arm.theta = theta;
    return arm;
  }
};

// frequentist_variance_relative_cuped_ratio: the gradient of (mean_b - mean_a) / |ratio_a|
// carries the control's sign.
double relative_cuped_ratio_variance(const RatioArm& a, const RatioArm& b, double theta) {
  const double baseline = a.mean_post();
  const double d = a.parts[1].mean();
  if (baseline == 0 || d == 0) return 0;
  const double sign = baseline > 0 ? 1 : -1;
  const double g_abs = (b.adjusted_mean(theta) - a.adjusted_mean(theta)) * sign;
  const double g_den = std::abs(baseline);
  const double m = a.parts[0].mean();
  const Vector a_nabla = a.nabla(theta);
  const Vector control{-(g_den + g_abs) / d / (g_den * g_den),
                       (m * g_den / (d * d) + m * g_abs / (d * d)) / (g_den * g_den),
                       -a_nabla[2] / g_den, -a_nabla[3] / g_den};
  Vector treatment = b.nabla(theta);
  for (double& value : treatment) value /= g_den;
  return quadratic_form(control, a.lambda, control) / a.n +
         quadratic_form(treatment, b.lambda, treatment) / b.n;
}

}  // namespace

ArmStatistic ratio_arm_statistic(const VariantData& variant, RatioTypes types) {
  const RatioSums& sums = *variant.ratio;
  const Component m{variant.n, sums.m_sum, sums.m_sum_squares,
                    types.numerator == MetricType::kProportion};
  const Component d{variant.n, sums.d_sum, sums.d_sum_squares,
                    types.denominator == MetricType::kProportion};
  ArmStatistic arm;
  arm.n = variant.n;
  arm.mean = arm.unadjusted_mean = sums.d_sum == 0 ? 0 : sums.m_sum / sums.d_sum;
  const double md = d.mean();
  if (md != 0 && variant.n > 1) {
    const double mm = m.mean();
    arm.variance = m.variance() / (md * md) + d.variance() * mm * mm / (md * md * md * md) -
                   2 * covariance(m, d, sums.m_d_sum_of_products) * mm / (md * md * md);
  }
  arm.unadjusted_variance = arm.variance;
  return arm;
}

std::optional<RatioCupedAdjustment> ratio_cuped_adjustment(const VariantData& control,
                                                           const VariantData& treatment,
                                                           RatioTypes types) {
  if (!control.ratio_covariate || !treatment.ratio_covariate) return std::nullopt;
  const RatioArm a(control, types);
  const RatioArm b(treatment, types);
  const double pre = a.pre_variance() + b.pre_variance();
  const double theta = pre == 0 ? 0 : -(a.cross_covariance() + b.cross_covariance()) / pre;
  if (!(std::abs(theta) >= 1e-8) || !std::isfinite(theta)) return std::nullopt;
  return RatioCupedAdjustment{theta, a.statistic(theta), b.statistic(theta),
                              relative_cuped_ratio_variance(a, b, theta)};
}

}  // namespace verdict::stats
