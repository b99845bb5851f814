// Unit ids for the in-process benchmarks: spread out, so hashing sees varied input.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace verdict::bench {

inline constexpr int kUnits = 4096;  // a power of two, so the index wraps with a mask

inline std::vector<std::string> make_units() {
  std::vector<std::string> units;
  units.reserve(kUnits);
  for (int i = 0; i < kUnits; ++i)
    units.push_back("user-" +
                    std::to_string(std::uint64_t{1000003} * static_cast<std::uint64_t>(i)));
  return units;
}

}  // namespace verdict::bench
