#pragma once

#include <gmock/gmock.h>

#include <string>

#include "core/error.hpp"

namespace verdict::test_support {

/// Matches a callable that throws verdict::Error with `code`, and with `field` when one is given,
/// so a test fails when the right kind of error turns into another one:
///
///     EXPECT_THAT([&] { create({{"name", 5}}); }, ThrowsError(ErrorCode::kInvalidArgument,
///     "name"));
inline auto ThrowsError(ErrorCode code) {
  return ::testing::Throws<Error>(::testing::Property(&Error::code, code));
}

inline auto ThrowsError(ErrorCode code, const std::string& field) {
  return ::testing::Throws<Error>(::testing::AllOf(::testing::Property(&Error::code, code),
                                                   ::testing::Property(&Error::field, field)));
}

}  // namespace verdict::test_support
