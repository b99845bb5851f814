#include "core/stats/analysis_input.hpp"

#include "core/error.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>
#include "tests/support/error_matchers.hpp"

namespace verdict::stats {
namespace {

using test_support::ThrowsError;

// Parses `text` and returns the message of the verdict::Error it must raise.
std::string error_of(const char* text, const std::string& expected_field) {
  try {
    parse_analysis_input(boost::json::parse(text));
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(error.field(), expected_field);
    return error.what();
  }
  ADD_FAILURE() << "no error for " << text;
  return {};
}

TEST(AnalysisInputTest, ParsesDefaultsAndNormalisesWeights) {
  const AnalysisInput input = parse_analysis_input(boost::json::parse(
      R"({"metric_type": "proportion", "variants": [{"n": 10, "sum": 2}, {"n": 30, "sum": 3,
          "previous_min_sequential_p": 0.2}], "weights": [1, 3], "metric_name": "signup"})"));
  EXPECT_EQ(input.metric_type, MetricType::kProportion);
  EXPECT_EQ(input.variants[1].sum_squares, 3);
  EXPECT_EQ(input.weights, (std::vector<double>{0.25, 0.75}));
  EXPECT_EQ(input.alpha, 0.05);
  EXPECT_EQ(input.difference_type, DifferenceType::kRelative);
  EXPECT_EQ(input.sequential_tuning_parameter, 5000);
  EXPECT_FALSE(input.prior.proper);
  EXPECT_EQ(input.prior.stddev, 0.3);
  EXPECT_EQ(input.variants[1].previous_min_sequential_p, 0.2);
  EXPECT_EQ(input.metric_name, "signup");
  EXPECT_FALSE(input.has_covariate());
}

TEST(AnalysisInputTest, MissingWeightsMeanAnEqualSplit) {
  const AnalysisInput input = parse_analysis_input(boost::json::parse(
      R"({"metric_type": "mean", "variants": [{"n": 1, "sum": 1, "sum_squares": 1},
          {"n": 1, "sum": 1, "sum_squares": 1}]})"));
  EXPECT_EQ(input.weights, (std::vector<double>{0.5, 0.5}));
}

TEST(AnalysisInputTest, ErrorsNameTheField) {
  EXPECT_EQ(error_of(R"({"variants": [{"n": 1, "sum": 1, "sum_squares": 1},
                                      {"n": -5, "sum": 1, "sum_squares": 1}]})",
                     "variants[1].n"),
            "variants[1].n: must be a non-negative finite number");
  error_of(R"({"variants": [{"n": 2.5, "sum": 1, "sum_squares": 1}]})", "variants[0].n");
  error_of(R"({"variants": [{"n": 2, "sum": 1}]})", "variants[0].sum_squares");
  error_of(R"({"variants": [{"n": 2, "sum_squares": 1}]})", "variants[0].sum");
  error_of(R"({"variants": [{"n": 2, "sum": "x", "sum_squares": 1}]})", "variants[0].sum");
  error_of(R"({"metric_type": "proportion", "variants": [{"n": 2, "sum": 3}]})", "variants[0].sum");
  error_of(R"({"metric_type": "proportion", "variants": [{"n": 2, "sum": -1}]})",
           "variants[0].sum");
  error_of(R"({"metric_type": "ratio", "variants": []})", "metric_type");
  error_of(R"({"variants": []})", "variants");
  error_of(R"({"variants": 3})", "variants");
  error_of(R"([1, 2])", "input");
  error_of(R"({"variants": [{"n": 2, "sum": 1, "sum_squares": 1}], "weights": [0.5, 0.5]})",
           "weights");
  error_of(R"({"variants": [{"n": 2, "sum": 1, "sum_squares": 1}], "weights": [0]})", "weights");
  error_of(R"({"variants": [{"n": 2, "sum": 1, "sum_squares": 1}], "weights": [-1]})",
           "weights[0]");
  error_of(R"({"variants": [{"n": 2, "sum": 1, "sum_squares": 1}], "alpha": 1.5})", "alpha");
  error_of(R"({"variants": [{"n": 2, "sum": 1, "sum_squares": 1}],
               "sequential_tuning_parameter": 0})",
           "sequential_tuning_parameter");
  error_of(R"({"variants": [{"n": 2, "sum": 1, "sum_squares": 1}],
               "prior": {"mean": 0, "stddev": 0, "proper": true}})",
           "prior.stddev");
  error_of(R"({"variants": [{"n": 2, "sum": 1, "sum_squares": 1}], "difference_type": "ratio"})",
           "difference_type");
  error_of(R"({"variants": [{"n": 2, "sum": 1, "sum_squares": 1}], "inverse": 1})", "inverse");
  error_of(R"({"variants": [{"n": 2, "sum": 1, "sum_squares": 1,
               "previous_min_sequential_p": 2}]})",
           "variants[0].previous_min_sequential_p");
}

TEST(AnalysisInputTest, CovariateMustBeCompleteAndEverywhere) {
  error_of(R"({"variants": [{"n": 2, "sum": 1, "sum_squares": 1, "pre_sum": 1}]})",
           "variants[0].pre_sum_squares");
  error_of(R"({"variants": [
                 {"n": 2, "sum": 1, "sum_squares": 1, "pre_sum": 1, "pre_sum_squares": 1,
                  "post_pre_sum_of_products": 1},
                 {"n": 2, "sum": 1, "sum_squares": 1}]})",
           "variants[1].pre_sum");
}

TEST(AnalysisInputTest, ValidateRejectsNonFiniteValuesBuiltByHand) {
  VariantData variant;
  variant.n = 10;
  variant.sum = variant.sum_squares = 1;
  AnalysisInput input;
  input.variants = {variant, variant};
  input.variants[1].sum = std::nan("");
  input.weights = {1, 1};
  try {
    validate(input);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(error.field(), "variants[1].sum");
  }
  input.variants[1].sum = 1;
  input.variants[0].sum_squares = std::numeric_limits<double>::infinity();
  EXPECT_THAT([&] { validate(input); },
              ThrowsError(ErrorCode::kInvalidArgument, "variants[0].sum_squares"));
}

}  // namespace
}  // namespace verdict::stats
