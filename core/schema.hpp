#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/access/caller.hpp"

namespace verdict {

enum class FieldType { kString, kNumber, kBoolean, kDatetime, kJson, kEnum, kRelation };

const char* to_string(FieldType type) noexcept;

/// One declared field of a noun.
struct Field {
  std::string name;
  FieldType type = FieldType::kString;
  bool required = false;
  bool unique = false;
  bool indexed = false;
  std::vector<std::string> enum_values;  ///< for kEnum
  std::string target;                    ///< for kRelation: the noun, or "*" for any noun
  std::optional<double> min;             ///< for kNumber
  std::optional<double> max;             ///< for kNumber
  std::string description;
  /// Non-empty for a field only verbs write (e.g. "analyze and conclude"): `update` refuses it.
  std::string written_by;
};

/// Parses the seed's field notation: `string`, `string!` (required), `string##` (unique and
/// indexed), `number`, `boolean`, `datetime`, `json`, `A | B | C` (enum), `-> Noun` (relation).
Field parse_field(std::string name, std::string_view spec, std::string description = {});

struct Noun;

/// What a verb does to the entity it acts on, before validation and hooks.
/// `entity` is the proposed entity (a copy of the stored one, or the new one for create) and
/// `data` the verb's arguments; the function edits `entity` in place.
using VerbApply = std::function<void(const Noun& noun, boost::json::object& entity,
                                     const boost::json::object& data)>;

enum class VerbKind {
  kCreate,      ///< inserts a new entity
  kUpdate,      ///< changes fields
  kDelete,      ///< removes the entity
  kTransition,  ///< moves the status state machine (and may change fields)
  kCustom,      ///< runs a handler registered with the engine (assign, track, analyze, ...)
};

const char* to_string(VerbKind kind) noexcept;

struct Verb {
  std::string name;   ///< `start`
  std::string event;  ///< `Started`: the event type suffix
  VerbKind kind = VerbKind::kTransition;
  std::vector<std::string> from;     ///< statuses the verb is allowed from; empty: any
  std::optional<std::string> to;     ///< the status it sets
  std::vector<std::string> aliases;  ///< other names accepted for the verb (`launch`)
  bool needs_entity = true;          ///< false for create and collection verbs (summary)
  VerbApply apply;                   ///< field changes beyond the status
  std::string description;
  std::vector<Field> params;  ///< documented arguments beyond the noun's own fields
  std::string before_hook;    ///< `starting`
  std::string after_hook;     ///< `started`
  Role role = Role::kWriter;  ///< the role a key needs to run the verb (core/access/caller.hpp)
  /// For batch verbs (assign, track): the batch's items, given to the after hooks once per call.
  std::function<boost::json::array(const boost::json::object& data,
                                   const boost::json::value& result)>
      batch_items;
};

/// Derives the before-hook name (`starting`, `rollingOut`, `addingVariant`) and after-hook
/// name (`started`, `rolledOut`, `addedVariant`) from a camelCase verb name.
std::string before_hook_name(std::string_view verb);
/// False for a collection verb implemented in C++ (summary): it works on no single entity, so
/// its hook names exist only to refuse them with a clear message.
bool runs_hooks(const Verb& verb);
std::string after_hook_name(std::string_view verb);

/// Extra validation a noun needs beyond field types (e.g. the shape of Experiment.variants).
using NounValidator = std::function<void(const boost::json::object& entity)>;
/// Fills in what a noun derives from other fields before validation (variant keys from names).
using NounNormalizer = std::function<void(boost::json::object& entity)>;

/// Advice on a value that is valid but probably not what was meant (trafficAllocation 0.3 is
/// 0.3%): appended to `warnings` of the verb's result. `data` is what the verb was given.
using NounAdvisor =
    std::function<void(const boost::json::object& entity, const boost::json::object& data,
                       std::vector<std::string>& warnings)>;

struct Noun {
  std::string name;       ///< `FeatureFlag`
  std::string id_prefix;  ///< `featureFlag`
  std::string table;      ///< `feature_flag`
  std::string description;
  std::vector<Field> fields;
  std::vector<Verb> verbs;
  std::vector<NounValidator> validators;
  std::vector<NounAdvisor> advisors;
  std::vector<NounNormalizer> normalizers;
  std::string slug_source;         ///< when set, `slug` is derived from this field
  Role read_role = Role::kReader;  ///< the role find and get need (Key and Project: admin)

  const Field* field(std::string_view name) const;
  /// Resolves a verb by name or alias.
  const Verb* verb(std::string_view name) const;
  bool has_status() const { return field("status") != nullptr; }
  /// The field accepted wherever an id is (get, do, relation filters): `slug`, or else a unique
  /// `key` (FeatureFlag); null when the noun is found by id only.
  const Field* lookup_field() const;
  /// The status a new entity starts in: the first value of the status enum.
  std::string initial_status() const;
};

/// The set of nouns Verdict knows. Nouns and verbs are data: plugins add fields and verbs at
/// run time, and the store migrates tables to match.
class Schema {
 public:
  /// Verdict's own nouns: Experiment, FeatureFlag, Event, Metric, Activity, Organization, Contact.
  static Schema builtin();

  const Noun* find(std::string_view name) const;
  /// Like find, but throws a not-found error listing the known nouns.
  const Noun& noun(std::string_view name) const;
  /// The noun whose ids start with `prefix_`.
  const Noun* noun_for_id(std::string_view id) const;
  const std::vector<std::unique_ptr<Noun>>& nouns() const { return nouns_; }
  std::vector<std::string> noun_names() const;

  Noun& add_noun(Noun noun);
  /// Adds a verb to a noun; throws if a verb of that name already exists.
  void add_verb(std::string_view noun, Verb verb);
  /// Adds a field to a noun; throws what check_new_field() throws. A field that exists with the
  /// same type is left as it is.
  void add_field(std::string_view noun, Field field);
  /// Adds a whole-entity check to a noun, run on every create and update after the field checks.
  void add_validator(std::string_view noun, NounValidator validator);

  /// Moves whenever a noun, verb, field or validator is added (the schema only grows), so that a
  /// copy can tell it is out of date.
  std::uint64_t generation() const { return generation_; }
  /// A copy of the nouns, fields and verbs as data, without their code (validators, advisors,
  /// normalizers, verbs' apply and batch_items: they hold the engine and the hooks of the thread
  /// that owns this schema). What a read-only engine on another thread needs for find, get and
  /// describe; it runs no verbs.
  Schema data_copy() const;

 private:
  // unique_ptr keeps Noun addresses stable while plugins add nouns.
  std::vector<std::unique_ptr<Noun>> nouns_;
  std::uint64_t generation_ = 0;
};

/// Refuses a field `noun` cannot take: a name Verdict sets or adds itself (id, version,
/// createdAt, updatedAt, history, rowid), a name that differs only in case from an existing field
/// (SQLite column names ignore case), a verb's name, or an existing name with another type; throws
/// Error naming the field. `declared` are fields added to the noun but not yet in the schema.
/// Returns true when the field already exists with the same type.
bool check_new_field(const Noun& noun, const Field& field,
                     const std::vector<const Field*>& declared = {});

/// Builds a verb with default hook names and event derived from its name.
Verb make_verb(std::string name, VerbKind kind, std::string event, std::string description = {});

/// Experiment.targetAudience is free text, or a GrowthBook condition when it holds a JSON object.
/// Returns the condition, nullopt for free text; text that starts like an object but does not
/// parse is kInvalidArgument, since it would otherwise silently turn targeting off.
std::optional<boost::json::object> target_condition(std::string_view text);

/// JSON description of a noun (fields, types, verbs, state machine) for resources and tool schemas.
boost::json::object describe(const Noun& noun);

}  // namespace verdict
