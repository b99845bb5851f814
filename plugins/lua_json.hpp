#pragma once

#include <lua.h>

#include <boost/json.hpp>

namespace verdict::plugins {

/// How deep JSON values and Lua tables may nest when converted either way.
inline constexpr int kMaxJsonDepth = 32;

/// Registers what the conversions need in `L`: the metatable that marks arrays, so `[]` and `{}`
/// survive a round trip through Lua. Call once per state, inside a protected call.
void open_json(lua_State* L);

/// Pushes `value` converted to Lua: objects become tables (null members are left out, so an absent
/// field and a null one read the same: nil), arrays become sequences marked as arrays, null inside
/// an array becomes the `null` sentinel so positions are kept. Raises a Lua error past
/// kMaxJsonDepth.
void push_json(lua_State* L, const boost::json::value& value);
void push_object(lua_State* L, const boost::json::object& object);
/// Pushes a new empty table marked as a JSON array.
void push_array(lua_State* L);
/// Pushes the `null` sentinel: a light userdata that converts to JSON null.
void push_null(lua_State* L);

/// Converts the Lua value at `index`: a table whose keys are exactly 1..n (or that is marked as an
/// array) becomes an array, any other table an object with string keys. Throws Error for values
/// JSON cannot hold (functions, NaN, mixed keys) and past kMaxJsonDepth.
boost::json::value to_json(lua_State* L, int index);
/// Like to_json, but requires a table that converts to an object; `what` names it in errors.
boost::json::object to_object(lua_State* L, int index, const char* what);

}  // namespace verdict::plugins
