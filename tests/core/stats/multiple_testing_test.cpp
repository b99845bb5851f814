#include "core/stats/multiple_testing.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace verdict::stats {
namespace {

using ::testing::DoubleNear;
using ::testing::ElementsAre;

// p = [0.01, 0.04, 0.03, 0.005], m = 4; ascending: 0.005 (#3), 0.01 (#0), 0.03 (#2), 0.04 (#1).
const std::vector<double> kPValues{0.01, 0.04, 0.03, 0.005};

TEST(MultipleTestingTest, HolmMatchesHandComputation) {
  // (m - rank + 1) * p: 4*0.005 = 0.02, 3*0.01 = 0.03, 2*0.03 = 0.06, 1*0.04 = 0.04;
  // the running maximum makes the last 0.06.
  EXPECT_THAT(holm_adjust(kPValues), ElementsAre(DoubleNear(0.03, 1e-15), DoubleNear(0.06, 1e-15),
                                                 DoubleNear(0.06, 1e-15), DoubleNear(0.02, 1e-15)));
}

TEST(MultipleTestingTest, BenjaminiHochbergMatchesHandComputation) {
  // p * m / rank: 0.005*4/1 = 0.02, 0.01*4/2 = 0.02, 0.03*4/3 = 0.04, 0.04*4/4 = 0.04;
  // the running minimum from the largest rank down leaves them unchanged.
  EXPECT_THAT(benjamini_hochberg_adjust(kPValues),
              ElementsAre(DoubleNear(0.02, 1e-15), DoubleNear(0.04, 1e-15), DoubleNear(0.04, 1e-15),
                          DoubleNear(0.02, 1e-15)));
}

TEST(MultipleTestingTest, CapsAtOneAndEnforcesMonotonicity) {
  // Holm: 2*0.5 = 1.0, then max(1.0, 0.9) = 1.0. BH: 0.9*2/2 = 0.9, then min(0.9, 0.5*2/1) = 0.9.
  EXPECT_THAT(holm_adjust({0.5, 0.9}), ElementsAre(1.0, 1.0));
  EXPECT_THAT(benjamini_hochberg_adjust({0.5, 0.9}), ElementsAre(0.9, 0.9));
  // BH step-up: the smaller p inherits the smaller adjusted value of a larger rank.
  // 0.04*2/2 = 0.04 < 0.03*2/1 = 0.06, so both become 0.04.
  EXPECT_THAT(benjamini_hochberg_adjust({0.03, 0.04}),
              ElementsAre(DoubleNear(0.04, 1e-15), DoubleNear(0.04, 1e-15)));
}

TEST(MultipleTestingTest, SingleAndEmptyInputsAreUnchanged) {
  EXPECT_THAT(holm_adjust({0.2}), ElementsAre(0.2));
  EXPECT_THAT(benjamini_hochberg_adjust({0.2}), ElementsAre(0.2));
  EXPECT_TRUE(holm_adjust({}).empty());
  EXPECT_TRUE(benjamini_hochberg_adjust({}).empty());
}

}  // namespace
}  // namespace verdict::stats
