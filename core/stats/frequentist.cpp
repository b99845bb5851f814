#include "core/stats/frequentist.hpp"

#include <boost/math/distributions/students_t.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace verdict::stats {
namespace {

// log Lambda of the normal mixture for squared z-statistic z2 with N units in the two arms.
double mixture_log_lr(double z2, double n, double rho) {
  const double scaled = n * rho * rho;
  return scaled * z2 / (2 * (scaled + 1)) - 0.5 * std::log1p(scaled);
}

}  // namespace

FixedHorizonResult fixed_horizon_test(const EffectEstimate& effect, double alpha) {
  if (!effect.valid) return {};
  const boost::math::students_t distribution(effect.welch_dof);
  const double t = std::abs(effect.estimate / effect.standard_error);
  const double half_width =
      boost::math::quantile(boost::math::complement(distribution, alpha / 2)) *
      effect.standard_error;
  return {effect.estimate,
          effect.standard_error,
          {effect.estimate - half_width, effect.estimate + half_width},
          std::min(1.0, 2 * boost::math::cdf(boost::math::complement(distribution, t)))};
}

double sequential_rho(double alpha, double tuning_parameter) {
  const double log_term = -2 * std::log(alpha);
  return std::sqrt((log_term + std::log(log_term + 1)) / tuning_parameter);
}

double sequential_half_width(double s2, double n, double alpha, double tuning_parameter) {
  const double rho = sequential_rho(alpha, tuning_parameter);
  const double scaled = n * rho * rho;
  return std::sqrt(s2 * 2 * (scaled + 1) * std::log(std::sqrt(scaled + 1) / alpha) / (scaled * n));
}

double sequential_one_sided_half_width(const EffectEstimate& effect, double alpha,
                                       double tuning_parameter) {
  if (!effect.valid) return 0;
  const double rho = sequential_rho(2 * alpha, tuning_parameter);
  const double n = effect.total_n;
  const double scaled = n * rho * rho;
  const double s2 = effect.standard_error * effect.standard_error * n;
  return std::sqrt(s2 * 2 * (scaled + 1) / (scaled * n) *
                   std::log(1 + std::sqrt(scaled + 1) / (2 * alpha)));
}

SequentialResult sequential_test(const EffectEstimate& effect, double alpha,
                                 double tuning_parameter) {
  if (!effect.valid) return {};
  const double rho = sequential_rho(alpha, tuning_parameter);
  const double n = effect.total_n;
  // The confidence sequence needs the per-unit variance, s^2 = se^2 * N.
  const double s2 = effect.standard_error * effect.standard_error * n;
  const double half_width = sequential_half_width(s2, n, alpha, tuning_parameter);
  const double z = effect.estimate / effect.standard_error;
  const double log_lr = mixture_log_lr(z * z, n, rho);
  return {log_lr,
          {effect.estimate - half_width, effect.estimate + half_width},
          std::min(1.0, std::exp(-log_lr))};
}

double sample_multiple_to_significance(const EffectEstimate& effect, double alpha,
                                       double tuning_parameter) {
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  if (!effect.valid || effect.estimate == 0) return kInfinity;
  const double rho = sequential_rho(alpha, tuning_parameter);
  const double z = effect.estimate / effect.standard_error;
  const double target = -std::log(alpha);
  // With the estimate fixed, z^2 grows linearly in the sample; log Lambda is eventually
  // increasing in it, so bisect on the multiple in log space.
  const auto reaches = [&](double multiple) {
    return mixture_log_lr(z * z * multiple, effect.total_n * multiple, rho) >= target;
  };
  if (reaches(1)) return 1;
  double low = 0;
  double high = 1;
  while (!reaches(std::exp(high))) {
    low = high;
    high *= 2;
    if (high > 200) return kInfinity;
  }
  for (int i = 0; i < 60; ++i) {
    const double mid = (low + high) / 2;
    (reaches(std::exp(mid)) ? high : low) = mid;
  }
  return std::exp(high);
}

}  // namespace verdict::stats
