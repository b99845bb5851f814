#pragma once

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

}  // namespace verdict::tracking
