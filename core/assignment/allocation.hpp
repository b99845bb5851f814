#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/assignment/buckets.hpp"

namespace verdict::assignment {

/// Why a unit is or is not in an experiment.
enum class AssignReason {
  kAssigned,     ///< inside coverage, bucketed into a variant
  kCoverage,     ///< hashed outside the experiment's traffic allocation
  kMissingUnit,  ///< an empty unit id cannot be hashed
};

/// "assigned", "coverage", "missingUnit".
const char* to_string(AssignReason reason) noexcept;

struct Assignment {
  bool in_experiment = false;
  int variant_index = 0;         ///< 0 (control) when not in the experiment, as GrowthBook
  std::optional<double> bucket;  ///< the unit's hash in [0, 1); none without a unit
  AssignReason reason = AssignReason::kMissingUnit;
};

/// An experiment's traffic split, with the bucket ranges laid out once so that assigning a
/// unit is one hash and a scan of the ranges. The ranges are GrowthBook's for the same seed,
/// coverage, weights and hash version, so every GrowthBook SDK assigns a unit the same
/// variant. Immutable, hence safe to share between threads.
class Allocation {
 public:
  /// `coverage` is the fraction of units in the experiment; `weights` the variants' shares.
  /// Throws verdict::Error (kInvalidArgument) for a hash version other than 1 or 2, fewer
  /// than two weights, a negative or non-finite weight, weights not adding up to 1 +- 0.01,
  /// or coverage outside [0, 1]: GrowthBook would silently fall back to equal weights or
  /// clamp, which would hide a configuration mistake.
  Allocation(std::string seed, double coverage, std::span<const double> weights,
             int hash_version = 2);

  /// Deterministic: the same unit gets the same answer for the same configuration.
  Assignment assign(std::string_view unit) const noexcept;

  const std::vector<BucketRange>& ranges() const noexcept { return ranges_; }

 private:
  std::string seed_;
  int hash_version_;
  std::vector<BucketRange> ranges_;
};

/// One-off form of `Allocation(seed, coverage, weights, hash_version).assign(unit)`; prefer an
/// Allocation kept with the experiment when assigning many units.
Assignment assign(std::string_view seed, std::string_view unit, double coverage,
                  std::span<const double> weights, int hash_version = 2);

}  // namespace verdict::assignment
