// GrowthBook's cross-SDK conformance cases (../shared/conformance/growthbook-cases.json), one
// gtest per case. Running the binary directly prints the count passed per section.
#include "core/assignment/buckets.hpp"
#include "core/assignment/condition.hpp"
#include "core/assignment/hash.hpp"
#include "core/assignment/run.hpp"

#include <cctype>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "tests/support/growthbook_cases.hpp"
#include "tests/support/growthbook_features.hpp"

namespace verdict::assignment {
namespace {

namespace json = boost::json;
using verdict::testing_support::case_name;
using verdict::testing_support::cases_of;
using verdict::testing_support::Conformance;

double number(const json::value& value) {
  return value.to_number<double>();
}

double round6(double x) {
  return std::round(x * 1e6) / 1e6;
}

std::vector<double> numbers(const json::value& value) {
  std::vector<double> out;
  if (value.is_array()) {
    for (const json::value& item : value.get_array()) out.push_back(number(item));
  }
  return out;
}

std::vector<BucketRange> ranges_of(const json::value& value) {
  std::vector<BucketRange> ranges;
  for (const json::value& pair : value.as_array()) {
    ranges.push_back({number(pair.as_array()[0]), number(pair.as_array()[1])});
  }
  return ranges;
}

void expect_ranges_near(const std::vector<BucketRange>& actual,
                        const std::vector<BucketRange>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    EXPECT_EQ(round6(actual[i].start), round6(expected[i].start)) << "range " << i;
    EXPECT_EQ(round6(actual[i].end), round6(expected[i].end)) << "range " << i;
  }
}

// [seed, value, version, expected or null]
class HashCase : public Conformance {};
TEST_P(HashCase, Matches) {
  const std::optional<double> n =
      hash(data()[0].as_string(), data()[1].as_string(), static_cast<int>(number(data()[2])));
  if (data()[3].is_null()) {
    EXPECT_FALSE(n.has_value());
  } else {
    ASSERT_TRUE(n.has_value());
    EXPECT_DOUBLE_EQ(*n, number(data()[3]));
  }
}
INSTANTIATE_TEST_SUITE_P(GrowthBook, HashCase, testing::ValuesIn(cases_of("hash")), case_name);

// [name, [numVariations, coverage, weights or null], expected ranges]
class GetBucketRangeCase : public Conformance {};
TEST_P(GetBucketRangeCase, Matches) {
  const json::array& args = data()[1].as_array();
  const std::vector<double> weights = numbers(args[2]);
  expect_ranges_near(get_bucket_ranges(static_cast<int>(number(args[0])), number(args[1]), weights),
                     ranges_of(data()[2]));
}
INSTANTIATE_TEST_SUITE_P(GrowthBook, GetBucketRangeCase,
                         testing::ValuesIn(cases_of("getBucketRange")), case_name);

// [name, n, ranges, expected index]
class ChooseVariationCase : public Conformance {};
TEST_P(ChooseVariationCase, Matches) {
  EXPECT_EQ(choose_variation(number(data()[1]), ranges_of(data()[2])),
            static_cast<int>(number(data()[3])));
}
INSTANTIATE_TEST_SUITE_P(GrowthBook, ChooseVariationCase,
                         testing::ValuesIn(cases_of("chooseVariation")), case_name);

// [name, experiment key, url, number of variations, expected variation or null]
class GetQueryStringOverrideCase : public Conformance {};
TEST_P(GetQueryStringOverrideCase, Matches) {
  const std::optional<int> forced = query_string_override(
      data()[1].as_string(), data()[2].as_string(), static_cast<int>(number(data()[3])));
  if (data()[4].is_null()) {
    EXPECT_FALSE(forced.has_value()) << "forced " << forced.value_or(-1);
  } else {
    ASSERT_TRUE(forced.has_value());
    EXPECT_EQ(*forced, static_cast<int>(number(data()[4])));
  }
}
INSTANTIATE_TEST_SUITE_P(GrowthBook, GetQueryStringOverrideCase,
                         testing::ValuesIn(cases_of("getQueryStringOverride")), case_name);

// [name, user id, [namespace, start, end], expected]
class InNamespaceCase : public Conformance {};
TEST_P(InNamespaceCase, Matches) {
  const json::array& ns = data()[2].as_array();
  const Namespace parsed{std::string(ns[0].as_string()), number(ns[1]), number(ns[2])};
  EXPECT_EQ(in_namespace(data()[1].as_string(), parsed), data()[3].as_bool());
}
INSTANTIATE_TEST_SUITE_P(GrowthBook, InNamespaceCase, testing::ValuesIn(cases_of("inNamespace")),
                         case_name);

// [n, expected weights]
class GetEqualWeightsCase : public Conformance {};
TEST_P(GetEqualWeightsCase, Matches) {
  const std::vector<double> actual = get_equal_weights(static_cast<int>(number(data()[0])));
  const std::vector<double> expected = numbers(data()[1]);
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    EXPECT_EQ(round6(actual[i]), round6(expected[i])) << "weight " << i;
  }
}
INSTANTIATE_TEST_SUITE_P(GrowthBook, GetEqualWeightsCase,
                         testing::ValuesIn(cases_of("getEqualWeights")), case_name);

// [name, condition, attributes, expected, savedGroups?]
class EvalConditionCase : public Conformance {};
TEST_P(EvalConditionCase, Matches) {
  const json::object saved_groups = data().size() > 4 ? data()[4].as_object() : json::object();
  EXPECT_EQ(eval_condition(data()[2].as_object(), data()[1].as_object(), saved_groups),
            data()[3].as_bool())
      << "condition " << json::serialize(data()[1]) << " attributes " << json::serialize(data()[2]);
}
INSTANTIATE_TEST_SUITE_P(GrowthBook, EvalConditionCase,
                         testing::ValuesIn(cases_of("evalCondition")), case_name);

// [name, context {attributes, url, forcedVariations, qaMode, features (prerequisite flags),
// ...}, experiment, value, inExperiment, hashUsed].
class RunCase : public Conformance {};
TEST_P(RunCase, Matches) {
  RunContext context = parse_run_context(data()[1]);
  testing_support::CaseFeatures features(data()[1].as_object());
  context.prerequisites = flags::prerequisite_evaluator(features.lookup());
  const RunResult result = run(context, parse_experiment_spec(data()[2]));
  EXPECT_EQ(result.value, data()[3]) << "value " << json::serialize(result.value);
  EXPECT_EQ(result.in_experiment, data()[4].as_bool());
  EXPECT_EQ(result.hash_used, data()[5].as_bool());
}
INSTANTIATE_TEST_SUITE_P(GrowthBook, RunCase, testing::ValuesIn(cases_of("run")), case_name);

}  // namespace
}  // namespace verdict::assignment
