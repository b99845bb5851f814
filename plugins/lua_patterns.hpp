#pragma once

#include <lua.h>

namespace verdict::plugins {

/// Replaces `find`, `match`, `gmatch` and `gsub` in the string library table on top of the stack
/// with the same functions over a matcher that charges its steps to the running script's budget
/// (LuaSandbox::charge). Lua's own matcher backtracks in C, where the count hook cannot stop it:
/// `s:match('^(.-)=(.-)=(.-)=(.-);$')` costs length^4 steps. Same patterns, results and errors as
/// Lua 5.4's lstrlib.c, from which the matcher is adapted (MIT licence, PUC-Rio).
void open_bounded_patterns(lua_State* L);

}  // namespace verdict::plugins
