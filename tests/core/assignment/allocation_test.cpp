#include "core/assignment/allocation.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include "core/assignment/run.hpp"
#include "core/error.hpp"

namespace verdict::assignment {
namespace {

void expect_invalid(double coverage, std::vector<double> weights, int hash_version,
                    const std::string& field) {
  try {
    Allocation("seed", coverage, weights, hash_version);
    ADD_FAILURE() << "accepted an invalid " << field;
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(error.field(), field) << error.what();
  }
}

TEST(AllocationTest, RejectsBadConfiguration) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  expect_invalid(1, {0.5, 0.4}, 2, "weights");   // sums to 0.9
  expect_invalid(1, {0.7, 0.6}, 2, "weights");   // sums to 1.3
  expect_invalid(1, {1.5, -0.5}, 2, "weights");  // negative
  expect_invalid(1, {nan, 1}, 2, "weights");
  expect_invalid(1, {1}, 2, "weights");  // a single variant
  expect_invalid(-0.1, {0.5, 0.5}, 2, "coverage");
  expect_invalid(1.1, {0.5, 0.5}, 2, "coverage");
  expect_invalid(nan, {0.5, 0.5}, 2, "coverage");
  expect_invalid(1, {0.5, 0.5}, 3, "hashVersion");
}

TEST(AllocationTest, ZeroCoverageAssignsNobody) {
  const std::vector<double> weights{0.5, 0.5};
  const Allocation allocation("exp", 0, weights);
  for (int i = 0; i < 1000; ++i) {
    const Assignment result = allocation.assign("user-" + std::to_string(i));
    ASSERT_FALSE(result.in_experiment);
    EXPECT_EQ(result.variant_index, 0);
    EXPECT_EQ(result.reason, AssignReason::kCoverage);
    EXPECT_TRUE(result.bucket.has_value());
  }
}

TEST(AllocationTest, FullCoverageAssignsEveryoneInProportion) {
  const std::vector<double> weights{0.2, 0.3, 0.5};
  const Allocation allocation("exp", 1, weights);
  std::vector<int> counts(3);
  constexpr int kUnits = 30000;
  for (int i = 0; i < kUnits; ++i) {
    const Assignment result = allocation.assign("user-" + std::to_string(i));
    ASSERT_TRUE(result.in_experiment);
    EXPECT_EQ(result.reason, AssignReason::kAssigned);
    ++counts[static_cast<std::size_t>(result.variant_index)];
  }
  for (std::size_t i = 0; i < weights.size(); ++i) {
    EXPECT_NEAR(counts[i] / double(kUnits), weights[i], 0.015) << "variant " << i;
  }
}

TEST(AllocationTest, RaisingCoverageNeverMovesAnAssignedUnit) {
  const std::vector<double> weights{0.5, 0.5};
  const Allocation small("exp", 0.3, weights);
  const Allocation large("exp", 0.8, weights);
  for (int i = 0; i < 2000; ++i) {
    const std::string unit = std::to_string(i);
    const Assignment before = small.assign(unit);
    if (before.in_experiment) {
      EXPECT_EQ(large.assign(unit).variant_index, before.variant_index) << unit;
    }
  }
}

TEST(AllocationTest, EmptyUnitIsNotInTheExperiment) {
  const Assignment result = assign("exp", "", 1, std::vector<double>{0.5, 0.5});
  EXPECT_FALSE(result.in_experiment);
  EXPECT_EQ(result.reason, AssignReason::kMissingUnit);
  EXPECT_FALSE(result.bucket.has_value());
}

TEST(AllocationTest, ReasonsHaveWireNames) {
  EXPECT_STREQ(to_string(AssignReason::kAssigned), "assigned");
  EXPECT_STREQ(to_string(AssignReason::kCoverage), "coverage");
  EXPECT_STREQ(to_string(AssignReason::kMissingUnit), "missingUnit");
}

// The point of the GrowthBook hash: Verdict's assign agrees with a GrowthBook evaluation of
// the same experiment, unit by unit, for both hash versions.
TEST(AllocationTest, AgreesWithGrowthBookRun) {
  for (int version : {1, 2}) {
    const std::vector<double> weights{0.25, 0.75};
    const Allocation allocation("checkout-seed", 0.6, weights, version);
    ExperimentSpec spec;
    spec.key = "checkout";
    spec.seed = "checkout-seed";
    spec.variations = boost::json::parse("[0, 1]").as_array();
    spec.weights = weights;
    spec.coverage = 0.6;
    spec.hash_version = version;
    for (int i = 0; i < 2000; ++i) {
      const std::string unit = "u" + std::to_string(i) + "-é";
      RunContext context;
      context.attributes["id"] = unit;
      const RunResult expected = run(context, spec);
      const Assignment actual = allocation.assign(unit);
      ASSERT_EQ(actual.in_experiment, expected.in_experiment) << unit;
      ASSERT_EQ(actual.variant_index, expected.variation_id) << unit;
    }
  }
}

}  // namespace
}  // namespace verdict::assignment
