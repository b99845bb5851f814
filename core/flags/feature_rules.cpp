#include "core/flags/feature_rules.hpp"

#include <algorithm>
#include <vector>

#include "core/assignment/condition.hpp"
#include "core/error.hpp"

namespace verdict::flags {
namespace {

namespace json = boost::json;
using assignment::ExperimentSpec;
using assignment::RunContext;

// Chains of prerequisites longer than this are treated as a cycle: it bounds the recursion on
// definitions nobody wrote by hand.
constexpr std::size_t kMaxPrerequisiteDepth = 32;

using detail::Rule;

// Errors from the shared parser name the field within the rule; callers need the rule too.
template <typename F>
auto with_prefix(const std::string& prefix, F&& parse) {
  try {
    return parse();
  } catch (const Error& error) {
    if (error.code() != ErrorCode::kInvalidArgument) throw;
    throw Error(ErrorCode::kInvalidArgument, prefix + "." + error.what(),
                prefix + (error.field().empty() ? "" : "." + error.field()));
  }
}

Rule parse_rule(const json::value& value, std::string_view feature_key, const std::string& field) {
  if (!value.is_object()) invalid(field, "must be an object");
  const json::object& object = value.get_object();
  Rule rule;
  if (const json::value* id = object.if_contains("id"); id && !id->is_null()) {
    if (!id->is_string()) invalid(field + ".id", "must be a string");
    rule.id = std::string(id->get_string());
  }
  if (const json::value* parents = object.if_contains("parentConditions"))
    rule.parents = assignment::parse_parent_conditions(*parents, field + ".parentConditions");
  if (const json::value* force = object.if_contains("force")) rule.force = *force;
  if (const json::value* range = object.if_contains("range"); range && !range->is_null()) {
    const json::array* pair = range->if_array();
    if (!pair || pair->size() != 2 || !(*pair)[0].is_number() || !(*pair)[1].is_number())
      invalid(field + ".range", "must be [start, end]");
    rule.range =
        assignment::BucketRange{(*pair)[0].to_number<double>(), (*pair)[1].to_number<double>()};
  }
  rule.has_coverage = object.contains("coverage") && !object.at("coverage").is_null();
  rule.has_variations = object.contains("variations") && !object.at("variations").is_null();
  if (const json::value* meta = object.if_contains("meta"); meta && meta->is_array())
    rule.meta = meta->get_array();

  json::object experiment = object;
  for (const char* own : {"id", "parentConditions", "force", "range"}) experiment.erase(own);
  if (!experiment.contains("key")) experiment["key"] = feature_key;
  rule.spec = with_prefix(field, [&] { return assignment::parse_experiment_spec(experiment); });
  return rule;
}

// GrowthBook's isIncludedInRollout.
bool included_in_rollout(const Rule& rule, std::string_view feature_key,
                         const json::object& attributes) {
  if (!rule.range && !rule.has_coverage) return true;
  if (!rule.range && rule.spec.coverage == 0) return false;
  const std::string unit = assignment::hash_value(attributes, rule.spec.hash_attribute);
  if (unit.empty()) return false;
  const std::string seed = rule.spec.seed.empty() ? std::string(feature_key) : rule.spec.seed;
  const std::optional<double> n =
      assignment::hash(seed, unit, rule.spec.hash_version == 0 ? 1 : rule.spec.hash_version);
  if (!n) return false;
  return rule.range ? rule.range->contains(*n) : *n <= rule.spec.coverage;
}

const json::object* meta_of(const Rule& rule, int variation) {
  if (variation < 0 || static_cast<std::size_t>(variation) >= rule.meta.size()) return nullptr;
  return rule.meta[static_cast<std::size_t>(variation)].if_object();
}

assignment::Prerequisite as_prerequisite(FeatureResult parent) {
  return {std::move(parent.value), parent.source == FeatureSource::kCyclicPrerequisite};
}

FeatureResult result(FeatureSource source, json::value value = nullptr, const Rule* rule = nullptr,
                     int index = -1) {
  FeatureResult out;
  out.source = source;
  out.value = std::move(value);
  if (rule) out.rule_id = rule->id;
  out.rule_index = index;
  return out;
}

class Evaluator {
 public:
  Evaluator(const RunContext& context, const FeatureLookup& lookup)
      : context_(context), lookup_(lookup) {}

  FeatureResult evaluate(std::string_view key) {
    if (std::find(stack_.begin(), stack_.end(), key) != stack_.end() ||
        stack_.size() >= kMaxPrerequisiteDepth)
      return result(FeatureSource::kCyclicPrerequisite);
    const CompiledFeature* feature = lookup_(key);
    if (!feature) return result(FeatureSource::kUnknownFeature);
    stack_.emplace_back(key);
    FeatureResult out = walk(*feature);
    stack_.pop_back();
    return out;
  }

 private:
  FeatureResult walk(const CompiledFeature& feature) {
    const std::string& key = feature.key();
    const std::vector<Rule>& list = feature.rules();
    for (std::size_t i = 0; i < list.size(); ++i) {
      const int index = static_cast<int>(i);
      const Rule& rule = list[i];
      if (!rule.parents.empty()) {
        const assignment::ParentsOutcome parents = assignment::check_parents(
            rule.parents, [this](std::string_view id) { return as_prerequisite(evaluate(id)); },
            context_.saved_groups);
        if (parents.cyclic) return result(FeatureSource::kCyclicPrerequisite);
        if (parents.unmet && parents.unmet->gate) return result(FeatureSource::kPrerequisite);
        if (parents.unmet) continue;
      }
      if (rule.spec.filters && assignment::filtered_out(*rule.spec.filters, context_.attributes))
        continue;
      if (rule.force) {
        if (rule.spec.condition &&
            !assignment::eval_condition(context_.attributes, *rule.spec.condition,
                                        context_.saved_groups))
          continue;
        if (!included_in_rollout(rule, key, context_.attributes)) continue;
        return result(FeatureSource::kForce, *rule.force, &rule, index);
      }
      if (!rule.has_variations) continue;
      assignment::RunResult run = assignment::run(context_, rule.spec);
      const json::object* meta = meta_of(rule, run.variation_id);
      const json::value* passthrough = meta ? meta->if_contains("passthrough") : nullptr;
      if (!run.in_experiment || (passthrough && passthrough->is_bool() && passthrough->get_bool()))
        continue;
      FeatureResult out = result(FeatureSource::kExperiment, run.value, &rule, index);
      out.variation_key = assignment::variation_key(rule.spec, run.variation_id);
      out.experiment = std::move(run);
      return out;
    }
    return result(FeatureSource::kDefaultValue, feature.default_value());
  }

  const RunContext& context_;
  const FeatureLookup& lookup_;
  std::vector<std::string> stack_;
};

}  // namespace

const char* to_string(FeatureSource source) noexcept {
  switch (source) {
    case FeatureSource::kUnknownFeature:
      return "unknownFeature";
    case FeatureSource::kDefaultValue:
      return "defaultValue";
    case FeatureSource::kForce:
      return "force";
    case FeatureSource::kExperiment:
      return "experiment";
    case FeatureSource::kPrerequisite:
      return "prerequisite";
    case FeatureSource::kCyclicPrerequisite:
      return "cyclicPrerequisite";
  }
  return "unknownFeature";
}

CompiledFeature::CompiledFeature(std::string key, const json::object& definition)
    : key_(std::move(key)) {
  if (const json::value* fallback = definition.if_contains("defaultValue"))
    default_value_ = *fallback;
  if (const json::value* rules = definition.if_contains("rules"); rules && rules->is_array()) {
    const json::array& list = rules->get_array();
    for (std::size_t i = 0; i < list.size(); ++i)
      rules_.push_back(parse_rule(list[i], key_, "rules[" + std::to_string(i) + "]"));
  }
}

FeatureResult evaluate_feature(std::string_view key, const RunContext& context,
                               const FeatureLookup& lookup) {
  return Evaluator(context, lookup).evaluate(key);
}

assignment::PrerequisiteEvaluator prerequisite_evaluator(FeatureLookup lookup) {
  return [lookup = std::move(lookup)](std::string_view flag, const RunContext& context) {
    return as_prerequisite(evaluate_feature(flag, context, lookup));
  };
}

void check_rule(const json::value& rule, const std::string& field) {
  parse_rule(rule, "flag", field);
  // Verdict evaluates without sticky bucket documents (assign's exposures keep units sticky),
  // so a fallback would be ignored here while an SDK with sticky bucketing honoured it.
  if (rule.get_object().contains("fallbackAttribute"))
    invalid(field + ".fallbackAttribute", "not supported");
}

}  // namespace verdict::flags
