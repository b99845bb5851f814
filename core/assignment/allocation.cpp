#include "core/assignment/allocation.hpp"

#include <cmath>
#include <numeric>
#include <utility>

#include "core/assignment/hash.hpp"
#include "core/error.hpp"

namespace verdict::assignment {

const char* to_string(AssignReason reason) noexcept {
  switch (reason) {
    case AssignReason::kAssigned:
      return "assigned";
    case AssignReason::kCoverage:
      return "coverage";
    case AssignReason::kMissingUnit:
      break;
  }
  return "missingUnit";
}

Allocation::Allocation(std::string seed, double coverage, std::span<const double> weights,
                       int hash_version)
    : seed_(std::move(seed)), hash_version_(hash_version) {
  if (hash_version != 1 && hash_version != 2) invalid("hashVersion", "must be 1 or 2");
  if (!(coverage >= 0 && coverage <= 1)) invalid("coverage", "must be between 0 and 1");
  if (weights.size() < 2) invalid("weights", "must have at least two variants");
  for (double weight : weights) {
    if (!std::isfinite(weight) || weight < 0) invalid("weights", "must be non-negative numbers");
  }
  // GrowthBook's tolerance, so a split it accepts is laid out exactly as it lays it out.
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  if (total < 0.99 || total > 1.01) invalid("weights", "must add up to 1");
  ranges_ = get_bucket_ranges(static_cast<int>(weights.size()), coverage, weights);
}

Assignment Allocation::assign(std::string_view unit) const noexcept {
  Assignment result;
  if (unit.empty()) return result;
  // The constructor admits only versions 1 and 2, for which hash() always has a value.
  result.bucket = *hash(seed_, unit, hash_version_);
  const int variant = choose_variation(*result.bucket, ranges_);
  result.in_experiment = variant >= 0;
  result.variant_index = result.in_experiment ? variant : 0;
  result.reason = result.in_experiment ? AssignReason::kAssigned : AssignReason::kCoverage;
  return result;
}

Assignment assign(std::string_view seed, std::string_view unit, double coverage,
                  std::span<const double> weights, int hash_version) {
  return Allocation(std::string(seed), coverage, weights, hash_version).assign(unit);
}

}  // namespace verdict::assignment
