#include "core/stats/bayesian.hpp"

#include <boost/math/distributions/normal.hpp>

#include <cmath>

namespace verdict::stats {
namespace {

// E[max(X, 0)] for X ~ N(mu, sigma^2): equals P(X > 0) * E[X | X > 0], the closed form of
// gbstats' truncated-normal risk without its 0 * inf corner cases.
double expected_positive_part(double mu, double sigma) {
  const boost::math::normal standard;
  const double z = mu / sigma;
  return mu * boost::math::cdf(standard, z) + sigma * boost::math::pdf(standard, z);
}

}  // namespace

Prior scaled_prior(const Prior& prior, DifferenceType difference_type, double control_mean) {
  if (difference_type != DifferenceType::kAbsolute || prior.scale != PriorScale::kRelative)
    return prior;
  Prior scaled = prior;
  scaled.mean = prior.mean * std::abs(control_mean);
  scaled.stddev = prior.stddev * std::abs(control_mean);
  return scaled;
}

BayesianResult bayesian_test(const EffectEstimate& effect, const Prior& prior, double alpha,
                             bool inverse) {
  if (!effect.valid) return {};
  const double data_variance = effect.standard_error * effect.standard_error;
  const double prior_variance = prior.stddev * prior.stddev;
  double mean = effect.estimate;
  double variance = data_variance;
  if (prior.proper) {
    const double precision = 1 / data_variance + 1 / prior_variance;
    mean = (effect.estimate / data_variance + prior.mean / prior_variance) / precision;
    variance = 1 / precision;
  }
  const double stddev = std::sqrt(variance);
  const boost::math::normal posterior(mean, stddev);

  BayesianResult result;
  result.mean = mean;
  result.stddev = stddev;
  const double p_positive = boost::math::cdf(boost::math::complement(posterior, 0.0));
  result.chance_to_win = inverse ? 1 - p_positive : p_positive;
  result.ci = {boost::math::quantile(posterior, alpha / 2),
               boost::math::quantile(boost::math::complement(posterior, alpha / 2))};
  // Choosing control forgoes the positive part of the effect, choosing treatment risks the
  // negative part; for inverse metrics the roles swap.
  const double loss_control = expected_positive_part(mean, stddev);
  const double loss_treatment = expected_positive_part(-mean, stddev);
  result.risk =
      inverse ? std::array{loss_treatment, loss_control} : std::array{loss_control, loss_treatment};
  return result;
}

}  // namespace verdict::stats
