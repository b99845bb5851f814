#include "core/tracking/holdouts.hpp"

#include <boost/json.hpp>

#include <array>
#include <cstdio>

#include "core/assignment/allocation.hpp"
#include "core/assignment/condition.hpp"
#include "core/engine.hpp"
#include "core/error.hpp"
#include "core/schema.hpp"
#include "core/tracking/namespaces.hpp"

namespace verdict::tracking {

namespace json = boost::json;

namespace {

constexpr double kDefaultPercent = 5;
// Above half, the two arms' ranges of the hash would overlap.
constexpr double kMaxPercent = 50;

std::string text(const json::object& entity, std::string_view key) {
  const auto* value = entity.if_contains(key);
  return value && value->is_string() ? std::string(value->get_string()) : std::string{};
}

std::optional<std::string> namespace_name(const json::object& experiment) {
  if (auto ns = parse_namespace(experiment)) return ns->id;
  return std::nullopt;
}

// Scope: the same organization (both without one counts), and the holdout's namespace if any.
bool covers(const json::object& holdout, const std::string& organization,
            const std::optional<std::string>& ns) {
  if (text(holdout, "organization") != organization) return false;
  const auto own = namespace_name(holdout);
  return !own || own == ns;
}

std::vector<json::object> active_holdouts(Engine& engine) {
  FindQuery query;
  query.filter = {{"type", "Holdout"}, {"status", {{"$in", json::array{"Started", "Running"}}}}};
  query.limit = 1000;
  return engine.find("Experiment", query).items;
}

std::string holdout_seed(const json::object& holdout) {
  const std::string seed = text(holdout, "seed");
  return seed.empty() ? text(holdout, "id") : seed;
}

int holdout_hash_version(const json::object& holdout) {
  const auto* version = holdout.if_contains("hashVersion");
  return version && version->is_number() ? static_cast<int>(version->to_number<double>()) : 2;
}

assignment::Allocation holdout_allocation(const json::object& holdout) {
  static constexpr std::array<double, 2> kHalves{0.5, 0.5};
  return assignment::Allocation(holdout_seed(holdout), holdout_coverage(holdout), kHalves,
                                holdout_hash_version(holdout));
}

}  // namespace

bool is_holdout(const json::object& experiment) {
  return text(experiment, "type") == "Holdout";
}

double holdout_coverage(const json::object& holdout) {
  const auto* percent = holdout.if_contains("trafficAllocation");
  return 2 * (percent && percent->is_number() ? percent->to_number<double>() : kDefaultPercent) /
         100;
}

void normalize_holdout(json::object& experiment) {
  if (!is_holdout(experiment)) return;
  if (!experiment.contains("variants"))
    experiment["variants"] = json::array{
        json::object{{"key", "holdout"}, {"name", "Holdout"}, {"weight", 50}},
        json::object{{"key", "general"}, {"name", "General population"}, {"weight", 50}}};
  if (!experiment.contains("trafficAllocation")) experiment["trafficAllocation"] = kDefaultPercent;
}

void validate_holdout(const json::object& experiment) {
  if (!is_holdout(experiment)) return;
  const auto* percent = experiment.if_contains("trafficAllocation");
  if (percent && percent->is_number() &&
      !(percent->to_number<double>() > 0 && percent->to_number<double>() <= kMaxPercent)) {
    char message[160];
    std::snprintf(message, sizeof message,
                  "a holdout keeps this percentage of units out and measures as many others: "
                  "between 0 (exclusive) and 50, got %g",
                  percent->to_number<double>());
    invalid("trafficAllocation", message);
  }
  const auto* variants = experiment.if_contains("variants");
  const auto* list = variants ? variants->if_array() : nullptr;
  if (!list || list->size() != 2 || !(*list)[0].is_object() || !(*list)[1].is_object() ||
      (*list)[0].get_object().if_contains("key") == nullptr || (*list)[0].at("key") != "holdout" ||
      (*list)[1].get_object().if_contains("key") == nullptr || (*list)[1].at("key") != "general")
    invalid("variants",
            "a holdout's arms are fixed: [{key: \"holdout\"}, {key: \"general\"}] (leave "
            "variants out to get them)");
  for (const auto& arm : *list)
    if (const auto* weight = arm.get_object().if_contains("weight");
        weight && *weight != json::value(50) && *weight != json::value(50.0))
      invalid("variants", "a holdout's two arms are the same size: weight 50 each");
  if (const auto* bandit = experiment.if_contains("banditEnabled"); bandit && *bandit == true)
    invalid("banditEnabled", "a holdout cannot be a bandit: its arms must stay the same size");
}

std::vector<json::object> covering_holdouts(Engine& engine, const json::object& experiment) {
  std::vector<json::object> covering;
  if (is_holdout(experiment)) return covering;
  const std::string organization = text(experiment, "organization");
  const auto ns = namespace_name(experiment);
  for (auto& holdout : active_holdouts(engine))
    if (covers(holdout, organization, ns)) covering.push_back(std::move(holdout));
  return covering;
}

std::vector<json::object> flag_holdouts(Engine& engine, const json::object& flag) {
  std::vector<json::object> holdouts;
  if (const std::string linked = text(flag, "experiment"); !linked.empty()) {
    const auto experiment = engine.store().get(engine.schema().noun("Experiment"), linked);
    if (experiment) holdouts = covering_holdouts(engine, *experiment);
  } else {
    const std::string organization = text(flag, "organization");
    for (auto& holdout : active_holdouts(engine))
      if (covers(holdout, organization, std::nullopt)) holdouts.push_back(std::move(holdout));
  }
  return holdouts;
}

json::object growthbook_holdout_rule(const json::object& holdout) {
  const assignment::BucketRange held = holdout_allocation(holdout).ranges().at(0);
  json::object rule{{"id", text(holdout, "id")},
                    {"range", json::array{held.start, held.end}},
                    {"hashAttribute", "id"},
                    {"seed", holdout_seed(holdout)},
                    {"hashVersion", holdout_hash_version(holdout)}};
  if (auto condition = target_condition(text(holdout, "targetAudience")))
    rule["condition"] = std::move(*condition);
  // GrowthBook's namespace check, a version 1 hash of "__" + name, as a hash filter: force
  // rules take filters but no namespace.
  if (const auto ns = parse_namespace(holdout))
    rule["filters"] =
        json::array{json::object{{"attribute", "id"},
                                 {"seed", "__" + ns->id},
                                 {"hashVersion", 1},
                                 {"ranges", json::array{json::array{ns->start, ns->end}}}}};
  return rule;
}

std::optional<std::string> holdout_for_flag(Engine& engine, const json::object& flag,
                                            std::string_view unit, const json::object& attributes) {
  if (unit.empty()) return std::nullopt;
  for (const auto& holdout : flag_holdouts(engine, flag)) {
    const std::string id = text(holdout, "id");
    const auto arm = holdout_allocation(holdout).assign(unit);
    if (!arm.in_experiment || arm.variant_index != 0) continue;
    if (const auto ns = parse_namespace(holdout); ns && !assignment::in_namespace(unit, *ns))
      continue;
    if (const auto condition = target_condition(text(holdout, "targetAudience"));
        condition && !assignment::eval_condition(attributes, *condition))
      continue;
    return id;
  }
  return std::nullopt;
}

}  // namespace verdict::tracking
