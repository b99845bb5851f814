#include "core/flags/sdk_payload.hpp"

#include <string>

#include "core/engine.hpp"
#include "core/flags/flag_definition.hpp"
#include "core/tracking/experiment_verbs.hpp"
#include "core/tracking/holdouts.hpp"

namespace verdict::flags {
namespace {

namespace json = boost::json;

constexpr std::size_t kPageSize = 1000;

// The value the flag serves for an experiment variant; a missing one is an ERROR evaluation,
// which serves the default.
json::value value_for(const json::object& flag, std::string_view variant) {
  const json::value* value = variant_value(flag, variant);
  return value ? *value : default_value(flag);
}

class PayloadBuilder {
 public:
  explicit PayloadBuilder(Engine& engine) : engine_(engine) {}

  json::object feature(const json::object& flag) {
    const std::string status = string_field(flag, "status");
    const bool on = status == "Enabled" || status == "Active";
    if (!on && status != "RolledOut")
      return json::object{{"defaultValue", default_value(flag)}, {"rules", json::array{}}};
    json::object definition = growthbook_feature(flag);
    add_experiment_rules(flag, status, definition["rules"].as_array());
    // First, as `evaluate` checks holdouts before anything else: a held-out unit gets the
    // default, whatever the flag's other rules would serve it.
    json::array held;
    for (const json::object& holdout : tracking::flag_holdouts(engine_, flag)) {
      saw(holdout);
      json::object rule = tracking::growthbook_holdout_rule(holdout);
      rule["force"] = default_value(flag);
      held.push_back(std::move(rule));
    }
    json::array& rules = definition["rules"].as_array();
    rules.insert(rules.begin(), held.begin(), held.end());
    return definition;
  }

  std::string newest() const { return newest_; }

  void saw(const json::object& entity) {
    const std::string updated = string_field(entity, "updatedAt");
    if (updated > newest_) newest_ = updated;
  }

 private:
  void add_experiment_rules(const json::object& flag, const std::string& status,
                            json::array& rules) {
    const std::optional<json::object> experiment = linked_experiment(flag);
    if (!experiment) return;
    const std::string experiment_status = string_field(*experiment, "status");
    const std::string winner = string_field(*experiment, "winner");
    if (status == "RolledOut") {
      if (!winner.empty() && variant_value(flag, winner))
        rules = json::array{json::object{{"id", string_field(*experiment, "id")},
                                         {"force", value_for(flag, winner)}}};
    } else if (experiment_status == "Started" || experiment_status == "Running") {
      json::object rule = tracking::growthbook_experiment_rule(*experiment);
      json::array variations;
      for (const json::value& variant : experiment->at("variants").as_array())
        variations.push_back(value_for(flag, variant.at("key").as_string()));
      rule["variations"] = std::move(variations);
      rules.insert(rules.begin(), std::move(rule));
    } else if ((experiment_status == "Concluded" || experiment_status == "Completed" ||
                experiment_status == "Archived") &&
               !winner.empty()) {
      // Coverage 1 over `id` takes every unit that has an id, as the experiment does.
      rules.insert(rules.begin(), json::object{{"id", string_field(*experiment, "id")},
                                               {"force", value_for(flag, winner)},
                                               {"coverage", 1},
                                               {"hashAttribute", "id"}});
    }
  }

  std::optional<json::object> linked_experiment(const json::object& flag) {
    const std::string id = string_field(flag, "experiment");
    if (id.empty()) return std::nullopt;
    auto experiment = engine_.store().get(engine_.schema().noun("Experiment"), id);
    if (experiment) saw(*experiment);
    return experiment;
  }

  Engine& engine_;
  std::string newest_;
};

}  // namespace

json::object growthbook_payload(Engine& engine) {
  PayloadBuilder builder(engine);
  json::object features;
  FindQuery query;
  query.limit = kPageSize;
  query.sort = {{"key", "asc"}};
  do {
    FindResult page = engine.store().find(engine.schema().noun("FeatureFlag"), query);
    for (const json::object& flag : page.items) {
      builder.saw(flag);
      features[string_field(flag, "key")] = builder.feature(flag);
    }
    query.cursor = page.next_cursor;
  } while (!query.cursor.empty());
  return json::object{{"status", 200},
                      {"features", std::move(features)},
                      {"experiments", json::array{}},
                      {"dateUpdated", builder.newest()}};
}

}  // namespace verdict::flags
