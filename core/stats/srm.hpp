#pragma once

#include <vector>

namespace verdict::stats {

/// p-values below this flag a sample ratio mismatch.
inline constexpr double kSrmThreshold = 0.001;

struct SrmResult {
  double chi2 = 0;
  double p_value = 1;
  bool mismatch = false;
};

/// Chi-square goodness of fit of the observed units against the configured weights (gbstats'
/// check_srm): weights are normalised, arms with weight 0 do not contribute, the degrees of
/// freedom are the number of arms minus one. No units or a single arm give p = 1.
SrmResult sample_ratio_mismatch(const std::vector<double>& units,
                                const std::vector<double>& weights);

}  // namespace verdict::stats
