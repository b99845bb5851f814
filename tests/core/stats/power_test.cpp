// Planning: every case of ../shared/stats-vectors/power-reference.json (GrowthBook's power
// calculator and gbstats' mid-experiment power) and Verdict's own plan requests.
#include "core/stats/power.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "core/error.hpp"

namespace verdict::stats {
namespace {

namespace json = boost::json;

// A value of the vectors: a number, or "nan" / null where GrowthBook has none (Verdict: null).
void expect_matches(const json::value& ours, const json::value& theirs, double tolerance,
                    const std::string& what) {
  if (theirs.is_null() || (theirs.is_string() && theirs.as_string() == "nan")) {
    EXPECT_TRUE(ours.is_null()) << what << ": got " << json::serialize(ours) << ", expected none";
    return;
  }
  ASSERT_TRUE(ours.is_number()) << what << ": got " << json::serialize(ours);
  const double actual = ours.to_number<double>();
  const double target = theirs.to_number<double>();
  EXPECT_LE(std::abs(actual - target), std::max(1e-9, tolerance * std::abs(target)))
      << std::setprecision(17) << what << ": got " << actual << ", GrowthBook " << target;
}

void check_calculator(const json::object& input, const json::object& reference) {
  const json::object out = plan_from_json(input);
  const json::object& expected = reference.at("powerMetricWeeks").as_object();
  const bool bayesian =
      input.at("params").at("statsEngineSettings").at("type").as_string() == "bayesian";
  const json::array& weeks = out.at("weeks").as_array();
  const json::array& expected_weeks = expected.at("weeks").as_array();
  ASSERT_EQ(weeks.size(), expected_weeks.size());
  for (std::size_t j = 0; j < weeks.size(); ++j) {
    EXPECT_EQ(weeks[j].at("users").to_number<double>(),
              expected_weeks[j].at("users").to_number<double>());
    for (const auto& metric : expected_weeks[j].at("metrics").as_object()) {
      const std::string where = "week " + std::to_string(j + 1) + " " + std::string(metric.key());
      const json::value& ours = weeks[j].at("metrics").at(metric.key());
      expect_matches(ours.at("power"), metric.value().at("power"), 1e-6, where + " power");
      // The Bayesian MDE comes from a 1e-5 grid: match it absolutely to the grid step.
      if (bayesian && ours.at("effectSize").is_number()) {
        EXPECT_NEAR(ours.at("effectSize").to_number<double>(),
                    metric.value().at("effectSize").to_number<double>(), 1e-5)
            << where << " effectSize";
      } else {
        expect_matches(ours.at("effectSize"), metric.value().at("effectSize"), 1e-6,
                       where + " effectSize");
      }
      EXPECT_EQ(ours.at("isThreshold"), metric.value().at("isThreshold")) << where;
    }
  }
  for (const auto& metric : expected.at("sampleSizeAndRuntime").as_object()) {
    const json::value& ours = out.at("sampleSizeAndRuntime").at(metric.key());
    if (metric.value().is_null()) {
      EXPECT_TRUE(ours.is_null()) << metric.key();
    } else {
      EXPECT_EQ(ours.at("weeks"), metric.value().at("weeks")) << metric.key();
      EXPECT_EQ(ours.at("users").to_number<double>(),
                metric.value().at("users").to_number<double>());
    }
  }
  EXPECT_EQ(out.contains("weekThreshold"), expected.contains("weekThreshold"));
  if (expected.contains("weekThreshold")) {
    EXPECT_EQ(out.at("weekThreshold"), expected.at("weekThreshold"));
  }
}

void check_mid_experiment(const json::object& input, const json::object& reference) {
  const json::object out = plan_from_json(input);
  const json::object& moments = reference.at("effect_moments").as_object();
  const bool failed = !moments.at("error_message").is_null();
  EXPECT_EQ(out.at("effectMoments").at("errorMessage").is_null(), !failed);
  expect_matches(out.at("effectMoments").at("pointEstimate"), moments.at("point_estimate"), 1e-6,
                 "point_estimate");
  expect_matches(out.at("effectMoments").at("standardError"), moments.at("standard_error"), 1e-6,
                 "standard_error");
  const json::object& response = out.at("powerResponse").as_object();
  const json::object& expected = reference.at("power_response").as_object();
  EXPECT_EQ(response.at("status"), expected.at("status"));
  EXPECT_EQ(response.at("upperBoundAchieved"), expected.at("upperBoundAchieved"));
  EXPECT_EQ(response.at("priorProper"), expected.at("priorProper"));
  EXPECT_EQ(response.at("errorMessage").is_null(), expected.at("errorMessage").is_null());
  if (!failed && !expected.at("errorMessage").is_null()) {
    EXPECT_EQ(response.at("errorMessage"), expected.at("errorMessage"));
  }
  for (const char* key : {"firstPeriodPairwiseSampleSize", "targetMDE", "sigmahat2Delta",
                          "scalingFactor", "priorLiftMean", "priorLiftVariance"})
    expect_matches(response.at(key), expected.at(key), 1e-6, key);
  const json::object& detail = reference.at("midexperimentpower_detail").as_object();
  expect_matches(out.at("targetPower"), detail.at("adjusted_power"), 1e-12, "adjusted_power");
  if (!expected.at("scalingFactor").is_null()) {
    expect_matches(out.at("additionalUsers"), detail.at("additional_users"), 1e-6,
                   "additional_users");
    expect_matches(out.at("powerAtScalingFactor"), detail.at("power_at_returned_scaling_factor"),
                   1e-6, "power at the returned factor");
  }
}

TEST(PowerReferenceTest, MatchesGrowthBookOnEveryCase) {
  const auto path =
      std::filesystem::path(VERDICT_SHARED_DIR) / "stats-vectors" / "power-reference.json";
  if (!std::filesystem::exists(path)) {
    const char* ci = std::getenv("CI");
    if (ci && std::string(ci) == "true")
      FAIL() << "shared reference data missing at " << path << " under CI=true";
    GTEST_SKIP() << "shared reference data not found at " << path
                 << "; check out ../shared next to the repository to run the comparison";
  }
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  const json::array cases = json::parse(text.str()).as_array();
  ASSERT_EQ(cases.size(), 23u);
  std::size_t calculators = 0;
  for (const json::value& reference : cases) {
    SCOPED_TRACE(std::string(reference.at("name").as_string()));
    const json::object& input = reference.at("input").as_object();
    if (input.at("kind") == "calculator") {
      ++calculators;
      check_calculator(input, reference.at("gbstats").as_object());
    } else {
      check_mid_experiment(input, reference.at("gbstats").as_object());
    }
  }
  EXPECT_EQ(calculators, 14u);
}

json::object plan_of(const std::string& text) {
  return plan_from_json(json::parse(text));
}

double number(const json::value& value) {
  return value.to_number<double>();
}

TEST(PlanTest, FixedHorizonSampleSizeIsTheFirstWholeNumberReachingThePower) {
  const json::object out = plan_of(R"({"metricType": "proportion", "baseline": 0.1, "mde": 0.05})");
  const double n = number(out.at("fixedHorizon").at("sampleSizePerArm"));
  PowerMetric metric{.effect_size = 0.05, .mean = 0.1, .variance = 0.09};
  EXPECT_GE(frequentist_power(0.05, power_standard_error(metric, n), 0.05), 0.8);
  EXPECT_LT(frequentist_power(0.05, power_standard_error(metric, n - 1), 0.05), 0.8);
  // The textbook normal approximation: (z_0.975 + z_0.8)^2 * relative variance / mde^2.
  const double relative_variance = 0.09 / 0.01 * (1 + 1.05 * 1.05);
  EXPECT_NEAR(n, std::pow(1.959964 + 0.841621, 2) * relative_variance / 0.0025, 5);
  EXPECT_EQ(number(out.at("fixedHorizon").at("totalSampleSize")), 2 * n);
}

TEST(PlanTest, TheSequentialTestNeedsMoreUnitsAndSaysHowMany) {
  const json::object out = plan_of(
      R"({"metricType": "mean", "baseline": 20, "stddev": 30, "mde": 0.03, "variants": 3})");
  const double fixed = number(out.at("fixedHorizon").at("sampleSizePerArm"));
  const double sequential = number(out.at("sequential").at("sampleSizePerArm"));
  EXPECT_GT(sequential, fixed);
  EXPECT_EQ(number(out.at("sequentialExtraUnitsPerArm")), sequential - fixed);
  EXPECT_EQ(number(out.at("sequential").at("totalSampleSize")), 3 * sequential);
  EXPECT_GE(number(out.at("sequential").at("power")), 0.8);
}

TEST(PlanTest, MdeAtASampleSizeInvertsTheSampleSize) {
  const json::object needed =
      plan_of(R"({"metricType": "mean", "baseline": 5, "stddev": 4, "mde": 0.04})");
  for (const char* test : {"fixedHorizon", "sequential"}) {
    const double n = number(needed.at(test).at("sampleSizePerArm"));
    json::object request{
        {"metricType", "mean"}, {"baseline", 5}, {"stddev", 4}, {"sampleSizePerArm", n}};
    const double mde = number(plan_from_json(request).at(test).at("mdeAtSampleSize"));
    EXPECT_LE(mde, 0.04) << test;
    EXPECT_NEAR(mde, 0.04, 1e-4) << test;
  }
}

TEST(PlanTest, DurationCountsOnlyTheAllocatedTraffic) {
  const json::object out =
      plan_of(R"({"baseline": 0.2, "mde": 0.1, "dailyTraffic": 1000, "trafficAllocation": 0.25})");
  const double total = number(out.at("fixedHorizon").at("totalSampleSize"));
  EXPECT_EQ(number(out.at("fixedHorizon").at("days")), std::ceil(total / 250));
  EXPECT_FALSE(
      plan_of(R"({"baseline": 0.2, "mde": 0.1})").at("fixedHorizon").as_object().contains("days"));
}

TEST(PlanTest, BadRequestsNameTheField) {
  const auto field_of = [](const std::string& text) {
    try {
      plan_of(text);
    } catch (const Error& error) {
      return std::string(error.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(field_of(R"({"baseline": 0.1})").find("mde"), std::string::npos);
  EXPECT_NE(field_of(R"({"baseline": 1.5, "mde": 0.1})").find("baseline"), std::string::npos);
  EXPECT_NE(field_of(R"({"metricType": "mean", "baseline": 3, "mde": 0.1})").find("stddev"),
            std::string::npos);
  EXPECT_NE(field_of(R"({"baseline": 0.1, "mde": 0.1, "alpha": 0})").find("alpha"),
            std::string::npos);
  EXPECT_NE(field_of(R"({"baseline": 0.1, "mde": 0.1, "mdes": 2})").find("mdes"),
            std::string::npos);
  EXPECT_NE(field_of(R"({"kind": "calculator"})").find("params"), std::string::npos);
  EXPECT_NE(field_of(R"({"kind": "guess"})").find("kind"), std::string::npos);
}

}  // namespace
}  // namespace verdict::stats
