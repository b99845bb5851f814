#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace verdict::assignment {

/// 32-bit FNV-1a over the UTF-16 code units of UTF-8 `text`, as GrowthBook's JavaScript SDK
/// computes it (`charCodeAt`), so non-ASCII text hashes identically in every SDK.
std::uint32_t fnv1a32(std::string_view text) noexcept;

/// GrowthBook's bucketing hash, a number in [0, 1).
/// Version 2 (unbiased): fnv1a32(str(fnv1a32(seed + value))) % 10000 / 10000.
/// Version 1 (legacy):   fnv1a32(value + seed) % 1000 / 1000.
/// Any other version yields nullopt, as in the SDKs.
std::optional<double> hash(std::string_view seed, std::string_view value, int version) noexcept;

/// A GrowthBook namespace: experiments sharing `id` with disjoint [start, end) slices never
/// share a unit.
struct Namespace {
  std::string id;
  double start = 0;
  double end = 1;
};

/// Whether `user_id` falls in the namespace's slice (a version 1 hash seeded "__" + id).
bool in_namespace(std::string_view user_id, const Namespace& ns) noexcept;

}  // namespace verdict::assignment
