#include "core/assignment/run.hpp"

#include <array>
#include <cmath>
#include <functional>
#include <map>
#include <string_view>

#include "core/assignment/condition.hpp"
#include "core/assignment/js_coercion.hpp"
#include "core/error.hpp"

namespace verdict::assignment {
namespace {

namespace json = boost::json;

constexpr std::array<std::string_view, 4> kUnsupportedExperimentFields{"url", "urlPatterns",
                                                                       "include", "groups"};
constexpr std::array<std::string_view, 3> kUnsupportedContextFields{
    "overrides", "stickyBucketAssignmentDocs", "groups"};

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

std::vector<std::string> require_meta_keys(const json::value& value, const std::string& field) {
  std::vector<std::string> keys;
  for (const json::value& item : require_array(value, field)) {
    const json::value* key = require_object(item, field).if_contains("key");
    keys.push_back(key && key->is_string() ? std::string(key->get_string()) : std::string{});
  }
  return keys;
}

std::map<std::string, int, std::less<>> require_forced_variations(const json::value& value,
                                                                  const std::string& field) {
  std::map<std::string, int, std::less<>> forced;
  for (const auto& [key, variation] : require_object(value, field))
    forced.emplace(key, require_integer(variation, field + "." + std::string(key)));
  return forced;
}

// GrowthBook's getHashAttribute: the attribute and its value, else the fallback's.
struct HashSource {
  std::string attribute;
  std::string value;
};

HashSource hash_source(const json::object& attributes, const std::string& attribute,
                       const std::string& fallback) {
  HashSource source{attribute.empty() ? "id" : attribute, hash_value(attributes, attribute)};
  if (source.value.empty() && !fallback.empty()) {
    std::string value = hash_value(attributes, fallback);
    if (!value.empty()) source = {fallback, std::move(value)};
  }
  return source;
}

std::string sticky_key(const std::string& experiment, int bucket_version) {
  return experiment + "__" + std::to_string(bucket_version);
}

std::string doc_key(const HashSource& source) {
  return source.attribute + "||" + source.value;
}

// getStickyBucketAssignments: the fallback attribute's document, overridden by the hash
// attribute's, so a unit that logs in keeps the variation it had anonymously.
json::object stored_assignments(const StickyBucketDocs& docs, const json::object& attributes,
                                const ExperimentSpec& experiment) {
  json::object merged;
  const HashSource fallback = hash_source(attributes, experiment.fallback_attribute, "");
  const HashSource own = hash_source(attributes, experiment.hash_attribute, "");
  for (const std::string& key :
       {fallback.value.empty() ? std::string{} : doc_key(fallback), doc_key(own)}) {
    const json::value* doc = key.empty() ? nullptr : docs.if_contains(key);
    const json::value* assignments =
        doc && doc->is_object() ? doc->get_object().if_contains("assignments") : nullptr;
    if (assignments && assignments->is_object())
      for (const auto& [name, variation] : assignments->get_object()) merged[name] = variation;
  }
  return merged;
}

// getStickyBucketVariation: -1 when nothing is stored; `blocked` when an assignment under a
// bucket version below the minimum exists, which takes the unit out of the experiment.
struct StickyVariation {
  int variation = -1;
  bool blocked = false;
};

StickyVariation sticky_variation(const StickyBucketDocs& docs, const json::object& attributes,
                                 const ExperimentSpec& experiment) {
  const json::object assignments = stored_assignments(docs, attributes, experiment);
  // Versions 0 to min - 1, as the JS SDK: `<=` (as some older SDKs had it) would block the
  // assignments made under the current version when it equals the minimum.
  for (int version = 0; version < experiment.min_bucket_version; ++version)
    if (assignments.contains(sticky_key(experiment.key, version))) return {-1, true};
  const json::value* stored =
      assignments.if_contains(sticky_key(experiment.key, experiment.bucket_version));
  if (!stored || !stored->is_string() || stored->get_string().empty()) return {};
  for (std::size_t i = 0; i < experiment.meta_keys.size(); ++i)
    if (experiment.meta_keys[i] == stored->get_string()) return {static_cast<int>(i), false};
  return {};
}

void save_assignment(StickyBucketDocs& docs, const HashSource& source, const std::string& key,
                     const std::string& variation) {
  json::value& doc = docs[doc_key(source)];
  if (!doc.is_object())
    doc = json::object{{"attributeName", source.attribute},
                       {"attributeValue", source.value},
                       {"assignments", json::object{}}};
  json::value& assignments = doc.get_object()["assignments"];
  if (!assignments.is_object()) assignments = json::object{};
  assignments.get_object()[key] = variation;
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

std::string variation_key(const ExperimentSpec& experiment, int variation) {
  const auto index = static_cast<std::size_t>(variation);
  if (variation >= 0 && index < experiment.meta_keys.size() && !experiment.meta_keys[index].empty())
    return experiment.meta_keys[index];
  return std::to_string(variation);
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
  read_field(object, "fallbackAttribute", spec.fallback_attribute, require_string);
  read_field(object, "bucketVersion", spec.bucket_version, require_integer);
  read_field(object, "minBucketVersion", spec.min_bucket_version, require_integer);
  read_field(object, "disableStickyBucketing", spec.disable_sticky_bucketing, require_bool);
  read_field(object, "meta", spec.meta_keys, require_meta_keys);
  read_field(object, "parentConditions", spec.parent_conditions, parse_parent_conditions);
  return spec;
}

RunContext parse_run_context(const json::value& context) {
  const json::object& object = require_object(context, "context");
  refuse_unsupported(object, kUnsupportedContextFields);

  RunContext parsed;
  read_field(object, "attributes", parsed.attributes, require_object);
  read_field(object, "enabled", parsed.enabled, require_bool);
  read_field(object, "savedGroups", parsed.saved_groups, require_object);
  read_field(object, "url", parsed.url, require_string);
  read_field(object, "forcedVariations", parsed.forced_variations, require_forced_variations);
  read_field(object, "qaMode", parsed.qa_mode, require_bool);
  return parsed;
}

std::vector<ParentCondition> parse_parent_conditions(const json::value& value,
                                                     const std::string& field) {
  std::vector<ParentCondition> parents;
  for (const json::value& item : require_array(value, field)) {
    const json::object* object = item.if_object();
    const json::value* id = object ? object->if_contains("id") : nullptr;
    if (!id || !id->is_string() || id->get_string().empty())
      invalid(field, "each parent condition needs an `id` naming a flag");
    ParentCondition parent{std::string(id->get_string()), {}, false};
    if (const json::value* condition = object->if_contains("condition"))
      parent.condition = require_object(*condition, field + ".condition");
    if (const json::value* gate = object->if_contains("gate"))
      parent.gate = require_bool(*gate, field + ".gate");
    parents.push_back(std::move(parent));
  }
  return parents;
}

ParentsOutcome check_parents(const std::vector<ParentCondition>& parents,
                             const std::function<Prerequisite(std::string_view)>& evaluate,
                             const json::object& saved_groups) {
  for (const ParentCondition& parent : parents) {
    const Prerequisite flag = evaluate(parent.id);
    if (flag.cyclic) return {nullptr, true};
    if (!eval_condition(json::object{{"value", flag.value}}, parent.condition, saved_groups))
      return {&parent, false};
  }
  return {};
}

std::optional<int> query_string_override(std::string_view key, std::string_view url,
                                         int variations) {
  // url.split("?")[1] without its anchor: the text between the first "?" and the next "?" or "#".
  const std::size_t question = url.find('?');
  if (question == std::string_view::npos) return std::nullopt;
  std::string_view search = url.substr(question + 1);
  search = search.substr(0, search.find_first_of("?#"));
  while (!search.empty()) {
    const std::size_t amp = search.find('&');
    const std::string_view pair = search.substr(0, amp);
    search = amp == std::string_view::npos ? std::string_view{} : search.substr(amp + 1);
    const std::size_t equals = pair.find('=');
    if (pair.substr(0, equals) != key) continue;
    // kv.split("=", 2)[1]: up to a second "="; none at all reads as undefined, hence NaN.
    if (equals == std::string_view::npos) return std::nullopt;
    const std::string_view text = pair.substr(equals + 1);
    const double n = js::parse_int(text.substr(0, text.find('=')));
    if (n >= 0 && n < variations) return static_cast<int>(n);
    return std::nullopt;
  }
  return std::nullopt;
}

RunResult run(const RunContext& context, const ExperimentSpec& experiment) {
  constexpr int kExcluded = -1;
  const bool sticky = context.sticky_buckets && !experiment.disable_sticky_bucketing;
  // GrowthBook names the hash attribute and value in every result, even an excluded one.
  const HashSource source = hash_source(context.attributes, experiment.hash_attribute,
                                        sticky ? experiment.fallback_attribute : std::string{});
  const auto from_source = [&](RunResult result) {
    result.hash_attribute = source.attribute;
    result.hash_value = source.value;
    return result;
  };
  const auto excluded = [&] { return from_source(result_for(experiment, kExcluded)); };
  const int count = static_cast<int>(experiment.variations.size());
  if (count < 2 || !context.enabled) return excluded();

  // Forced variations come before the experiment's own status and targeting, so QA can see a
  // variation of an experiment that is not running yet.
  if (const std::optional<int> forced = query_string_override(experiment.key, context.url, count))
    return from_source(result_for(experiment, *forced));
  if (const auto forced = context.forced_variations.find(experiment.key);
      forced != context.forced_variations.end())
    return from_source(result_for(experiment, forced->second));

  if (!experiment.active || experiment.status == "draft") return excluded();
  if (source.value.empty()) return excluded();
  const StickyVariation stored =
      sticky ? sticky_variation(*context.sticky_buckets, context.attributes, experiment)
             : StickyVariation{};
  const bool found_sticky = stored.variation >= 0;

  // A stored assignment stands even if the unit no longer matches the targeting.
  if (!found_sticky) {
    // Filters supersede the namespace, even an empty list of them, as in GrowthBook.
    if (experiment.filters ? filtered_out(*experiment.filters, context.attributes)
                           : experiment.ns && !in_namespace(source.value, *experiment.ns))
      return excluded();
    if (experiment.condition &&
        !eval_condition(context.attributes, *experiment.condition, context.saved_groups))
      return excluded();
    if (!experiment.parent_conditions.empty()) {
      const auto evaluate = [&](std::string_view flag) {
        return context.prerequisites ? context.prerequisites(flag, context) : Prerequisite{};
      };
      const ParentsOutcome parents =
          check_parents(experiment.parent_conditions, evaluate, context.saved_groups);
      if (parents.cyclic || parents.unmet) return excluded();
    }
  }

  const std::string& seed = experiment.seed.empty() ? experiment.key : experiment.seed;
  const std::optional<double> n =
      hash(seed, source.value, experiment.hash_version == 0 ? 1 : experiment.hash_version);
  if (!n) return excluded();
  const int assigned =
      found_sticky ? stored.variation
      : experiment.ranges
          ? choose_variation(*n, *experiment.ranges)
          : choose_variation(*n, get_bucket_ranges(count, experiment.coverage, experiment.weights));
  if (stored.blocked) return excluded();
  // Coverage takes precedence over force: a unit outside it is never forced in.
  if (assigned < 0) return excluded();
  if (experiment.force) return from_source(result_for(experiment, *experiment.force));
  // QA mode serves forced variations only, so nobody is hashed in.
  if (context.qa_mode || experiment.status == "stopped") return excluded();
  RunResult result = from_source(result_for(experiment, assigned, true, n));
  result.sticky_bucket_used = found_sticky;
  if (sticky && result.in_experiment)
    save_assignment(*context.sticky_buckets, source,
                    sticky_key(experiment.key, experiment.bucket_version),
                    variation_key(experiment, result.variation_id));
  return result;
}

}  // namespace verdict::assignment
