#include "core/stats/analysis.hpp"

#include "core/error.hpp"
#include "tests/support/json_checks.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <cmath>
#include "tests/support/error_matchers.hpp"

namespace verdict::stats {
namespace {

using test_support::ThrowsError;

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

AnalysisResult run(const char* text) {
  return analyze(parse_analysis_input(json::parse(text)));
}

using verdict::test_support::expect_all_finite;

// Runs the analysis and checks the invariants every result must satisfy.
AnalysisResult run_sane(const char* text) {
  const AnalysisResult result = run(text);
  expect_all_finite(to_json(result));
  EXPECT_FALSE(result.recommendation.empty());
  return result;
}

TEST(AnalysisTest, JsonHasTheDocumentedShape) {
  const json::object out = to_json(run(R"({"metric_type": "proportion",
      "variants": [{"n": 10000, "sum": 1000}, {"n": 10100, "sum": 1120}], "weights": [0.5, 0.5]})"));
  EXPECT_EQ(out.at("variants").at(0).at("n"), 10000);
  EXPECT_TRUE(out.at("srm").at("mismatch").is_bool());
  const json::value& comparison = out.at("comparisons").at(0);
  EXPECT_EQ(comparison.at("variant"), 1);
  for (const char* key : {"estimate", "se", "ci", "p_value", "p_value_holm", "p_value_bh"}) {
    EXPECT_TRUE(comparison.at("lift").as_object().contains(key)) << key;
  }
  EXPECT_EQ(comparison.at("sequential").at("ci").as_array().size(), 2u);
  EXPECT_EQ(comparison.at("bayesian").at("risk").as_array().size(), 2u);
  EXPECT_TRUE(comparison.at("cuped").is_null());
  EXPECT_EQ(out.at("bandit").at("alpha_beta").at(1), (json::array{1121, 8981}));
  EXPECT_EQ(out.at("bandit").at("weights").as_array().size(), 2u);
  EXPECT_TRUE(out.at("recommendation").is_string());
  // With one treatment the adjusted p-values are the raw one.
  EXPECT_EQ(comparison.at("lift").at("p_value_holm"), comparison.at("lift").at("p_value"));
}

TEST(AnalysisTest, MeanMetricsHaveNoBandit) {
  const json::object out = to_json(run(R"({"variants": [{"n": 100, "sum": 50, "sum_squares": 80},
      {"n": 100, "sum": 60, "sum_squares": 90}]})"));
  EXPECT_TRUE(out.at("bandit").is_null());
}

TEST(AnalysisTest, AdjustsPValuesAcrossTreatments) {
  const AnalysisResult result = run(R"({"metric_type": "proportion", "variants": [
      {"n": 4000, "sum": 400}, {"n": 4050, "sum": 430}, {"n": 3980, "sum": 390},
      {"n": 4010, "sum": 470}]})");
  // Fixed-horizon p-values 0.3769, 0.7614, 0.02235 (gbstats). Holm: 3*0.02235 = 0.06704,
  // 2*0.3769 = 0.7538, max(0.7538, 0.7614) = 0.7614. BH: 0.7614*3/3, 0.3769*3/2 = 0.5653,
  // 0.02235*3/1 = 0.06704.
  const auto& c = result.comparisons;
  EXPECT_NEAR(c[2].lift.p_value_holm, 3 * 0.02234505389356145, 1e-12);
  EXPECT_NEAR(c[0].lift.p_value_holm, 2 * 0.37689604299839896, 1e-12);
  EXPECT_NEAR(c[1].lift.p_value_holm, 0.7613842666888484, 1e-9);
  EXPECT_NEAR(c[0].lift.p_value_bh, 1.5 * 0.37689604299839896, 1e-12);
  EXPECT_NEAR(c[1].lift.p_value_bh, 0.7613842666888484, 1e-9);
  EXPECT_NEAR(c[2].lift.p_value_bh, 3 * 0.02234505389356145, 1e-12);
}

TEST(AnalysisTest, SequentialPValueIsTheRunningMinimum) {
  const AnalysisResult result = run(R"({"metric_type": "proportion", "variants": [
      {"n": 10000, "sum": 1000}, {"n": 10100, "sum": 1120, "previous_min_sequential_p": 0.01}]})");
  // Both the current look and the running figure are reported, each under its own name.
  EXPECT_EQ(result.comparisons[0].running_min_p, 0.01);
  EXPECT_NEAR(result.comparisons[0].sequential.p_value, 0.3627457873915442, 1e-9);
  EXPECT_NEAR(result.comparisons[0].sequential.log_lr, -std::log(0.3627457873915442), 1e-9);
  const json::object sequential =
      to_json(result).at("comparisons").at(0).at("sequential").as_object();
  EXPECT_EQ(sequential.at("p_value"), 0.01);
  EXPECT_NEAR(sequential.at("p_value_current").as_double(), 0.3627457873915442, 1e-9);
  EXPECT_NEAR(sequential.at("log_lr_current").as_double(), -std::log(0.3627457873915442), 1e-9);
  EXPECT_EQ(running_min_p(std::nullopt, 0.4), 0.4);
  EXPECT_EQ(running_min_p(0.3, 0.4), 0.3);
  EXPECT_EQ(running_min_p(0.5, 0.4), 0.4);
}

TEST(AnalysisTest, ZeroUnitsInAnArm) {
  const AnalysisResult result = run_sane(R"({"metric_type": "proportion", "variants": [
      {"n": 1000, "sum": 100}, {"n": 0, "sum": 0}]})");
  const Comparison& comparison = result.comparisons[0];
  EXPECT_FALSE(comparison.effect.valid);
  EXPECT_EQ(comparison.lift.p_value, 1);
  EXPECT_EQ(comparison.sequential.p_value, 1);
  EXPECT_EQ(comparison.bayesian.chance_to_win, 0.5);
  EXPECT_TRUE(result.srm.mismatch);
  EXPECT_FALSE(result.bandit->reweighted);
}

TEST(AnalysisTest, NoUnitsAnywhere) {
  const AnalysisResult result = run_sane(R"({"metric_type": "proportion", "variants": [
      {"n": 0, "sum": 0}, {"n": 0, "sum": 0}]})");
  EXPECT_EQ(result.srm.p_value, 1);
  EXPECT_FALSE(result.srm.mismatch);
  EXPECT_THAT(result.recommendation, StartsWith("Not enough data on the metric"));
}

TEST(AnalysisTest, ZeroAndAllConversions) {
  const AnalysisResult none = run_sane(R"({"metric_type": "proportion", "variants": [
      {"n": 500, "sum": 0}, {"n": 500, "sum": 0}]})");
  EXPECT_EQ(none.variants[0].variance, 0);
  EXPECT_FALSE(none.comparisons[0].effect.valid);
  EXPECT_NEAR(none.bandit->probability_best[1], 0.5, 1e-12);

  const AnalysisResult all = run_sane(R"({"metric_type": "proportion", "variants": [
      {"n": 500, "sum": 500}, {"n": 500, "sum": 500}]})");
  EXPECT_EQ(all.variants[1].mean, 1);
  EXPECT_FALSE(all.comparisons[0].effect.valid);

  // A control without conversions has no relative lift, but the absolute one is defined.
  const AnalysisResult absolute = run_sane(R"({"metric_type": "proportion",
      "difference_type": "absolute", "variants": [{"n": 500, "sum": 0}, {"n": 500, "sum": 20}]})");
  EXPECT_FALSE(absolute.comparisons[0].effect.valid);  // control variance is zero
}

TEST(AnalysisTest, ZeroVarianceMeanMetric) {
  // sum_squares = sum^2 / n: every unit has the same value.
  const AnalysisResult result = run_sane(R"({"variants": [
      {"n": 100, "sum": 200, "sum_squares": 400}, {"n": 100, "sum": 300, "sum_squares": 1000}]})");
  EXPECT_EQ(result.variants[0].variance, 0);
  EXPECT_FALSE(result.comparisons[0].effect.valid);
}

TEST(AnalysisTest, SingleArm) {
  const AnalysisResult result = run_sane(R"({"metric_type": "proportion",
      "variants": [{"n": 500, "sum": 20}], "weights": [1]})");
  EXPECT_TRUE(result.comparisons.empty());
  EXPECT_EQ(result.srm.p_value, 1);
  EXPECT_EQ(result.bandit->probability_best, std::vector<double>{1.0});
  EXPECT_EQ(result.bandit->weights, std::vector<double>{1.0});
  EXPECT_THAT(result.recommendation, HasSubstr("nothing to compare"));
}

TEST(AnalysisTest, MismatchedWeightsAndBadNumbersAreErrors) {
  AnalysisInput input = parse_analysis_input(json::parse(R"({"metric_type": "proportion",
      "variants": [{"n": 10, "sum": 1}, {"n": 10, "sum": 2}]})"));
  input.weights = {1, 1, 1};
  EXPECT_THAT([&] { analyze(input); }, ThrowsError(ErrorCode::kInvalidArgument));
  input.weights = {1, 1};
  input.variants[1].n = -1;
  try {
    analyze(input);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "variants[1].n: must be a non-negative finite number");
  }
}

TEST(AnalysisTest, UnnormalisedWeightsGiveTheSameSrm) {
  AnalysisInput input = parse_analysis_input(json::parse(R"({"metric_type": "proportion",
      "variants": [{"n": 10000, "sum": 500}, {"n": 10600, "sum": 540}]})"));
  input.weights = {3, 3};
  EXPECT_NEAR(analyze(input).srm.p_value, 2.909992111576433e-05, 1e-12);
}

TEST(AnalysisTest, CupedFallsBackWhenTheCovariateIsConstant) {
  // pre_sum_squares = pre_sum^2 / n in both arms: the covariate has no variance.
  const char* with_constant_covariate = R"({"variants": [
      {"n": 100, "sum": 50, "sum_squares": 80, "pre_sum": 100, "pre_sum_squares": 100,
       "post_pre_sum_of_products": 50},
      {"n": 100, "sum": 60, "sum_squares": 90, "pre_sum": 100, "pre_sum_squares": 100,
       "post_pre_sum_of_products": 60}]})";
  const AnalysisResult cuped = run_sane(with_constant_covariate);
  const AnalysisResult plain = run(R"({"variants": [{"n": 100, "sum": 50, "sum_squares": 80},
      {"n": 100, "sum": 60, "sum_squares": 90}]})");
  EXPECT_FALSE(cuped.comparisons[0].cuped.has_value());
  EXPECT_EQ(cuped.comparisons[0].lift.estimate, plain.comparisons[0].lift.estimate);
  EXPECT_EQ(cuped.comparisons[0].lift.p_value, plain.comparisons[0].lift.p_value);
}

TEST(AnalysisTest, RecommendsConcludingOnASignificantWinner) {
  const AnalysisResult result = run(R"({"metric_type": "mean", "metric_name": "revenue",
      "variants": [
      {"n": 5000, "sum": 51000.0, "sum_squares": 1040000.0, "pre_sum": 50000.0,
       "pre_sum_squares": 1010000.0, "post_pre_sum_of_products": 1015000.0},
      {"n": 5050, "sum": 52600.0, "sum_squares": 1098000.0, "pre_sum": 50400.0,
       "pre_sum_squares": 1015000.0, "post_pre_sum_of_products": 1045000.0}]})");
  EXPECT_EQ(result.recommendation,
            "Treatment beats control on revenue: +2.3% (95% CI +1.1% to +3.5%), always-valid "
            "p < 0.001. Safe to conclude.");
}

TEST(AnalysisTest, RecommendsKeepRunningWithDistanceToSignificance) {
  const AnalysisResult result = run(R"({"metric_type": "proportion", "metric_name": "signup",
      "variants": [{"n": 10000, "sum": 1000}, {"n": 10100, "sum": 1120}]})");
  EXPECT_THAT(result.recommendation,
              StartsWith("Keep running: no significant difference on signup"));
  EXPECT_THAT(result.recommendation, HasSubstr("+10.9% (95% CI -3.4% to +25.2%)"));
  EXPECT_THAT(result.recommendation,
              HasSubstr("always-valid p = 0.36 (needs < 0.05); if this effect holds, about 1.8x"));
  EXPECT_THAT(result.recommendation, HasSubstr("x the current sample"));
}

TEST(AnalysisTest, RecommendsDistrustOnSampleRatioMismatch) {
  const AnalysisResult result = run(R"({"metric_type": "proportion", "variants": [
      {"n": 10000, "sum": 500}, {"n": 10600, "sum": 540}], "weights": [0.5, 0.5]})");
  EXPECT_THAT(result.recommendation,
              StartsWith("sample ratio mismatch: do not trust these results"));
}

TEST(AnalysisTest, NamesTheBestArmAmongSeveral) {
  const AnalysisResult result = run(R"({"metric_type": "proportion", "variants": [
      {"n": 4000, "sum": 400}, {"n": 4050, "sum": 430}, {"n": 3980, "sum": 390},
      {"n": 4010, "sum": 470}]})");
  EXPECT_THAT(result.recommendation, HasSubstr("The leading arm is variant 3"));
  EXPECT_THAT(result.recommendation, HasSubstr("Holm-adjusted across 3 treatments"));

  const AnalysisResult decisive = run(R"({"metric_type": "proportion", "variants": [
      {"n": 40000, "sum": 4000}, {"n": 40000, "sum": 4050}, {"n": 40000, "sum": 4800}]})");
  EXPECT_THAT(decisive.recommendation,
              StartsWith("Variant 2 is the best arm on the metric: +20.0%"));
  EXPECT_THAT(decisive.recommendation, HasSubstr("Safe to conclude."));
}

TEST(AnalysisTest, InverseMetricsWinWhenLower) {
  const AnalysisResult result = run(R"({"metric_type": "mean", "inverse": true,
      "metric_name": "load time", "variants": [
      {"n": 12000, "sum": 60000.0, "sum_squares": 400000.0},
      {"n": 11800, "sum": 56000.0, "sum_squares": 360000.0}]})");
  EXPECT_GT(result.comparisons[0].bayesian.chance_to_win, 0.99);
  EXPECT_THAT(result.recommendation, StartsWith("Treatment beats control on load time: -5.1%"));
}

TEST(AnalysisTest, NegativeControlMeanImprovementIsAPositiveLift) {
  // Profit per user -2.04 -> -1.83 (gbstats-reference-2 case a1): an improvement.
  const AnalysisResult result = run_sane(R"({"metric_name": "profit", "variants": [
      {"n": 4000, "sum": -8166.45, "sum_squares": 51050.9297},
      {"n": 4100, "sum": -7496.44, "sum_squares": 50385.0074}]})");
  const Comparison& comparison = result.comparisons[0];
  EXPECT_NEAR(comparison.lift.estimate, 0.10443338292648582, 1e-9);
  EXPECT_GT(comparison.lift.ci[0], 0);
  EXPECT_GT(comparison.sequential.ci[0], 0);
  EXPECT_GT(comparison.bayesian.chance_to_win, 0.999);
  EXPECT_THAT(result.recommendation, StartsWith("Treatment beats control on profit: +10.4%"));
  EXPECT_THAT(result.recommendation, ::testing::Not(HasSubstr("worse")));
  EXPECT_EQ(result.decision.winner, 1u);
}

TEST(AnalysisTest, NegativeControlMeanWithCupedIsAPositiveLift) {
  // The treatment is less negative: post means -2.0 and -1.8 with a negative covariate.
  const AnalysisResult result = run_sane(R"({"variants": [
      {"n": 1000, "sum": -2000, "sum_squares": 5000, "pre_sum": -3000,
       "pre_sum_squares": 10000, "post_pre_sum_of_products": 6800},
      {"n": 1000, "sum": -1800, "sum_squares": 4300, "pre_sum": -3000,
       "pre_sum_squares": 10000, "post_pre_sum_of_products": 6200}]})");
  ASSERT_TRUE(result.comparisons[0].cuped.has_value());
  EXPECT_GT(result.comparisons[0].lift.estimate, 0);
  EXPECT_GT(result.comparisons[0].bayesian.chance_to_win, 0.5);
}

TEST(AnalysisTest, RelativePriorIsRescaledForAnAbsoluteDifference) {
  // Prior N(0.05, 0.1^2) on the relative lift; control mean 2 makes it N(0.1, 0.2^2) absolute.
  const char* input = R"({"difference_type": "absolute",
      "prior": {"mean": 0.05, "stddev": 0.1, "proper": true}, "variants": [
      {"n": 50, "sum": 100, "sum_squares": 400}, {"n": 50, "sum": 110, "sum_squares": 450}]})";
  const AnalysisResult result = run_sane(input);
  const Comparison& comparison = result.comparisons[0];
  const double se2 = comparison.effect.standard_error * comparison.effect.standard_error;
  const double precision = 1 / se2 + 1 / 0.04;
  EXPECT_NEAR(comparison.bayesian.mean, (comparison.effect.estimate / se2 + 0.1 / 0.04) / precision,
              1e-12);
  EXPECT_NEAR(comparison.bayesian.stddev, std::sqrt(1 / precision), 1e-12);
}

TEST(AnalysisTest, InverseMetricsRankEveryArmByLowerIsBetter) {
  // Bounce rate: variant 1 bounces most (worst), variant 2 least (best).
  const AnalysisResult result = run_sane(R"({"metric_type": "proportion", "inverse": true,
      "metric_name": "bounce rate", "variants": [
      {"n": 20000, "sum": 4000}, {"n": 20000, "sum": 4600}, {"n": 20000, "sum": 3500}]})");
  ASSERT_TRUE(result.bandit.has_value());
  EXPECT_GT(result.bandit->probability_best[2], 0.99);
  EXPECT_EQ(result.decision.leader, 1u);  // the comparison of variant 2
  EXPECT_EQ(result.decision.winner, 2u);
  EXPECT_THAT(result.recommendation, StartsWith("Variant 2 is the best arm on bounce rate"));
  EXPECT_THAT(result.recommendation, HasSubstr("Variant 1 is significantly worse"));
  EXPECT_THAT(result.recommendation, ::testing::Not(HasSubstr("Variant 1 is the best arm")));
}

TEST(AnalysisTest, WinnerAndRecommendationShareTheHolmAdjustedP) {
  // The running always-valid p of variant 2 is 0.04 but Holm over two treatments doubles it.
  const AnalysisResult result = run_sane(R"({"metric_type": "proportion", "variants": [
      {"n": 10000, "sum": 1000}, {"n": 10000, "sum": 1000},
      {"n": 10000, "sum": 1050, "previous_min_sequential_p": 0.04}]})");
  const Comparison& comparison = result.comparisons[1];
  ASSERT_LT(comparison.running_min_p, 0.05);
  EXPECT_GT(result.decision.p_values[1], 0.05);
  EXPECT_FALSE(result.decision.winner.has_value());
  EXPECT_THAT(result.recommendation, StartsWith("Keep running"));
  const json::object out = to_json(result);
  EXPECT_TRUE(out.at("decision").at("winner").is_null());
  EXPECT_EQ(out.at("comparisons").at(1).at("sequential").at("p_value_holm"),
            result.decision.p_values[1]);
}

TEST(AnalysisTest, ProbabilitiesNeverRoundToCertainty) {
  const AnalysisResult result = run_sane(R"({"metric_type": "proportion", "variants": [
      {"n": 2000, "sum": 200}, {"n": 2000, "sum": 266}]})");
  ASSERT_GT(result.comparisons[0].bayesian.chance_to_win, 0.995);
  ASSERT_LT(result.comparisons[0].bayesian.chance_to_win, 0.9995);
  EXPECT_THAT(result.recommendation, ::testing::Not(HasSubstr("100%")));
  EXPECT_THAT(result.recommendation, ::testing::ContainsRegex("Chance to win 99\\.[5-9]%"));
}

TEST(AnalysisTest, RecommendationUsesTheArmNames) {
  AnalysisInput input = parse_analysis_input(json::parse(R"({"metric_type": "proportion",
      "variants": [{"n": 4000, "sum": 400}, {"n": 4000, "sum": 430}, {"n": 4000, "sum": 420}]})"));
  input.variant_names = {"Blue button", "Green button", "Red button"};
  const AnalysisResult result = analyze(input);
  EXPECT_THAT(result.recommendation, HasSubstr("than Blue button"));
  EXPECT_THAT(result.recommendation, HasSubstr("The leading arm is Green button"));
}

TEST(AnalysisTest, AStoppedExperimentIsNeverToldToConclude) {
  AnalysisInput input = parse_analysis_input(json::parse(R"({"metric_type": "proportion",
      "variants": [{"n": 10000, "sum": 1000}, {"n": 10000, "sum": 1300}]})"));
  input.conclude_blocked = "The experiment is Stopped, so it cannot be concluded";
  const AnalysisResult result = analyze(input);
  EXPECT_THAT(result.recommendation, ::testing::Not(HasSubstr("Safe to conclude")));
  EXPECT_THAT(result.recommendation, HasSubstr("Stopped, so it cannot be concluded"));
}

TEST(AnalysisTest, ImpossibleSumsAreRefusedNamingTheField) {
  const auto field_of = [](const char* text) {
    try {
      run(text);
    } catch (const Error& error) {
      EXPECT_THAT(error.what(), HasSubstr(error.field())) << error.what();
      return error.field();
    }
    return std::string("accepted");
  };
  EXPECT_EQ(field_of(R"({"variants": [{"n": 0, "sum": 5, "sum_squares": 25},
      {"n": 10, "sum": 5, "sum_squares": 25}]})"),
            "variants[0].n");
  EXPECT_EQ(field_of(R"({"variants": [{"n": 10, "sum": 50, "sum_squares": 200},
      {"n": 10, "sum": 5, "sum_squares": 25}]})"),
            "variants[0].sum_squares");
  EXPECT_EQ(field_of(R"({"variants": [{"n": 10, "sum": 1e200, "sum_squares": 1e300},
      {"n": 10, "sum": 5, "sum_squares": 25}]})"),
            "variants[0].sum");
  EXPECT_EQ(field_of(R"({"variants": [{"n": 1e300, "sum": 1, "sum_squares": 1},
      {"n": 10, "sum": 5, "sum_squares": 25}]})"),
            "variants[0].n");
  EXPECT_EQ(field_of(R"({"metric_type": "proportion", "variants": [{"n": 10, "sum": 11},
      {"n": 10, "sum": 5}]})"),
            "variants[0].sum");
  // Post and pre each vary by 10 about their means, yet their cross product claims 50.
  EXPECT_EQ(field_of(R"({"variants": [
      {"n": 10, "sum": 10, "sum_squares": 20, "pre_sum": 10, "pre_sum_squares": 20,
       "post_pre_sum_of_products": 60},
      {"n": 10, "sum": 10, "sum_squares": 20, "pre_sum": 10, "pre_sum_squares": 20,
       "post_pre_sum_of_products": 15}]})"),
            "variants[0].post_pre_sum_of_products");
  // Rounding in accumulated sums is not an error: sum_squares a hair under sum^2/n.
  EXPECT_EQ(field_of(R"({"variants": [{"n": 3, "sum": 0.3, "sum_squares": 0.029999999999999999},
      {"n": 10, "sum": 5, "sum_squares": 25}]})"),
            "accepted");
}

TEST(AnalysisTest, ManyArmsOfAMeanMetricDoNotBlameTheBanditFloor) {
  json::array variants;
  for (int i = 0; i < 120; ++i)
    variants.push_back(json::object{{"n", 100}, {"sum", 50 + i}, {"sum_squares", 400 + 10 * i}});
  const AnalysisResult mean = analyze(parse_analysis_input(json::object{{"variants", variants}}));
  EXPECT_EQ(mean.comparisons.size(), 119u);
  expect_all_finite(to_json(mean));

  json::array arms;
  for (int i = 0; i < 120; ++i) arms.push_back(json::object{{"n", 200}, {"sum", 20 + i % 7}});
  const AnalysisResult proportion = analyze(
      parse_analysis_input(json::object{{"metric_type", "proportion"}, {"variants", arms}}));
  // 120 floors of 1% do not fit: gbstats then splits uniformly.
  for (double weight : proportion.bandit->weights) EXPECT_NEAR(weight, 1.0 / 120, 1e-15);
}

TEST(AnalysisTest, ExtremeButValidInputsStayFinite) {
  run_sane(R"({"variants": [{"n": 9007199254740992, "sum": 1e20, "sum_squares": 1e30},
      {"n": 9007199254740992, "sum": 2e20, "sum_squares": 2e30}]})");
  run_sane(R"({"variants": [{"n": 2, "sum": 1e150, "sum_squares": 1e300},
      {"n": 2, "sum": 1.1e150, "sum_squares": 1.2e300}]})");
  run_sane(R"({"metric_type": "proportion", "variants": [{"n": 9007199254740992,
      "sum": 1e15}, {"n": 9007199254740992, "sum": 1.0001e15}]})");
}

}  // namespace
}  // namespace verdict::stats
