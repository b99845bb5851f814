#include "core/engine.hpp"

#include <algorithm>
#include <charconv>

#include "core/access/access_nouns.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/flags/flag_verbs.hpp"
#include "core/flags/rollout_steps.hpp"
#include "core/log.hpp"
#include "core/slug.hpp"
#include "core/tracking/experiment_verbs.hpp"
#include "core/tracking/schedules.hpp"
#include "core/tracking/tracking_events.hpp"
#include "core/validator.hpp"

namespace verdict {

namespace json = boost::json;

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// A noun whose status is moved by verbs; a status field without them (Activity) is ordinary data.
bool has_state_machine(const Noun& noun) {
  return noun.has_status() &&
         std::any_of(noun.verbs.begin(), noun.verbs.end(), [](const Verb& v) { return v.to; });
}

// The verbs that move a noun's status, for messages that point the caller at them.
std::vector<std::string> state_verbs(const Noun& noun) {
  std::vector<std::string> names;
  for (const auto& verb : noun.verbs)
    if (verb.to) names.push_back(verb.name);
  return names;
}

std::string status_of(const json::object& entity) {
  const auto* status = entity.if_contains("status");
  return status && status->is_string() ? std::string(status->get_string()) : std::string{};
}

// A hook may change fields, not identity or state: those stay as the pipeline set them.
void keep_identity(const json::object& entity, json::object& modified) {
  // `project` is shown to hooks; an entity never moves to another project.
  modified.erase("project");
  for (const char* kept : {"id", "version", "createdAt", "updatedAt", "status"}) {
    if (const auto* value = entity.if_contains(kept)) {
      modified[kept] = *value;
    } else {
      modified.erase(kept);
    }
  }
}

[[noreturn]] void not_found(const Noun& noun, std::string_view id_or_slug) {
  throw Error(ErrorCode::kNotFound,
              "id: no " + noun.name + " with id" +
                  (noun.lookup_field() ? " or " + noun.lookup_field()->name : std::string()) +
                  " '" + std::string(id_or_slug.substr(0, 100)) + "'",
              "id");
}

// Unique-constraint failures that slip past the explicit checks (a race with another writer)
// still reach the caller as a conflict rather than an internal error.
[[noreturn]] void rethrow_storage(const storage::StorageError& error) {
  if (error.failure() == storage::Failure::kUniqueViolation)
    throw Error(ErrorCode::kConflict, "conflict: " + error.reason());
  throw;
}

}  // namespace

Engine::Engine(const std::string& path) : Engine(path, Schema::builtin()) {
  // The verbs' own tables and columns, in a second turn of the lock.
  schema_lock_ = storage::lock_schema(path);
  tracking::add_experiment_verbs(*this);
  tracking::add_tracking_events(*store_);
  tracking::add_schedules(*this);
  flags::add_flag_verbs(*this);
  flags::add_rollout_steps(*this);
  access::add_access_nouns(*this);
  schema_lock_.reset();
}

Engine::Engine(const std::string& path, Schema schema)
    : schema_(std::move(schema)),
      schema_lock_(storage::lock_schema(path)),
      store_(std::make_unique<Store>(path, schema_)),
      keys_(std::make_unique<access::KeyStore>(store_->db())) {
  schema_lock_.reset();
}

Engine::Engine(const std::string& path, Schema schema, const Store::RowSources& row_sources)
    : schema_(std::move(schema)),
      store_(std::make_unique<Store>(path, schema_, storage::OpenMode::kReadOnly)),
      keys_(std::make_unique<access::KeyStore>(store_->db(), storage::OpenMode::kReadOnly)) {
  for (const auto& [noun, sources] : row_sources)
    for (const auto& source : sources) store_->add_row_source(noun, source);
}

std::optional<Clock::time_point> Engine::idle() {
  if (hooks_) hooks_->idle();
  std::optional<Clock::time_point> next;
  if (idle_tasks_.empty()) return next;
  std::vector<access::ProjectInfo> projects;
  try {
    projects = keys_->projects();
  } catch (const std::exception& error) {
    // A store out of reach now (a lost connection to PostgreSQL) is tried again a minute later,
    // as a failed task is; the requests meanwhile report it themselves.
    log(LogLevel::kError, std::string("scheduled work failed: ") + error.what());
    return clock_->now() + std::chrono::minutes(1);
  }
  for (const auto& project : projects) {
    const Caller project_operator = Caller::local_operator(project.id, project.slug);
    CallerScope scope(*this, project_operator);
    for (const auto& task : idle_tasks_) {
      std::optional<Clock::time_point> due;
      try {
        due = task(clock_->now());
      } catch (const std::exception& error) {
        // A task that cannot use the store now (a full disk) tries again a minute later.
        log(LogLevel::kError, std::string("scheduled work failed: ") + error.what());
        due = clock_->now() + std::chrono::minutes(1);
      }
      if (due && (!next || *due < *next)) next = due;
    }
  }
  return next;
}

void Engine::add_custom_verb(std::string_view noun, Verb verb, VerbHandler handler) {
  verb.kind = VerbKind::kCustom;
  std::string key = std::string(noun) + "." + verb.name;
  schema_.add_verb(noun, std::move(verb));
  handlers_[key] = std::move(handler);
}

json::object Engine::load(const Noun& noun, std::string_view id_or_slug) {
  if (id_or_slug.empty()) invalid("id", "required for this verb");
  auto entity = store_->get(noun, id_or_slug);
  if (!entity) not_found(noun, id_or_slug);
  return std::move(*entity);
}

json::object Engine::get(const Caller& caller, std::string_view noun_name,
                         std::string_view id_or_slug, bool with_history,
                         const HistoryQuery& history_query) {
  // A verb's own reads (custom verbs, hooks) are not the caller's requests: no role check.
  bool outermost = !caller_;
  CallerScope scope(*this, caller);
  const Noun& noun = schema_.noun(noun_name);
  if (outermost) require_role(caller, noun.read_role, {"get ", noun.name});
  json::object entity = load(noun, id_or_slug);
  if (with_history) {
    if (history_query.limit < 1 || history_query.limit > Store::kMaxLimit)
      invalid("limit", "must be between 1 and 1000");
    // The cursor is the last sequence a page held: a keyset, so a page never repeats or skips
    // an event however many are appended meanwhile.
    std::int64_t after = 0;
    if (const std::string& cursor = history_query.cursor; !cursor.empty()) {
      auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + cursor.size(), after);
      if (ec != std::errc() || end != cursor.data() + cursor.size() || after < 1)
        invalid("cursor", "not a cursor of this history (pass back historyNextCursor unchanged)");
    }
    // One more than asked tells whether another page follows.
    auto events = store_->history(entity.at("id").get_string(), after, history_query.limit + 1);
    bool more = static_cast<std::int64_t>(events.size()) > history_query.limit;
    if (more) events.pop_back();
    json::array history;
    for (const auto& event : events) history.push_back(to_json(event));
    if (more) entity["historyNextCursor"] = std::to_string(events.back().sequence);
    entity["history"] = std::move(history);
  }
  return entity;
}

std::string Engine::get_json(const Caller& caller, std::string_view noun_name,
                             std::string_view id_or_slug) {
  return entity_json(caller, noun_name, id_or_slug).text();
}

const EntityJson& Engine::entity_json(const Caller& caller, std::string_view noun_name,
                                      std::string_view id_or_slug) {
  bool outermost = !caller_;
  CallerScope scope(*this, caller);
  const Noun& noun = schema_.noun(noun_name);
  if (outermost) require_role(caller, noun.read_role, {"get ", noun.name});
  if (id_or_slug.empty()) invalid("id", "required for this verb");
  const EntityJson* entity = store_->entity_json(noun, id_or_slug);
  if (!entity) not_found(noun, id_or_slug);
  return *entity;
}

FindResult Engine::find(const Caller& caller, std::string_view noun_name, const FindQuery& query) {
  bool outermost = !caller_;
  CallerScope scope(*this, caller);
  const Noun& noun = schema_.noun(noun_name);
  if (outermost) require_role(caller, noun.read_role, {"find ", noun.name});
  return store_->find(noun, query);
}

void Engine::check_transition(const Noun& noun, const Verb& verb, const json::object& entity) {
  if (verb.from.empty() || !noun.has_status()) return;
  std::string status = status_of(entity);
  if (std::find(verb.from.begin(), verb.from.end(), status) != verb.from.end()) return;
  std::vector<std::string> allowed;
  for (const auto& other : noun.verbs)
    if (!other.from.empty() &&
        std::find(other.from.begin(), other.from.end(), status) != other.from.end())
      allowed.push_back(other.name);
  throw Error(ErrorCode::kInvalidTransition,
              "cannot " + verb.name + " " + noun.name + " " +
                  std::string(entity.at("id").get_string()) + ": it is " + status + " and " +
                  verb.name + " needs " + join(verb.from) +
                  (allowed.empty() ? "; no state change is allowed from " + status
                                   : "; allowed from " + status + ": " + join(allowed)),
              "verb");
}

json::object Engine::propose(const Noun& noun, const Verb& verb, const VerbRequest& request,
                             const json::object* current) {
  json::object entity = current ? *current : json::object{};
  bool merge_data = verb.kind == VerbKind::kCreate || verb.kind == VerbKind::kTransition ||
                    (verb.kind == VerbKind::kUpdate && !verb.apply);
  if (merge_data) {
    for (const auto& [key, value] : request.data) {
      if (key == "version") continue;
      if (is_meta_field(key)) invalid(std::string(key), "is set by Verdict and cannot be written");
      if (const Field* field = noun.field(key);
          field && !field->written_by.empty() && verb.kind == VerbKind::kUpdate)
        invalid(std::string(key), "is written by " + field->written_by + " only, not by update");
      if (key == "status" && has_state_machine(noun) && verb.kind != VerbKind::kCreate)
        invalid("status", "changes only through verbs (" + noun.name +
                              " verbs: " + join(state_verbs(noun)) + ")");
      if (value.is_null()) {
        entity.erase(key);
      } else {
        entity[key] = value;
      }
    }
  }
  if (verb.kind == VerbKind::kCreate) {
    entity["id"] = new_id(noun.id_prefix);
    if (has_state_machine(noun)) {
      const auto* status = entity.if_contains("status");
      if (status && *status != json::value(noun.initial_status()))
        invalid("status", "a new " + noun.name + " starts as " + noun.initial_status() +
                              "; change it with verbs");
      entity["status"] = noun.initial_status();
    } else if (noun.has_status() && !entity.contains("status")) {
      entity["status"] = noun.initial_status();
    }
    entity["version"] = 0;
    entity["createdAt"] = now_iso8601();
  }
  // The status first, so that an apply may choose another (a stepped rollout stays Enabled).
  if (verb.to) entity["status"] = *verb.to;
  if (verb.apply) verb.apply(noun, entity, request.data);
  entity["updatedAt"] = now_iso8601();
  if (!entity.contains("createdAt")) entity["createdAt"] = entity["updatedAt"];
  return entity;
}

void Engine::validate(const Noun& noun, json::object& entity, const json::object* current) {
  for (const auto& normalize : noun.normalizers) normalize(entity);
  // Slugs are derived from the slug source and made unique with a numeric suffix.
  if (!noun.slug_source.empty() && noun.field("slug")) {
    const auto* slug = entity.if_contains("slug");
    const auto* source = entity.if_contains(noun.slug_source);
    if ((!slug || slug->is_null()) && source && source->is_string()) {
      std::string base = slugify(source->get_string());
      if (base.empty()) base = noun.id_prefix;
      std::string candidate = base;
      for (int suffix = 2; store_->find_unique(noun, *noun.field("slug"), candidate); ++suffix)
        candidate = base + "-" + std::to_string(suffix);
      entity["slug"] = candidate;
    } else if (slug && slug->is_string() && slugify(slug->get_string()) != slug->get_string()) {
      invalid("slug", "must be lower-case letters, digits and single dashes, e.g. '" +
                          slugify(slug->get_string()) + "'");
    }
  }
  // Datetimes are stored in one canonical form so that filters and sorts compare them as text.
  for (const auto& field : noun.fields) {
    if (field.type != FieldType::kDatetime) continue;
    auto* value = entity.if_contains(field.name);
    if (!value || !value->is_string()) continue;
    if (auto canonical = normalize_iso8601_utc(value->get_string())) *value = *canonical;
  }
  validate_entity(schema_, noun, entity, [this](const Noun& target, std::string_view id) {
    return store_->exists(target, id);
  });
  std::string id(entity.at("id").get_string());
  for (const auto& field : noun.fields) {
    if (!field.unique) continue;
    const auto* value = entity.if_contains(field.name);
    if (!value || !value->is_string()) continue;
    if (current && current->if_contains(field.name) && *current->if_contains(field.name) == *value)
      continue;
    if (auto owner = store_->find_unique(noun, field, value->get_string()); owner && *owner != id)
      throw Error(
          ErrorCode::kConflict,
          field.name + ": '" + std::string(value->get_string()) + "' is already used by " + *owner,
          field.name);
  }
}

json::value Engine::execute(const VerbRequest& request) {
  if (request.depth > kMaxDepth)
    throw Error(ErrorCode::kLimitExceeded,
                "hook recursion deeper than " + std::to_string(kMaxDepth) + " verbs (at " +
                    request.noun + "." + request.verb + "); a hook is probably triggering itself");
  CallerScope scope(*this, request.caller);
  const Noun& noun = schema_.noun(request.noun);
  const Verb* verb = noun.verb(request.verb);
  if (!verb) {
    std::vector<std::string> names;
    for (const auto& v : noun.verbs) names.push_back(v.name);
    throw Error(ErrorCode::kNotFound,
                "verb: " + noun.name + " has no verb '" + request.verb.substr(0, 100) +
                    "' (verbs: " + join(names) + ")",
                "verb");
  }
  if (request.depth == 0) require_role(request.caller, verb->role, {noun.name, ".", verb->name});
  if (verb->kind == VerbKind::kCustom) return execute_custom(noun, *verb, request);

  std::optional<json::object> current;
  if (verb->needs_entity) current = load(noun, request.id);
  std::optional<std::int64_t> expected_version;
  if (const auto* version = request.data.if_contains("version")) {
    if (!version->is_int64() && !(version->is_uint64() && version->get_uint64() <= INT64_MAX))
      invalid("version", "expected an integer version");
    expected_version = version->to_number<std::int64_t>();
    if (current && *expected_version != current->at("version").to_number<std::int64_t>())
      throw Error(ErrorCode::kConflict,
                  "version: " + noun.name + " " + std::string(current->at("id").get_string()) +
                      " is at version " +
                      std::to_string(current->at("version").to_number<std::int64_t>()) + ", not " +
                      std::to_string(*expected_version) + "; get it again and retry",
                  "version");
  }
  if (current) check_transition(noun, *verb, *current);
  if (current && store_->is_derived(noun, current->at("id").get_string()))
    invalid("id", noun.name + " " + std::string(current->at("id").get_string()) +
                      " is recorded by assign or track and cannot be changed");

  json::object entity = verb->kind == VerbKind::kDelete
                            ? *current
                            : propose(noun, *verb, request, current ? &*current : nullptr);
  if (verb->kind != VerbKind::kDelete) validate(noun, entity, current ? &*current : nullptr);

  HookContext context{noun, *verb, request};
  if (hooks_) {
    if (auto modified = hooks_->before(context, entity)) {
      keep_identity(entity, *modified);
      entity = std::move(*modified);
      if (verb->kind != VerbKind::kDelete) validate(noun, entity, current ? &*current : nullptr);
    }
  }

  std::int64_t previous_version = current ? current->at("version").to_number<std::int64_t>() : 0;
  if (verb->kind != VerbKind::kDelete) entity["version"] = previous_version + 1;
  try {
    storage::Transaction transaction(store_->db());
    switch (verb->kind) {
      case VerbKind::kCreate:
        store_->insert(noun, entity);
        break;
      case VerbKind::kDelete:
        store_->remove(noun, entity.at("id").get_string());
        break;
      default:
        store_->update(noun, entity, previous_version);
    }
    record(noun, entity, verb->event, verb->name, request.data, request.actor);
    transaction.commit();
  } catch (const storage::StorageError& error) {
    rethrow_storage(error);
  }

  run_after_hooks(context, entity);
  if (verb->kind == VerbKind::kDelete)
    return json::object{{"id", entity.at("id")}, {"deleted", true}};
  std::vector<std::string> warnings;
  for (const auto& advise : noun.advisors) advise(entity, request.data, warnings);
  if (!warnings.empty()) entity["warnings"] = json::value_from(warnings);
  return entity;
}

json::value Engine::execute_custom(const Noun& noun, const Verb& verb, const VerbRequest& request) {
  auto handler = handlers_.find(noun.name + "." + verb.name);
  if (handler == handlers_.end())
    throw Error(ErrorCode::kInternal, noun.name + "." + verb.name + " has no implementation");
  std::optional<json::object> current;
  if (verb.needs_entity) {
    current = load(noun, request.id);
    check_transition(noun, verb, *current);
  }
  HookContext context{noun, verb, request};
  // A before hook's changes are validated and written first, as an update, so the handler works
  // on what is stored (it caches plans by version) and the change is never silently dropped.
  std::optional<json::object> modified;
  if (hooks_ && current) modified = hooks_->before(context, *current);
  if (modified) {
    keep_identity(*current, *modified);
    if (*modified == *current) {
      modified.reset();
    } else {
      validate(noun, *modified, &*current);
    }
  }
  json::object* entity = modified ? &*modified : current ? &*current : nullptr;
  json::value result;
  try {
    storage::Transaction transaction(store_->db());
    if (modified) persist(noun, *modified, "Updated", {}, request.actor);
    result = handler->second(*this, noun, request, entity);
    transaction.commit();
  } catch (const storage::StorageError& error) {
    rethrow_storage(error);
  }
  if (verb.batch_items) context.items = [&] { return verb.batch_items(request.data, result); };
  if (entity) run_after_hooks(context, *entity);
  return result;
}

void Engine::persist(const Noun& noun, json::object& entity, const std::string& event,
                     const json::object& data, const std::string& actor) {
  auto previous_version = entity.at("version").to_number<std::int64_t>();
  entity["updatedAt"] = now_iso8601();
  validate(noun, entity, nullptr);
  entity["version"] = previous_version + 1;
  store_->update(noun, entity, previous_version);
  record(noun, entity, event, event, data, actor);
}

void Engine::record(const Noun& noun, const json::object& entity, const std::string& event,
                    const std::string& verb, const json::object& data, const std::string& actor) {
  store_->append_event({.type = noun.name + "." + event,
                        .noun = noun.name,
                        .entity_id = std::string(entity.at("id").get_string()),
                        .verb = verb,
                        .data = data,
                        .actor = actor,
                        .key_id = caller().key_id,
                        .key_name = caller().key_name});
}

void Engine::run_after_hooks(const HookContext& context, const json::object& entity) {
  if (!hooks_) return;
  std::vector<HookFailure> failures;
  try {
    failures = hooks_->after(context, entity, *this);
  } catch (const std::exception& error) {
    // The verb has committed: a runner that throws instead of returning its failures must not
    // make the caller believe nothing changed.
    failures.push_back({context.verb.after_hook, error.what()});
  }
  for (const auto& failure : failures) {
    log(LogLevel::kWarning, "after hook " + failure.hook + " failed on " + context.noun.name + "." +
                                context.verb.name + ": " + failure.message);
    try {
      storage::Transaction transaction(store_->db());
      record(context.noun, entity, "HookFailed", context.verb.name,
             {{"hook", failure.hook}, {"error", failure.message}}, context.request.actor);
      transaction.commit();
    } catch (const std::exception& error) {
      log(LogLevel::kError, std::string("cannot record hook failure: ") + error.what());
    }
  }
}

}  // namespace verdict
