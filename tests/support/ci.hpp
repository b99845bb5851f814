#pragma once

#include <cstdlib>
#include <string_view>

namespace verdict::test_support {

/// True under CI (`CI=true`, as GitHub Actions and most CI systems set it): there, a test whose
/// reference data is missing fails instead of skipping, so a broken checkout cannot pass green.
inline bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string_view(ci) == "true";
}

}  // namespace verdict::test_support
