// Every case of ../shared/stats-vectors/gbstats-reference.json, gbstats-reference-2.json
// (negative control means, priors with absolute differences, tiny n and zero variance, inverse
// metrics with three arms) and gbstats-ratio.json (ratio metrics by the delta method, with CUPED)
// against GrowthBook's gbstats.
#include "core/stats/analysis.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "tests/support/ci.hpp"

namespace verdict::stats {
namespace {

namespace json = boost::json;

constexpr double kRelativeTolerance = 1e-6;
constexpr double kAbsoluteTolerance = 1e-9;
// Standard deviation of a 200,000-draw Monte Carlo probability is at most 0.0011; allow ~4.5 of it.
constexpr double kMonteCarloTolerance = 0.005;

std::filesystem::path reference_path(const char* name) {
  return std::filesystem::path(VERDICT_SHARED_DIR) / "stats-vectors" / name;
}

double number(const json::value& value) {
  return value.to_number<double>();
}

void expect_close(double actual, const json::value& expected, const std::string& what) {
  const double target = number(expected);
  EXPECT_LE(std::abs(actual - target),
            std::max(kAbsoluteTolerance, kRelativeTolerance * std::abs(target)))
      << std::setprecision(17) << what << ": got " << actual << ", gbstats " << target;
}

void expect_close(const std::array<double, 2>& actual, const json::value& expected,
                  const std::string& what) {
  expect_close(actual[0], expected.at(0), what + "[0]");
  expect_close(actual[1], expected.at(1), what + "[1]");
}

void check_comparison(const Comparison& ours, const json::object& theirs) {
  // Where gbstats gives up it prints placeholders; Verdict must give up too, with its reason.
  const json::value& fixed = theirs.at("frequentist_fixed_two_sided");
  const bool gave_up = !fixed.at("errorMessage").is_null();
  EXPECT_EQ(!ours.effect.valid, gave_up) << ours.effect.error;
  EXPECT_EQ(ours.effect.error.empty(), !gave_up);
  expect_close(ours.lift.estimate, fixed.at("expected"), "lift.estimate");
  expect_close(ours.lift.standard_error, fixed.at("uplift").at("stddev"), "lift.se");
  expect_close(ours.lift.ci, fixed.at("ci"), "lift.ci");
  expect_close(ours.lift.p_value, fixed.at("pValue"), "lift.p_value");
  if (!gave_up) expect_close(ours.effect.welch_dof, fixed.at("welch_dof"), "welch_dof");

  const json::value& sequential = theirs.at("frequentist_sequential_two_sided");
  expect_close(ours.sequential.ci, sequential.at("ci"), "sequential.ci");
  expect_close(ours.sequential.p_value, sequential.at("pValue"), "sequential.p_value");
  if (number(sequential.at("pValue")) < 1) {
    EXPECT_NEAR(ours.sequential.log_lr, -std::log(number(sequential.at("pValue"))), 1e-6);
  }

  const json::value& bayesian = theirs.at("bayesian");
  if (bayesian.is_null()) {
    EXPECT_FALSE(ours.effect.valid);
    return;
  }
  expect_close(ours.bayesian.mean, bayesian.at("expected"), "bayesian.expected");
  expect_close(ours.bayesian.chance_to_win, bayesian.at("chanceToWin"), "bayesian.chance_to_win");
  expect_close(ours.bayesian.ci, bayesian.at("ci"), "bayesian.ci");
  expect_close(ours.bayesian.risk, bayesian.at("risk"), "bayesian.risk");

  const json::value* cuped = theirs.if_contains("cuped");
  // Set 2 records a constant covariate as a reversion to the unadjusted analysis.
  if (cuped && cuped->as_object().contains("reverted_to_unadjusted") &&
      cuped->at("reverted_to_unadjusted").as_bool())
    cuped = nullptr;
  if (cuped) {
    ASSERT_TRUE(ours.cuped.has_value());
    const json::object& fields = cuped->as_object();
    expect_close(ours.cuped->theta,
                 fields.contains("theta") ? fields.at("theta") : fields.at("theta_pooled"),
                 "cuped.theta");
    expect_close(ours.cuped->adjusted_variance[0], cuped->at("adjusted_variance_control"),
                 "cuped.adjusted_variance[0]");
    expect_close(ours.cuped->adjusted_variance[1], cuped->at("adjusted_variance_treatment"),
                 "cuped.adjusted_variance[1]");
  } else {
    EXPECT_FALSE(ours.cuped.has_value());
  }
}

void check_bandit(const AnalysisResult& result, const json::object& extras) {
  ASSERT_TRUE(result.bandit.has_value());
  const ThompsonSampler::Result& bandit = *result.bandit;
  const json::array& alpha_beta = extras.at("alpha_beta").as_array();
  ASSERT_EQ(bandit.posteriors.size(), alpha_beta.size());
  for (std::size_t i = 0; i < alpha_beta.size(); ++i) {
    EXPECT_EQ(bandit.posteriors[i].alpha, number(alpha_beta[i].at(0)));
    EXPECT_EQ(bandit.posteriors[i].beta, number(alpha_beta[i].at(1)));
  }
  if (const json::value* exact = extras.if_contains("p_b_gt_a_exact")) {
    expect_close(bandit.probability_best[1], *exact, "probability_best[1]");
  }
  const json::array& monte_carlo = extras.at("p_best_mc").as_array();
  for (std::size_t i = 0; i < monte_carlo.size(); ++i) {
    EXPECT_NEAR(bandit.probability_best[i], number(monte_carlo[i]), kMonteCarloTolerance)
        << "probability_best[" << i << "]";
  }
}

void check_file(const char* name, std::size_t minimum_cases) {
  const std::filesystem::path path = reference_path(name);
  if (!std::filesystem::exists(path)) {
    if (test_support::in_ci())
      FAIL() << "shared reference data missing at " << path << " under CI=true";
    GTEST_SKIP() << "shared reference data not found at " << path
                 << "; check out ../shared next to the repository to run the gbstats comparison";
  }
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  const json::array cases = json::parse(text.str()).as_array();
  ASSERT_GE(cases.size(), minimum_cases);

  for (const json::value& reference : cases) {
    SCOPED_TRACE(std::string(reference.at("name").as_string()));
    const AnalysisInput input = parse_analysis_input(reference.at("input"));
    const AnalysisResult result = analyze(input);
    const json::object& gbstats = reference.at("gbstats").as_object();

    const json::array& variants = gbstats.at("variants").as_array();
    ASSERT_EQ(result.variants.size(), variants.size());
    for (std::size_t i = 0; i < variants.size(); ++i) {
      expect_close(result.variants[i].mean, variants[i].at("mean"), "mean");
      // CUPED ratio variants record the unadjusted delta-method variance under its own name.
      const json::object& variant = variants[i].as_object();
      expect_close(
          result.variants[i].variance,
          variant.contains("variance") ? variant.at("variance") : variant.at("variance_unadjusted"),
          "variance");
    }
    expect_close(result.srm.p_value, gbstats.at("srm").at("p_value"), "srm.p_value");

    const json::array& comparisons = gbstats.at("comparisons").as_array();
    ASSERT_EQ(result.comparisons.size(), comparisons.size());
    for (std::size_t i = 0; i < comparisons.size(); ++i) {
      SCOPED_TRACE("comparison " + std::to_string(i + 1));
      EXPECT_EQ(result.comparisons[i].variant, number(comparisons[i].at("treatment")));
      check_comparison(result.comparisons[i], comparisons[i].as_object());
      // The guardrail harm test's bounds are gbstats' always-valid one-sided intervals.
      const double half_width = sequential_one_sided_half_width(
          result.comparisons[i].effect, input.alpha, input.sequential_tuning_parameter);
      const double estimate = result.comparisons[i].effect.estimate;
      if (const json::value* lesser =
              comparisons[i].as_object().if_contains("frequentist_sequential_one_sided_lesser");
          lesser && result.comparisons[i].effect.valid) {
        expect_close(estimate + half_width, lesser->at("ci").at(1), "one_sided_lesser.ci[1]");
        expect_close(estimate - half_width,
                     comparisons[i].at("frequentist_sequential_one_sided_greater").at("ci").at(0),
                     "one_sided_greater.ci[0]");
      }
    }
    if (const json::value* extras = gbstats.if_contains("beta_binomial_extras_not_gbstats")) {
      check_bandit(result, extras->as_object());
    }
  }
}

TEST(ReferenceTest, MatchesGbstatsOnEveryCase) {
  check_file("gbstats-reference.json", 10);
}

TEST(ReferenceTest, MatchesGbstatsSemanticsOfSetTwo) {
  check_file("gbstats-reference-2.json", 36);
}

TEST(ReferenceTest, MatchesGbstatsRatioMetrics) {
  check_file("gbstats-ratio.json", 21);
}

}  // namespace
}  // namespace verdict::stats
