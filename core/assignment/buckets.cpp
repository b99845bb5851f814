#include "core/assignment/buckets.hpp"

#include <cstddef>
#include <numeric>

namespace verdict::assignment {

std::vector<double> get_equal_weights(int n) {
  if (n <= 0) return {};
  return std::vector<double>(static_cast<std::size_t>(n), 1.0 / n);
}

std::vector<BucketRange> get_bucket_ranges(int num_variations, double coverage,
                                           std::span<const double> weights) {
  // Written as GrowthBook writes it, so NaN coverage passes through unclamped as it does there.
  if (coverage < 0) coverage = 0;
  if (coverage > 1) coverage = 1;

  const std::vector<double> equal = get_equal_weights(num_variations);
  if (weights.size() != equal.size()) weights = equal;
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  if (total < 0.99 || total > 1.01) weights = equal;

  std::vector<BucketRange> ranges;
  ranges.reserve(weights.size());
  double cumulative = 0;
  for (double weight : weights) {
    const double start = cumulative;
    cumulative += weight;
    ranges.push_back({start, start + coverage * weight});
  }
  return ranges;
}

int choose_variation(double n, std::span<const BucketRange> ranges) noexcept {
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    if (ranges[i].contains(n)) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace verdict::assignment
