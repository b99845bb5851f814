#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace verdict {
class Engine;
}

namespace verdict::tracking {

/// A holdout is an Experiment of `type: "Holdout"` with two arms, `holdout` (index 0, the
/// baseline) and `general` (a measurement sample of everyone else), each `trafficAllocation`
/// percent of the units (GrowthBook's model: a 5 % holdout is measured against 5 % of the general
/// population). While it is Started or Running, the units of its `holdout` arm are kept out of
/// every experiment it covers and get every covered flag's default value.
///
/// It covers the experiments of its `organization` (all experiments without one, when it has
/// none) and, when it has a `namespace`, only those in that namespace.
bool is_holdout(const boost::json::object& experiment);

/// The holdout's share of units in each arm, trafficAllocation / 100, and its coverage (twice
/// that) for the allocation: ranges [0, share) and [0.5, 0.5 + share) of the holdout's hash.
double holdout_coverage(const boost::json::object& holdout);

/// Fills a new holdout's defaults (the two arms, 5 %) and checks its shape, naming the field:
/// trafficAllocation above 50, other variants, bandit mode. A no-op for other experiments.
void normalize_holdout(boost::json::object& experiment);
void validate_holdout(const boost::json::object& experiment);

/// The Started or Running holdouts whose scope takes in `experiment` (never a holdout itself).
std::vector<boost::json::object> covering_holdouts(Engine& engine,
                                                   const boost::json::object& experiment);

/// The Started or Running holdouts that cover `flag`: a flag linked to an experiment is covered
/// as that experiment is, one without only by holdouts of its organization that name no
/// namespace.
std::vector<boost::json::object> flag_holdouts(Engine& engine, const boost::json::object& flag);

/// The GrowthBook force rule, without its `force`, that takes exactly the units `holdout` keeps
/// out: its `holdout` arm's `range` of the holdout's hash (same seed, hash version and `id`
/// attribute), its targetAudience as `condition` and its namespace as a hash `filters` entry.
boost::json::object growthbook_holdout_rule(const boost::json::object& holdout);

/// The id of a holdout that keeps `unit` from `flag`'s value, by the unit's hash in one of
/// `flag_holdouts`.
std::optional<std::string> holdout_for_flag(Engine& engine, const boost::json::object& flag,
                                            std::string_view unit,
                                            const boost::json::object& attributes);

}  // namespace verdict::tracking
