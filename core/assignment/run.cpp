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

const json::array& require_array(const json::value& value, const std::string& field) {
  if (!value.is_array()) invalid(field, "must be an array");
  return value.get_array();
}

std::string require_string(const json::value& value, const std::string& field) {
  if (!value.is_string()) invalid(field, "must be a string");
  return std::string(value.get_string());
}

bool require_bool(const json::value& value, const std::string& field) {
  if (!value.is_bool()) invalid(field, "must be a boolean");
  return value.get_bool();
}

double require_number(const json::value& value, const std::string& field) {
  if (!value.is_number()) invalid(field, "must be a number");
  return value.to_number<double>();
}

int require_integer(const json::value& value, const std::string& field) {
  const double number = require_number(value, field);
  if (std::trunc(number) != number || std::fabs(number) > 1e9) {
    invalid(field, "must be an integer");
  }
  return static_cast<int>(number);
}

std::vector<double> require_numbers(const json::value& value, const std::string& field) {
  std::vector<double> numbers;
  for (const json::value& item : require_array(value, field)) {
    numbers.push_back(require_number(item, field));
  }
  return numbers;
}

std::vector<BucketRange> require_ranges(const json::value& value, const std::string& field) {
  std::vector<BucketRange> ranges;
  for (const json::value& item : require_array(value, field)) {
    const json::array& pair = require_array(item, field);
    if (pair.size() != 2) invalid(field, "each range must be [start, end]");
    ranges.push_back({require_number(pair[0], field), require_number(pair[1], field)});
  }
  return ranges;
}

// Stores `read(value, field)` in `out` when the field is present; null counts as absent, as
// GrowthBook's `||` defaults treat it.
template <typename T, typename Read>
void read_field(const json::object& object, const std::string& field, T& out, Read read) {
  const json::value* value = object.if_contains(field);
  if (value && !value->is_null()) out = read(*value, field);
}

HashFilter require_filter(const json::value& value, const std::string& field) {
  const json::object& object = require_object(value, field);
  HashFilter filter;
  read_field(object, "seed", filter.seed, require_string);
  read_field(object, "ranges", filter.ranges, require_ranges);
  read_field(object, "attribute", filter.attribute, require_string);
  read_field(object, "hashVersion", filter.hash_version, require_integer);
  return filter;
}

std::vector<HashFilter> require_filters(const json::value& value, const std::string& field) {
  std::vector<HashFilter> filters;
  for (const json::value& item : require_array(value, field)) {
    filters.push_back(require_filter(item, field));
  }
  return filters;
}

Namespace require_namespace(const json::value& value, const std::string& field) {
  const json::array& tuple = require_array(value, field);
  if (tuple.size() != 3) invalid(field, "must be [id, start, end]");
  return {require_string(tuple[0], field), require_number(tuple[1], field),
          require_number(tuple[2], field)};
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

ExperimentSpec parse_experiment_spec(const json::value& definition) {
  const json::object& object = require_object(definition, "experiment");
  refuse_unsupported(object, kUnsupportedExperimentFields);

  ExperimentSpec spec;
  read_field(object, "key", spec.key, require_string);
  read_field(object, "variations", spec.variations, require_array);
  read_field(object, "weights", spec.weights, require_numbers);
  read_field(object, "coverage", spec.coverage, require_number);
  read_field(object, "hashAttribute", spec.hash_attribute, require_string);
  read_field(object, "hashVersion", spec.hash_version, require_integer);
  read_field(object, "seed", spec.seed, require_string);
  read_field(object, "namespace", spec.ns, require_namespace);
  read_field(object, "condition", spec.condition, require_object);
  read_field(object, "active", spec.active, require_bool);
  read_field(object, "status", spec.status, require_string);
  read_field(object, "force", spec.force, require_integer);
  read_field(object, "ranges", spec.ranges, require_ranges);
  read_field(object, "filters", spec.filters, require_filters);
  return spec;
}

RunContext parse_run_context(const json::value& context) {
  const json::object& object = require_object(context, "context");
  refuse_unsupported(object, kUnsupportedContextFields);

  RunContext parsed;
  read_field(object, "attributes", parsed.attributes, require_object);
  read_field(object, "enabled", parsed.enabled, require_bool);
  read_field(object, "savedGroups", parsed.saved_groups, require_object);
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
