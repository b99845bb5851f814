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
  error_of(R"({"metric_type": "quantile", "variants": []})", "metric_type");
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

TEST(AnalysisInputTest, RatioVariantsNeedBothSumsAndConsistentCuped) {
  const auto input = parse_analysis_input(boost::json::parse(
      R"({"metric_type": "ratio", "numerator_type": "proportion",
          "variants": [{"n": 4, "m_sum": 2, "d_sum": 6, "d_sum_squares": 10,
                        "m_d_sum_of_products": 3},
                       {"n": 4, "m_sum": 3, "d_sum": 5, "d_sum_squares": 9,
                        "m_d_sum_of_products": 4}]})"));
  EXPECT_EQ(input.metric_type, MetricType::kRatio);
  EXPECT_EQ(input.numerator_type, MetricType::kProportion);
  ASSERT_TRUE(input.variants[1].ratio);
  EXPECT_EQ(input.variants[1].ratio->m_sum_squares, 3);  // a proportion's squares are its sum
  EXPECT_FALSE(input.has_covariate());

  error_of(R"({"metric_type": "ratio", "variants": [{"n": 4, "m_sum": 2, "m_sum_squares": 2,
               "d_sum_squares": 4, "m_d_sum_of_products": 1}]})",
           "variants[0].d_sum");
  error_of(R"({"metric_type": "ratio", "denominator_type": "count", "variants": []})",
           "denominator_type");
  error_of(R"({"metric_type": "ratio", "variants": [{"n": 4, "m_sum": 2, "m_sum_squares": 0.5,
               "d_sum": 1, "d_sum_squares": 1, "m_d_sum_of_products": 1}]})",
           "variants[0].m_sum_squares");
  error_of(R"({"metric_type": "ratio", "numerator_type": "proportion",
               "variants": [{"n": 4, "m_sum": 5, "d_sum": 1, "d_sum_squares": 1,
                             "m_d_sum_of_products": 1}]})",
           "variants[0].m_sum");
  error_of(R"({"metric_type": "ratio", "variants": [{"n": 0, "m_sum": 1, "m_sum_squares": 1,
               "d_sum": 0, "d_sum_squares": 0, "m_d_sum_of_products": 0}]})",
           "variants[0].n");
  // CUPED ratio sums are all-or-none within a variant and across variants.
  error_of(R"({"metric_type": "ratio", "variants": [{"n": 4, "m_sum": 2, "m_sum_squares": 2,
               "d_sum": 4, "d_sum_squares": 4, "m_d_sum_of_products": 2, "m_pre_sum": 1}]})",
           "variants[0].m_pre_sum_squares");
  error_of(R"({"metric_type": "ratio", "variants": [
               {"n": 4, "m_sum": 2, "m_sum_squares": 2, "d_sum": 4, "d_sum_squares": 4,
                "m_d_sum_of_products": 2, "m_pre_sum": 1, "m_pre_sum_squares": 1, "d_pre_sum": 4,
                "d_pre_sum_squares": 4, "m_post_m_pre_sum_of_products": 1,
                "d_post_d_pre_sum_of_products": 4, "m_pre_d_pre_sum_of_products": 1,
                "m_post_d_pre_sum_of_products": 2, "m_pre_d_post_sum_of_products": 1},
               {"n": 4, "m_sum": 2, "m_sum_squares": 2, "d_sum": 4, "d_sum_squares": 4,
                "m_d_sum_of_products": 2}]})",
           "variants[1].m_pre_sum");
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
