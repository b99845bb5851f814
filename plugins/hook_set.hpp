#pragma once

#include <boost/json.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/engine.hpp"
#include "core/schema.hpp"
#include "plugins/limits.hpp"
#include "plugins/lua_sandbox.hpp"
#include "plugins/script_files.hpp"

namespace verdict::plugins {

/// A verb a script declared with `Noun.verb(name, event, fn)`.
struct PluginVerb {
  std::string noun;
  std::string name;
  std::string event;
  std::string script;
};

/// A field a script declared with `Noun.field(name, spec)`.
struct PluginField {
  std::string noun;
  Field field;
};

/// One generation of loaded hook scripts: their sandbox, the hooks they registered in load order,
/// and the verbs and fields they declared. LuaHookRunner swaps whole sets on reload; check_hooks
/// loads one against a scratch schema. Not thread-safe.
class HookSet {
 public:
  /// `schema` resolves hook names while scripts load; `own_verbs` lists the `Noun.verb` keys of
  /// plugin verbs an earlier set of the same runner added to it, which scripts may declare again.
  HookSet(const Schema& schema, const Limits& limits, std::set<std::string> own_verbs = {});
  HookSet(const HookSet&) = delete;
  HookSet& operator=(const HookSet&) = delete;
  ~HookSet();

  /// Runs a script's top level, which registers hooks and declares verbs and fields. Throws Error
  /// naming the file and line of a syntax error, a runtime error, or a spent limit.
  void load(const ScriptFile& file);
  void load(std::string_view source, const std::string& name);

  /// Runs the before hooks of the verb in load order, each on the entity as the previous left it;
  /// returns the modified entity when one returned a table. Throws Error(kHookRejected) with the
  /// script's message when one raises, kLimitExceeded when one is stopped.
  std::optional<boost::json::object> before(const HookContext& context,
                                            const boost::json::object& entity);
  /// Runs every after hook of the verb with (entity, ctx); one failing does not stop the others.
  std::vector<HookFailure> after(const HookContext& context, const boost::json::object& entity,
                                 Engine& engine);
  /// Runs a plugin verb's function on the proposed entity.
  void apply(const std::string& noun, const std::string& verb, boost::json::object& entity,
             const boost::json::object& data);

  const std::vector<PluginVerb>& verbs() const { return verbs_; }
  const std::vector<PluginField>& fields() const { return fields_; }
  const std::vector<std::string>& scripts() const { return scripts_; }
  std::size_t hook_count() const { return hook_count_; }
  /// See LuaSandbox::exhausted(): the set should be rebuilt between batches.
  bool exhausted() const { return sandbox_.exhausted(); }

 private:
  struct Hook {
    int function;          ///< registry reference
    std::string script;    ///< `hooks/x.lua`
    std::string location;  ///< `hooks/x.lua:12`, where the function is defined
  };
  struct VerbHooks {
    std::vector<Hook> before;
    std::vector<Hook> after;
  };

  static HookSet& from(lua_State* L);
  static int api_index(lua_State* L);
  static int register_hook(lua_State* L);
  static int declare_verb(lua_State* L);
  static int declare_field(lua_State* L);

  /// A verb of a noun with its hook names: schema verbs, then verbs declared in this set.
  struct HookNames {
    std::string verb;
    std::string before;
    std::string after;
    bool runs = true;  ///< see runs_hooks()
  };

  void open_api(lua_State* L);
  void require_loading(const char* what) const;
  std::vector<HookNames> hook_names(const Noun& noun) const;

  const Schema& schema_;
  std::set<std::string> own_verbs_;
  LuaSandbox sandbox_;
  std::map<std::string, VerbHooks, std::less<>> hooks_;  ///< keyed `Noun.verb`
  std::vector<PluginVerb> verbs_;
  std::map<std::string, Hook, std::less<>> functions_;  ///< plugin verb functions by `Noun.verb`
  std::vector<PluginField> fields_;
  std::vector<std::string> scripts_;
  std::string loading_;  ///< the script whose top level is running
  int context_ = 0;      ///< registry reference to `ctx`
  std::size_t hook_count_ = 0;
};

}  // namespace verdict::plugins
