#pragma once

#include <lua.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/access/caller.hpp"
#include "core/error.hpp"
#include "plugins/limits.hpp"

namespace verdict {
class Engine;
}

namespace verdict::plugins {

/// Who Lua code acts for while it runs; the `ctx` API reads it.
struct CallFrame {
  Engine* engine = nullptr;  ///< null: the `ctx` API refuses (loading, before hooks, plugin verbs)
  int depth = 0;             ///< the depth of the verb being served; ctx verbs run at depth + 1
  std::string actor;         ///< recorded on the events of verbs run through `ctx`
  std::string script;        ///< the running script, named in limit errors
  Caller caller;             ///< whose project every `ctx` call is scoped to
};

/// One sandboxed Lua state: only base, string, table, math, utf8 and os.time/date/clock; text
/// chunks only; every script in its own environment over read-only shared globals; instruction,
/// time and memory limits. Not thread-safe: one executor thread owns it.
class LuaSandbox {
 public:
  explicit LuaSandbox(const Limits& limits);
  LuaSandbox(const LuaSandbox&) = delete;
  LuaSandbox& operator=(const LuaSandbox&) = delete;
  ~LuaSandbox();

  /// The sandbox that owns `L`.
  static LuaSandbox& from(lua_State* L);

  /// Runs `body` in a protected call under the limits, with `frame` as the current frame. The
  /// outermost call starts a fresh instruction and time budget; calls nested through `ctx` share
  /// it. Errors come out as verdict::Error: a spent budget or memory as kLimitExceeded naming the
  /// script and line; anything else with its location moved to the end, "message (hooks/x.lua:3)",
  /// and the code of the verdict::Error raised through Lua when the script let it through, else
  /// `script_error`. Other C++ exceptions raised through Lua are rethrown unchanged.
  void call(const CallFrame& frame, ErrorCode script_error,
            const std::function<void(lua_State*)>& body);

  /// Pops the value on top of the stack into the globals every script sees; scripts cannot change
  /// them. Use inside call().
  void set_global(lua_State* L, const char* name);

  /// Compiles `source` (text only, never bytecode) as a chunk named `name` with its own
  /// environment over the shared globals and pushes it. Throws Error(kInvalidArgument) naming the
  /// file and line on a syntax error. Use inside call().
  void load(lua_State* L, std::string_view source, const std::string& name);

  /// The frame of the innermost running call; null outside call().
  const CallFrame* frame() const { return frame_; }

  /// Bytes the Lua state holds.
  std::size_t memory_used() const { return used_; }
  /// True when a call was stopped and the state still holds most of its memory cap after a full
  /// collection (a script kept what it allocated): the owner should build a fresh state.
  bool exhausted() const { return exhausted_; }
  /// True once the running call was stopped (budget, memory, shutdown): it may not go on.
  bool stopped() const { return !killed_.empty(); }

  /// Charges `work` steps of a long C function (pattern matching) to the running call's
  /// instruction budget, which the count hook cannot see. When the budget or the time is spent,
  /// stops the call as the hook would and raises the error; call it where a Lua error may be
  /// raised (no C++ catch block active).
  void charge(lua_State* L, std::int64_t work);

  /// Stops every running and later call of every sandbox in the process at its next budget
  /// check, with kLimitExceeded "stopped: the server is shutting down" (SIGTERM); `false` lifts
  /// it. Thread-safe.
  static void interrupt_all(bool on = true);

  /// Replaces the table on top of the stack with a read-only view of it (writes raise an error,
  /// the metatable is hidden). `index`, when given, resolves keys the table lacks: it is called as
  /// a closure with the table as its first upvalue and (view, key) as arguments.
  static void make_read_only(lua_State* L, lua_CFunction index = nullptr);
  /// For `index` functions: pushes the viewed table's own value for the key (argument 2) and
  /// returns true, or pushes nothing and returns false when it has none.
  static bool push_own_member(lua_State* L);

  /// Wraps every C function Lua calls: a C++ exception becomes a Lua error raised after the catch
  /// block has ended (Lua built as C++ throws, so it must not be raised while one is active). The
  /// original exception is kept so that call() rethrows it unchanged when the script let it
  /// through.
  template <int (*Function)(lua_State*)>
  static int guarded(lua_State* L) {
    {
      try {
        return Function(L);
      } catch (const std::exception& error) {
        from(L).remember(std::current_exception(), error.what());
      }
    }
    return from(L).raise_remembered(L);
  }

 private:
  struct StateCloser {
    void operator()(lua_State* L) const;
  };

  static void* allocate(void* user, void* block, std::size_t old_size, std::size_t new_size);
  static void count_hook(lua_State* L, lua_Debug* debug);
  static int run_body(lua_State* L);
  /// Adds `work` to the budget; returns why the call must stop, or empty.
  std::string spend(std::int64_t work);

  void open_libraries(lua_State* L);
  void start_budget();
  void settle();
  void kill(std::string reason);
  void remember(std::exception_ptr error, std::string message);
  int raise_remembered(lua_State* L);
  [[noreturn]] void fail(int status, const CallFrame& frame, ErrorCode script_error);

  Limits limits_;
  std::size_t used_ = 0;
  // Declared after `used_`: the allocator still counts while the state closes.
  std::unique_ptr<lua_State, StateCloser> state_;
  const CallFrame* frame_ = nullptr;
  int level_ = 0;
  std::chrono::steady_clock::time_point deadline_;
  std::int64_t instructions_ = 0;
  std::string killed_;    ///< why the running call was stopped; empty while it may go on
  bool refused_ = false;  ///< the allocator refused the last request over the cap
  std::exception_ptr pending_;
  std::string pending_message_;
  bool exhausted_ = false;
  static inline std::atomic<bool> interrupted_{false};
};

}  // namespace verdict::plugins
