#include "plugins/lua_sandbox.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "plugins/lua_json.hpp"
#include "tests/support/error_matchers.hpp"

namespace verdict::plugins {
namespace {

using test_support::ThrowsError;

namespace json = boost::json;
using ::testing::HasSubstr;

json::value run(LuaSandbox& sandbox, const std::string& source, const std::string& name = "t.lua") {
  json::value result;
  sandbox.call(CallFrame{.script = name}, ErrorCode::kInvalidArgument, [&](lua_State* L) {
    sandbox.load(L, source, name);
    lua_call(L, 0, 1);
    result = to_json(L, -1);
  });
  return result;
}

json::value run(const std::string& source, const Limits& limits = {}) {
  LuaSandbox sandbox(limits);
  return run(sandbox, source);
}

Error failure(LuaSandbox& sandbox, const std::string& source) {
  try {
    run(sandbox, source);
  } catch (const Error& error) {
    return error;
  }
  ADD_FAILURE() << "no error from: " << source;
  return Error(ErrorCode::kInternal, "");
}

Error failure(const std::string& source, const Limits& limits = {}) {
  LuaSandbox sandbox(limits);
  return failure(sandbox, source);
}

class BannedGlobalTest : public ::testing::TestWithParam<const char*> {};

TEST_P(BannedGlobalTest, IsAbsent) {
  EXPECT_EQ(run(std::string("return ") + GetParam() + " == nil"), true) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Sandbox, BannedGlobalTest,
                         ::testing::Values("io", "os.execute", "os.exit", "os.getenv", "os.remove",
                                           "os.rename", "os.tmpname", "os.setlocale", "require",
                                           "dofile", "loadfile", "loadstring", "debug", "package",
                                           "string.dump", "('').dump", "rawset", "coroutine",
                                           "warn", "module"));

TEST(LuaSandboxTest, KeepsTheAllowedLibraries) {
  EXPECT_EQ(run("return type(os.time()) == 'number' and type(os.clock()) == 'number' and "
                "os.date('!%Y', 0) == '1970' and string.upper('a') == 'A' and math.max(1, 2) == 2 "
                "and table.concat({1, 2}, ',') == '1,2' and utf8.char(72) == 'H' and "
                "('x'):rep(3) == 'xxx'"),
            true);
}

TEST(LuaSandboxTest, LoadTakesTextOnlyIntoTheScriptsEnvironment) {
  EXPECT_EQ(run("x = 41 return load('return x + 1')()"), 42);
  EXPECT_EQ(run("return load('return y', 'c', 't', {y = 7})()"), 7);
  EXPECT_EQ(run("local f, err = load('\\27Lua\\84\\0', 'c', 'b') return err"),
            "only text chunks can be loaded (mode 't')");
  EXPECT_THAT(std::string(run("local f, err = load('\\27Lua\\84\\0') return err").as_string()),
              HasSubstr("binary chunk"));
}

TEST(LuaSandboxTest, CollectGarbageOnlyCounts) {
  EXPECT_TRUE(run("return collectgarbage('count')").is_double());
  for (const char* option : {"", "'collect'", "'stop'", "'step'", "'incremental'"})
    EXPECT_THAT(failure(std::string("collectgarbage(") + option + ")").what(),
                HasSubstr("not allowed"))
        << option;
}

TEST(LuaSandboxTest, RefusesFinalizers) {
  EXPECT_THAT(failure("setmetatable({}, {__gc = function() end})").what(),
              HasSubstr("__gc metamethods are not allowed"));
  EXPECT_EQ(run("return getmetatable(setmetatable({}, {__index = {a = 1}})).__index.a"), 1);
}

TEST(LuaSandboxTest, SharedTablesAreReadOnly) {
  for (const char* source : {"string.upper = nil", "math.pi = 3", "os.time = nil",
                             "setmetatable(string, nil)", "getmetatable('').__index = {}"}) {
    EXPECT_THAT([&] { run(source); }, ThrowsError(ErrorCode::kInvalidArgument)) << source;
  }
  EXPECT_EQ(run("return getmetatable('')"), false);
  EXPECT_EQ(run("local n = 0 for k in pairs(math) do n = n + 1 end return n > 10"), true);
}

TEST(LuaSandboxTest, ScriptsHaveTheirOwnGlobals) {
  LuaSandbox sandbox(Limits{});
  run(sandbox, "x = 1 print = nil string = nil _G.y = 2", "a.lua");
  EXPECT_EQ(
      run(sandbox, "return x == nil and y == nil and print ~= nil and string ~= nil", "b.lua"),
      true);
}

TEST(LuaSandboxTest, ErrorsCarryTheScriptsMessageThenItsLocation) {
  Error error = failure("\nerror('At least two variants required to start')");
  EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
  EXPECT_STREQ(error.what(), "At least two variants required to start (t.lua:2)");
  EXPECT_STREQ(failure("error('plain', 0)").what(), "plain");
  EXPECT_STREQ(failure("error({code = 1})").what(),
               "error raised with a table value, not a message");
  EXPECT_STREQ(failure("error()").what(), "error raised with a nil value, not a message");
  EXPECT_STREQ(failure("error(42, 0)").what(), "42");
}

TEST(LuaSandboxTest, SyntaxErrorsNameTheFileAndLine) {
  Error error = failure("local x = 1\nif x then\n");
  EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(error.what(), HasSubstr("syntax error at t.lua:3"));
}

TEST(LuaSandboxTest, StopsAnInfiniteLoop) {
  Error error = failure("local n = 0\nwhile true do\n  n = n + 1\nend", {.instructions = 100'000});
  EXPECT_EQ(error.code(), ErrorCode::kLimitExceeded);
  EXPECT_THAT(error.what(), HasSubstr("instruction limit of 100000 exceeded (t.lua:"));
}

TEST(LuaSandboxTest, StopsAnInfiniteLoopThatCatchesErrors) {
  for (const char* source :
       {"while true do pcall(function() while true do end end) end",
        "while true do pcall(error) end",
        "local function again() while true do xpcall(again, function() return 'no' end) end end "
        "again()"}) {
    Error error = failure(source, {.instructions = 100'000});
    EXPECT_EQ(error.code(), ErrorCode::kLimitExceeded) << source << ": " << error.what();
  }
}

TEST(LuaSandboxTest, StopsALoopByTime) {
  Error error =
      failure("while true do end", {.instructions = 1'000'000'000'000, .milliseconds = 50});
  EXPECT_EQ(error.code(), ErrorCode::kLimitExceeded);
  EXPECT_THAT(error.what(), HasSubstr("time limit of 50 ms exceeded (t.lua:1)"));
}

TEST(LuaSandboxTest, StopsMemoryBombs) {
  Limits limits{.memory_bytes = 8 * 1024 * 1024};
  for (const char* source :
       {"local t = {} for i = 1, 1e9 do t[i] = i end", "return #string.rep('x', 1e9)",
        "local s = 'x' while true do s = s .. s end",
        "local keep = {} while true do pcall(function() keep[#keep + 1] = string.rep('x', 1e5) "
        "end) "
        "end",
        "local t = {} for i = 1, 1e9 do t[i] = i end return t"}) {
    LuaSandbox sandbox(limits);
    Error error = failure(sandbox, source);
    EXPECT_EQ(error.code(), ErrorCode::kLimitExceeded) << source << ": " << error.what();
    EXPECT_THAT(error.what(), HasSubstr("memory limit of 8388608 bytes exceeded")) << source;
    // What the script held was local: the state is usable and nearly empty again.
    EXPECT_EQ(run(sandbox, "return 1 + 1"), 2);
    EXPECT_FALSE(sandbox.exhausted());
    EXPECT_LT(sandbox.memory_used(), 1024u * 1024u);
  }
}

TEST(LuaSandboxTest, SurvivesDeepRecursion) {
  LuaSandbox sandbox(Limits{.memory_bytes = 16 * 1024 * 1024});
  for (const char* source : {"local function f(n) return f(n + 1) + 1 end return f(1)",
                             "local function f() return select(2, pcall(f)) end error(f())",
                             "local t = setmetatable({}, {}) getmetatable(t).__index = "
                             "function(s, k) return s[k] end return t.x"}) {
    Error error = failure(sandbox, source);
    EXPECT_THAT(error.what(), ::testing::AnyOf(HasSubstr("stack overflow"),
                                               HasSubstr("memory limit of 16777216 bytes")))
        << source;
  }
  EXPECT_EQ(run(sandbox, "return 'still fine'"), "still fine");
}

TEST(LuaSandboxTest, StateIsUsableAfterAKill) {
  LuaSandbox sandbox(Limits{.instructions = 10'000});
  EXPECT_THAT([&] { run(sandbox, "while true do end"); }, ThrowsError(ErrorCode::kLimitExceeded));
  EXPECT_EQ(run(sandbox, "local n = 0 for i = 1, 100 do n = n + i end return n"), 5050);
}

// Issue 12: Lua runs a message handler without hooks when a hook raised the error, so a handler
// that loops hung the server for ever (SIGTERM ignored).
TEST(LuaSandboxTest, MessageHandlersCannotEscapeTheLimits) {
  for (const char* source : {
           "xpcall(function() while true do end end, function() while true do end end)",
           "xpcall(function() error('x') end, function() while true do end end)",
           "xpcall(function() while true do end end, function()\n"
           "  xpcall(function() while true do end end, function() while true do end end)\n"
           "  while true do end\n"
           "end)",
           "xpcall(function() while true do end end, function(m) return m end) while true do end",
           "xpcall(function()\n"
           "  local t <close> = setmetatable({}, {__close = function() while true do end end})\n"
           "  while true do end\n"
           "end, function() while true do end end)",
       }) {
    Error by_count = failure(source, {.instructions = 100'000, .milliseconds = 600'000});
    EXPECT_EQ(by_count.code(), ErrorCode::kLimitExceeded) << source;
    EXPECT_THAT(by_count.what(), HasSubstr("instruction limit of 100000 exceeded")) << source;
    Error by_time = failure(source, {.instructions = 1'000'000'000'000, .milliseconds = 20});
    EXPECT_THAT(by_time.what(), HasSubstr("time limit of 20 ms exceeded")) << source;
  }
}

TEST(LuaSandboxTest, XpcallStillHandlesTheScriptsOwnErrors) {
  EXPECT_EQ(run("local ok, m = xpcall(function() error('boom') end, function(m) return 'handled: ' "
                ".. m end) return {ok, m}"),
            json::parse(R"([false, "handled: t.lua:1: boom"])"));
  EXPECT_EQ(run("return {xpcall(function(a, b) return a + b, a * b end, print, 3, 4)}"),
            json::parse("[true, 7, 12]"));
  EXPECT_EQ(failure("xpcall(print, 'not a function')").code(), ErrorCode::kInvalidArgument);
}

// Issue 12: `local _, real = pairs(string)` returned the real table, and writes through it changed
// `string.format` for every other script.
TEST(LuaSandboxTest, PairsNeverHandsOutTheRealTable) {
  LuaSandbox sandbox(Limits{});
  Error error = failure(sandbox, "local _, real = pairs(string) real.format = function() end");
  EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(error.what(), HasSubstr("cannot assign 'format'"));
  EXPECT_EQ(run(sandbox, "local f, view = pairs(string) return rawequal(view, string)"), true);
  EXPECT_EQ(run(sandbox, "return string.format('%d', 7)"), "7");
  EXPECT_EQ(run(sandbox,
                "local n, seen = 0, false for k, v in pairs(string) do n = n + 1 "
                "seen = seen or (k == 'format' and v == string.format) end return n > 10 and seen"),
            true);
  EXPECT_EQ(run(sandbox, "return next(string)"), nullptr);
}

// Loops in C that neither the count hook nor the memory cap would stop.
TEST(LuaSandboxTest, LongCLoopsAreBounded) {
  EXPECT_EQ(run("return string.rep('', 1e15) .. string.rep('', 1e15, '')"), "");
  EXPECT_EQ(run("return string.rep('ab', 3, ',')"), "ab,ab,ab");
  Limits limits{.instructions = 1'000'000, .milliseconds = 600'000};
  for (const char* source : {"table.move({}, 1, 1e14, 2)", "table.move({}, -1e14, 1e14, 1, {})",
                             "load(string.rep(' ', 2e6))"}) {
    Error error = failure(source, limits);
    EXPECT_EQ(error.code(), ErrorCode::kLimitExceeded) << source;
    EXPECT_THAT(error.what(), HasSubstr("instruction limit of 1000000 exceeded (t.lua:1)"))
        << source;
  }
  EXPECT_EQ(run("local t = table.move({1, 2, 3}, 1, 3, 2) return t"), json::parse("[1, 1, 2, 3]"));
  EXPECT_EQ(run("return load('return 1 + 1')()"), 2);
}

// SIGTERM sets it: a running script stops at its next check, wherever it loops.
TEST(LuaSandboxTest, InterruptStopsEveryScript) {
  LuaSandbox sandbox(Limits{.instructions = 1'000'000'000'000, .milliseconds = 600'000});
  LuaSandbox::interrupt_all();
  Error looping = failure(sandbox, "xpcall(function() while true do end end, function() end)");
  Error matching = failure(sandbox, "return string.rep('=', 400):match('^(.-)=(.-)=(.-)=(.-);$')");
  LuaSandbox::interrupt_all(false);
  for (const Error& error : {looping, matching}) {
    EXPECT_EQ(error.code(), ErrorCode::kLimitExceeded);
    EXPECT_THAT(error.what(), HasSubstr("stopped: the server is shutting down (t.lua:1)"));
  }
  EXPECT_EQ(run(sandbox, "return 'runs again'"), "runs again");
}

// Issue 12: strings leave Lua as JSON; bytes that are not UTF-8 are refused, naming the field.
TEST(LuaSandboxTest, StringsLeavingLuaMustBeUtf8) {
  Error result = failure("return '\\255\\254'");
  EXPECT_EQ(result.code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(result.what(), HasSubstr("the string is not valid UTF-8 (byte 1)"));
  Error nested = failure("return {name = 'ok', variants = {{key = 'a'}, {key = 'b\\192'}}}");
  EXPECT_EQ(nested.field(), "variants[1].key");
  EXPECT_THAT(nested.what(), HasSubstr("variants[1].key: the string is not valid UTF-8 (byte 2)"));
  Error key = failure("return {['k\\255'] = 1}");
  EXPECT_THAT(key.what(), HasSubstr("a key is not valid UTF-8 (byte 2)"));
  EXPECT_EQ(run("return 'caf\\195\\169 \\240\\159\\152\\128'"), "caf\u00e9 \U0001F600");
  // An error message with such bytes still reaches clients as UTF-8.
  EXPECT_STREQ(failure("error('bad \\255 byte', 0)").what(), "bad \uFFFD byte");
}

}  // namespace
}  // namespace verdict::plugins
