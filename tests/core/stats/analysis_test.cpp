#include "core/stats/analysis.hpp"

#include "core/error.hpp"

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

// Every number in the wire output must be finite: NaN or infinity would not even serialise.
void expect_all_finite(const json::value& value, const std::string& path = "$") {
  if (value.is_double()) {
    EXPECT_TRUE(std::isfinite(value.get_double())) << path;
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.get_array().size(); ++i) {
      expect_all_finite(value.get_array()[i], path + "[" + std::to_string(i) + "]");
    }
  } else if (value.is_object()) {
    for (const auto& [key, child] : value.get_object()) {
      expect_all_finite(child, path + "." + std::string(key));
    }
  }
}

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
  EXPECT_EQ(result.comparisons[0].sequential.p_value, 0.01);
  EXPECT_NEAR(result.comparisons[0].sequential.log_lr, -std::log(0.3627457873915442), 1e-9);
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

}  // namespace
}  // namespace verdict::stats
