#include "plugins/hook_set.hpp"

#include <lauxlib.h>

#include <cctype>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "plugins/lua_context.hpp"
#include "plugins/lua_json.hpp"

namespace verdict::plugins {

namespace json = boost::json;

namespace {

// The entity as a hook sees it: with the slug of its project, so one hook set can serve every
// project and still tell them apart.
void push_entity(lua_State* L, const json::object& entity, const HookContext& context) {
  push_object(L, entity);
  const std::string& project = context.request.caller.project_slug;
  lua_pushlstring(L, project.data(), project.size());
  lua_setfield(L, -2, "project");
}

constexpr const char* kSetKey = "verdict.hooks";
constexpr std::uintmax_t kMaxScriptBytes = 1024 * 1024;

std::string upvalue_string(lua_State* L, int index) {
  return lua_tostring(L, lua_upvalueindex(index));
}

std::string checked_identifier(lua_State* L, int index, const char* what) {
  std::string name = luaL_checkstring(L, index);
  bool valid =
      !name.empty() && name.size() <= 64 && std::isalpha(static_cast<unsigned char>(name[0]));
  for (char c : name) valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (!valid)
    throw Error(ErrorCode::kInvalidArgument,
                std::string(what) + " '" + name.substr(0, 64) +
                    "' must be an identifier (a letter, then letters, digits or _)");
  return name;
}

}  // namespace

HookSet::HookSet(const Schema& schema, const Limits& limits, std::set<std::string> own_verbs)
    : schema_(schema), own_verbs_(std::move(own_verbs)), sandbox_(limits) {
  sandbox_.call(CallFrame{}, ErrorCode::kInternal, [this](lua_State* L) { open_api(L); });
}

HookSet::~HookSet() = default;

HookSet& HookSet::from(lua_State* L) {
  lua_getfield(L, LUA_REGISTRYINDEX, kSetKey);
  auto* set = static_cast<HookSet*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  return *set;
}

void HookSet::open_api(lua_State* L) {
  lua_pushlightuserdata(L, this);
  lua_setfield(L, LUA_REGISTRYINDEX, kSetKey);
  push_context(L);
  context_ = luaL_ref(L, LUA_REGISTRYINDEX);
  for (const auto& noun : schema_.nouns()) {
    lua_createtable(L, 0, 3);
    lua_pushstring(L, noun->name.c_str());
    lua_setfield(L, -2, "__noun");
    for (auto [name, function] : {std::pair{"verb", &LuaSandbox::guarded<&declare_verb>},
                                  {"field", &LuaSandbox::guarded<&declare_field>}}) {
      lua_pushstring(L, noun->name.c_str());
      lua_pushcclosure(L, function, 1);
      lua_setfield(L, -2, name);
    }
    LuaSandbox::make_read_only(L, &LuaSandbox::guarded<&api_index>);
    sandbox_.set_global(L, noun->name.c_str());
  }
}

std::vector<HookSet::HookNames> HookSet::hook_names(const Noun& noun) const {
  std::vector<HookNames> names;
  for (const auto& verb : noun.verbs)
    names.push_back({verb.name, verb.before_hook, verb.after_hook, runs_hooks(verb)});
  for (const auto& verb : verbs_)
    if (verb.noun == noun.name && !noun.verb(verb.name))
      names.push_back({verb.name, before_hook_name(verb.name), after_hook_name(verb.name)});
  return names;
}

// `Experiment.starting`: hook names come from the schema (and this set's plugin verbs), so a
// misspelt one is an error that lists the real ones rather than a call to nil.
int HookSet::api_index(lua_State* L) {
  if (LuaSandbox::push_own_member(L)) return 1;
  HookSet& set = from(L);
  lua_getfield(L, lua_upvalueindex(1), "__noun");
  const Noun& noun = set.schema_.noun(lua_tostring(L, -1));
  std::string key = luaL_checkstring(L, 2);
  std::string known;
  for (const auto& names : set.hook_names(noun)) {
    for (int phase : {0, 1}) {
      if (key != (phase == 0 ? names.before : names.after)) continue;
      if (!names.runs)
        throw Error(ErrorCode::kInvalidArgument, noun.name + "." + key + ": " + names.verb +
                                                     " works on no single " + noun.name +
                                                     ", so it runs no hooks");
      lua_pushstring(L, noun.name.c_str());
      lua_pushstring(L, names.verb.c_str());
      lua_pushinteger(L, phase);
      lua_pushcclosure(L, &LuaSandbox::guarded<&register_hook>, 3);
      return 1;
    }
    known += ", " + names.before + ", " + names.after;
  }
  throw Error(ErrorCode::kNotFound,
              noun.name + " has no hook '" + key + "' (verb, field" + known + ")");
}

void HookSet::require_loading(const char* what) const {
  if (loading_.empty())
    throw Error(ErrorCode::kInvalidArgument,
                std::string(what) + " only while a script loads, not from inside a hook");
}

int HookSet::register_hook(lua_State* L) {
  HookSet& set = from(L);
  set.require_loading("hooks are registered");
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_Debug info;
  lua_pushvalue(L, 1);
  lua_getinfo(L, ">S", &info);
  lua_settop(L, 1);
  Hook hook{luaL_ref(L, LUA_REGISTRYINDEX), set.loading_,
            std::string(info.short_src) + ":" + std::to_string(info.linedefined)};
  auto& hooks = set.hooks_[upvalue_string(L, 1) + "." + upvalue_string(L, 2)];
  (lua_tointeger(L, lua_upvalueindex(3)) == 0 ? hooks.before : hooks.after)
      .push_back(std::move(hook));
  ++set.hook_count_;
  return 0;
}

int HookSet::declare_verb(lua_State* L) {
  HookSet& set = from(L);
  set.require_loading("verbs are declared");
  const Noun& noun = set.schema_.noun(upvalue_string(L, 1));
  std::string name = checked_identifier(L, 1, "verb name");
  std::string event = checked_identifier(L, 2, "event name");
  luaL_checktype(L, 3, LUA_TFUNCTION);
  std::string key = noun.name + "." + name;
  if ((noun.verb(name) && !set.own_verbs_.contains(key)) || noun.field(name))
    throw Error(ErrorCode::kConflict, key + " already exists");
  if (set.functions_.contains(key)) throw Error(ErrorCode::kConflict, key + " is declared twice");
  lua_settop(L, 3);
  set.functions_[key] = Hook{luaL_ref(L, LUA_REGISTRYINDEX), set.loading_, set.loading_};
  set.verbs_.push_back({noun.name, name, event, set.loading_});
  return 0;
}

int HookSet::declare_field(lua_State* L) {
  HookSet& set = from(L);
  set.require_loading("fields are declared");
  const Noun& noun = set.schema_.noun(upvalue_string(L, 1));
  Field field = parse_field(luaL_checkstring(L, 1), luaL_checkstring(L, 2));
  std::vector<const Field*> declared;
  for (const auto& earlier : set.fields_)
    if (earlier.noun == noun.name) declared.push_back(&earlier.field);
  check_new_field(noun, field, declared);
  set.fields_.push_back({noun.name, std::move(field)});
  return 0;
}

void HookSet::load(const ScriptFile& file) {
  std::error_code error;
  auto size = std::filesystem::file_size(file.path, error);
  if (error) throw Error(ErrorCode::kNotFound, "cannot read " + file.name + ": " + error.message());
  if (size > kMaxScriptBytes)
    throw Error(ErrorCode::kLimitExceeded,
                file.name + " is larger than " + std::to_string(kMaxScriptBytes) + " bytes");
  std::ifstream input(file.path, std::ios::binary);
  std::ostringstream source;
  source << input.rdbuf();
  load(source.str(), file.name);
}

void HookSet::load(std::string_view source, const std::string& name) {
  loading_ = name;
  try {
    sandbox_.call(CallFrame{.script = name}, ErrorCode::kInvalidArgument, [&](lua_State* L) {
      sandbox_.load(L, source, name);
      lua_call(L, 0, 0);
    });
  } catch (const Error& error) {
    loading_.clear();
    throw Error(error.code(), "cannot load " + name + ": " + error.what());
  }
  loading_.clear();
  scripts_.push_back(name);
}

std::optional<json::object> HookSet::before(const HookContext& context,
                                            const json::object& entity) {
  auto found = hooks_.find(context.noun.name + "." + context.verb.name);
  if (found == hooks_.end()) return std::nullopt;
  std::optional<json::object> modified;
  for (const Hook& hook : found->second.before) {
    sandbox_.call(CallFrame{.script = hook.script}, ErrorCode::kHookRejected, [&](lua_State* L) {
      lua_rawgeti(L, LUA_REGISTRYINDEX, hook.function);
      push_entity(L, modified ? *modified : entity, context);
      lua_call(L, 1, 1);
      if (!lua_isnil(L, -1))
        modified = to_object(L, -1, ("the result of the before hook at " + hook.location).c_str());
    });
  }
  return modified;
}

std::vector<HookFailure> HookSet::after(const HookContext& context, const json::object& entity,
                                        Engine& engine) {
  std::vector<HookFailure> failures;
  auto found = hooks_.find(context.noun.name + "." + context.verb.name);
  if (found == hooks_.end()) return failures;
  std::optional<json::value> items;
  if (context.items && !found->second.after.empty()) items = context.items();
  for (const Hook& hook : found->second.after) {
    CallFrame frame{&engine, context.request.depth, "hook:" + hook.script, hook.script,
                    context.request.caller};
    try {
      sandbox_.call(frame, ErrorCode::kHookRejected, [&](lua_State* L) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, hook.function);
        push_entity(L, entity, context);
        lua_rawgeti(L, LUA_REGISTRYINDEX, context_);
        if (items) push_json(L, *items);
        lua_call(L, items ? 3 : 2, 0);
      });
    } catch (const std::exception& error) {
      failures.push_back({hook.location, error.what()});
    }
  }
  return failures;
}

void HookSet::apply(const std::string& noun, const std::string& verb, json::object& entity,
                    const json::object& data) {
  auto found = functions_.find(noun + "." + verb);
  if (found == functions_.end())
    throw Error(ErrorCode::kNotFound,
                noun + "." + verb + " is a plugin verb that no loaded script declares any more");
  const Hook& function = found->second;
  sandbox_.call(
      CallFrame{.script = function.script}, ErrorCode::kInvalidArgument, [&](lua_State* L) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, function.function);
        push_object(L, entity);
        push_object(L, data);
        lua_call(L, 2, 1);
        if (lua_isnil(L, -1)) return;
        json::object changed = to_object(L, -1, ("the result of " + noun + "." + verb).c_str());
        // A plugin verb changes fields; identity and state stay the pipeline's.
        for (const char* kept : {"id", "version", "createdAt", "status"}) {
          if (const auto* value = entity.if_contains(kept)) changed[kept] = *value;
        }
        entity = std::move(changed);
      });
}

}  // namespace verdict::plugins
