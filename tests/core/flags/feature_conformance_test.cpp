// GrowthBook's cross-SDK `feature` cases through Verdict's feature evaluator, one gtest per
// case; the binary prints the count passed beside the `run` sections.
#include "core/flags/feature_rules.hpp"

#include <map>
#include <string>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "core/assignment/js_coercion.hpp"
#include "core/assignment/run.hpp"
#include "tests/support/growthbook_cases.hpp"
#include "tests/support/growthbook_features.hpp"

namespace verdict::flags {
namespace {

namespace json = boost::json;
using testing_support::case_name;
using testing_support::CaseFeatures;
using testing_support::cases_of;
using testing_support::Conformance;

// [name, context {attributes, features, savedGroups, forcedVariations, ...}, feature key,
// expected result].
class FeatureCase : public Conformance {};
TEST_P(FeatureCase, Matches) {
  const assignment::RunContext context = assignment::parse_run_context(data()[1]);
  CaseFeatures features(data()[1].as_object());
  const FeatureLookup lookup = features.lookup();
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

// The sticky bucket documents an SDK's sticky bucket service loads for a unit: those keyed by
// an attribute some experiment rule hashes (hashAttribute, else id, and fallbackAttribute),
// with the unit's value of it, as GrowthBook's deriveStickyBucketIdentifierAttributes does.
assignment::StickyBucketDocs load_sticky_docs(const json::object& features,
                                              const json::object& attributes,
                                              const json::array& stored) {
  std::map<std::string, json::object> service;
  for (const json::value& doc : stored) {
    const json::object& object = doc.as_object();
    service[std::string(object.at("attributeName").as_string()) + "||" +
            std::string(object.at("attributeValue").as_string())] = object;
  }
  assignment::StickyBucketDocs docs;
  for (const auto& [key, feature] : features) {
    const json::value* rules = feature.as_object().if_contains("rules");
    for (const json::value& rule : rules ? rules->as_array() : json::array{}) {
      const json::object& object = rule.as_object();
      if (!object.contains("variations")) continue;
      for (const char* field : {"hashAttribute", "fallbackAttribute"}) {
        const json::value* name = object.if_contains(field);
        const std::string attribute =
            name ? std::string(name->as_string()) : (field[0] == 'h' ? "id" : "");
        const std::string value = assignment::hash_value(attributes, attribute);
        if (attribute.empty() || value.empty()) continue;
        if (auto doc = service.find(attribute + "||" + value); doc != service.end())
          docs[doc->first] = doc->second;
      }
    }
  }
  return docs;
}

// [name, context, stored sticky bucket docs, feature key, expected experimentResult or null,
// the unit's sticky bucket docs afterwards]. Sticky bucketing is on in every case, as when an
// SDK is given a sticky bucket service.
class StickyBucketCase : public Conformance {};
TEST_P(StickyBucketCase, Matches) {
  json::object spec = data()[1].as_object();
  // The context's own documents (empty in every case) stand in for the service's.
  spec.erase("stickyBucketAssignmentDocs");
  assignment::RunContext context = assignment::parse_run_context(spec);
  CaseFeatures features(spec);
  assignment::StickyBucketDocs docs =
      load_sticky_docs(features.definitions(), context.attributes, data()[2].as_array());
  context.sticky_buckets = &docs;

  const std::string key(data()[3].as_string());
  const FeatureResult result = evaluate_feature(key, context, features.lookup());
  if (data()[4].is_null()) {
    EXPECT_FALSE(result.experiment.has_value()) << "source " << to_string(result.source);
  } else {
    ASSERT_TRUE(result.experiment.has_value()) << "source " << to_string(result.source);
    const json::object& wanted = data()[4].as_object();
    const assignment::RunResult& run = *result.experiment;
    EXPECT_EQ(result.value, wanted.at("value"));
    EXPECT_EQ(run.variation_id, wanted.at("variationId").to_number<int>());
    EXPECT_EQ(run.in_experiment, wanted.at("inExperiment").as_bool());
    EXPECT_EQ(run.hash_used, wanted.at("hashUsed").as_bool());
    EXPECT_EQ(run.hash_attribute, wanted.at("hashAttribute").as_string());
    EXPECT_EQ(run.hash_value, wanted.at("hashValue").as_string());
    EXPECT_EQ(run.sticky_bucket_used, wanted.at("stickyBucketUsed").as_bool());
    ASSERT_TRUE(run.bucket.has_value());
    EXPECT_NEAR(*run.bucket, wanted.at("bucket").to_number<double>(), 1e-9);
    EXPECT_EQ(result.variation_key, wanted.at("key").as_string());
    EXPECT_EQ(key, wanted.at("featureId").as_string());
  }
  EXPECT_EQ(json::value(docs), data()[5]) << "docs " << json::serialize(docs);
}
INSTANTIATE_TEST_SUITE_P(GrowthBook, StickyBucketCase, testing::ValuesIn(cases_of("stickyBucket")),
                         case_name);

}  // namespace
}  // namespace verdict::flags
