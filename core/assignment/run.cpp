#include "core/assignment/run.hpp"

#include <array>
#include <cmath>
#include <string_view>

#include "core/assignment/condition.hpp"
#include "core/assignment/js_coercion.hpp"
#include "core/error.hpp"

namespace verdict::assignment {
namespace {

namespace json = boost::json;

constexpr std::array<std::string_view, 6> kUnsupportedExperimentFields{
    "url", "urlPatterns", "include", "groups", "parentConditions", "fallbackAttribute"};
constexpr std::array<std::string_view, 6> kUnsupportedContextFields{
    "url", "forcedVariations", "qaMode", "overrides", "stickyBucketAssignmentDocs", "groups"};

template <std::size_t N>
void refuse_unsupported(const json::object& object,
                        const std::array<std::string_view, N>& unsupported) {
  for (std::string_view field : unsupported) {
    if (object.contains(field)) invalid(std::string(field), "not supported");
  }
}

const json::object& require_object(const json::value& value, const std::string& field) {
  if (!value.is_object()) invalid(field, "must be an object");
  return value.get_object();
}

double require_number(const json::value& value, const std::string& field) {
  if (!value.is_number()) invalid(field, "must be a number");
  return value.to_number<double>();
}

int require_integer(const json::value& value, const std::string& field) {
  const double number = require_number(value, field);
  if (std::trunc(number) != number || std::fabs(number) > 1e9) invalid(field, "must be an integer");
  return static_cast<int>(number);
}

std::string require_string(const json::value& value, const std::string& field) {
  if (!value.is_string()) invalid(field, "must be a string");
  return std::string(value.get_string());
}

const json::array& require_array(const json::value& value, const std::string& field) {
  if (!value.is_array()) invalid(field, "must be an array");
  return value.get_array();
}

std::vector<BucketRange> parse_ranges(const json::value& value, const std::string& field) {
  std::vector<BucketRange> ranges;
  for (const json::value& item : require_array(value, field)) {
    const json::array& pair = require_array(item, field);
    if (pair.size() != 2) invalid(field, "each range must be [start, end]");
    ranges.push_back({require_number(pair[0], field), require_number(pair[1], field)});
  }
  return ranges;
}

HashFilter parse_filter(const json::value& value) {
  const json::object& object = require_object(value, "filters");
  HashFilter filter;
  if (const json::value* seed = object.if_contains("seed"))
    filter.seed = require_string(*seed, "filters.seed");
  if (const json::value* ranges = object.if_contains("ranges"))
    filter.ranges = parse_ranges(*ranges, "filters.ranges");
  if (const json::value* attribute = object.if_contains("attribute")) {
    filter.attribute = require_string(*attribute, "filters.attribute");
  }
  if (const json::value* version = object.if_contains("hashVersion")) {
    filter.hash_version = require_integer(*version, "filters.hashVersion");
  }
  return filter;
}

Namespace parse_namespace(const json::value& value) {
  const json::array& tuple = require_array(value, "namespace");
  if (tuple.size() != 3) invalid("namespace", "must be [id, start, end]");
  return {require_string(tuple[0], "namespace"), require_number(tuple[1], "namespace"),
          require_number(tuple[2], "namespace")};
}

// GrowthBook reads `attributes[name] || ""` and concatenates it into the hashed string.
std::string hash_value(const json::object& attributes, const std::string& name) {
  const json::value* value = attributes.if_contains(name.empty() ? "id" : name);
  if (!value || !js::truthy(*value)) return {};
  return js::to_string(*value);
}

bool filtered_out(const std::vector<HashFilter>& filters, const json::object& attributes) {
  for (const HashFilter& filter : filters) {
    const std::string unit = hash_value(attributes, filter.attribute);
    if (unit.empty()) return true;
    const std::optional<double> n =
        hash(filter.seed, unit, filter.hash_version == 0 ? 2 : filter.hash_version);
    if (!n) return true;
    bool kept = false;
    for (const BucketRange& range : filter.ranges) kept = kept || range.contains(*n);
    if (!kept) return true;
  }
  return false;
}

RunResult result_for(const ExperimentSpec& experiment, int variation, bool hash_used = false,
                     std::optional<double> bucket = std::nullopt) {
  RunResult result;
  const int count = static_cast<int>(experiment.variations.size());
  result.in_experiment = variation >= 0 && variation < count;
  result.variation_id = result.in_experiment ? variation : 0;
  result.hash_used = result.in_experiment && hash_used;
  result.bucket = bucket;
  if (count > 0)
    result.value = experiment.variations[static_cast<std::size_t>(result.variation_id)];
  return result;
}

}  // namespace

ExperimentSpec parse_experiment_spec(const json::value& definition) {
  const json::object& object = require_object(definition, "experiment");
  refuse_unsupported(object, kUnsupportedExperimentFields);

  ExperimentSpec spec;
  if (const json::value* key = object.if_contains("key")) spec.key = require_string(*key, "key");
  if (const json::value* variations = object.if_contains("variations")) {
    spec.variations = require_array(*variations, "variations");
  }
  if (const json::value* weights = object.if_contains("weights"); weights && !weights->is_null()) {
    for (const json::value& weight : require_array(*weights, "weights")) {
      spec.weights.push_back(require_number(weight, "weights"));
    }
  }
  if (const json::value* coverage = object.if_contains("coverage")) {
    spec.coverage = require_number(*coverage, "coverage");
  }
  if (const json::value* attribute = object.if_contains("hashAttribute")) {
    spec.hash_attribute = require_string(*attribute, "hashAttribute");
  }
  if (const json::value* version = object.if_contains("hashVersion")) {
    spec.hash_version = require_integer(*version, "hashVersion");
  }
  if (const json::value* seed = object.if_contains("seed"))
    spec.seed = require_string(*seed, "seed");
  if (const json::value* ns = object.if_contains("namespace")) spec.ns = parse_namespace(*ns);
  if (const json::value* condition = object.if_contains("condition")) {
    spec.condition = require_object(*condition, "condition");
  }
  if (const json::value* active = object.if_contains("active")) {
    if (!active->is_bool()) invalid("active", "must be a boolean");
    spec.active = active->get_bool();
  }
  if (const json::value* status = object.if_contains("status")) {
    spec.status = require_string(*status, "status");
  }
  if (const json::value* force = object.if_contains("force"); force && !force->is_null()) {
    spec.force = require_integer(*force, "force");
  }
  if (const json::value* ranges = object.if_contains("ranges")) {
    spec.ranges = parse_ranges(*ranges, "ranges");
  }
  if (const json::value* filters = object.if_contains("filters")) {
    spec.filters.emplace();
    for (const json::value& filter : require_array(*filters, "filters")) {
      spec.filters->push_back(parse_filter(filter));
    }
  }
  return spec;
}

RunContext parse_run_context(const json::value& context) {
  const json::object& object = require_object(context, "context");
  refuse_unsupported(object, kUnsupportedContextFields);

  RunContext parsed;
  if (const json::value* attributes = object.if_contains("attributes")) {
    parsed.attributes = require_object(*attributes, "attributes");
  }
  if (const json::value* enabled = object.if_contains("enabled")) {
    if (!enabled->is_bool()) invalid("enabled", "must be a boolean");
    parsed.enabled = enabled->get_bool();
  }
  if (const json::value* groups = object.if_contains("savedGroups")) {
    parsed.saved_groups = require_object(*groups, "savedGroups");
  }
  return parsed;
}

RunResult run(const RunContext& context, const ExperimentSpec& experiment) {
  constexpr int kExcluded = -1;
  if (experiment.variations.size() < 2 || !context.enabled)
    return result_for(experiment, kExcluded);
  if (!experiment.active || experiment.status == "draft") return result_for(experiment, kExcluded);

  const std::string unit = hash_value(context.attributes, experiment.hash_attribute);
  if (unit.empty()) return result_for(experiment, kExcluded);

  // Filters supersede the namespace, even an empty list of them, as in GrowthBook.
  if (experiment.filters ? filtered_out(*experiment.filters, context.attributes)
                         : experiment.ns && !in_namespace(unit, *experiment.ns)) {
    return result_for(experiment, kExcluded);
  }
  if (experiment.condition &&
      !eval_condition(context.attributes, *experiment.condition, context.saved_groups)) {
    return result_for(experiment, kExcluded);
  }

  const std::string& seed = experiment.seed.empty() ? experiment.key : experiment.seed;
  const std::optional<double> n =
      hash(seed, unit, experiment.hash_version == 0 ? 1 : experiment.hash_version);
  if (!n) return result_for(experiment, kExcluded);
  const int assigned =
      experiment.ranges
          ? choose_variation(*n, *experiment.ranges)
          : choose_variation(*n, get_bucket_ranges(static_cast<int>(experiment.variations.size()),
                                                   experiment.coverage, experiment.weights));
  // Coverage takes precedence over force: a unit outside it is never forced in.
  if (assigned < 0) return result_for(experiment, kExcluded);
  if (experiment.force) return result_for(experiment, *experiment.force);
  if (experiment.status == "stopped") return result_for(experiment, kExcluded);
  return result_for(experiment, assigned, true, n);
}

}  // namespace verdict::assignment
