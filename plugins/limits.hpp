#pragma once

#include <cstddef>
#include <cstdint>

namespace verdict::plugins {

/// Bounds on Lua code. Instructions and time apply to one call into Lua (a hook, a plugin verb,
/// a script's top level) including the verbs it triggers; memory applies to the whole Lua state.
struct Limits {
  std::int64_t instructions = 10'000'000;       ///< Lua VM instructions per call
  std::int64_t milliseconds = 1000;             ///< wall-clock time per call
  std::size_t memory_bytes = 64 * 1024 * 1024;  ///< everything the Lua state allocates
};

}  // namespace verdict::plugins
