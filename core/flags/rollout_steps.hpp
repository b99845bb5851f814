#pragma once

#include <boost/json/object.hpp>

namespace verdict {
class Engine;
struct Noun;
}  // namespace verdict

namespace verdict::flags {

/// FeatureFlag's `rollout`, applied after the pipeline set RolledOut. Without arguments: 100 %.
/// With `steps` (increasing percentages ending at 100, e.g. [5, 25, 50, 100]) and `every` (seconds
/// between steps): the flag is Enabled at the first step and `rolloutSteps` / `nextRolloutAt`
/// record the plan, which add_rollout_steps() carries out. Throws verdict::Error naming `steps` or
/// `every`.
void apply_rollout(const Noun& noun, boost::json::object& flag, const boost::json::object& data);

/// The idle task of stepped rollouts: when a flag's `nextRolloutAt` comes while it is Enabled,
/// the guardrails of its linked experiment (if it has any) are checked with an `analyze` run by
/// the actor `scheduler`. If one is harmed the rollout is rolled back (rolloutPercentage 0, event
/// `FeatureFlag.RolledBack` with the figures, then `disable`); otherwise it moves to the next
/// step (event `FeatureFlag.RolloutStepped`), the last one through `rollout` itself (RolledOut).
/// A flag disabled meanwhile keeps its plan and resumes it when enabled again.
void add_rollout_steps(Engine& engine);

}  // namespace verdict::flags
