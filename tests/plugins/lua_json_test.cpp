#include "plugins/lua_json.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "plugins/lua_sandbox.hpp"
#include "tests/support/error_matchers.hpp"

namespace verdict::plugins {
namespace {

using test_support::ThrowsError;

namespace json = boost::json;

// Evaluates `source` and converts its result, so conversion runs where scripts run it.
json::value eval(const std::string& source) {
  LuaSandbox sandbox(Limits{});
  json::value result;
  sandbox.call(CallFrame{}, ErrorCode::kInvalidArgument, [&](lua_State* L) {
    sandbox.load(L, source, "test");
    lua_call(L, 0, 1);
    result = to_json(L, -1);
  });
  return result;
}

json::value round_trip(const json::value& value) {
  LuaSandbox sandbox(Limits{});
  json::value result;
  sandbox.call(CallFrame{}, ErrorCode::kInvalidArgument, [&](lua_State* L) {
    push_json(L, value);
    result = to_json(L, -1);
  });
  return result;
}

TEST(LuaJsonTest, RoundTripsEntities) {
  auto entity = json::parse(R"({"id":"experiment_x","variants":[{"key":"a","weight":50},
    {"key":"b","weight":0.5}],"empty":[],"nested":{"deep":{"flag":true}},"count":3,"ratio":0.25,
    "big":18446744073709551615})");
  json::value back = round_trip(entity);
  EXPECT_EQ(back.at("variants"), entity.at("variants"));
  EXPECT_EQ(back.at("empty"), json::array());
  EXPECT_EQ(back.at("nested"), entity.at("nested"));
  EXPECT_EQ(back.at("count"), 3);
  EXPECT_EQ(back.at("ratio"), 0.25);
  EXPECT_TRUE(back.at("big").is_double());
}

TEST(LuaJsonTest, NullIsDroppedFromObjectsAndKeptInArrays) {
  auto back = round_trip(json::parse(R"({"gone":null,"list":[1,null,3]})"));
  EXPECT_FALSE(back.as_object().contains("gone"));
  EXPECT_EQ(back.at("list"), json::parse("[1,null,3]"));
  EXPECT_EQ(eval("return {winner = null}"), json::parse(R"({"winner":null})"));
}

TEST(LuaJsonTest, SequencesBecomeArraysAndOtherTablesObjects) {
  EXPECT_EQ(eval("return {1, 'two', true}"), json::parse(R"([1,"two",true])"));
  EXPECT_EQ(eval("return {}"), json::object());
  EXPECT_EQ(eval("return array()"), json::array());
  EXPECT_EQ(eval("return {a = {1, 2}}"), json::parse(R"({"a":[1,2]})"));
  EXPECT_EQ(eval("return nil"), nullptr);
}

TEST(LuaJsonTest, RefusesWhatJsonCannotHold) {
  for (const char* source : {"return {f = print}", "return {0/0}", "return {1, 2, x = 3}",
                             "return {[5] = 1}", "return {[true] = 1}"}) {
    EXPECT_THAT([&] { eval(source); }, ThrowsError(ErrorCode::kInvalidArgument)) << source;
  }
}

TEST(LuaJsonTest, BoundsDepthBothWays) {
  try {
    eval("local t = {} local c = t for i = 1, 100 do c.x = {} c = c.x end return t");
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kLimitExceeded);
  }
  json::value deep = json::array();
  for (int i = 0; i < 100; ++i) deep = json::array{deep};
  EXPECT_THAT([&] { round_trip(deep); }, ThrowsError(ErrorCode::kLimitExceeded));
}

}  // namespace
}  // namespace verdict::plugins
