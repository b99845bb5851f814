#include "core/stats/thompson_sampler.hpp"

#include "core/error.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <numeric>
#include "tests/support/error_matchers.hpp"

namespace verdict::stats {
namespace {

using test_support::ThrowsError;

using ::testing::DoubleNear;
using ::testing::ElementsAre;

// A third arm with essentially no chance of being best turns the three-arm quadrature into a
// check of the two-arm closed form.
constexpr BetaPosterior kHopeless{1, 1e6};

TEST(ThompsonSamplerTest, ClosedFormAgreesWithQuadrature) {
  const BetaPosterior a{1001, 9001};
  const BetaPosterior b{1121, 8981};
  const double exact = probability_b_beats_a(a, b);
  EXPECT_NEAR(exact, 0.9940210759752278, 1e-10);  // p_b_gt_a_exact of the reference file
  const std::vector<double> best = probability_best({a, b, kHopeless});
  EXPECT_NEAR(best[1], exact, 1e-8);
  EXPECT_NEAR(best[0], 1 - exact, 1e-8);
  EXPECT_NEAR(best[2], 0, 1e-12);
}

TEST(ThompsonSamplerTest, LargeCountsUseQuadratureConsistently) {
  // 15,001 terms: still closed form; the 3-arm quadrature must agree.
  const BetaPosterior a{15001, 135001};
  const BetaPosterior b{15301, 134701};
  EXPECT_NEAR(probability_best({a, b, kHopeless})[1], probability_b_beats_a(a, b), 1e-8);
  // Ten million units per arm: beyond the closed form, identical arms must tie exactly enough.
  const BetaPosterior big{1e6 + 1, 9e6 + 1};
  EXPECT_NEAR(probability_b_beats_a(big, big), 0.5, 1e-9);
}

TEST(ThompsonSamplerTest, QuadratureResolvesArmsOfVeryDifferentWidth) {
  // 100 units against ten million: the narrow arm's window is ~300x smaller than the wide one's.
  const BetaPosterior small{11, 91};
  const BetaPosterior huge{1e6 + 1, 9e6 + 1};
  EXPECT_NEAR(probability_best({small, huge, kHopeless})[1], probability_b_beats_a(small, huge),
              1e-8);
}

TEST(ThompsonSamplerTest, RejectsImpossibleCounts) {
  const ThompsonSampler sampler;
  EXPECT_THAT(
      [&] {
        sampler.update({{10, 11}, {10, 1}}, {1, 1});
      },
      ThrowsError(ErrorCode::kInvalidArgument));
  EXPECT_THAT(
      [&] {
        sampler.update({{-1, 0}, {10, 1}}, {1, 1});
      },
      ThrowsError(ErrorCode::kInvalidArgument));
  EXPECT_THAT(
      [&] {
        probability_best({{0.5, 1}, {1, 1}});
      },
      ThrowsError(ErrorCode::kInvalidArgument));
}

TEST(ThompsonSamplerTest, SymmetricAndSingleArms) {
  EXPECT_NEAR(probability_b_beats_a({15, 15}, {15, 15}), 0.5, 1e-12);
  EXPECT_THAT(probability_best({{3, 4}}), ElementsAre(1.0));
  const std::vector<double> four = probability_best({{11, 91}, {11, 91}, {11, 91}, {11, 91}});
  for (double p : four) EXPECT_NEAR(p, 0.25, 1e-8);
}

TEST(ThompsonSamplerTest, FloorIsAdditiveLikeGbstats) {
  // f + (1 - k f) p: every arm keeps f, the rest is shared in proportion to P(best).
  EXPECT_THAT(apply_weight_floor({0.995, 0.005, 0.0}, 0.01),
              ElementsAre(DoubleNear(0.01 + 0.97 * 0.995, 1e-15),
                          DoubleNear(0.01 + 0.97 * 0.005, 1e-15), DoubleNear(0.01, 1e-15)));
  EXPECT_THAT(
      apply_weight_floor({0.7, 0.3}, 0.01),
      ElementsAre(DoubleNear(0.01 + 0.98 * 0.7, 1e-15), DoubleNear(0.01 + 0.98 * 0.3, 1e-15)));
  const std::vector<double> weights = apply_weight_floor({0.9805, 0.0100, 0.0095}, 0.01);
  EXPECT_NEAR(std::accumulate(weights.begin(), weights.end(), 0.0), 1, 1e-15);
  // The order of the arms survives (clipping would tie the last two at the floor).
  EXPECT_GT(weights[1], weights[2]);
  // Floors that cannot all fit give the uniform split.
  EXPECT_THAT(apply_weight_floor({0.9, 0.05, 0.05}, 0.4), ElementsAre(1.0 / 3, 1.0 / 3, 1.0 / 3));
}

TEST(ThompsonSamplerTest, InverseBestIsTheLowestRate) {
  const ThompsonSampler sampler(ThompsonSampler::Config{.inverse = true});
  const auto result = sampler.update({{5000, 500}, {5000, 650}, {5000, 400}}, {1, 1, 1});
  EXPECT_GT(result.probability_best[2], 0.99);
  EXPECT_LT(result.probability_best[1], 1e-6);
  EXPECT_GT(result.weights[2], result.weights[0]);
}

TEST(ThompsonSamplerTest, KeepsConfiguredWeightsUntilEveryArmHasEnoughUnits) {
  const ThompsonSampler sampler;
  const auto early = sampler.update({{99, 10}, {500, 80}}, {1, 4});
  EXPECT_FALSE(early.reweighted);
  EXPECT_THAT(early.weights, ElementsAre(0.2, 0.8));
  EXPECT_EQ(early.probability_best.size(), 2u);

  const auto later = sampler.update({{10000, 1000}, {10100, 1120}}, {0.5, 0.5});
  EXPECT_TRUE(later.reweighted);
  // P(best) is 0.006 / 0.994; the additive 1% floor gives 0.01 + 0.98 p.
  EXPECT_NEAR(later.probability_best[1], 0.9940210759752278, 1e-10);
  EXPECT_THAT(later.weights,
              ElementsAre(DoubleNear(0.01 + 0.98 * later.probability_best[0], 1e-15),
                          DoubleNear(0.01 + 0.98 * later.probability_best[1], 1e-15)));
  EXPECT_THAT(later.posteriors[0].alpha, 1001);
}

TEST(ThompsonSamplerTest, ZeroAndAllConversionsAreFinite) {
  const ThompsonSampler sampler(ThompsonSampler::Config{.floor = 0.05, .min_units = 100});
  const auto none = sampler.update({{1000, 0}, {1000, 0}}, {1, 1});
  EXPECT_NEAR(none.probability_best[0], 0.5, 1e-12);
  const auto all = sampler.update({{1000, 1000}, {200, 200}, {1000, 0}}, {1, 1, 1});
  EXPECT_GT(all.probability_best[0], all.probability_best[1]);
  EXPECT_NEAR(all.weights[2], 0.05, 1e-12);
}

TEST(ThompsonSamplerTest, RejectsMismatchedWeights) {
  try {
    ThompsonSampler().update({{100, 1}, {100, 2}}, {1.0});
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(error.field(), "weights");
  }
}

}  // namespace
}  // namespace verdict::stats
