#include "core/flags/flag_definition.hpp"

#include <set>
#include <string>

#include <boost/json/serialize.hpp>

#include "core/error.hpp"
#include "core/flags/feature_rules.hpp"

namespace verdict::flags {
namespace {

namespace json = boost::json;

bool matches(const std::string& type, const json::value& value) {
  if (type == "Boolean") return value.is_bool();
  if (type == "String") return value.is_string();
  if (type == "Number") return value.is_number();
  return true;
}

void check_type(const std::string& type, const json::value& value, const std::string& field) {
  if (!matches(type, value))
    invalid(field, "must be a " + type + " (the flag's type), got " + json::serialize(value));
}

void check_variants(const std::string& type, const json::value& variants) {
  if (variants.is_null()) return;
  if (!variants.is_array()) invalid("variants", "must be a list of {key, value}");
  std::set<std::string, std::less<>> keys;
  std::size_t index = 0;
  for (const json::value& item : variants.get_array()) {
    const std::string where = "variants[" + std::to_string(index++) + "]";
    const json::object* variant = item.if_object();
    if (!variant) invalid(where, "must be an object {key, value}");
    const std::string key = string_field(*variant, "key");
    if (key.empty()) invalid(where + ".key", "required, a non-empty string");
    if (!keys.insert(key).second) invalid(where + ".key", "duplicate variant key '" + key + "'");
    const json::value* value = variant->if_contains("value");
    if (!value) invalid(where + ".value", "required: the value this variant serves");
    check_type(type, *value, where + ".value");
  }
}

void check_rules(const std::string& type, const json::value& rules) {
  if (rules.is_null()) return;
  if (!rules.is_array()) invalid("targetingRules", "must be a list of GrowthBook feature rules");
  std::size_t index = 0;
  for (const json::value& rule : rules.get_array()) {
    const std::string where = "targetingRules[" + std::to_string(index++) + "]";
    check_rule(rule, where);
    const json::object& object = rule.get_object();
    if (const json::value* force = object.if_contains("force"))
      check_type(type, *force, where + ".force");
    if (const json::value* variations = object.if_contains("variations"))
      for (const json::value& value : variations->get_array())
        check_type(type, value, where + ".variations");
  }
}

}  // namespace

std::string string_field(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value && value->is_string() ? std::string(value->get_string()) : std::string{};
}

json::value default_value(const json::object& flag) {
  const json::value* value = flag.if_contains("defaultValue");
  return value ? *value : json::value(nullptr);
}

void validate_feature_flag(const json::object& flag) {
  const std::string type = string_field(flag, "type");
  if (const json::value* value = flag.if_contains("defaultValue"); value && !value->is_null())
    check_type(type, *value, "defaultValue");
  if (const json::value* variants = flag.if_contains("variants")) check_variants(type, *variants);
  if (const json::value* rules = flag.if_contains("targetingRules")) check_rules(type, *rules);
  const json::value* share = flag.if_contains("rolloutPercentage");
  const bool rolls_out = share && share->is_number() && share->to_number<double>() > 0;
  if (rolls_out && !flag.contains("experiment") && !rollout_value(flag))
    invalid("variants", "a " + type +
                            " flag needs a variant keyed \"on\" (the value its rollout serves) "
                            "before rolloutPercentage or rollout");
}

const json::value* variant_value(const json::object& flag, std::string_view key) {
  const json::value* variants = flag.if_contains("variants");
  if (!variants || !variants->is_array()) return nullptr;
  for (const json::value& item : variants->get_array()) {
    const json::object* variant = item.if_object();
    if (variant && string_field(*variant, "key") == key) return variant->if_contains("value");
  }
  return nullptr;
}

std::optional<json::value> rollout_value(const json::object& flag) {
  if (const json::value* on = variant_value(flag, "on")) return *on;
  const std::string type = string_field(flag, "type");
  if (type.empty() || type == "Boolean") return json::value(true);
  return std::nullopt;
}

json::object growthbook_feature(const json::object& flag) {
  json::object feature;
  const json::value* fallback = flag.if_contains("defaultValue");
  feature["defaultValue"] = fallback ? *fallback : json::value(nullptr);
  json::array rules;
  const std::optional<json::value> on = rollout_value(flag);
  if (string_field(flag, "status") == "RolledOut") {
    if (on) rules.push_back(json::object{{"id", "rollout"}, {"force", *on}});
  } else {
    if (const json::value* own = flag.if_contains("targetingRules"); own && own->is_array())
      rules = own->get_array();
    const json::value* share = flag.if_contains("rolloutPercentage");
    if (on && share && share->is_number() && share->to_number<double>() > 0)
      rules.push_back(json::object{{"id", "rolloutPercentage"},
                                   {"force", *on},
                                   {"coverage", share->to_number<double>() / 100},
                                   {"hashAttribute", "id"},
                                   {"seed", string_field(flag, "key")},
                                   {"hashVersion", 2}});
  }
  feature["rules"] = std::move(rules);
  return feature;
}

}  // namespace verdict::flags
