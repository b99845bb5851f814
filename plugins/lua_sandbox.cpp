#include "plugins/lua_sandbox.hpp"

#include <lauxlib.h>
#include <lualib.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>

#include "core/log.hpp"
#include "core/utf8.hpp"
#include "plugins/lua_json.hpp"
#include "plugins/lua_patterns.hpp"

namespace verdict::plugins {

namespace {

constexpr const char* kBaseKey = "verdict.base";
constexpr const char* kEnvMeta = "verdict.env";
// How often, in VM instructions, the budget is checked: rare enough to cost nothing measurable,
// frequent enough that a loop is stopped within microseconds of its deadline.
constexpr int kCheckInterval = 1000;
constexpr std::size_t kMaxPrint = 1000;

// Lua prefixes `error("text")` with "chunk:line: "; the text reads better first:
// "text (chunk:line)". Chunk names never contain a colon, so only the first one is considered.
std::string relocate(const std::string& message) {
  auto colon = message.find(':');
  if (colon == std::string::npos || colon == 0) return message;
  auto digits = colon + 1;
  while (digits < message.size() && std::isdigit(static_cast<unsigned char>(message[digits])))
    ++digits;
  if (digits == colon + 1 || message.compare(digits, 2, ": ") != 0) return message;
  return message.substr(digits + 2) + " (" + message.substr(0, digits) + ")";
}

std::string describe_error(lua_State* L, int index) {
  if (lua_type(L, index) == LUA_TSTRING || lua_type(L, index) == LUA_TNUMBER)
    return lua_tostring(L, index);
  return std::string("error raised with a ") + luaL_typename(L, index) + " value, not a message";
}

// The iterator of a read-only view walks the table behind it (its upvalue) and ignores the state
// argument, so the script never holds the real table: `local _, real = pairs(string)` gets the
// view, whose writes are refused.
int view_next(lua_State* L) {
  lua_settop(L, 2);
  if (lua_next(L, lua_upvalueindex(1))) return 2;
  lua_pushnil(L);
  return 1;
}

int view_pairs(lua_State* L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushcclosure(L, &view_next, 1);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

int refuse_write(lua_State* L) {
  return luaL_error(L, "cannot assign '%s': this table is shared by every script and read-only",
                    luaL_tolstring(L, 2, nullptr));
}

// Lua's own setmetatable, minus __gc: a finalizer would run outside any hook's budget.
int set_metatable(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  int type = lua_type(L, 2);
  luaL_argexpected(L, type == LUA_TNIL || type == LUA_TTABLE, 2, "nil or table");
  if (type == LUA_TTABLE) {
    lua_pushliteral(L, "__gc");
    if (lua_rawget(L, 2) != LUA_TNIL) return luaL_error(L, "__gc metamethods are not allowed");
    lua_pop(L, 1);
  }
  if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
    return luaL_error(L, "cannot change a protected metatable");
  lua_settop(L, 2);
  lua_setmetatable(L, 1);
  return 1;
}

int collect_garbage(lua_State* L) {
  const char* option = luaL_optstring(L, 1, "collect");
  if (std::strcmp(option, "count") != 0)
    return luaL_error(L, "collectgarbage('%s') is not allowed; only 'count' is", option);
  lua_pushnumber(L, lua_gc(L, LUA_GCCOUNT) + lua_gc(L, LUA_GCCOUNTB) / 1024.0);
  return 1;
}

// Protocol output owns stdout, so print goes to the log.
int print(lua_State* L) {
  std::string line;
  for (int i = 1, n = lua_gettop(L); i <= n && line.size() < kMaxPrint; ++i) {
    if (i > 1) line += '\t';
    std::size_t size = 0;
    const char* text = luaL_tolstring(L, i, &size);
    line.append(text, size);
    lua_pop(L, 1);
  }
  const CallFrame* frame = LuaSandbox::from(L).frame();
  log(LogLevel::kInfo,
      (frame && !frame->script.empty() ? frame->script : "lua") + ": " + line.substr(0, kMaxPrint));
  return 0;
}

// `load` for text only, into the caller's environment unless one is given: the stock `load`
// would accept bytecode and default to the real globals.
int load_text(lua_State* L) {
  std::size_t size = 0;
  const char* chunk = luaL_checklstring(L, 1, &size);
  // The parser is C too: a byte of source costs about what an instruction does.
  LuaSandbox::from(L).charge(L, static_cast<std::int64_t>(size));
  const char* name = luaL_optstring(L, 2, "=(load)");
  if (std::strcmp(luaL_optstring(L, 3, "t"), "t") != 0) {
    lua_pushnil(L);
    lua_pushliteral(L, "only text chunks can be loaded (mode 't')");
    return 2;
  }
  if (luaL_loadbufferx(L, chunk, size, name, "t") != LUA_OK) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
  }
  lua_pushvalue(L, lua_isnoneornil(L, 4) ? lua_upvalueindex(1) : 4);
  if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
  return 1;
}

// Calls the function in upvalue 1 with the arguments, returning all its results: the stock
// function behind a wrapper that bounds it.
int call_stock(lua_State* L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

// Lua calls a message handler without hooks when the error was raised by a hook, which is how a
// spent budget stops a script: a handler that loops would then run for ever. So the script's
// handler runs only for its own errors; a stop passes through untouched.
int bounded_message_handler(lua_State* L) {
  if (LuaSandbox::from(L).stopped()) return 1;
  return call_stock(L);
}

// xpcall(f, handler, ...) with the handler wrapped as above.
int bounded_xpcall(lua_State* L) {
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_pushvalue(L, 2);
  lua_pushcclosure(L, &bounded_message_handler, 1);
  lua_replace(L, 2);
  return call_stock(L);
}

// Long loops in C that the count hook cannot see and memory does not bound are charged to the
// budget, or cut short, before the stock function runs.
// string.rep('', 1e15) allocates nothing and copies nothing, 10^15 times.
int bounded_rep(lua_State* L) {
  std::size_t length = 0, separator = 0;
  luaL_checklstring(L, 1, &length);
  luaL_checkinteger(L, 2);
  luaL_optlstring(L, 3, "", &separator);
  if (length + separator == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  return call_stock(L);
}

// table.move({}, 1, 1e14, 2) moves 10^14 nils.
int bounded_move(lua_State* L) {
  lua_Integer first = luaL_checkinteger(L, 2);
  lua_Integer last = luaL_checkinteger(L, 3);
  if (last >= first && (first > 0 || last < LUA_MAXINTEGER + first))
    LuaSandbox::from(L).charge(L, last - first + 1);
  return call_stock(L);
}

void wrap_stock(lua_State* L, const char* name, lua_CFunction wrapper) {
  lua_getfield(L, -1, name);
  lua_pushcclosure(L, wrapper, 1);
  lua_setfield(L, -2, name);
}

int mark_array(lua_State* L) {
  if (lua_isnoneornil(L, 1)) {
    push_array(L);
    return 1;
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  push_array(L);
  lua_getmetatable(L, -1);
  lua_setmetatable(L, 1);
  lua_settop(L, 1);
  return 1;
}

void copy_fields(lua_State* L, int from, int to, std::initializer_list<const char*> names) {
  from = lua_absindex(L, from);
  to = lua_absindex(L, to);
  for (const char* name : names) {
    lua_getfield(L, from, name);
    lua_setfield(L, to, name);
  }
}

// Opens a library and replaces its table on the stack with a read-only view.
void open_read_only(lua_State* L, const char* name, lua_CFunction open) {
  luaL_requiref(L, name, open, 0);
  LuaSandbox::make_read_only(L);
}

}  // namespace

void LuaSandbox::StateCloser::operator()(lua_State* L) const {
  lua_close(L);
}

LuaSandbox::LuaSandbox(const Limits& limits) : limits_(limits) {
  lua_State* L = lua_newstate(&allocate, this);
  if (!L)
    throw Error(ErrorCode::kLimitExceeded, "cannot create a Lua state within the memory limit");
  state_.reset(L);
  *static_cast<LuaSandbox**>(lua_getextraspace(L)) = this;
  call(CallFrame{}, ErrorCode::kInternal, [this](lua_State* L) { open_libraries(L); });
}

LuaSandbox::~LuaSandbox() = default;

LuaSandbox& LuaSandbox::from(lua_State* L) {
  return **static_cast<LuaSandbox**>(lua_getextraspace(L));
}

void LuaSandbox::open_libraries(lua_State* L) {
  open_json(L);
  luaL_requiref(L, LUA_GNAME, luaopen_base, 0);
  int stock = lua_gettop(L);
  lua_newtable(L);
  int base = lua_gettop(L);
  copy_fields(L, stock, base,
              {"assert", "error", "getmetatable", "ipairs", "next", "pairs", "pcall", "rawequal",
               "rawget", "rawlen", "select", "tonumber", "tostring", "type", "xpcall", "_VERSION"});
  lua_getfield(L, stock, "xpcall");
  lua_pushcclosure(L, &bounded_xpcall, 1);
  lua_setfield(L, base, "xpcall");
  for (auto [name, function] : {std::pair{"setmetatable", &set_metatable},
                                {"collectgarbage", &collect_garbage},
                                {"print", &print},
                                {"array", &mark_array}}) {
    lua_pushcfunction(L, function);
    lua_setfield(L, base, name);
  }
  push_null(L);
  lua_setfield(L, base, "null");

  luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 0);
  // Removed from the library itself: `("").dump` reaches it through the string metatable.
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");
  open_bounded_patterns(L);
  wrap_stock(L, "rep", &bounded_rep);
  make_read_only(L);
  lua_setfield(L, base, "string");
  lua_pushliteral(L, "");
  lua_getmetatable(L, -1);
  lua_pushboolean(L, false);
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 2);
  luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 0);
  wrap_stock(L, "move", &bounded_move);
  make_read_only(L);
  lua_setfield(L, base, LUA_TABLIBNAME);
  for (auto [name, open] :
       {std::pair{LUA_MATHLIBNAME, &luaopen_math}, {LUA_UTF8LIBNAME, &luaopen_utf8}}) {
    open_read_only(L, name, open);
    lua_setfield(L, base, name);
  }
  luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 0);
  lua_newtable(L);
  copy_fields(L, -2, lua_gettop(L), {"time", "date", "clock"});
  make_read_only(L);
  lua_setfield(L, base, LUA_OSLIBNAME);
  lua_pop(L, 1);

  lua_pushvalue(L, base);
  lua_setfield(L, LUA_REGISTRYINDEX, kBaseKey);
  luaL_newmetatable(L, kEnvMeta);
  lua_pushvalue(L, base);
  lua_setfield(L, -2, "__index");
  lua_pushboolean(L, false);
  lua_setfield(L, -2, "__metatable");
  // The stock globals (with the unsafe functions) become unreachable: nothing defaults to them.
  lua_newtable(L);
  lua_rawseti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  lua_settop(L, 0);
}

void LuaSandbox::make_read_only(lua_State* L, lua_CFunction index) {
  int table = lua_gettop(L);
  lua_newtable(L);
  lua_createtable(L, 0, 4);
  lua_pushvalue(L, table);
  if (index) lua_pushcclosure(L, index, 1);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, &refuse_write);
  lua_setfield(L, -2, "__newindex");
  lua_pushvalue(L, table);
  lua_pushcclosure(L, &view_pairs, 1);
  lua_setfield(L, -2, "__pairs");
  lua_pushboolean(L, false);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_replace(L, table);
}

bool LuaSandbox::push_own_member(lua_State* L) {
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return true;
  lua_pop(L, 1);
  return false;
}

void LuaSandbox::set_global(lua_State* L, const char* name) {
  lua_getfield(L, LUA_REGISTRYINDEX, kBaseKey);
  lua_insert(L, -2);
  lua_setfield(L, -2, name);
  lua_pop(L, 1);
}

void LuaSandbox::load(lua_State* L, std::string_view source, const std::string& name) {
  std::string chunk = "@" + name;
  int status = luaL_loadbufferx(L, source.data(), source.size(), chunk.c_str(), "t");
  if (status != LUA_OK) {
    std::string message = describe_error(L, -1);
    lua_pop(L, 1);
    if (status == LUA_ERRMEM)
      throw Error(ErrorCode::kLimitExceeded, "memory limit reached loading " + name);
    throw Error(ErrorCode::kInvalidArgument, "syntax error at " + message);
  }
  // The script's own globals: writes stay here, reads fall through to the shared ones.
  lua_newtable(L);
  luaL_setmetatable(L, kEnvMeta);
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, &guarded<&load_text>, 1);
  lua_setfield(L, -2, "load");
  lua_pushvalue(L, -1);
  lua_setfield(L, -2, "_G");
  lua_setupvalue(L, -2, 1);
}

void LuaSandbox::call(const CallFrame& frame, ErrorCode script_error,
                      const std::function<void(lua_State*)>& body) {
  lua_State* L = state_.get();
  const bool outermost = level_ == 0;
  if (outermost) start_budget();
  const CallFrame* outer = std::exchange(frame_, &frame);
  ++level_;
  lua_pushcfunction(L, &guarded<&run_body>);
  lua_pushlightuserdata(L, const_cast<std::function<void(lua_State*)>*>(&body));
  // lua_pcall catches everything thrown inside, so the bookkeeping below always runs.
  int status = lua_pcall(L, 1, 0, 0);
  --level_;
  frame_ = outer;
  if (status != LUA_OK) {
    try {
      fail(status, frame, script_error);
    } catch (...) {
      if (outermost) settle();
      throw;
    }
  }
  if (outermost) settle();
}

int LuaSandbox::run_body(lua_State* L) {
  const auto& body = *static_cast<const std::function<void(lua_State*)>*>(lua_touserdata(L, 1));
  lua_pop(L, 1);
  body(L);
  return 0;
}

void LuaSandbox::fail(int status, const CallFrame& frame, ErrorCode script_error) {
  lua_State* L = state_.get();
  std::string message = describe_error(L, -1);
  lua_pop(L, 1);
  // Scripts raise bytes; messages reach clients and the event log (HookFailed), so as UTF-8.
  if (!killed_.empty()) throw Error(ErrorCode::kLimitExceeded, valid_utf8(killed_));
  if (status == LUA_ERRMEM)
    throw Error(ErrorCode::kLimitExceeded,
                "memory limit of " + std::to_string(limits_.memory_bytes) + " bytes exceeded" +
                    (frame.script.empty() ? "" : " (" + frame.script + ")"));
  ErrorCode code = script_error;
  std::string field;
  if (pending_ && message == pending_message_) {
    try {
      std::rethrow_exception(pending_);
    } catch (const Error& error) {
      code = error.code();
      field = error.field();
    }
  }
  throw Error(code, relocate(valid_utf8(message)), std::move(field));
}

void LuaSandbox::start_budget() {
  killed_.clear();
  refused_ = false;
  pending_ = nullptr;
  instructions_ = 0;
  deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(limits_.milliseconds);
  auto interval = std::clamp<std::int64_t>(limits_.instructions, 1, kCheckInterval);
  lua_sethook(state_.get(), &count_hook, LUA_MASKCOUNT, static_cast<int>(interval));
}

void LuaSandbox::settle() {
  pending_ = nullptr;
  if (killed_.empty() && !refused_) return;
  // What the stopped call allocated is garbage now, unless a script kept it in its globals.
  lua_gc(state_.get(), LUA_GCCOLLECT);
  exhausted_ = used_ > limits_.memory_bytes / 4 * 3;
}

void LuaSandbox::kill(std::string reason) {
  killed_ = std::move(reason);
  // From now on every line and instruction raises again, so a pcall in the script cannot
  // swallow the stop (Redis's approach).
  lua_sethook(state_.get(), &count_hook, LUA_MASKCOUNT | LUA_MASKLINE, 1);
}

std::string LuaSandbox::spend(std::int64_t work) {
  instructions_ += work;
  if (interrupted_.load(std::memory_order_relaxed)) return "stopped: the server is shutting down";
  if (instructions_ >= limits_.instructions)
    return "instruction limit of " + std::to_string(limits_.instructions) + " exceeded";
  if (std::chrono::steady_clock::now() >= deadline_)
    return "time limit of " + std::to_string(limits_.milliseconds) + " ms exceeded";
  return {};
}

void LuaSandbox::count_hook(lua_State* L, lua_Debug* debug) {
  auto& self = from(L);
  if (self.level_ == 0) return;
  if (self.killed_.empty()) {
    std::string reason =
        self.spend(std::min<std::int64_t>(self.limits_.instructions, kCheckInterval));
    if (reason.empty()) return;
    lua_getinfo(L, "Sl", debug);
    self.kill(reason + " (" + debug->short_src + ":" + std::to_string(debug->currentline) + ")");
  }
  lua_pushstring(L, self.killed_.c_str());
  lua_error(L);
}

void LuaSandbox::charge(lua_State* L, std::int64_t work) {
  if (level_ == 0) return;
  if (killed_.empty()) {
    std::string reason = spend(work);
    if (reason.empty()) return;
    // The script line that called the C function: "t.lua:3: " becomes "(t.lua:3)".
    luaL_where(L, 1);
    std::string where = lua_tostring(L, -1);
    lua_pop(L, 1);
    if (where.size() > 2) reason += " (" + where.substr(0, where.size() - 2) + ")";
    kill(std::move(reason));
  }
  lua_pushstring(L, killed_.c_str());
  lua_error(L);
}

void LuaSandbox::interrupt_all(bool on) {
  interrupted_.store(on, std::memory_order_relaxed);
}

void* LuaSandbox::allocate(void* user, void* block, std::size_t old_size, std::size_t new_size) {
  auto& self = *static_cast<LuaSandbox*>(user);
  // Without a block, old_size tells the kind of object, not a size.
  std::size_t held = block ? old_size : 0;
  if (new_size == 0) {
    std::free(block);
    self.used_ -= held;
    return nullptr;
  }
  if (new_size > held && self.used_ - held + new_size > self.limits_.memory_bytes) {
    // Lua answers a refusal with a full collection and one retry; refused twice in a row, the
    // script really holds too much, and the stop must not be swallowed by a pcall either.
    if (self.refused_ && self.level_ > 0 && self.killed_.empty() && self.state_)
      self.kill("memory limit of " + std::to_string(self.limits_.memory_bytes) + " bytes exceeded" +
                (self.frame_ ? " (" + self.frame_->script + ")" : ""));
    self.refused_ = true;
    return nullptr;
  }
  void* resized = std::realloc(block, new_size);
  if (!resized) return nullptr;
  self.refused_ = false;
  self.used_ = self.used_ - held + new_size;
  return resized;
}

void LuaSandbox::remember(std::exception_ptr error, std::string message) {
  pending_ = std::move(error);
  pending_message_ = std::move(message);
}

int LuaSandbox::raise_remembered(lua_State* L) {
  luaL_where(L, 1);
  lua_pushstring(L, pending_message_.c_str());
  lua_concat(L, 2);
  pending_message_ = lua_tostring(L, -1);
  return lua_error(L);
}

}  // namespace verdict::plugins
