#pragma once

#include <boost/json.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/engine.hpp"
#include "plugins/limits.hpp"

namespace verdict::plugins {

class HookSet;

/// Where hook scripts come from and how much they may use.
struct HookOptions {
  bool use_shipped = true;  ///< load `shipped_dir` first
  std::filesystem::path shipped_dir = VERDICT_HOOKS_DIR;
  std::vector<std::filesystem::path> dirs;  ///< `--hooks DIR`, in order; a file named like an
                                            ///< earlier one replaces it (see find_scripts)
  Limits limits;
};

/// The Lua plugin host: runs the before and after hooks operators write in Lua, and the verbs and
/// fields their scripts declare. Construct it on the engine's executor, then hand it to
/// Engine::set_hooks. Not thread-safe: the engine's executor thread calls it.
///
///     auto hooks = std::make_shared<LuaHookRunner>(engine, HookOptions{.dirs = {"ops"}});
///     engine.set_hooks(hooks);
///
/// Plugin verbs and fields are added to the engine's schema by the constructor and reload(), so
/// anything derived from the schema (tool lists) should be built after them.
class LuaHookRunner final : public HookRunner {
 public:
  /// Loads every script; throws Error naming the file and line when one fails to load.
  LuaHookRunner(Engine& engine, HookOptions options);
  ~LuaHookRunner() override;

  std::optional<boost::json::object> before(const HookContext& context,
                                            const boost::json::object& entity) override;
  std::vector<HookFailure> after(const HookContext& context, const boost::json::object& entity,
                                 Engine& engine) override;
  /// Runs the reload a stopped script asked for (see recover()), if any.
  void idle() override;

  /// Loads the directories again into a fresh Lua state and swaps it in whole (SIGHUP). When a
  /// script fails to load, the running set stays and the error is thrown. Call it between
  /// verbs (from the engine's executor, like idle()): it may add verbs and fields to the schema.
  void reload();
  /// True when a stopped script left the Lua state full and idle() will rebuild it.
  bool reload_pending() const { return reload_pending_; }

  /// The loaded scripts in load order, e.g. `hooks/starting-validation.lua`.
  std::vector<std::string> scripts() const;
  std::size_t hook_count() const;

 private:
  struct Slot;

  std::shared_ptr<HookSet> build() const;
  void install(const HookSet& set);
  /// Asks idle() to rebuild a set whose state a stopped script left full. Never reloads in place:
  /// the verb that ran the hook still holds references into the schema a reload may change.
  void recover(const HookSet& set);

  Engine& engine_;
  HookOptions options_;
  std::shared_ptr<Slot> slot_;
  bool reload_pending_ = false;
};

}  // namespace verdict::plugins
