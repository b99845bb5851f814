#include "core/schema.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/flags/flag_definition.hpp"
#include "core/flags/rollout_steps.hpp"
#include "core/slug.hpp"
#include "core/tracking/holdouts.hpp"

namespace verdict {

namespace json = boost::json;

const char* to_string(VerbKind kind) noexcept {
  switch (kind) {
    case VerbKind::kCreate:
      return "create";
    case VerbKind::kUpdate:
      return "update";
    case VerbKind::kDelete:
      return "delete";
    case VerbKind::kTransition:
      return "transition";
    case VerbKind::kCustom:
      return "custom";
  }
  return "custom";
}

const char* to_string(FieldType type) noexcept {
  switch (type) {
    case FieldType::kString:
      return "string";
    case FieldType::kNumber:
      return "number";
    case FieldType::kBoolean:
      return "boolean";
    case FieldType::kDatetime:
      return "datetime";
    case FieldType::kJson:
      return "json";
    case FieldType::kEnum:
      return "enum";
    case FieldType::kRelation:
      return "relation";
  }
  return "string";
}

std::optional<json::object> target_condition(std::string_view text) {
  auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || text[first] != '{') return std::nullopt;
  json::parse_options options;
  options.max_depth = 32;
  std::error_code ec;
  auto condition = json::parse(text, ec, {}, options);
  if (ec || !condition.is_object())
    invalid("targetAudience",
            "looks like a JSON condition but does not parse (" + ec.message() +
                "); give a JSON object such as {\"country\": {\"$in\": [\"US\"]}}");
  return std::move(condition.get_object());
}

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  return text;
}

bool is_identifier(std::string_view name) {
  if (name.empty() || name.size() > 64 || !std::isalpha(static_cast<unsigned char>(name[0])))
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

std::string snake_case(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (std::isupper(static_cast<unsigned char>(c))) {
      if (!out.empty()) out += '_';
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
  }
  return out;
}

std::string lower_first(std::string_view name) {
  std::string out(name);
  if (!out.empty()) out[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
  return out;
}

bool is_vowel(char c) {
  return std::string_view("aeiou").find(c) != std::string_view::npos;
}

// Splits `rollOut` into `roll` + `Out`: English inflection applies to the first word only.
std::pair<std::string, std::string> split_first_word(std::string_view verb) {
  std::size_t end = 1;
  while (end < verb.size() && !std::isupper(static_cast<unsigned char>(verb[end]))) ++end;
  return {std::string(verb.substr(0, end)), std::string(verb.substr(end))};
}

// Short consonant-vowel-consonant words double their last letter: stop -> stopping.
bool doubles_final_consonant(const std::string& word) {
  if (word.size() < 3 || word.size() > 4) return false;
  char last = word.back(), middle = word[word.size() - 2], before = word[word.size() - 3];
  return !is_vowel(last) && last != 'w' && last != 'x' && last != 'y' && is_vowel(middle) &&
         !is_vowel(before);
}

std::string inflect(std::string_view verb, bool past) {
  // Verdict's one-word verbs that are really phrasal verbs.
  std::string name(verb == "rollout" ? "rollOut" : verb);
  auto [word, rest] = split_first_word(name);
  if (word == "run") return (past ? "ran" : "running") + rest;
  std::string suffix = past ? "ed" : "ing";
  if (past && word.back() == 'e') {
    word += 'd';
    return word + rest;
  }
  if (word.size() > 2 && word.back() == 'e' && word[word.size() - 2] != 'e') {
    word.pop_back();
  } else if (doubles_final_consonant(word)) {
    word += word.back();
  }
  return word + suffix + rest;
}

}  // namespace

std::string before_hook_name(std::string_view verb) {
  return inflect(verb, false);
}
bool runs_hooks(const Verb& verb) {
  return verb.kind != VerbKind::kCustom || verb.needs_entity;
}

std::string after_hook_name(std::string_view verb) {
  return inflect(verb, true);
}

Field parse_field(std::string name, std::string_view spec, std::string description) {
  if (!is_identifier(name)) invalid(name, "field names are identifiers of up to 64 characters");
  Field field;
  field.name = std::move(name);
  field.description = std::move(description);
  spec = trim(spec);
  if (spec.starts_with("->")) {
    field.type = FieldType::kRelation;
    field.target = std::string(trim(spec.substr(2)));
    field.indexed = true;
    return field;
  }
  if (spec.find('|') != std::string_view::npos) {
    field.type = FieldType::kEnum;
    while (!spec.empty()) {
      auto bar = spec.find('|');
      field.enum_values.emplace_back(trim(spec.substr(0, bar)));
      spec = bar == std::string_view::npos ? std::string_view{} : spec.substr(bar + 1);
    }
    return field;
  }
  if (spec.ends_with("##")) {
    field.unique = field.indexed = true;
    spec.remove_suffix(2);
  } else if (spec.ends_with("#")) {
    field.indexed = true;
    spec.remove_suffix(1);
  }
  if (spec.ends_with("!")) {
    field.required = true;
    spec.remove_suffix(1);
  }
  static const std::map<std::string_view, FieldType> kTypes = {
      {"string", FieldType::kString},   {"number", FieldType::kNumber},
      {"boolean", FieldType::kBoolean}, {"datetime", FieldType::kDatetime},
      {"json", FieldType::kJson},
  };
  auto it = kTypes.find(spec);
  if (it == kTypes.end()) invalid(field.name, "unknown field type '" + std::string(spec) + "'");
  field.type = it->second;
  return field;
}

const Field* Noun::field(std::string_view name) const {
  for (const auto& field : fields)
    if (field.name == name) return &field;
  return nullptr;
}

const Verb* Noun::verb(std::string_view name) const {
  for (const auto& verb : verbs) {
    if (verb.name == name) return &verb;
    if (std::find(verb.aliases.begin(), verb.aliases.end(), name) != verb.aliases.end())
      return &verb;
  }
  return nullptr;
}

const Field* Noun::lookup_field() const {
  if (const Field* slug = field("slug")) return slug;
  const Field* key = field("key");
  return key && key->unique && key->type == FieldType::kString ? key : nullptr;
}

std::string Noun::initial_status() const {
  const Field* status = field("status");
  return status ? status->enum_values.front() : std::string{};
}

Verb make_verb(std::string name, VerbKind kind, std::string event, std::string description) {
  Verb verb;
  verb.before_hook = before_hook_name(name);
  verb.after_hook = after_hook_name(name);
  verb.name = std::move(name);
  verb.kind = kind;
  verb.event = std::move(event);
  verb.description = std::move(description);
  verb.needs_entity = kind != VerbKind::kCreate;
  return verb;
}

const Noun* Schema::find(std::string_view name) const {
  for (const auto& noun : nouns_)
    if (noun->name == name) return noun.get();
  return nullptr;
}

void Schema::add_validator(std::string_view noun_name, NounValidator validator) {
  const_cast<Noun&>(noun(noun_name)).validators.push_back(std::move(validator));
  ++generation_;
}

Schema Schema::data_copy() const {
  Schema copy;
  for (const auto& noun : nouns_) {
    auto& data = *copy.nouns_.emplace_back(std::make_unique<Noun>(*noun));
    data.validators.clear();
    data.advisors.clear();
    data.normalizers.clear();
    for (auto& verb : data.verbs) {
      verb.apply = nullptr;
      verb.batch_items = nullptr;
    }
  }
  copy.generation_ = generation_;
  return copy;
}

std::vector<std::string> Schema::noun_names() const {
  std::vector<std::string> names;
  for (const auto& noun : nouns_) names.push_back(noun->name);
  return names;
}

const Noun& Schema::noun(std::string_view name) const {
  if (const Noun* noun = find(name)) return *noun;
  std::string known;
  for (const auto& n : noun_names()) known += (known.empty() ? "" : ", ") + n;
  throw Error(ErrorCode::kNotFound,
              "type: unknown noun '" + std::string(name) + "' (known: " + known + ")", "type");
}

const Noun* Schema::noun_for_id(std::string_view id) const {
  auto underscore = id.find('_');
  if (underscore == std::string_view::npos) return nullptr;
  for (const auto& noun : nouns_)
    if (noun->id_prefix == id.substr(0, underscore)) return noun.get();
  return nullptr;
}

Noun& Schema::add_noun(Noun noun) {
  if (!is_identifier(noun.name)) invalid("noun", "noun names are identifiers");
  if (find(noun.name)) throw Error(ErrorCode::kConflict, "noun " + noun.name + " already exists");
  if (noun.id_prefix.empty()) noun.id_prefix = lower_first(noun.name);
  if (noun.table.empty()) noun.table = snake_case(noun.name);
  nouns_.push_back(std::make_unique<Noun>(std::move(noun)));
  ++generation_;
  return *nouns_.back();
}

void Schema::add_verb(std::string_view noun_name, Verb verb) {
  if (!is_identifier(verb.name)) invalid("verb", "verb names are identifiers");
  auto& noun = const_cast<Noun&>(this->noun(noun_name));
  if (noun.verb(verb.name) || noun.field(verb.name))
    throw Error(ErrorCode::kConflict, noun.name + "." + verb.name + " already exists", "verb");
  noun.verbs.push_back(std::move(verb));
  ++generation_;
}

bool check_new_field(const Noun& noun, const Field& field,
                     const std::vector<const Field*>& declared) {
  // Field names become column names: the same rule as parse_field, for fields built by hand.
  if (!is_identifier(field.name))
    invalid("field", "field names are identifiers of up to 64 characters");
  auto same_name = [&](std::string_view other) {
    return std::equal(field.name.begin(), field.name.end(), other.begin(), other.end(),
                      [](char a, char b) { return std::tolower(a) == std::tolower(b); });
  };
  for (const char* reserved :
       {"id", "version", "createdAt", "updatedAt", "history", "historyNextCursor", "rowid"})
    if (same_name(reserved))
      throw Error(ErrorCode::kInvalidArgument,
                  noun.name + "." + field.name + ": '" + reserved +
                      "' is reserved (Verdict sets id, version, createdAt and updatedAt itself, "
                      "adds history and historyNextCursor, and SQLite keeps rowid)",
                  field.name);
  std::vector<const Field*> fields = declared;
  for (const auto& existing : noun.fields) fields.push_back(&existing);
  for (const Field* existing : fields) {
    if (!same_name(existing->name)) continue;
    if (existing->name != field.name)
      throw Error(ErrorCode::kConflict,
                  noun.name + "." + field.name + " differs only in case from the field " +
                      existing->name + " (column names ignore case)",
                  field.name);
    if (existing->type != field.type)
      throw Error(ErrorCode::kConflict,
                  noun.name + "." + field.name + " already exists as " + to_string(existing->type),
                  field.name);
    return true;
  }
  for (const auto& verb : noun.verbs)
    if (same_name(verb.name))
      throw Error(ErrorCode::kConflict, noun.name + "." + field.name + " is a verb", field.name);
  return false;
}

void Schema::add_field(std::string_view noun_name, Field field) {
  auto& noun = const_cast<Noun&>(this->noun(noun_name));
  if (check_new_field(noun, field)) return;
  noun.fields.push_back(std::move(field));
  ++generation_;
}

namespace {

void add_crud(Noun& noun) {
  noun.verbs.insert(noun.verbs.begin(),
                    {make_verb("create", VerbKind::kCreate, "Created", "create a new " + noun.name),
                     make_verb("update", VerbKind::kUpdate, "Updated", "change fields"),
                     make_verb("delete", VerbKind::kDelete, "Deleted", "delete it")});
}

Verb transition(std::string name, std::string event, std::vector<std::string> from, std::string to,
                std::string description, VerbApply apply = {}) {
  Verb verb =
      make_verb(std::move(name), VerbKind::kTransition, std::move(event), std::move(description));
  verb.from = std::move(from);
  verb.to = std::move(to);
  verb.apply = std::move(apply);
  return verb;
}

VerbApply set_time_if_absent(std::string field) {
  return [field](const Noun&, json::object& entity, const json::object&) {
    if (!entity.contains(field) || entity.at(field).is_null()) entity[field] = now_iso8601();
  };
}

void add_fields(Noun& noun, std::initializer_list<std::array<const char*, 3>> specs) {
  for (const auto& [name, spec, description] : specs)
    noun.fields.push_back(parse_field(name, spec, description));
}

Field bounded(Field field, double min, double max) {
  field.min = min;
  field.max = max;
  return field;
}

Field written_by(Field field, std::string verbs) {
  field.written_by = std::move(verbs);
  return field;
}

// Without a winner, conclude adopts the latest analysis' suggestion. A winner the analysis does
// not support, or no analysis at all, needs force: true and a reason, which the event log keeps
// with the verb's data.
void conclude_experiment(const Noun&, json::object& entity, const json::object& data) {
  entity.erase("force");
  entity.erase("reason");
  const auto* force_value = data.if_contains("force");
  if (force_value && !force_value->is_bool()) invalid("force", "must be true or false");
  const bool force = force_value && force_value->get_bool();
  const auto* reason = data.if_contains("reason");
  if (reason && (!reason->is_string() || reason->get_string().empty()))
    invalid("reason", "must be a non-empty string");
  if (force && !reason)
    invalid("reason", "is required with force: true; it is recorded in the event log");
  if (!force && reason) invalid("reason", "is only taken with force: true");
  if (const auto* confidence = data.if_contains("confidence");
      confidence && confidence->is_number()) {
    const double value = confidence->to_number<double>();
    if (value > 0 && value < 1) {
      char percent[32];
      std::snprintf(percent, sizeof percent, "%g", value * 100);
      invalid("confidence",
              std::string("confidence is a percentage (0-100); did you mean ") + percent + "?");
    }
  }
  if (!entity.contains("endAt") || entity.at("endAt").is_null()) entity["endAt"] = now_iso8601();
  if (force) return;

  const json::object* summary = nullptr;
  if (const auto* results = entity.if_contains("results"); results && results->is_object())
    if (const auto* view = results->get_object().if_contains("summary"); view && view->is_object())
      summary = &view->get_object();
  const std::string escape = "; or pass force: true with a reason to conclude anyway";
  if (!summary)
    invalid("winner", "there is no analysis to support a conclusion: run analyze first" + escape);
  const auto* suggested = summary->if_contains("winner");
  const auto* given = data.if_contains("winner");
  if (!suggested || !suggested->is_string()) {
    std::string text = "the latest analysis finds no significant winner";
    if (const auto* recommendation = summary->if_contains("recommendation");
        recommendation && recommendation->is_string())
      text += " (" + std::string(recommendation->get_string()) + ")";
    invalid("winner", text + escape);
  }
  if (given && !given->is_null() && *given != *suggested) {
    invalid("winner",
            "the latest analysis supports '" + std::string(suggested->get_string()) + "', not '" +
                (given->is_string() ? std::string(given->get_string()) : "?") + "'" + escape);
  }
  const double supported = summary->at("confidence").to_number<double>();
  if (const auto* confidence = data.if_contains("confidence");
      confidence && confidence->is_number() && confidence->to_number<double>() > supported) {
    char text[96];
    std::snprintf(text, sizeof text, "the latest analysis supports at most %g", supported);
    invalid("confidence", text + escape);
  }
  entity["winner"] = *suggested;
  if (!data.contains("confidence")) entity["confidence"] = supported;
}

void advise_traffic_allocation(const json::object& entity, const json::object& data,
                               std::vector<std::string>& warnings) {
  if (!data.contains("trafficAllocation")) return;
  const auto* value = entity.if_contains("trafficAllocation");
  if (!value || !value->is_number()) return;
  const double percent = value->to_number<double>();
  if (percent == 0) {
    warnings.emplace_back("trafficAllocation is a percentage (0-100): 0 lets no traffic in");
  } else if (percent <= 1) {
    char text[160];
    std::snprintf(text, sizeof text,
                  "trafficAllocation is a percentage (0-100): %g means %g%% of traffic; for "
                  "%g%% pass %g",
                  percent, percent, percent * 100, percent * 100);
    warnings.emplace_back(text);
  }
}

void validate_variants(const json::object& entity) {
  auto it = entity.find("variants");
  if (it == entity.end() || it->value().is_null()) return;
  if (!it->value().is_array()) invalid("variants", "must be a list of {key, name, weight}");
  const auto& variants = it->value().get_array();
  if (variants.size() > 100) invalid("variants", "at most 100 variants");
  std::set<std::string> keys;
  for (std::size_t i = 0; i < variants.size(); ++i) {
    std::string where = "variants[" + std::to_string(i) + "]";
    if (!variants[i].is_object()) invalid(where, "must be an object {key, name, weight}");
    const auto& variant = variants[i].get_object();
    // alpha, beta, banditWeight and probabilityBest are written by the bandit.
    static constexpr std::string_view kVariantFields[] = {
        "key",   "name", "weight",       "description",    "value",
        "alpha", "beta", "banditWeight", "probabilityBest"};
    for (const auto& entry : variant) {
      if (std::find(std::begin(kVariantFields), std::end(kVariantFields), entry.key()) ==
          std::end(kVariantFields))
        invalid(where + "." + std::string(entry.key()),
                "unknown variant field (allowed: key, name, weight, description, value)");
    }
    const auto* key = variant.if_contains("key");
    if (!key || !key->is_string() || key->get_string().empty())
      invalid(where + ".key", "must be a non-empty string (or give a name to derive it from)");
    if (!keys.insert(std::string(key->get_string())).second)
      invalid(where + ".key", "duplicate key '" + std::string(key->get_string()) + "'");
    if (const auto* name = variant.if_contains("name"); name && !name->is_string())
      invalid(where + ".name", "must be a string");
    if (const auto* weight = variant.if_contains("weight")) {
      if (!weight->is_number()) invalid(where + ".weight", "must be a number");
      double w = weight->to_number<double>();
      if (!(w >= 0 && w <= 100)) invalid(where + ".weight", "must be between 0 and 100");
    }
  }
}

void validate_winner(const json::object& entity) {
  const auto* winner = entity.if_contains("winner");
  if (!winner || winner->is_null()) return;
  const auto* variants = entity.if_contains("variants");
  if (!variants || !variants->is_array()) invalid("winner", "the experiment has no variants");
  for (const auto& variant : variants->get_array())
    if (variant.is_object() && variant.get_object().if_contains("key") &&
        variant.at("key") == *winner)
      return;
  invalid("winner", "'" + std::string(winner->as_string()) + "' is not a variant key");
}

void validate_target_audience(const json::object& entity) {
  const auto* audience = entity.if_contains("targetAudience");
  if (audience && audience->is_string()) target_condition(audience->get_string());
}

// Seed 000 writes variants as {name, weight}: the key is derived from the name as addVariant does.
void derive_variant_keys(json::object& entity) {
  auto* variants = entity.if_contains("variants");
  if (!variants || !variants->is_array()) return;
  for (auto& variant : variants->get_array()) {
    if (!variant.is_object() || variant.get_object().contains("key")) continue;
    const auto* name = variant.get_object().if_contains("name");
    if (name && name->is_string() && !slugify(name->get_string()).empty())
      variant.get_object()["key"] = slugify(name->get_string());
  }
}

// Seed 000's "add a variant": {name, weight, key?}; the key is derived from the name.
void add_variant(const Noun&, json::object& entity, const json::object& data) {
  const auto* name = data.if_contains("name");
  if (!name || !name->is_string() || name->get_string().empty())
    invalid("name", "required, a non-empty string");
  json::object variant;
  variant["key"] = data.contains("key") ? data.at("key") : json::value(slugify(name->get_string()));
  variant["name"] = *name;
  variant["weight"] = data.contains("weight") ? data.at("weight") : json::value(50);
  for (const auto& [key, value] : data)
    if (key != "name" && key != "weight" && key != "key" && key != "version")
      invalid(std::string(key), "unknown argument for addVariant (allowed: name, weight, key)");
  auto& variants = entity["variants"];
  if (!variants.is_array()) variants = json::array();
  variants.get_array().push_back(std::move(variant));
}

Noun experiment() {
  Noun noun;
  noun.name = "Experiment";
  noun.description = "A/B tests, multivariate experiments, ML experiments and prompt experiments";
  add_fields(
      noun,
      {{"name", "string!", "display name of the experiment"},
       {"slug", "string##", "URL-safe identifier, derived from the name when not given"},
       {"description", "string", "what is being tested"},
       {"hypothesis", "string", "the hypothesis being validated"},
       {"type", "ABTest | Multivariate | FeatureFlag | MLExperiment | PromptExperiment | Holdout",
        "kind of experiment; a Holdout keeps trafficAllocation % of units out of every "
        "experiment of its organization (or namespace) and measures them against as many others"},
       {"status", "Draft | Started | Running | Paused | Concluded | Completed | Stopped | Archived",
        "lifecycle state; changed by verbs"},
       {"organization", "-> Organization", "organization running this experiment"},
       {"owner", "-> Contact", "person responsible for the experiment"},
       {"startAt", "datetime", "start time (ISO 8601 UTC); set by start"},
       {"endAt", "datetime", "end time (ISO 8601 UTC); set by conclude and stop"},
       {"targetAudience", "string", "segment description or a GrowthBook-style condition (JSON)"}});
  noun.fields.push_back(bounded(
      parse_field("trafficAllocation", "number", "percentage of traffic in the experiment (0-100)"),
      0, 100));
  add_fields(noun, {{"variants", "json", "list of {key, name, weight}"},
                    {"metrics", "string", "comma-separated metrics being tracked"},
                    {"primaryMetric", "string", "the primary success metric"},
                    {"namespace", "json",
                     "[name, start, end]: mutual exclusion; experiments in one namespace take "
                     "disjoint ranges of units (GrowthBook's namespace)"},
                    {"guardrails", "string",
                     "comma-separated metrics that must not get worse (a leading - marks "
                     "lower-is-better, e.g. \"revenue, -errors\"); analyze tests each for harm"}});
  noun.fields.push_back(
      written_by(parse_field("results", "json", "statistical results per variant, set by analyze"),
                 "analyze"));
  noun.fields.push_back(written_by(
      parse_field("winner", "string",
                  "key of the winning variant: the latest analysis' suggestion until conclude "
                  "decides it"),
      "analyze and conclude"));
  noun.fields.push_back(written_by(
      bounded(parse_field("confidence", "number", "statistical confidence (0-100)"), 0, 100),
      "analyze and conclude"));
  noun.fields.push_back(
      bounded(parse_field("sampleSize", "number", "total participants"), 0, 1e15));
  noun.fields.push_back(
      bounded(parse_field("conversions", "number", "total conversions"), 0, 1e15));
  add_fields(noun, {{"tags", "string", "comma-separated tags"},
                    {"banditEnabled", "boolean",
                     "Thompson-sampling bandit mode: traffic follows performance"},
                    {"seed", "string", "hash seed for assignment; the id when absent"}});
  noun.fields.push_back(bounded(
      parse_field("hashVersion", "number", "GrowthBook hash version, 1 or 2 (default)"), 1, 2));
  noun.fields.push_back(bounded(
      parse_field("banditCadence", "number",
                  "bandit mode: reweight every this many exposures (default 100); also on analyze"),
      1, 1e6));
  noun.slug_source = "name";
  noun.validators = {validate_variants, validate_winner, validate_target_audience,
                     tracking::validate_holdout};
  noun.advisors = {advise_traffic_allocation};
  noun.normalizers = {derive_variant_keys, tracking::normalize_holdout};
  add_crud(noun);

  Verb start = transition("start", "Started", {"Draft"}, "Started",
                          "begin the experiment; sets startAt (now, unless it is already due)",
                          [](const Noun& noun, json::object& entity, const json::object& data) {
                            // Starting before a scheduled startAt starts now: startAt records
                            // when the experiment really began, and a later endAt stays valid.
                            const auto* at = entity.if_contains("startAt");
                            const auto when = at && at->is_string()
                                                  ? parse_iso8601_utc(at->get_string())
                                                  : std::nullopt;
                            if (when && *when > std::chrono::system_clock::now())
                              entity.erase("startAt");
                            set_time_if_absent("startAt")(noun, entity, data);
                          });
  start.aliases = {"launch"};
  noun.verbs.push_back(std::move(start));
  noun.verbs.push_back(transition("run", "Ran", {"Started"}, "Running",
                                  "mark that data is arriving (done by the first assignment)"));
  noun.verbs.push_back(
      transition("pause", "Paused", {"Started", "Running"}, "Paused", "pause temporarily"));
  noun.verbs.push_back(transition("resume", "Resumed", {"Paused"}, "Running", "resume a pause"));
  Verb conclude = transition(
      "conclude", "Concluded", {"Running"}, "Concluded",
      "declare results: the latest analysis' winner and confidence (analyze first); a winner it "
      "does not support needs force: true and a reason",
      conclude_experiment);
  conclude.params = {
      parse_field("winner", "string",
                  "key of the winning variant; defaults to the latest analysis' suggestion"),
      bounded(parse_field("confidence", "number",
                          "confidence, a percentage 0-100; defaults to the analysis'"),
              0, 100),
      parse_field("force", "boolean", "conclude without the analysis' support (needs a reason)"),
      parse_field("reason", "string", "why a forced conclusion is right; kept in the event log")};
  noun.verbs.push_back(std::move(conclude));
  noun.verbs.push_back(
      transition("complete", "Completed", {"Concluded"}, "Completed", "finalize with learnings"));
  noun.verbs.push_back(transition(
      "stop", "Stopped", {"Started", "Running", "Paused"}, "Stopped",
      "halt permanently without a conclusion; sets endAt and drops an analysis' suggested winner",
      [](const Noun& noun, json::object& entity, const json::object& data) {
        set_time_if_absent("endAt")(noun, entity, data);
        // A stopped experiment has no winner: only conclude decides one.
        entity.erase("winner");
        entity.erase("confidence");
      }));
  noun.verbs.push_back(transition("archive", "Archived", {"Concluded", "Completed", "Stopped"},
                                  "Archived", "keep as a historical record"));
  Verb add = make_verb("addVariant", VerbKind::kUpdate, "VariantAdded",
                       "append a variant {name, weight, key?}; only before start, since a "
                       "new arm mid-run breaks the split every analysis compares against");
  add.from = {"Draft"};
  add.apply = add_variant;
  add.params = {parse_field("name", "string!", "variant name"),
                bounded(parse_field("weight", "number", "traffic weight (default 50)"), 0, 100),
                parse_field("key", "string", "variant key; derived from the name when absent")};
  noun.verbs.push_back(std::move(add));
  return noun;
}

Noun feature_flag() {
  Noun noun;
  noun.name = "FeatureFlag";
  noun.description = "feature flags, optionally owned by an experiment";
  add_fields(noun,
             {{"key", "string!##", "unique flag key"},
              {"name", "string!", "display name"},
              {"description", "string", ""},
              {"organization", "-> Organization", ""},
              {"experiment", "-> Experiment", "the experiment this flag belongs to"},
              {"type", "Boolean | String | Number | JSON", "value type"},
              {"defaultValue", "json", "value when the flag is off"},
              {"variants", "json", "flag variants"},
              {"targetingRules", "json", "targeting rules"},
              {"status", "Draft | Active | Enabled | Disabled | Paused | RolledOut | Archived",
               "lifecycle state; changed by verbs"}});
  noun.fields.push_back(bounded(
      parse_field("rolloutPercentage", "number", "share of traffic that gets the flag (0-100)"), 0,
      100));
  noun.fields.push_back(bounded(parse_field("evaluations", "number", "evaluation count"), 0, 1e15));
  noun.fields.push_back(parse_field("lastEvaluatedAt", "datetime", ""));
  noun.fields.push_back(
      written_by(parse_field("rolloutSteps", "json",
                             "a stepped rollout's plan {steps, every, step}; set by rollout"),
                 "rollout"));
  noun.fields.push_back(written_by(
      parse_field("nextRolloutAt", "datetime", "when a stepped rollout takes its next step"),
      "rollout"));
  noun.validators = {flags::validate_feature_flag};
  add_crud(noun);
  Verb rollout = transition(
      "rollout", "RolledOut", {"Draft", "Active", "Enabled", "Disabled", "Paused"}, "RolledOut",
      "roll out to 100% of traffic (-> RolledOut), or in steps {steps: [5, 25, 50, 100], every: "
      "seconds} that advance while the linked experiment's guardrails hold (Enabled meanwhile)",
      flags::apply_rollout);
  rollout.params = {
      parse_field("steps", "json", "increasing percentages ending at 100, e.g. [5, 25, 50, 100]"),
      parse_field("every", "number", "seconds between steps, e.g. 86400 for daily")};
  noun.verbs.push_back(std::move(rollout));
  noun.verbs.push_back(transition("enable", "Enabled", {"Draft", "Active", "Disabled", "Paused"},
                                  "Enabled", "turn the flag on"));
  noun.verbs.push_back(transition("disable", "Disabled",
                                  {"Draft", "Active", "Enabled", "Paused", "RolledOut"}, "Disabled",
                                  "turn the flag off"));
  noun.verbs.push_back(transition("archive", "Archived",
                                  {"Draft", "Active", "Enabled", "Disabled", "Paused", "RolledOut"},
                                  "Archived", "retire the flag"));
  return noun;
}

Noun simple(std::string name, std::string description,
            std::initializer_list<std::array<const char*, 3>> fields) {
  Noun noun;
  noun.name = std::move(name);
  noun.description = std::move(description);
  add_fields(noun, fields);
  add_crud(noun);
  return noun;
}

}  // namespace

Schema Schema::builtin() {
  Schema schema;
  // Referenced nouns first, so relations always point backwards in declaration order.
  schema.add_noun(simple("Organization", "a company or team",
                         {{"name", "string!", ""}, {"domain", "string", "web domain"}}));
  schema.add_noun(simple("Contact", "a person",
                         {{"name", "string!", ""},
                          {"email", "string#", "email address"},
                          {"organization", "-> Organization", ""}}));
  schema.add_noun(experiment());
  schema.add_noun(feature_flag());
  Noun event = simple("Event", "an analytics or automation event",
                      {{"type", "string!#", "event type, e.g. experiment.started"},
                       {"data", "json", "payload"},
                       {"subject", "-> *", "the entity the event is about (any noun)"},
                       {"timestamp", "datetime", "when it happened; defaults to now"},
                       {"unit", "string", "the unit (user, session) of an experiment event"},
                       {"variant", "string", "the variant key of an experiment event"}});
  event.verbs.front().apply = set_time_if_absent("timestamp");
  schema.add_noun(std::move(event));
  schema.add_noun(simple(
      "Metric", "a named measurement",
      {{"name", "string!#", ""}, {"type", "string", "e.g. Conversion"}, {"value", "number", ""}}));
  schema.add_noun(simple("Activity", "a task, call or note for a contact",
                         {{"subject", "string!", "what it is about"},
                          {"type", "Task | Call | Email | Meeting | Note", ""},
                          {"contact", "-> Contact", ""},
                          {"status", "Pending | InProgress | Completed | Cancelled", ""}}));
  return schema;
}

json::object describe(const Noun& noun) {
  json::object out;
  out["name"] = noun.name;
  out["description"] = noun.description;
  out["idPrefix"] = noun.id_prefix + "_";
  json::object fields;
  for (const auto& field : noun.fields) {
    json::object f;
    f["type"] = to_string(field.type);
    if (field.required) f["required"] = true;
    if (field.unique) f["unique"] = true;
    if (field.indexed) f["indexed"] = true;
    if (!field.enum_values.empty()) f["values"] = json::value_from(field.enum_values);
    if (!field.target.empty()) f["target"] = field.target;
    if (field.min) f["min"] = *field.min;
    if (field.max) f["max"] = *field.max;
    if (!field.description.empty()) f["description"] = field.description;
    if (!field.written_by.empty()) f["writtenBy"] = field.written_by;
    fields[field.name] = std::move(f);
  }
  out["fields"] = std::move(fields);
  json::object verbs;
  for (const auto& verb : noun.verbs) {
    json::object v;
    v["event"] = noun.name + "." + verb.event;
    v["kind"] = to_string(verb.kind);
    // Collection verbs (summary, plan) act on no single entity.
    if (!verb.needs_entity && verb.kind != VerbKind::kCreate) v["collection"] = true;
    if (!verb.from.empty()) v["from"] = json::value_from(verb.from);
    if (verb.to) v["to"] = *verb.to;
    if (!verb.aliases.empty()) v["aliases"] = json::value_from(verb.aliases);
    if (runs_hooks(verb)) v["hooks"] = json::array{verb.before_hook, verb.after_hook};
    if (!verb.description.empty()) v["description"] = verb.description;
    if (!verb.params.empty()) {
      json::object params;
      for (const auto& p : verb.params) params[p.name] = to_string(p.type);
      v["params"] = std::move(params);
    }
    verbs[verb.name] = std::move(v);
  }
  out["verbs"] = std::move(verbs);
  return out;
}

}  // namespace verdict
