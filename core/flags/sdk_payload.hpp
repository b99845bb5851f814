#pragma once

#include <boost/json/object.hpp>

namespace verdict {
class Engine;
}

namespace verdict::flags {

/// The features payload GrowthBook's SDKs load from `GET /api/features/{clientKey}`:
/// `{status: 200, features: {<key>: {defaultValue, rules}}, experiments: [], dateUpdated}`,
/// built so that an SDK evaluating it locally serves what `evaluate` serves for every state:
/// a flag that is off has no rules; a RolledOut flag one force rule (the winner's value when
/// its experiment has one); an Enabled flag linked to a Started or Running experiment first an
/// experiment rule splitting as `assign` does (its variations are the flag's values by variant
/// key), to a concluded experiment with a winner first a force rule serving the winner to
/// every unit, then its targetingRules and rolloutPercentage. Before all of them, a force rule
/// of the default per running holdout covering the flag, over the units it holds out.
/// Not mirrored: `assign`'s recorded exposures (an SDK re-hashes, so a unit keeps its variant
/// only while the split is unchanged, e.g. not across a bandit's reweighting).
boost::json::object growthbook_payload(Engine& engine);

}  // namespace verdict::flags
