#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "core/assignment/buckets.hpp"
#include "core/assignment/hash.hpp"

namespace verdict::assignment {

/// A hash filter: the unit stays only if its hash of `attribute` lands in one of `ranges`.
struct HashFilter {
  std::string seed;
  std::vector<BucketRange> ranges;
  std::string attribute = "id";
  int hash_version = 2;
};

/// A prerequisite (GrowthBook's `parentConditions[i]`): the flag `id`'s value, as the object
/// `{"value": <value>}`, must satisfy `condition`. `gate` matters only to feature rules, where a
/// failed gate turns the whole feature off instead of skipping the rule.
struct ParentCondition {
  std::string id;
  boost::json::object condition;
  bool gate = false;
};

/// Reads `parentConditions`. Throws verdict::Error (kInvalidArgument) naming `field` for a list
/// that is not an array, an entry without a non-empty string `id`, a `condition` that is not an
/// object and a `gate` that is not a boolean.
std::vector<ParentCondition> parse_parent_conditions(const boost::json::value& value,
                                                     const std::string& field);

/// A GrowthBook experiment definition, restricted to the fields Verdict implements.
struct ExperimentSpec {
  std::string key;
  boost::json::array variations;
  std::vector<double> weights;  ///< empty: equal weights
  double coverage = 1;
  std::string hash_attribute = "id";
  int hash_version = 1;
  std::string seed;  ///< empty: the key
  std::optional<Namespace> ns;
  std::optional<boost::json::object> condition;
  bool active = true;
  std::string status;                              ///< "draft" or "stopped" exclude everyone
  std::optional<int> force;                        ///< the variation for every included unit
  std::optional<std::vector<BucketRange>> ranges;  ///< replace coverage and weights
  std::optional<std::vector<HashFilter>> filters;  ///< replace the namespace
  /// Prerequisite flags, checked after the condition; a cycle among them excludes the unit.
  std::vector<ParentCondition> parent_conditions;
  /// Sticky bucketing (used only when the context has sticky bucket documents): the attribute
  /// hashed when `hash_attribute` is missing, the bucket version that keys a stored assignment
  /// (`<key>__<version>`), the lowest version whose earlier assignments still count, and the
  /// variation keys (`meta[i].key`, else the index) that stored assignments name.
  std::string fallback_attribute;
  int bucket_version = 0;
  int min_bucket_version = 0;
  bool disable_sticky_bucketing = false;
  std::vector<std::string> meta_keys;
};

/// GrowthBook's sticky bucket documents, keyed `<attribute>||<value>`, each
/// `{attributeName, attributeValue, assignments: {"<experiment>__<bucketVersion>": variationKey}}`.
using StickyBucketDocs = boost::json::object;

struct RunContext;

/// What a parent condition needs of its flag: the flag's value for the unit (null for an unknown
/// flag), and whether the flag's own prerequisites form a cycle.
struct Prerequisite {
  boost::json::value value;
  bool cyclic = false;
};

/// Evaluates the flag a parent condition names, for the unit of `context`.
using PrerequisiteEvaluator =
    std::function<Prerequisite(std::string_view flag, const RunContext& context)>;

/// The user side of an evaluation.
struct RunContext {
  boost::json::object attributes;
  bool enabled = true;
  boost::json::object saved_groups;
  /// The page the unit is on: `?<experiment key>=<index>` in its query string forces that
  /// variation, even of an inactive experiment (GrowthBook's query-string override, for QA).
  std::string url;
  /// Experiment key -> variation index, served before any targeting and without hashing (an
  /// index outside the variations puts the unit out of the experiment). For QA and previews.
  std::map<std::string, int, std::less<>> forced_variations;
  /// QA mode: nobody is hashed into an experiment; only forced variations (the query string,
  /// `forced_variations`, the experiment's `force`) are served.
  bool qa_mode = false;
  /// Evaluates the prerequisite flags of an experiment's `parent_conditions`; when unset every
  /// such flag is unknown, so its value is null (flags::prerequisite_evaluator provides one).
  PrerequisiteEvaluator prerequisites;
  /// GrowthBook's sticky bucketing, off when null: `run` reads the unit's stored assignments
  /// (hashAttribute's document over fallbackAttribute's) and adds the ones it makes. The caller
  /// loads and saves the documents; Verdict's own evaluation leaves this null, since `assign`
  /// keeps units sticky through their recorded exposures instead.
  StickyBucketDocs* sticky_buckets = nullptr;
};

/// How a list of parent conditions went for a unit.
struct ParentsOutcome {
  const ParentCondition* unmet = nullptr;  ///< the first condition not met; null when all are
  bool cyclic = false;                     ///< a parent's own prerequisites form a cycle
};

/// Checks `parents` in order, each against the value `evaluate` gives its flag (`saved_groups`
/// serve `$inGroup`), stopping at the first that is not met or is cyclic.
ParentsOutcome check_parents(const std::vector<ParentCondition>& parents,
                             const std::function<Prerequisite(std::string_view)>& evaluate,
                             const boost::json::object& saved_groups);

/// The outcome of `run`. Outside the experiment a unit sees variation 0, as in GrowthBook.
struct RunResult {
  bool in_experiment = false;
  int variation_id = 0;
  bool hash_used = false;  ///< the variation came from the hash, not from `force`
  std::optional<double> bucket;
  boost::json::value value;    ///< variations[variation_id]
  std::string hash_attribute;  ///< the attribute hashed (the fallback when it was used)
  std::string hash_value;
  bool sticky_bucket_used = false;  ///< the variation came from a stored assignment
};

/// GrowthBook's variation key: `meta[variation].key`, else the index as a string.
std::string variation_key(const ExperimentSpec& experiment, int variation);

/// Reads a GrowthBook experiment definition. Throws verdict::Error (kInvalidArgument) naming
/// the field for a wrong type, and with "<field>: not supported" for targeting Verdict does
/// not implement (url, urlPatterns, include, groups),
/// so such an experiment is refused rather than evaluated without its rule.
ExperimentSpec parse_experiment_spec(const boost::json::value& definition);

/// Reads a GrowthBook context (attributes, enabled, savedGroups, url, forcedVariations,
/// qaMode); same errors as above for overrides, groups and stickyBucketAssignmentDocs (sticky
/// buckets come through `sticky_buckets`). Prerequisite flags come through `prerequisites`.
RunContext parse_run_context(const boost::json::value& context);

/// GrowthBook's getQueryStringOverride: the variation `url`'s query string sets for experiment
/// `key` (`?key=1`; the first `key=` decides, its value read as JavaScript's parseInt reads
/// it), or nullopt when there is none or it is not an index below `variations`.
std::optional<int> query_string_override(std::string_view key, std::string_view url,
                                         int variations);

/// The string GrowthBook hashes for `attribute` ("id" when empty): `attributes[name] || ""`
/// as JavaScript writes it; empty when the attribute is missing or falsy.
std::string hash_value(const boost::json::object& attributes, const std::string& attribute);

/// Whether any filter excludes the unit (a missing attribute or a hash outside its ranges).
bool filtered_out(const std::vector<HashFilter>& filters, const boost::json::object& attributes);

/// Evaluates the experiment for the context in GrowthBook's order: at least two variations,
/// enabled, the query-string override, `forced_variations`, active, a non-empty hash
/// attribute, filters or namespace, condition, prerequisites, hash and bucket ranges, then
/// `force` for units inside coverage, then QA mode and `stopped` exclude. With sticky buckets, a
/// stored assignment replaces the filters, condition, prerequisites and bucket ranges, and a
/// stored assignment under a bucket version below `min_bucket_version` excludes the unit.
/// Throws only what `context.prerequisites` throws.
RunResult run(const RunContext& context, const ExperimentSpec& experiment);

}  // namespace verdict::assignment
