#pragma once

#include <boost/json/object.hpp>

namespace verdict {
class Engine;
}

namespace verdict::flags {

/// Refuses a FeatureFlag whose `targetingRules[i].parentConditions` lead back to the flag
/// itself, through the stored flags (by key) and the flag's own new rules. Throws
/// verdict::Error (kInvalidArgument) naming the first parent condition on the cycle
/// (`targetingRules[1].parentConditions[0].id`) and the cycle (`a -> b -> a`). A parent that
/// does not exist (yet) is no cycle: it evaluates as an unknown flag.
void check_prerequisite_cycles(Engine& engine, const boost::json::object& flag);

}  // namespace verdict::flags
