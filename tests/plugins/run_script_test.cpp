#include "plugins/run_script.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.hpp"

namespace verdict::plugins {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

class RunScriptTest : public ::testing::Test {
 protected:
  json::value run(const std::string& source, const Limits& limits = {}) {
    return run_script(engine_, source, "script:test", limits);
  }
  Error failure(const std::string& source, const Limits& limits = {}) {
    try {
      run(source, limits);
    } catch (const Error& error) {
      return error;
    }
    ADD_FAILURE() << "no error from: " << source;
    return Error(ErrorCode::kInternal, "");
  }
  bool untouched() {
    return engine_.find("Experiment", {}).items.empty() && engine_.store().events_since(0).empty();
  }

  Engine engine_{":memory:"};
};

TEST_F(RunScriptTest, ReturnsItsResultAsJson) {
  auto id =
      run("local e = ctx.Experiment.create{name = 'Tone'}\n"
          "ctx.Experiment.addVariant(e.id, {name = 'Control'})\n"
          "return e.id");
  ASSERT_TRUE(id.is_string());
  auto found =
      run("local items = Experiment.find({status = 'Draft'}, {limit = 5})\n"
          "return {count = #items, variants = items[1].variants, got = "
          "ctx.Experiment.get(items[1].slug).name}");
  EXPECT_EQ(found.at("count"), 1);
  EXPECT_EQ(found.at("variants").as_array().size(), 1u);
  EXPECT_EQ(found.at("got"), "Tone");
  EXPECT_EQ(engine_.store().history(std::string(id.as_string())).front().actor, "script:test");
  EXPECT_EQ(run("local x = 1"), nullptr);
}

TEST_F(RunScriptTest, AScriptThatRaisesChangesNothing) {
  Error error = failure(
      "ctx.Experiment.create{name = 'a'}\nctx.Metric.create{name = 'm'}\n"
      "error('changed my mind')");
  EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
  EXPECT_STREQ(error.what(), "changed my mind (script:3)");
  EXPECT_TRUE(untouched());
  EXPECT_TRUE(engine_.find("Metric", {}).items.empty());
}

TEST_F(RunScriptTest, AFailedVerbKeepsItsCode) {
  EXPECT_EQ(failure("return ctx.Experiment.get('experiment_missing1')").code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(failure("ctx.Experiment.create{name = 'a'} ctx.Experiment.create{}").code(),
            ErrorCode::kInvalidArgument);
  EXPECT_TRUE(untouched());
  EXPECT_THAT(failure("return ctx.Experiment.launchh").what(), HasSubstr("no 'launchh'"));
  EXPECT_THAT(failure("return ctx.Nothing").what(), HasSubstr("unknown noun 'Nothing'"));
}

TEST_F(RunScriptTest, ACaughtVerbFailureRollsBackOnlyThatVerb) {
  auto result = run(R"(
local e = ctx.Experiment.create{name = 'a'}
local ok, message = pcall(ctx.Experiment.conclude, e.id)
return {ok = ok, message = message})");
  EXPECT_EQ(result.at("ok"), false);
  EXPECT_THAT(std::string(result.at("message").as_string()), HasSubstr("cannot conclude"));
  EXPECT_EQ(engine_.find("Experiment", {}).items.size(), 1u);
}

TEST_F(RunScriptTest, SameSandboxAndLimits) {
  EXPECT_EQ(run("return io == nil and os.execute == nil and require == nil"), true);
  Error error =
      failure("ctx.Experiment.create{name = 'a'}\nwhile true do end", {.instructions = 10'000});
  EXPECT_EQ(error.code(), ErrorCode::kLimitExceeded);
  EXPECT_THAT(error.what(), HasSubstr("(script:2)"));
  EXPECT_TRUE(untouched());
  EXPECT_EQ(
      failure("local t = {} for i = 1, 1e9 do t[i] = i end", {.memory_bytes = 4 << 20}).code(),
      ErrorCode::kLimitExceeded);
  EXPECT_THAT(failure("return {f = print}").what(), HasSubstr("cannot convert a function"));
}

// Issue 12: a name with bytes that are not UTF-8 was stored, and every later find returned it.
TEST_F(RunScriptTest, StringsFromLuaMustBeUtf8) {
  Error create = failure("ctx.Experiment.create{name = 'bad\\255name'}");
  EXPECT_EQ(create.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(create.field(), "name");
  EXPECT_THAT(create.what(), HasSubstr("name: the string is not valid UTF-8 (byte 4)"));
  EXPECT_EQ(failure("return '\\255\\254'").code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(untouched());
}

}  // namespace
}  // namespace verdict::plugins
