#include "core/flags/flag_verbs.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/engine.hpp"
#include "core/error.hpp"
#include "core/flags/feature_rules.hpp"
#include "core/flags/flag_definition.hpp"
#include "core/flags/prerequisites.hpp"
#include "core/flags/sdk_payload.hpp"
#include "core/log.hpp"
#include "core/storage/connection.hpp"
#include "core/tracking/holdouts.hpp"

namespace verdict::flags {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxEvaluations = 10000;
constexpr std::size_t kMaxUnitBytes = 256;
// Usage counts reach the database after this many evaluations or this long after the first one
// not yet written, whichever comes first (checked when evaluating and by the engine's idle
// timetable, so a burst is not left unwritten until the next evaluation), and at shutdown.
constexpr std::int64_t kFlushEvery = 1000;
constexpr std::chrono::seconds kFlushAfter{5};

std::string text(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value && value->is_string() ? std::string(value->get_string()) : std::string{};
}

struct Subject {
  std::string unit;
  json::object attributes;
};

// Units address flags as GrowthBook's `id` attribute, which rollouts and rules hash by default.
Subject read_subject(const json::object& data, const std::string& where) {
  Subject subject;
  for (const auto& entry : data)
    if (entry.key() != "unit" && entry.key() != "attributes")
      invalid(where + std::string(entry.key()), "unknown argument (allowed: unit, attributes)");
  if (const json::value* unit = data.if_contains("unit"); unit && !unit->is_null()) {
    if (!unit->is_string()) invalid(where + "unit", "expected a string");
    if (unit->get_string().size() > kMaxUnitBytes)
      invalid(where + "unit", "longer than " + std::to_string(kMaxUnitBytes) + " bytes");
    subject.unit = std::string(unit->get_string());
  }
  if (const json::value* attributes = data.if_contains("attributes")) {
    if (!attributes->is_object()) invalid(where + "attributes", "expected an object");
    subject.attributes = attributes->get_object();
  }
  if (!subject.unit.empty()) subject.attributes["id"] = subject.unit;
  return subject;
}

// The key of the variant serving `value`, or null when no variant does.
json::value variant_of(const json::object& flag, const json::value& value) {
  const json::value* variants = flag.if_contains("variants");
  if (!variants || !variants->is_array()) return nullptr;
  for (const json::value& item : variants->get_array()) {
    const json::object* variant = item.if_object();
    if (variant && variant->if_contains("value") && variant->at("value") == value)
      return variant->at("key");
  }
  return nullptr;
}

json::object answer(const json::object& flag, json::value value, const char* reason,
                    json::value rule_id = nullptr, std::optional<json::value> variant = {}) {
  json::object out;
  out["value"] = std::move(value);
  // An ERROR serves the default because nothing was decided: naming the variant that happens to
  // hold the default would read as a decision.
  if (std::string_view(reason) == "ERROR")
    out["variant"] = nullptr;
  else
    out["variant"] = variant ? std::move(*variant) : variant_of(flag, out["value"]);
  out["reason"] = reason;
  out["ruleId"] = std::move(rule_id);
  return out;
}

json::value default_of(const json::object& flag) {
  const json::value* value = flag.if_contains("defaultValue");
  return value ? *value : json::value(nullptr);
}

// OpenFeature's word for how a targeting rule decided: by hashing the unit, by matching
// attributes, or unconditionally.
const char* force_reason(const json::object& rule) {
  for (const char* hashed : {"coverage", "range", "filters"})
    if (rule.contains(hashed) && !rule.at(hashed).is_null()) return "SPLIT";
  for (const char* targeted : {"condition", "parentConditions"})
    if (rule.contains(targeted)) return "TARGETING_MATCH";
  return "STATIC";
}

// The keys of the experiment's variants that the flag has no value for.
std::string missing_variants(const json::object& flag, const json::object& experiment) {
  std::string missing;
  const json::value* variants = experiment.if_contains("variants");
  if (!variants || !variants->is_array()) return missing;
  for (const json::value& item : variants->get_array()) {
    const json::object* variant = item.if_object();
    const std::string key = variant ? text(*variant, "key") : std::string{};
    if (!key.empty() && !variant_value(flag, key))
      missing += (missing.empty() ? "'" : ", '") + key + "'";
  }
  return missing;
}

// Whether the flag serves, or may yet serve once enabled, its experiment's split. Turning a flag
// off or rolling it out never depends on its variants, so those writes are never refused for
// one missing (a guardrail hook must always be able to disable a flag).
bool may_split(const json::object& flag) {
  const std::string status = text(flag, "status");
  return status == "Draft" || status == "Enabled" || status == "Active";
}

// A linked flag serves each unit the value of its experiment variant; one it has no value for
// would answer ERROR to a share of units, so it is refused when the flag is written.
void check_linked_experiment(Engine& engine, const json::object& flag) {
  const std::string experiment_id = text(flag, "experiment");
  if (experiment_id.empty() || !may_split(flag)) return;
  const auto experiment = engine.store().get(engine.schema().noun("Experiment"), experiment_id);
  if (!experiment) return;
  if (const std::string missing = missing_variants(flag, *experiment); !missing.empty())
    invalid("variants", "no value for experiment variant " + missing + " of " +
                            text(*experiment, "name") + " (" + experiment_id +
                            "); add {key, value} for each");
}

// The same check from the experiment's side when it starts, since variants may be added to a
// Draft after flags were linked to it.
void check_linked_flags(Engine& engine, const json::object& experiment) {
  if (text(experiment, "status") != "Started") return;
  const Noun& noun = engine.schema().noun("FeatureFlag");
  FindQuery query;
  query.filter = {{"experiment", text(experiment, "id")}};
  query.limit = 1000;
  do {
    const FindResult page = engine.store().find(noun, query);
    for (const json::object& flag : page.items)
      if (const std::string missing = may_split(flag) ? missing_variants(flag, experiment) : "";
          !missing.empty())
        invalid("variants", "flag " + text(flag, "key") + " (" + text(flag, "id") +
                                ") has no value for variant " + missing +
                                "; give it {key, value} for each before starting");
    query.cursor = page.next_cursor;
  } while (!query.cursor.empty());
}

class FlagVerbs {
 public:
  explicit FlagVerbs(Engine& engine) : engine_(engine) {}
  FlagVerbs(const FlagVerbs&) = delete;
  FlagVerbs& operator=(const FlagVerbs&) = delete;

  // The engine drops its verbs before its store, so the last counts are still written.
  ~FlagVerbs() {
    try {
      flush();
    } catch (const std::exception& error) {
      log(LogLevel::kError, std::string("flag usage counts not saved: ") + error.what());
    }
  }

  json::value evaluate(const VerbRequest& request) {
    const Noun& noun = engine_.schema().noun("FeatureFlag");
    const bool batch =
        request.data.contains("flags") || request.data.contains("units") || request.id.empty();
    now_ = now_iso8601();
    if (!batch) {
      const json::object flag = load(noun, request.id);
      json::object result = evaluate_one(flag, read_subject(request.data, ""), request);
      count(flag, 1);
      flush_when_due();
      return result;
    }
    std::vector<json::object> flags = flags_of(noun, request);
    std::vector<Subject> subjects = subjects_of(request.data);
    if (flags.size() * subjects.size() > kMaxEvaluations)
      throw Error(ErrorCode::kLimitExceeded,
                  "at most " + std::to_string(kMaxEvaluations) + " evaluations per call, asked " +
                      std::to_string(flags.size() * subjects.size()),
                  "units");
    json::array results;
    for (const Subject& subject : subjects)
      for (const json::object& flag : flags) {
        json::object one = evaluate_one(flag, subject, request);
        one["flag"] = flag.at("key");
        if (!subject.unit.empty()) one["unit"] = subject.unit;
        results.push_back(std::move(one));
      }
    // Counted once every evaluation succeeded: a refused call leaves the counts alone.
    for (const json::object& flag : flags) count(flag, static_cast<std::int64_t>(subjects.size()));
    flush_when_due();
    return json::object{{"evaluations", std::move(results)}};
  }

  // The idle task: writes the counts once they are due, else says when they will be.
  std::optional<Clock::time_point> flush_if_due(Clock::time_point now) {
    if (!pending_since_) return std::nullopt;
    if (now < *pending_since_ + kFlushAfter) return *pending_since_ + kFlushAfter;
    flush();
    return std::nullopt;
  }

 private:
  json::object load(const Noun& noun, std::string_view id_or_key) {
    Store& store = engine_.store();
    if (auto flag = store.get(noun, id_or_key)) return std::move(*flag);
    if (auto id = store.find_unique(noun, *noun.field("key"), id_or_key))
      if (auto flag = store.get(noun, *id)) return std::move(*flag);
    throw Error(ErrorCode::kNotFound,
                "id: no FeatureFlag with id or key '" + std::string(id_or_key.substr(0, 100)) + "'",
                "id");
  }

  std::vector<json::object> flags_of(const Noun& noun, const VerbRequest& request) {
    std::vector<json::object> flags;
    const json::value* listed = request.data.if_contains("flags");
    if (!request.id.empty()) {
      if (listed) invalid("flags", "give either id or flags, not both");
      flags.push_back(load(noun, request.id));
    } else if (listed) {
      if (!listed->is_array() || listed->get_array().empty())
        invalid("flags", "expected a non-empty list of flag ids or keys");
      std::size_t index = 0;
      for (const json::value& item : listed->get_array()) {
        if (!item.is_string())
          invalid("flags[" + std::to_string(index) + "]", "expected a flag id or key");
        flags.push_back(load(noun, item.get_string()));
        ++index;
      }
    } else {
      FindQuery query;
      query.limit = 1000;
      query.sort = {{"key", "asc"}};
      do {
        FindResult page = engine_.store().find(noun, query);
        for (auto& flag : page.items) flags.push_back(std::move(flag));
        query.cursor = page.next_cursor;
      } while (!query.cursor.empty() && flags.size() <= kMaxEvaluations);
    }
    return flags;
  }

  static std::vector<Subject> subjects_of(const json::object& data) {
    for (const auto& entry : data)
      if (entry.key() != "flags" && entry.key() != "units" && entry.key() != "unit" &&
          entry.key() != "attributes")
        invalid(std::string(entry.key()),
                "unknown argument (allowed: flags, units, unit, attributes)");
    const json::value* units = data.if_contains("units");
    if (!units) {
      json::object single = data;
      single.erase("flags");
      return {read_subject(single, "")};
    }
    if (data.contains("unit") || data.contains("attributes"))
      invalid("units", "give either units or unit/attributes, not both");
    if (!units->is_array() || units->get_array().empty())
      invalid("units", "expected a non-empty list of {unit, attributes?}");
    if (units->get_array().size() > kMaxEvaluations)
      invalid("units", "at most " + std::to_string(kMaxEvaluations) + " units per call");
    std::vector<Subject> subjects;
    std::size_t index = 0;
    for (const json::value& item : units->get_array()) {
      const std::string where = "units[" + std::to_string(index++) + "].";
      if (!item.is_object()) invalid(where.substr(0, where.size() - 1), "expected an object");
      subjects.push_back(read_subject(item.get_object(), where));
    }
    return subjects;
  }

  json::object evaluate_one(const json::object& flag, const Subject& subject,
                            const VerbRequest& request) {
    const std::string status = text(flag, "status");
    if (auto held = held_out(flag, status, subject)) return std::move(*held);
    if (status == "RolledOut") return rolled_out(flag);
    if (status != "Enabled" && status != "Active")
      return answer(flag, default_of(flag), "DISABLED");
    if (auto split = experiment_split(flag, subject, request)) return std::move(*split);
    return targeting(flag, subject);
  }

  // A unit in a holdout (core/tracking/holdouts.hpp) gets the default of every flag that would
  // otherwise serve it something, with the holdout's id as the rule.
  std::optional<json::object> held_out(const json::object& flag, const std::string& status,
                                       const Subject& subject) {
    if (status != "RolledOut" && status != "Enabled" && status != "Active") return std::nullopt;
    const auto holdout =
        tracking::holdout_for_flag(engine_, flag, subject.unit, subject.attributes);
    if (!holdout) return std::nullopt;
    return answer(flag, default_of(flag), "DEFAULT", json::value(*holdout));
  }

  // RolledOut serves the experiment's winner when it has one, else the rollout value.
  json::object rolled_out(const json::object& flag) {
    const std::string experiment_id = text(flag, "experiment");
    if (!experiment_id.empty())
      if (auto experiment = engine_.store().get(engine_.schema().noun("Experiment"), experiment_id))
        if (const std::string winner = text(*experiment, "winner"); !winner.empty())
          if (const json::value* value = variant_value(flag, winner))
            return answer(flag, *value, "STATIC", json::value(experiment_id), json::value(winner));
    if (auto on = rollout_value(flag)) return answer(flag, *on, "STATIC", json::value("rollout"));
    return answer(flag, default_of(flag), "DEFAULT");
  }

  // An experiment decides first: `assign` records the exposure exactly as for a direct call,
  // and serves the winner once the experiment is concluded. Units it does not take fall
  // through to the flag's own targeting.
  std::optional<json::object> experiment_split(const json::object& flag, const Subject& subject,
                                               const VerbRequest& request) {
    const std::string experiment_id = text(flag, "experiment");
    if (experiment_id.empty() || subject.unit.empty()) return std::nullopt;
    json::object data{{"unit", subject.unit}};
    json::object attributes = subject.attributes;
    attributes.erase("id");
    if (!attributes.empty()) data["attributes"] = std::move(attributes);
    const json::value assigned = engine_.execute({.noun = "Experiment",
                                                  .verb = "assign",
                                                  .id = experiment_id,
                                                  .data = std::move(data),
                                                  .actor = request.actor,
                                                  .depth = request.depth + 1,
                                                  .caller = request.caller});
    const json::value& variant = assigned.at("variant");
    if (!variant.is_string()) return std::nullopt;
    const json::value* value = variant_value(flag, variant.get_string());
    if (!value) {
      json::object out = answer(flag, default_of(flag), "ERROR", json::value(experiment_id));
      out["errorMessage"] = "variants: no variant keyed '" + std::string(variant.get_string()) +
                            "' for experiment " + experiment_id + "'s variant";
      return out;
    }
    return answer(flag, *value, assigned.at("inExperiment").as_bool() ? "SPLIT" : "STATIC",
                  json::value(experiment_id), variant);
  }

  json::object targeting(const json::object& flag, const Subject& subject) {
    const Noun& noun = engine_.schema().noun("FeatureFlag");
    const std::string key = text(flag, "key");
    const Compiled& own = compiled(flag);
    // The flag and the prerequisites it reaches, each looked up once per evaluation.
    std::map<std::string, const Compiled*, std::less<>> reached{{key, &own}};
    const FeatureLookup lookup = [&](std::string_view wanted) -> const CompiledFeature* {
      if (auto known = reached.find(wanted); known != reached.end())
        return &*known->second->feature;
      auto id = engine_.store().find_unique(noun, *noun.field("key"), wanted);
      auto parent = id ? engine_.store().get(noun, *id) : std::nullopt;
      if (!parent) return nullptr;
      const Compiled& entry = compiled(*parent);
      reached.emplace(std::string(wanted), &entry);
      return &*entry.feature;
    };
    assignment::RunContext context;
    context.attributes = subject.attributes;
    const FeatureResult result = evaluate_feature(key, context, lookup);
    const json::array& rules = own.definition.at("rules").as_array();
    const auto rule_id = [&]() -> json::value {
      if (!result.rule_id.empty()) return json::value(result.rule_id);
      if (result.rule_index >= 0)
        return json::value("targetingRules[" + std::to_string(result.rule_index) + "]");
      return nullptr;
    };
    switch (result.source) {
      case FeatureSource::kForce:
        return answer(flag, result.value,
                      force_reason(rules[static_cast<std::size_t>(result.rule_index)].as_object()),
                      rule_id());
      case FeatureSource::kExperiment:
        return answer(flag, result.value, "SPLIT", rule_id(), json::value(result.variation_key));
      // As in GrowthBook's SDKs, a failed gate turns the flag off for the unit: no value, so the
      // application's own default applies (OFREP's code default, the SDKs' fallback).
      case FeatureSource::kPrerequisite:
        return answer(flag, nullptr, "DEFAULT");
      case FeatureSource::kCyclicPrerequisite: {
        json::object out = answer(flag, default_of(flag), "ERROR");
        out["errorMessage"] = "targetingRules: prerequisite flags depend on each other";
        return out;
      }
      default:
        return answer(flag, default_of(flag), "DEFAULT");
    }
  }

  // A flag's GrowthBook definition, parsed once per version of the flag. A flag that is off has
  // no rules, so as a prerequisite it serves its default, as it would when evaluated itself.
  struct Compiled {
    std::string built_from;  ///< version and update time, as the experiment plans are keyed
    json::object definition;
    std::optional<CompiledFeature> feature;
  };

  const Compiled& compiled(const json::object& flag) {
    const std::string built_from =
        json::serialize(flag.at("version")) + "@" + text(flag, "updatedAt");
    Compiled& entry = compiled_[text(flag, "id")];
    if (entry.feature && entry.built_from == built_from) return entry;
    json::object definition = growthbook_feature(flag);
    const std::string status = text(flag, "status");
    if (status != "Enabled" && status != "Active" && status != "RolledOut")
      definition["rules"] = json::array{};
    entry.feature.emplace(text(flag, "key"), definition);
    entry.definition = std::move(definition);
    entry.built_from = built_from;
    return entry;
  }

  // Counting in memory keeps evaluation free of a write per call; the counts are added to the
  // stored ones without a new version or event, since they are not an edit of the flag.
  void count(const json::object& flag, std::int64_t evaluations) {
    Usage& usage = usage_[text(flag, "id")];
    usage.count += evaluations;
    usage.last = now_;
    pending_ += evaluations;
    if (!pending_since_) pending_since_ = engine_.clock().now();
  }

  void flush_when_due() {
    if (pending_ >= kFlushEvery) flush();
    flush_if_due(engine_.clock().now());
  }

  void flush() {
    if (usage_.empty()) return;
    const Noun& noun = engine_.schema().noun("FeatureFlag");
    storage::Connection& db = engine_.store().db();
    storage::Transaction transaction(db);
    for (const auto& [id, usage] : usage_)
      db.prepare("UPDATE \"" + noun.table +
                 "\" SET \"evaluations\" = COALESCE(\"evaluations\", 0) + ?, "
                 "\"lastEvaluatedAt\" = ? WHERE \"id\" = ?")
          .bind(1, usage.count)
          .bind(2, usage.last)
          .bind(3, id)
          .step();
    transaction.commit();
    usage_.clear();
    pending_ = 0;
    pending_since_.reset();
  }

  struct Usage {
    std::int64_t count = 0;
    std::string last;
  };

  Engine& engine_;
  std::string now_;  ///< the current call's time, for lastEvaluatedAt
  std::map<std::string, Usage, std::less<>> usage_;        ///< by flag id, not yet written
  std::map<std::string, Compiled, std::less<>> compiled_;  ///< by flag id
  std::int64_t pending_ = 0;
  std::optional<Clock::time_point> pending_since_;  ///< the engine clock at the first of them
};

}  // namespace

void add_flag_verbs(Engine& engine) {
  auto verbs = std::make_shared<FlagVerbs>(engine);
  engine.schema().add_validator("FeatureFlag", [&engine](const json::object& flag) {
    check_prerequisite_cycles(engine, flag);
    check_linked_experiment(engine, flag);
  });
  engine.schema().add_validator("Experiment", [&engine](const json::object& experiment) {
    check_linked_flags(engine, experiment);
  });
  Verb evaluate = make_verb("evaluate", VerbKind::kCustom, "Evaluated",
                            "serve the flag's value for a unit {unit?, attributes?}, or for many "
                            "{flags?, units?}: {value, variant, reason, ruleId}");
  // Evaluation reads the flag itself, so it runs no hooks and takes an id or a key.
  evaluate.needs_entity = false;
  evaluate.role = Role::kEvaluator;
  evaluate.params = {parse_field("unit", "string", "the unit id, hashed as GrowthBook's `id`"),
                     parse_field("attributes", "json", "targeting attributes"),
                     parse_field("flags", "json", "batch: flag ids or keys (default: every flag)"),
                     parse_field("units", "json", "batch: a list of {unit, attributes?}")};
  engine.add_idle_task([verbs](Clock::time_point now) { return verbs->flush_if_due(now); });
  engine.add_custom_verb(
      "FeatureFlag", std::move(evaluate),
      [verbs](Engine&, const Noun&, const VerbRequest& request, json::object*) -> json::value {
        return verbs->evaluate(request);
      });
  Verb payload = make_verb("growthbookPayload", VerbKind::kCustom, "PayloadRead",
                           "the GrowthBook SDK features payload {features, experiments, "
                           "dateUpdated} that GET /api/features/{clientKey} serves");
  payload.needs_entity = false;
  // The key an application embeds (an evaluator key) is the GrowthBook SDK's client key.
  payload.role = Role::kEvaluator;
  engine.add_custom_verb("FeatureFlag", std::move(payload),
                         [](Engine& current, const Noun&, const VerbRequest&,
                            json::object*) -> json::value { return growthbook_payload(current); });
}

}  // namespace verdict::flags
