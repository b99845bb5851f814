#pragma once

#include <optional>
#include <string>
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

/// The user side of an evaluation.
struct RunContext {
  boost::json::object attributes;
  bool enabled = true;
  boost::json::object saved_groups;
  /// GrowthBook's sticky bucketing, off when null: `run` reads the unit's stored assignments
  /// (hashAttribute's document over fallbackAttribute's) and adds the ones it makes. The caller
  /// loads and saves the documents; Verdict's own evaluation leaves this null, since `assign`
  /// keeps units sticky through their recorded exposures instead.
  StickyBucketDocs* sticky_buckets = nullptr;
};

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
/// not implement (url, urlPatterns, include, groups, parentConditions),
/// so such an experiment is refused rather than evaluated without its rule.
ExperimentSpec parse_experiment_spec(const boost::json::value& definition);

/// Reads a GrowthBook context (attributes, enabled, savedGroups); same errors as above for
/// url (query-string overrides), forcedVariations, qaMode, overrides and
/// stickyBucketAssignmentDocs (sticky buckets come through `sticky_buckets`).
RunContext parse_run_context(const boost::json::value& context);

/// The string GrowthBook hashes for `attribute` ("id" when empty): `attributes[name] || ""`
/// as JavaScript writes it; empty when the attribute is missing or falsy.
std::string hash_value(const boost::json::object& attributes, const std::string& attribute);

/// Whether any filter excludes the unit (a missing attribute or a hash outside its ranges).
bool filtered_out(const std::vector<HashFilter>& filters, const boost::json::object& attributes);

/// Evaluates the experiment for the context in GrowthBook's order: at least two variations,
/// enabled, active, a non-empty hash attribute, filters or namespace, condition, hash and
/// bucket ranges, then `force` for units inside coverage. With sticky buckets, a stored
/// assignment replaces the filters, condition and bucket ranges, and a stored assignment under
/// a bucket version below `min_bucket_version` excludes the unit. Never throws.
RunResult run(const RunContext& context, const ExperimentSpec& experiment);

}  // namespace verdict::assignment
