#include "plugins/lua_context.hpp"

#include <lauxlib.h>

#include "core/engine.hpp"
#include "core/error.hpp"
#include "plugins/lua_json.hpp"
#include "plugins/lua_sandbox.hpp"

namespace verdict::plugins {

namespace json = boost::json;

namespace {

const CallFrame& serving_frame(lua_State* L) {
  const CallFrame* frame = LuaSandbox::from(L).frame();
  if (!frame || !frame->engine)
    throw Error(ErrorCode::kInvalidArgument,
                "ctx works only while an after hook or a script runs, not in before hooks, plugin "
                "verbs or a script's top level");
  return *frame;
}

std::string upvalue_string(lua_State* L, int index) {
  std::size_t size = 0;
  const char* text = lua_tolstring(L, lua_upvalueindex(index), &size);
  return std::string(text, size);
}

// An id, or an entity whose `id` is used: `ctx.FeatureFlag.rollout(flag)` reads naturally.
std::string id_argument(lua_State* L, int index) {
  if (lua_istable(L, index)) {
    lua_getfield(L, index, "id");
    lua_replace(L, index);
  }
  std::size_t size = 0;
  const char* id = luaL_checklstring(L, index, &size);
  return std::string(id, size);
}

void push_items(lua_State* L, const std::vector<json::object>& items) {
  push_array(L);
  lua_Integer position = 1;
  for (const auto& item : items) {
    push_object(L, item);
    lua_rawseti(L, -2, position++);
  }
}

FindQuery find_query(lua_State* L) {
  FindQuery query;
  // Hooks usually want every match ("all flags of this experiment"), not the tools' first page.
  query.limit = Store::kMaxLimit;
  if (!lua_isnoneornil(L, 1)) query.filter = to_object(L, 1, "find filter");
  if (lua_isnoneornil(L, 2)) return query;
  for (auto& [key, value] : to_object(L, 2, "find options")) {
    if (key == "sort" && value.is_object()) {
      query.sort = std::move(value.get_object());
    } else if (key == "limit" && value.is_int64()) {
      query.limit = value.get_int64();
    } else if (key == "cursor" && value.is_string()) {
      query.cursor = value.get_string();
    } else {
      throw Error(
          ErrorCode::kInvalidArgument,
          "find options: unknown or mistyped '" + std::string(key) +
              "' (allowed: sort = {field = 'asc'|'desc'}, limit = integer, cursor = string)");
    }
  }
  return query;
}

int find(lua_State* L) {
  const CallFrame& frame = serving_frame(L);
  FindResult result = frame.engine->find(frame.caller, upvalue_string(L, 1), find_query(L));
  push_items(L, result.items);
  if (result.next_cursor.empty()) {
    lua_pushnil(L);
  } else {
    lua_pushlstring(L, result.next_cursor.data(), result.next_cursor.size());
  }
  return 2;
}

int get(lua_State* L) {
  const CallFrame& frame = serving_frame(L);
  push_object(L, frame.engine->get(frame.caller, upvalue_string(L, 1), id_argument(L, 1)));
  return 1;
}

int run_verb(lua_State* L) {
  const CallFrame& frame = serving_frame(L);
  VerbRequest request{.noun = upvalue_string(L, 1),
                      .verb = upvalue_string(L, 2),
                      .actor = frame.actor,
                      .depth = frame.depth + 1,
                      .caller = frame.caller};
  const Verb* verb = frame.engine->schema().noun(request.noun).verb(request.verb);
  int data = 1;
  if (verb && verb->needs_entity) request.id = id_argument(L, data++);
  if (!lua_isnoneornil(L, data)) request.data = to_object(L, data, "verb data");
  push_json(L, frame.engine->execute(request));
  return 1;
}

// ctx.<Noun>.<key>: find and get live in the table; verbs are resolved against the schema on
// first use (plugin verbs appear after scripts load) and kept.
int noun_index(lua_State* L) {
  if (LuaSandbox::push_own_member(L)) return 1;
  const CallFrame& frame = serving_frame(L);
  lua_getfield(L, lua_upvalueindex(1), "__noun");
  std::string noun_name = lua_tostring(L, -1);
  std::string key = luaL_checkstring(L, 2);
  const Noun& noun = frame.engine->schema().noun(noun_name);
  const Verb* verb = noun.verb(key);
  if (!verb) {
    std::string names;
    for (const auto& v : noun.verbs) names += ", " + v.name;
    throw Error(ErrorCode::kNotFound,
                "ctx." + noun.name + " has no '" + key + "' (find, get" + names + ")");
  }
  lua_pushstring(L, noun_name.c_str());
  lua_pushstring(L, verb->name.c_str());
  lua_pushcclosure(L, &LuaSandbox::guarded<&run_verb>, 2);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, -2);
  lua_rawset(L, lua_upvalueindex(1));
  return 1;
}

int context_index(lua_State* L) {
  if (LuaSandbox::push_own_member(L)) return 1;
  const CallFrame& frame = serving_frame(L);
  std::string noun = frame.engine->schema().noun(luaL_checkstring(L, 2)).name;
  push_noun_context(L, noun);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, -2);
  lua_rawset(L, lua_upvalueindex(1));
  return 1;
}

}  // namespace

void push_noun_context(lua_State* L, const std::string& noun) {
  lua_createtable(L, 0, 4);
  lua_pushstring(L, noun.c_str());
  lua_setfield(L, -2, "__noun");
  for (auto [name, function] :
       {std::pair{"find", &LuaSandbox::guarded<&find>}, {"get", &LuaSandbox::guarded<&get>}}) {
    lua_pushstring(L, noun.c_str());
    lua_pushcclosure(L, function, 1);
    lua_setfield(L, -2, name);
  }
  LuaSandbox::make_read_only(L, &LuaSandbox::guarded<&noun_index>);
}

void push_context(lua_State* L) {
  lua_newtable(L);
  LuaSandbox::make_read_only(L, &LuaSandbox::guarded<&context_index>);
}

}  // namespace verdict::plugins
