#pragma once

#include <boost/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/access/key_store.hpp"
#include "core/clock.hpp"
#include "core/schema.hpp"
#include "core/store.hpp"

namespace verdict {

class Engine;

/// One verb invocation: `do {type, verb, id?, data?}`.
struct VerbRequest {
  std::string noun;
  std::string verb;
  std::string id;  ///< id or slug; empty for create and collection verbs
  boost::json::object data;
  std::string actor;  ///< the acting client, recorded in the event log
  int depth = 0;      ///< nesting through after hooks; bounded by Engine::kMaxDepth
  /// The project the verb runs in and the key that asked (recorded in the event log). Its role
  /// is checked at depth 0 only: verbs that hooks run are the operator's.
  Caller caller;
};

/// What a hook is told about the verb it runs for.
struct HookContext {
  const Noun& noun;
  const Verb& verb;
  const VerbRequest& request;
  /// The items a batch verb handled (assign's assignments, track's events), built on demand so
  /// that a verb without after hooks never pays for them; empty for other verbs.
  std::function<boost::json::array()> items;
};

/// A failed after hook: the verb stands, the failure is logged and recorded as an event.
struct HookFailure {
  std::string hook;  ///< e.g. `hooks/concluded-rollout.lua:12`
  std::string message;
};

/// The hook interface the verb pipeline calls: validate -> before -> persist -> after.
/// The Lua plugin host implements it; tests use doubles.
class HookRunner {
 public:
  virtual ~HookRunner() = default;

  /// Runs the verb's before hooks in load order on the entity as it will be written. Throws
  /// Error(kHookRejected) to refuse the verb; returns a replacement entity to modify it.
  virtual std::optional<boost::json::object> before(const HookContext& context,
                                                    const boost::json::object& entity) = 0;

  /// Runs the after hooks once the verb has committed. `engine` serves nested verbs (with
  /// request depth + 1). Failures are returned, not thrown: they never undo the verb.
  virtual std::vector<HookFailure> after(const HookContext& context,
                                         const boost::json::object& entity, Engine& engine) = 0;

  /// Called by Engine::idle(), when no verb runs and no transaction is open: the one safe point
  /// to change the schema (verbs and fields a reload declares), which running verbs hold
  /// references into.
  virtual void idle() {}
};

/// A verb implemented in C++ rather than by the generic pipeline (assign, track, analyze, ...).
/// It receives the current entity (when the verb needs one) and runs inside the verb's
/// transaction; it writes through `engine.store()` or `engine.persist()` and returns the verb's
/// result. It keeps `*entity` equal to what is stored: after hooks receive it.
using VerbHandler = std::function<boost::json::value(
    Engine& engine, const Noun& noun, const VerbRequest& request, boost::json::object* entity)>;

/// The verb pipeline over the store: every change to an entity goes through execute().
/// Not thread-safe: one executor thread owns an Engine.
class Engine {
 public:
  static constexpr int kMaxDepth = 8;

  /// Opens the store at `path` (":memory:" for tests) with the built-in schema.
  explicit Engine(const std::string& path);
  Engine(const std::string& path, Schema schema);
  /// A read-only engine on its own connection to `path`, a WAL file that a read-write Engine in
  /// this process has created and keeps migrated; `schema` is a Schema::data_copy of that
  /// engine's and `row_sources` its store's. It serves get, find and key checks, and sees each
  /// of the writer's commits from its next statement on; it creates nothing and has no verb code
  /// or hooks, so verbs fail. One per reader thread (server/reader_pool.hpp).
  Engine(const std::string& path, Schema schema, const Store::RowSources& row_sources);

  /// Runs a verb in `request.caller`'s project. Throws Error on bad input, refused transitions,
  /// hook rejections, conflicts and a role that may not run the verb (kUnauthorized); a thrown
  /// verb has changed nothing. Another project's entity is "not found".
  boost::json::value execute(const VerbRequest& request);

  /// The entity by id or slug in the caller's project, with a page of its event history
  /// (`history`, oldest first, and `historyNextCursor` when more follow) when `with_history`.
  /// Needs the reader role.
  boost::json::object get(const Caller& caller, std::string_view noun, std::string_view id_or_slug,
                          bool with_history = false, const HistoryQuery& history = {});
  /// get's entity without history, as to_json_text writes it: what a reply embeds, served from
  /// the store's cache of serialized entities while the database has not changed
  /// (Store::get_json). Needs the reader role, checked on every call.
  std::string get_json(const Caller& caller, std::string_view noun, std::string_view id_or_slug);
  /// get_json without the copy, with the escaped text beside it (Store::entity_json); valid until
  /// the next call on this engine.
  const EntityJson& entity_json(const Caller& caller, std::string_view noun,
                                std::string_view id_or_slug);
  /// Entities of the caller's project. Needs the reader role.
  FindResult find(const Caller& caller, std::string_view noun, const FindQuery& query);
  /// As the current caller: inside a verb (custom verbs, hooks) its caller, so an internal read
  /// stays in the verb's project; outside any call the local operator of the default project.
  boost::json::object get(std::string_view noun, std::string_view id_or_slug,
                          bool with_history = false) {
    return get(caller(), noun, id_or_slug, with_history);
  }
  FindResult find(std::string_view noun, const FindQuery& query) {
    return find(caller(), noun, query);
  }

  /// The caller of the outermost call running now (the local operator between calls).
  const Caller& caller() const { return caller_ ? *caller_ : operator_; }

  void set_hooks(std::shared_ptr<HookRunner> hooks) { hooks_ = std::move(hooks); }

  /// Work done on a timetable (scheduled starts, rollout steps): runs what is due at `now`
  /// through execute() and returns when it next has something due, nullopt for never. idle()
  /// runs every task once per project, as that project's operator (caller()), so a task sees
  /// one project's entities at a time; PerProject keeps its state apart.
  using IdleTask = std::function<std::optional<Clock::time_point>(Clock::time_point now)>;
  void add_idle_task(IdleTask task) { idle_tasks_.push_back(std::move(task)); }

  /// Call between batches, with no verb running and no transaction open (the engine thread's
  /// loop does, also when it starts and when the returned time comes): lets the hooks do
  /// deferred work such as a reload, runs the idle tasks, and returns the earliest time one of
  /// them has something due, for the caller to call again then.
  std::optional<Clock::time_point> idle();

  /// The time the idle tasks read; the system clock unless a test sets another. `clock` must
  /// outlive the engine.
  void set_clock(const Clock& clock) { clock_ = &clock; }
  const Clock& clock() const { return *clock_; }
  const std::shared_ptr<HookRunner>& hooks() const { return hooks_; }

  /// Declares a verb with a C++ implementation on a noun (kind kCustom).
  void add_custom_verb(std::string_view noun, Verb verb, VerbHandler handler);

  /// Writes a changed entity from a custom verb: re-validates it, bumps its version, and
  /// appends `<Noun>.<event>` with `data`. Call inside the verb's transaction.
  void persist(const Noun& noun, boost::json::object& entity, const std::string& event,
               const boost::json::object& data, const std::string& actor);

  Schema& schema() { return schema_; }
  Store& store() { return *store_; }
  /// Projects and API keys, in the same database.
  access::KeyStore& keys() { return *keys_; }

 private:
  boost::json::object load(const Noun& noun, std::string_view id_or_slug);
  boost::json::object propose(const Noun& noun, const Verb& verb, const VerbRequest& request,
                              const boost::json::object* current);
  void check_transition(const Noun& noun, const Verb& verb, const boost::json::object& entity);
  void validate(const Noun& noun, boost::json::object& entity, const boost::json::object* current);
  void run_after_hooks(const HookContext& context, const boost::json::object& entity);
  /// Appends `<Noun>.<event>` for `entity` to the event log.
  void record(const Noun& noun, const boost::json::object& entity, const std::string& event,
              const std::string& verb, const boost::json::object& data, const std::string& actor);
  boost::json::value execute_custom(const Noun& noun, const Verb& verb, const VerbRequest& request);

  /// Scopes the store to a caller's project and makes it the caller events are recorded for.
  class CallerScope {
   public:
    CallerScope(Engine& engine, const Caller& caller)
        : engine_(engine),
          previous_(std::exchange(engine.caller_, &caller)),
          store_scope_(*engine.store_, caller.project_id) {}
    ~CallerScope() { engine_.caller_ = previous_; }
    CallerScope(const CallerScope&) = delete;
    CallerScope& operator=(const CallerScope&) = delete;

   private:
    Engine& engine_;
    const Caller* previous_;
    Store::Scope store_scope_;
  };

  Schema schema_;
  // Held only while the constructors create and migrate the schema (before store_ opens).
  std::unique_ptr<storage::Connection> schema_lock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<access::KeyStore> keys_;
  const Caller* caller_ = nullptr;
  const Caller operator_ = Caller::local_operator();
  std::shared_ptr<HookRunner> hooks_;
  std::map<std::string, VerbHandler, std::less<>> handlers_;  ///< keyed `Noun.verb`
  std::vector<IdleTask> idle_tasks_;
  const Clock* clock_ = &Clock::system();
};

/// One `T` per project, made on first use from the engine: the state of an idle task or a
/// validator (a schedule's next due time) kept apart per project, since Engine::idle runs each
/// task once per project and a verb's validators run in the verb's project.
template <typename T>
class PerProject {
 public:
  explicit PerProject(Engine& engine) : engine_(engine) {}

  /// The state of the project the engine's current caller acts in.
  T& current() {
    auto& slot = items_[engine_.caller().project_id];
    if (!slot) slot = std::make_unique<T>(engine_);
    return *slot;
  }

 private:
  Engine& engine_;
  std::map<std::string, std::unique_ptr<T>, std::less<>> items_;
};

}  // namespace verdict
