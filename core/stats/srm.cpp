#include "core/stats/srm.hpp"

#include <boost/math/distributions/chi_squared.hpp>

#include <numeric>

namespace verdict::stats {

SrmResult sample_ratio_mismatch(const std::vector<double>& units,
                                const std::vector<double>& weights) {
  const double total_units = std::accumulate(units.begin(), units.end(), 0.0);
  const double total_weight = std::accumulate(weights.begin(), weights.end(), 0.0);
  if (total_units <= 0 || total_weight <= 0 || units.size() < 2 || units.size() != weights.size()) {
    return {};
  }
  SrmResult result;
  for (std::size_t i = 0; i < units.size(); ++i) {
    if (weights[i] <= 0) continue;
    const double expected = weights[i] / total_weight * total_units;
    result.chi2 += (units[i] - expected) * (units[i] - expected) / expected;
  }
  const boost::math::chi_squared distribution(static_cast<double>(units.size() - 1));
  result.p_value = boost::math::cdf(boost::math::complement(distribution, result.chi2));
  result.mismatch = result.p_value < kSrmThreshold;
  return result;
}

}  // namespace verdict::stats
