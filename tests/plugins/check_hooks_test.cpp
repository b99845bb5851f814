#include "plugins/check_hooks.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "hook_dir.hpp"

namespace verdict::plugins {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::HookDir;

TEST(CheckHooksTest, AcceptsGoodScriptsAndTheShippedOnes) {
  HookDir dir;
  dir.write("good.lua", "Experiment.pausing(function(e) end)");
  EXPECT_TRUE(check_hooks({dir.path()}).empty());
  EXPECT_TRUE(check_hooks({VERDICT_HOOKS_DIR}).empty());
  EXPECT_TRUE(check_hooks({VERDICT_HOOKS_DIR, VERDICT_SOURCE_DIR "/examples/hooks"}).empty());
}

TEST(CheckHooksTest, ReportsEveryBrokenFileWithItsLine) {
  HookDir dir;
  dir.write("a.lua", "Experiment.starting(function(e)\n  if then\nend)");
  dir.write("b.lua", "Experiment.pausing(function(e) end)");
  dir.write("c.lua", "\n\nFeatureFlag.rollingout(function(f) end)");
  dir.write("d.lua", "while true do end");
  EXPECT_THAT(check_hooks({dir.path()}, {.instructions = 10'000}),
              ElementsAre(HasSubstr("syntax error at ops/a.lua:2"),
                          AllOf(HasSubstr("no hook 'rollingout'"), HasSubstr("ops/c.lua:3"),
                                HasSubstr("rollingOut")),
                          HasSubstr("instruction limit")));
}

// Issue 12: `verdict hooks check` passed `Experiment.field('id', 'number')`, which then crashed
// the server on the next update.
TEST(CheckHooksTest, ReportsReservedFieldNames) {
  HookDir dir;
  dir.write("a.lua", "Experiment.field('id', 'number')");
  dir.write("b.lua", "FeatureFlag.field('updatedAt', 'string')");
  dir.write("c.lua", "Experiment.summarized(function() end)");
  EXPECT_THAT(check_hooks({dir.path()}),
              ElementsAre(HasSubstr("ops/a.lua: Experiment.id: 'id' is reserved"),
                          HasSubstr("ops/b.lua: FeatureFlag.updatedAt: 'updatedAt' is reserved"),
                          HasSubstr("summary works on no single Experiment")));
}

TEST(CheckHooksTest, ReportsAMissingDirectory) {
  EXPECT_THAT(check_hooks({"/nonexistent/hooks"}),
              ElementsAre(HasSubstr("'/nonexistent/hooks' does not exist")));
}

}  // namespace
}  // namespace verdict::plugins
