#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace verdict::flags {

/// FeatureFlag's write-time checks: `defaultValue`, every `variants[i].value` and every value
/// a targeting rule serves (`force`, `variations`) must match the flag's `type` (Boolean,
/// String, Number; JSON takes anything); `variants` is a list of `{key, value}` with unique
/// keys; each of `targetingRules` is a well-formed GrowthBook feature rule; a flag that is not
/// Boolean and not linked to an experiment needs a variant keyed "on" before it can roll out.
/// Throws verdict::Error (kInvalidArgument) naming the field.
void validate_feature_flag(const boost::json::object& flag);

/// The value a rollout serves to the units it includes: the variant keyed "on", else `true`
/// (a Boolean flag, or one without a type); nullopt when the flag has neither.
std::optional<boost::json::value> rollout_value(const boost::json::object& flag);

/// The string at `key` of a flag (or any entity), "" when absent or not a string.
std::string string_field(const boost::json::object& object, std::string_view key);

/// The flag's `defaultValue`, null when it has none.
boost::json::value default_value(const boost::json::object& flag);

/// The value of the variant keyed `key` in the flag's `variants`, if it has one.
const boost::json::value* variant_value(const boost::json::object& flag, std::string_view key);

/// The flag as a GrowthBook feature definition `{defaultValue, rules}`: its `targetingRules`
/// followed by `rolloutPercentage` as a force rule over that share of units (hashing `id`
/// with the flag's key as seed, so a unit keeps its answer as the share grows). Only for a
/// flag whose rules apply (Enabled or Active); `RolledOut` is one unconditional force rule.
boost::json::object growthbook_feature(const boost::json::object& flag);

}  // namespace verdict::flags
