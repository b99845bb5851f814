#include "core/assignment/buckets.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

namespace verdict::assignment {
namespace {

TEST(BucketsTest, CoverageShrinksEachSliceFromItsTop) {
  const std::vector<double> weights{0.5, 0.5};
  EXPECT_EQ(get_bucket_ranges(2, 0.5, weights), (std::vector<BucketRange>{{0, 0.25}, {0.5, 0.75}}));
  EXPECT_EQ(get_bucket_ranges(2, 0, weights), (std::vector<BucketRange>{{0, 0}, {0.5, 0.5}}));
  EXPECT_EQ(get_bucket_ranges(2, 1, weights), (std::vector<BucketRange>{{0, 0.5}, {0.5, 1}}));
}

TEST(BucketsTest, BadWeightsFallBackToEqualWeightsAsInGrowthBook) {
  const std::vector<BucketRange> equal{{0, 0.5}, {0.5, 1}};
  const std::vector<double> short_sum{0.4, 0.1};
  const std::vector<double> long_sum{0.7, 0.6};
  const std::vector<double> wrong_length{0.2, 0.3, 0.5};
  EXPECT_EQ(get_bucket_ranges(2, 1, short_sum), equal);
  EXPECT_EQ(get_bucket_ranges(2, 1, long_sum), equal);
  EXPECT_EQ(get_bucket_ranges(2, 1, wrong_length), equal);
  EXPECT_EQ(get_bucket_ranges(2, 1, {}), equal);
}

TEST(BucketsTest, CoverageIsClamped) {
  EXPECT_EQ(get_bucket_ranges(2, -0.2), (std::vector<BucketRange>{{0, 0}, {0.5, 0.5}}));
  EXPECT_EQ(get_bucket_ranges(2, 1.5), (std::vector<BucketRange>{{0, 0.5}, {0.5, 1}}));
}

TEST(BucketsTest, NoVariationsNoRanges) {
  EXPECT_TRUE(get_bucket_ranges(0).empty());
  EXPECT_TRUE(get_bucket_ranges(-3).empty());
  EXPECT_TRUE(get_equal_weights(-1).empty());
}

TEST(BucketsTest, ChooseVariationUsesHalfOpenRanges) {
  const std::vector<BucketRange> ranges{{0, 0.25}, {0.5, 0.75}};
  EXPECT_EQ(choose_variation(0, ranges), 0);
  EXPECT_EQ(choose_variation(0.25, ranges), -1);
  EXPECT_EQ(choose_variation(0.5, ranges), 1);
  EXPECT_EQ(choose_variation(0.75, ranges), -1);
  EXPECT_EQ(choose_variation(std::numeric_limits<double>::quiet_NaN(), ranges), -1);
}

}  // namespace
}  // namespace verdict::assignment
