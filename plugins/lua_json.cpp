#include "plugins/lua_json.hpp"

#include <lauxlib.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "core/error.hpp"
#include "core/utf8.hpp"

namespace verdict::plugins {

namespace json = boost::json;

namespace {

constexpr const char* kArrayMeta = "verdict.array";
// Its address is the sentinel's identity; the value is never read.
constexpr char kNullSentinel = 0;

[[noreturn]] void too_deep() {
  throw Error(ErrorCode::kLimitExceeded,
              "values nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
}

void push_value(lua_State* L, const json::value& value, int depth);

void push_object_at(lua_State* L, const json::object& object, int depth) {
  if (depth > kMaxJsonDepth) too_deep();
  luaL_checkstack(L, 3, "converting JSON");
  lua_createtable(L, 0, static_cast<int>(object.size()));
  for (const auto& [key, member] : object) {
    if (member.is_null()) continue;
    lua_pushlstring(L, key.data(), key.size());
    push_value(L, member, depth + 1);
    lua_rawset(L, -3);
  }
}

void push_value(lua_State* L, const json::value& value, int depth) {
  switch (value.kind()) {
    case json::kind::null:
      return push_null(L);
    case json::kind::bool_:
      return lua_pushboolean(L, value.get_bool());
    case json::kind::int64:
      return lua_pushinteger(L, value.get_int64());
    case json::kind::uint64:
      if (value.get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<lua_Integer>::max()))
        return lua_pushinteger(L, static_cast<lua_Integer>(value.get_uint64()));
      return lua_pushnumber(L, static_cast<lua_Number>(value.get_uint64()));
    case json::kind::double_:
      return lua_pushnumber(L, value.get_double());
    case json::kind::string:
      return (void)lua_pushlstring(L, value.get_string().data(), value.get_string().size());
    case json::kind::array: {
      if (depth > kMaxJsonDepth) too_deep();
      luaL_checkstack(L, 2, "converting JSON");
      const auto& array = value.get_array();
      lua_createtable(L, static_cast<int>(array.size()), 0);
      luaL_setmetatable(L, kArrayMeta);
      lua_Integer position = 1;
      for (const auto& item : array) {
        push_value(L, item, depth + 1);
        lua_rawseti(L, -2, position++);
      }
      return;
    }
    case json::kind::object:
      return push_object_at(L, value.get_object(), depth);
  }
}

bool is_marked_array(lua_State* L, int index) {
  if (!lua_getmetatable(L, index)) return false;
  luaL_getmetatable(L, kArrayMeta);
  bool marked = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return marked;
}

// A table is an array when its keys are exactly 1..n; counting them needs one pass.
bool is_sequence(lua_State* L, int index, lua_Integer length) {
  lua_Integer count = 0;
  lua_pushnil(L);
  while (lua_next(L, index)) {
    lua_pop(L, 1);
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > length) {
      lua_pop(L, 1);
      return false;
    }
    ++count;
  }
  return count == length;
}

// Where a value sits in the table being converted, kept on the C++ stack and spelt out only
// for an error: `variants[2].key`.
struct Path {
  const Path* parent = nullptr;
  std::string_view key;     ///< a member name, or empty for an array position
  lua_Integer element = 0;  ///< the position (1-based in Lua, 0-based in the name) when no key
};

std::string spell(const Path* path) {
  if (!path) return {};
  std::string out = spell(path->parent);
  if (!path->key.empty()) return out + (out.empty() ? "" : ".") + std::string(path->key);
  return out + "[" + std::to_string(path->element - 1) + "]";
}

// Strings from JSON are UTF-8 by construction; strings from Lua are bytes and get the same check.
std::string_view checked_text(lua_State* L, int index, const Path* path, const char* what) {
  std::size_t size = 0;
  const char* data = lua_tolstring(L, index, &size);
  std::string_view text(data, size);
  if (std::size_t valid = valid_utf8_prefix(text); valid != text.size()) {
    std::string field = spell(path);
    throw Error(ErrorCode::kInvalidArgument,
                (field.empty() ? std::string() : field + ": ") + what +
                    " is not valid UTF-8 (byte " + std::to_string(valid + 1) +
                    "); strings must be UTF-8, as in JSON",
                field);
  }
  return text;
}

json::value to_value(lua_State* L, int index, int depth, const Path* path);

json::object table_to_object(lua_State* L, int index, int depth, const Path* path) {
  json::object object;
  lua_pushnil(L);
  while (lua_next(L, index)) {
    // lua_tolstring on a number key would change it in place and break lua_next.
    if (lua_type(L, -2) != LUA_TSTRING) {
      std::string type = luaL_typename(L, -2);
      throw Error(ErrorCode::kInvalidArgument,
                  "table keys must be strings to convert to JSON (found a " + type +
                      " key; arrays need keys 1..n)");
    }
    std::string_view key = checked_text(L, -2, path, "a key");
    Path member{path, key.empty() ? std::string_view("\"\"") : key};
    object[key] = to_value(L, lua_gettop(L), depth + 1, &member);
    lua_pop(L, 1);
  }
  return object;
}

json::value table_to_json(lua_State* L, int index, int depth, const Path* path) {
  if (depth > kMaxJsonDepth) too_deep();
  luaL_checkstack(L, 4, "converting to JSON");
  auto length = static_cast<lua_Integer>(lua_rawlen(L, index));
  bool marked = is_marked_array(L, index);
  if ((length > 0 || marked) && is_sequence(L, index, length)) {
    json::array array;
    array.reserve(static_cast<std::size_t>(length));
    for (lua_Integer i = 1; i <= length; ++i) {
      lua_rawgeti(L, index, i);
      Path element{path, {}, i};
      array.push_back(to_value(L, lua_gettop(L), depth + 1, &element));
      lua_pop(L, 1);
    }
    return array;
  }
  if (marked) throw Error(ErrorCode::kInvalidArgument, "an array may only have the keys 1..n");
  return table_to_object(L, index, depth, path);
}

json::value to_value(lua_State* L, int index, int depth, const Path* path) {
  switch (lua_type(L, index)) {
    case LUA_TNIL:
      return nullptr;
    case LUA_TBOOLEAN:
      return static_cast<bool>(lua_toboolean(L, index));
    case LUA_TNUMBER: {
      if (lua_isinteger(L, index)) return static_cast<std::int64_t>(lua_tointeger(L, index));
      double number = lua_tonumber(L, index);
      if (!std::isfinite(number))
        throw Error(ErrorCode::kInvalidArgument, "JSON cannot hold NaN or infinite numbers");
      return number;
    }
    case LUA_TSTRING:
      return json::string(checked_text(L, index, path, "the string"));
    case LUA_TTABLE:
      return table_to_json(L, lua_absindex(L, index), depth, path);
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, index) == &kNullSentinel) return nullptr;
      [[fallthrough]];
    default: {
      std::string type = luaL_typename(L, index);
      throw Error(ErrorCode::kInvalidArgument, "cannot convert a " + type + " to JSON");
    }
  }
}

}  // namespace

void open_json(lua_State* L) {
  luaL_newmetatable(L, kArrayMeta);
  // Scripts may test `getmetatable(t)` but never get the shared table to change it.
  lua_pushboolean(L, false);
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);
}

void push_json(lua_State* L, const json::value& value) {
  push_value(L, value, 0);
}

void push_object(lua_State* L, const json::object& object) {
  push_object_at(L, object, 0);
}

void push_array(lua_State* L) {
  lua_newtable(L);
  luaL_setmetatable(L, kArrayMeta);
}

void push_null(lua_State* L) {
  lua_pushlightuserdata(L, const_cast<char*>(&kNullSentinel));
}

json::value to_json(lua_State* L, int index) {
  return to_value(L, lua_absindex(L, index), 0, nullptr);
}

json::object to_object(lua_State* L, int index, const char* what) {
  json::value value = to_json(L, index);
  if (!value.is_object())
    throw Error(ErrorCode::kInvalidArgument,
                std::string(what) + " must be a table with string keys, not " +
                    (value.is_array() ? "an array" : luaL_typename(L, index)));
  return std::move(value.get_object());
}

}  // namespace verdict::plugins
