#pragma once

#include <span>
#include <vector>

namespace verdict::assignment {

/// A variation's slice [start, end) of the hash space [0, 1).
struct BucketRange {
  double start = 0;
  double end = 0;

  bool contains(double n) const noexcept { return n >= start && n < end; }
  friend bool operator==(const BucketRange&, const BucketRange&) = default;
};

/// `n` weights of 1/n each; none when n <= 0.
std::vector<double> get_equal_weights(int n);

/// GrowthBook's layout: variation i owns [cumulative weight before i, that + coverage * w_i),
/// so lowering coverage shrinks every slice from its top and a unit keeps its variation when
/// coverage grows. GrowthBook's lenient handling of bad input is kept, because every SDK
/// must agree on it: coverage is clamped to [0, 1]; weights that are empty, of the wrong
/// length, or that do not add up to 1 +- 0.01 are replaced by equal weights.
std::vector<BucketRange> get_bucket_ranges(int num_variations, double coverage = 1,
                                           std::span<const double> weights = {});

/// The index of the first range containing `n`, or -1 when none does (outside coverage).
int choose_variation(double n, std::span<const BucketRange> ranges) noexcept;

}  // namespace verdict::assignment
