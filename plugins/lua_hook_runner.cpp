#include "plugins/lua_hook_runner.hpp"

#include <set>

#include "core/error.hpp"
#include "core/log.hpp"
#include "plugins/hook_set.hpp"
#include "plugins/script_files.hpp"

namespace verdict::plugins {

namespace json = boost::json;

/// Shared with the apply functions of plugin verbs, which outlive a reload in the schema: they
/// always reach the current set, and fail cleanly once the runner is gone.
struct LuaHookRunner::Slot {
  std::shared_ptr<HookSet> current;
  std::set<std::string> installed;  ///< `Noun.verb` of plugin verbs added to the schema
};

LuaHookRunner::LuaHookRunner(Engine& engine, HookOptions options)
    : engine_(engine), options_(std::move(options)), slot_(std::make_shared<Slot>()) {
  reload();
}

LuaHookRunner::~LuaHookRunner() = default;

std::shared_ptr<HookSet> LuaHookRunner::build() const {
  std::vector<std::filesystem::path> dirs;
  if (options_.use_shipped) dirs.push_back(options_.shipped_dir);
  dirs.insert(dirs.end(), options_.dirs.begin(), options_.dirs.end());
  auto set = std::make_shared<HookSet>(engine_.schema(), options_.limits, slot_->installed);
  for (const auto& file : find_scripts(dirs)) set->load(file);
  return set;
}

void LuaHookRunner::install(const HookSet& set) {
  Schema& schema = engine_.schema();
  for (const auto& field : set.fields()) schema.add_field(field.noun, field.field);
  if (!set.fields().empty()) engine_.store().migrate();
  for (const auto& verb : set.verbs()) {
    std::string key = verb.noun + "." + verb.name;
    if (slot_->installed.contains(key)) continue;
    Verb declared =
        make_verb(verb.name, VerbKind::kUpdate, verb.event, "plugin verb from " + verb.script);
    declared.apply = [slot = std::weak_ptr<Slot>(slot_), noun = verb.noun, name = verb.name](
                         const Noun&, json::object& entity, const json::object& data) {
      auto owner = slot.lock();
      if (!owner)
        throw Error(ErrorCode::kNotFound,
                    noun + "." + name + " is a plugin verb and no hooks are loaded any more");
      // A copy: the set must survive a reload that happens while its function runs.
      std::shared_ptr<HookSet> set = owner->current;
      set->apply(noun, name, entity, data);
    };
    schema.add_verb(verb.noun, std::move(declared));
    slot_->installed.insert(key);
  }
}

void LuaHookRunner::reload() {
  std::shared_ptr<HookSet> fresh = build();
  install(*fresh);
  slot_->current = std::move(fresh);
  log(LogLevel::kInfo, "hooks: loaded " + std::to_string(slot_->current->scripts().size()) +
                           " scripts with " + std::to_string(slot_->current->hook_count()) +
                           " hooks");
}

void LuaHookRunner::recover(const HookSet& set) {
  if (!set.exhausted() || reload_pending_ || slot_->current.get() != &set) return;
  log(LogLevel::kWarning,
      "hooks: a stopped script left the Lua state full; reloading the hooks after this batch");
  reload_pending_ = true;
}

void LuaHookRunner::idle() {
  if (!reload_pending_) return;
  reload_pending_ = false;
  try {
    reload();
  } catch (const std::exception& error) {
    log(LogLevel::kError,
        std::string("hooks: reload after a stopped script failed: ") + error.what());
  }
}

std::optional<json::object> LuaHookRunner::before(const HookContext& context,
                                                  const json::object& entity) {
  std::shared_ptr<HookSet> set = slot_->current;
  try {
    auto modified = set->before(context, entity);
    recover(*set);
    return modified;
  } catch (...) {
    recover(*set);
    throw;
  }
}

std::vector<HookFailure> LuaHookRunner::after(const HookContext& context,
                                              const json::object& entity, Engine& engine) {
  std::shared_ptr<HookSet> set = slot_->current;
  auto failures = set->after(context, entity, engine);
  recover(*set);
  return failures;
}

std::vector<std::string> LuaHookRunner::scripts() const {
  return slot_->current->scripts();
}

std::size_t LuaHookRunner::hook_count() const {
  return slot_->current->hook_count();
}

}  // namespace verdict::plugins
