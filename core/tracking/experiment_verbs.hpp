#pragma once

#include <boost/json/object.hpp>

namespace verdict {
class Engine;
}

namespace verdict::tracking {

/// Adds the data verbs to Experiment: `assign` (GrowthBook-compatible bucketing, sticky
/// exposures, bandit weights), `track` (conversions and values, incremental sufficient
/// statistics), `analyze` (the statistics engine on every metric; stores results, winner,
/// confidence), `checkStats` (incremental statistics against a full recomputation) and
/// `summary` (the experiments list's stat cards).
void add_experiment_verbs(Engine& engine);

/// A Running experiment's split as a GrowthBook experiment rule without `variations`: `{id,
/// key, name, seed, hashAttribute: "id", hashVersion, coverage, weights, ranges, meta: [{key,
/// name}], phase, condition?, namespace?}`, bucketing every unit as `assign` does (bandits: by
/// their current weights). Throws verdict::Error as `assign` does for an experiment that
/// cannot be split.
boost::json::object growthbook_experiment_rule(const boost::json::object& experiment);

}  // namespace verdict::tracking
