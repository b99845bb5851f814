#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/assignment/run.hpp"

namespace verdict::flags {

/// GrowthBook's `source` of a feature value.
enum class FeatureSource {
  kUnknownFeature,
  kDefaultValue,
  kForce,
  kExperiment,
  kPrerequisite,        ///< a gating parent condition failed
  kCyclicPrerequisite,  ///< parents that depend on each other
};

/// "unknownFeature", "defaultValue", "force", "experiment", "prerequisite",
/// "cyclicPrerequisite", as GrowthBook's SDKs report them.
const char* to_string(FeatureSource source) noexcept;

/// The outcome of evaluating one feature.
struct FeatureResult {
  boost::json::value value;  ///< null for unknown features and failed prerequisites
  FeatureSource source = FeatureSource::kUnknownFeature;
  std::string rule_id;  ///< the deciding rule's `id`, empty when it has none
  int rule_index = -1;  ///< the deciding rule's position in `rules`; -1 for none
  /// For kExperiment: the run, and GrowthBook's variation key (`meta[i].key`, else the index).
  std::optional<assignment::RunResult> experiment;
  std::string variation_key;
};

namespace detail {

/// A rule as GrowthBook reads it. The hashing and targeting fields are read by
/// assignment::parse_experiment_spec, so force and experiment rules share one parser.
struct Rule {
  std::string id;
  std::vector<assignment::ParentCondition> parents;
  std::optional<boost::json::value> force;
  std::optional<assignment::BucketRange> range;
  bool has_coverage = false;
  bool has_variations = false;
  assignment::ExperimentSpec spec;
  boost::json::array meta;
};

}  // namespace detail

/// A feature definition (`{defaultValue, rules}` as in a GrowthBook payload) parsed once, so
/// that evaluating a unit reads no JSON. Immutable, hence safe to share between threads.
class CompiledFeature {
 public:
  /// Throws verdict::Error (kInvalidArgument) naming the field (`rules[2].coverage`) for a
  /// malformed rule and for targeting `assignment::parse_experiment_spec` does not support.
  CompiledFeature(std::string key, const boost::json::object& definition);

  const std::string& key() const { return key_; }
  const boost::json::value& default_value() const { return default_value_; }
  const std::vector<detail::Rule>& rules() const { return rules_; }

 private:
  std::string key_;
  boost::json::value default_value_;
  std::vector<detail::Rule> rules_;
};

/// The compiled feature for a key, or nullptr for an unknown key. The pointer must stay valid
/// for the whole evaluation.
using FeatureLookup = std::function<const CompiledFeature*(std::string_view key)>;

/// Evaluates feature `key` as GrowthBook's SDKs do: rules in order, each gated by its
/// parentConditions (prerequisite flags, evaluated recursively with cycle detection), then
/// filters; a `force` rule applies when its condition holds and the unit falls in its `range`
/// or `coverage` (hashing `hashAttribute` with `seed`, default the feature key); an experiment
/// rule (`variations`) applies when `assignment::run` puts the unit in a variation that is not
/// a passthrough (`meta[i].passthrough`). Otherwise `defaultValue` (null when absent).
/// Throws what `lookup` throws.
FeatureResult evaluate_feature(std::string_view key, const assignment::RunContext& context,
                               const FeatureLookup& lookup);

/// Lets `assignment::run` evaluate an experiment's `parentConditions`: each parent flag is
/// evaluated as `evaluate_feature` would, for the run's context. `lookup` is copied; the
/// features it returns must stay valid while the evaluator is in use.
assignment::PrerequisiteEvaluator prerequisite_evaluator(FeatureLookup lookup);

/// Checks one rule's shape without evaluating it (for write-time validation); `field` prefixes
/// error messages, e.g. `targetingRules[2]`.
void check_rule(const boost::json::value& rule, const std::string& field);

}  // namespace verdict::flags
