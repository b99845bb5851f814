#include "core/error.hpp"

#include <gtest/gtest.h>

namespace verdict {
namespace {

TEST(ErrorTest, InvalidNamesTheField) {
  try {
    invalid("trafficAllocation", "must be between 0 and 100");
    FAIL() << "invalid() returned";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(error.field(), "trafficAllocation");
    EXPECT_STREQ(error.what(), "trafficAllocation: must be between 0 and 100");
  }
}

}  // namespace
}  // namespace verdict
