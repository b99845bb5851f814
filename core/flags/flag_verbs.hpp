#pragma once

namespace verdict {
class Engine;
}

namespace verdict::flags {

/// Adds `evaluate` to FeatureFlag: `{id: <id or key>, data: {unit?, attributes?}}` returns
/// `{value, variant, reason, ruleId}` with OpenFeature's reasons (STATIC, TARGETING_MATCH,
/// SPLIT, DISABLED, DEFAULT, ERROR); `{flags?: [...], units?: [...]}` evaluates many flags
/// for many units (without `id` or `flags`: every flag). A flag linked to an experiment
/// splits through the experiment's own `assign`, exposure included.
void add_flag_verbs(Engine& engine);

}  // namespace verdict::flags
