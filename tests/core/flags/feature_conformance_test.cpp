// GrowthBook's cross-SDK `feature` cases through Verdict's feature evaluator, one gtest per
// case; the binary prints the count passed beside the `run` sections.
#include "core/flags/feature_rules.hpp"

#include <map>
#include <string>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "core/assignment/js_coercion.hpp"
#include "core/error.hpp"
#include "tests/support/growthbook_cases.hpp"

namespace verdict::flags {
namespace {

namespace json = boost::json;
using testing_support::case_name;
using testing_support::cases_of;
using testing_support::Conformance;

// [name, context {attributes, features, savedGroups, ...}, feature key, expected result].
// Cases whose context needs something Verdict does not implement (forcedVariations) are
// skipped with the parser's reason.
class FeatureCase : public Conformance {};
TEST_P(FeatureCase, Matches) {
  assignment::RunContext context;
  try {
    context = assignment::parse_run_context(data()[1]);
  } catch (const Error& error) {
    const std::string reason = error.what();
    ASSERT_NE(reason.find("not supported"), std::string::npos) << reason;
    GTEST_SKIP() << reason;
  }
  const json::object& spec = data()[1].as_object();
  const json::object no_features;
  const json::value* listed = spec.if_contains("features");
  const json::object& features = listed ? listed->as_object() : no_features;
  std::map<std::string, CompiledFeature, std::less<>> compiled;
  const FeatureLookup lookup = [&](std::string_view key) -> const CompiledFeature* {
    if (auto known = compiled.find(key); known != compiled.end()) return &known->second;
    const json::value* feature = features.if_contains(key);
    if (!feature) return nullptr;
    return &compiled.try_emplace(std::string(key), std::string(key), feature->as_object())
                .first->second;
  };

  const FeatureResult result = evaluate_feature(data()[2].as_string(), context, lookup);
  const json::object& expected = data()[3].as_object();
  EXPECT_EQ(result.value, expected.at("value")) << "value " << json::serialize(result.value);
  EXPECT_EQ(assignment::js::truthy(result.value), expected.at("on").as_bool());
  EXPECT_EQ(to_string(result.source), expected.at("source").as_string());
  EXPECT_EQ(result.rule_id, expected.at("ruleId").as_string());
  if (const json::value* run = expected.if_contains("experimentResult")) {
    ASSERT_TRUE(result.experiment.has_value());
    const json::object& wanted = run->as_object();
    EXPECT_EQ(result.experiment->variation_id, wanted.at("variationId").to_number<int>());
    EXPECT_EQ(result.experiment->in_experiment, wanted.at("inExperiment").as_bool());
    EXPECT_EQ(result.experiment->hash_used, wanted.at("hashUsed").as_bool());
    EXPECT_EQ(result.variation_key, wanted.at("key").as_string());
  } else {
    EXPECT_FALSE(result.experiment.has_value());
  }
}
INSTANTIATE_TEST_SUITE_P(GrowthBook, FeatureCase, testing::ValuesIn(cases_of("feature")),
                         case_name);

}  // namespace
}  // namespace verdict::flags
