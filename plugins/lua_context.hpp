#pragma once

#include <lua.h>

#include <string>

namespace verdict::plugins {

/// Pushes `ctx`, what after hooks and scripts use to reach the engine: `ctx.<Noun>.find(filter,
/// {sort=, limit=, cursor=})`, `ctx.<Noun>.get(id)` and `ctx.<Noun>.<verb>([id,] [data])` for every
/// verb of the live schema (create, update, rollout, plugin verbs, ...). Verbs run through
/// Engine::execute as the current CallFrame's actor at its depth + 1, so they have their own hooks
/// and events. Use inside LuaSandbox::call().
void push_context(lua_State* L);

/// Pushes `ctx.<noun>` on its own, for scripts that name nouns directly (`Experiment.find{}`).
void push_noun_context(lua_State* L, const std::string& noun);

}  // namespace verdict::plugins
