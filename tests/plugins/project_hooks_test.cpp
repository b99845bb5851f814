// One hook set serves every project: a hook sees its entity's project and its ctx stays in it.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "hook_dir.hpp"
#include "plugins/lua_hook_runner.hpp"

namespace verdict::plugins {
namespace {

namespace json = boost::json;
using testing::HookDir;

TEST(ProjectHooksTest, AHookSeesItsProjectAndItsCtxStaysThere) {
  HookDir dir;
  // The hook records what its ctx can see, and tries to reach the other project's entity.
  dir.write("scope.lua", R"(
Experiment.creating(function(e)
  e.description = 'for ' .. e.project
  return e
end)
Experiment.created(function(e, ctx)
  local seen = ctx.Experiment.find{}
  local ok = pcall(function() return ctx.Experiment.get('theirs') end)
  ctx.Event.create{type = 'scope', subject = e.id,
                   data = {project = e.project, seen = #seen, reached = ok}}
end))");
  Engine engine(":memory:");
  engine.keys().create_project("acme", "");
  engine.keys().create_project("beta", "");
  Caller acme = engine.keys().operator_of("acme");
  Caller beta = engine.keys().operator_of("beta");
  engine.set_hooks(std::make_shared<LuaHookRunner>(
      engine, HookOptions{.use_shipped = false, .dirs = {dir.path()}}));
  engine.execute(
      {.noun = "Experiment", .verb = "create", .data = {{"name", "Theirs"}}, .caller = beta});
  auto mine =
      engine
          .execute(
              {.noun = "Experiment", .verb = "create", .data = {{"name", "Mine"}}, .caller = acme})
          .as_object();
  EXPECT_EQ(mine.at("description"), "for acme");
  EXPECT_FALSE(mine.contains("project")) << "the project is shown to hooks, not stored as a field";
  FindQuery query;
  query.filter = {{"type", "scope"}};
  auto events = engine.find(acme, "Event", query).items;
  ASSERT_EQ(events.size(), 1u);
  const auto& data = events[0].at("data");
  EXPECT_EQ(data.at("project"), "acme");
  EXPECT_EQ(data.at("seen"), 1) << "the hook's find sees its project's experiment only";
  EXPECT_EQ(data.at("reached"), false) << "the other project's slug is not found";
  auto theirs = engine.find(beta, "Event", query).items;
  ASSERT_EQ(theirs.size(), 1u);
  EXPECT_EQ(theirs[0].at("data").at("reached"), true) << "in its own project the slug is found";
}

}  // namespace
}  // namespace verdict::plugins
