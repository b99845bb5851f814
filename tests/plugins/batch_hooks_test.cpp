// Lua after hooks of assign and track: once per call, with the batch's items as third argument.
#include <gtest/gtest.h>

#include "core/engine.hpp"
#include "hook_dir.hpp"
#include "plugins/lua_hook_runner.hpp"

namespace verdict::plugins {
namespace {

namespace json = boost::json;
using testing::HookDir;

TEST(BatchHooksTest, AssignedAndTrackedGetTheBatchOnce) {
  HookDir dir;
  dir.write("batch.lua", R"(
Experiment.assigned(function(experiment, ctx, items)
  local green = 0
  for _, item in ipairs(items) do if item.variant == 'green' then green = green + 1 end end
  ctx.Metric.create { name = 'assigned', value = #items, type = tostring(green) }
end)
Experiment.tracked(function(experiment, ctx, items)
  ctx.Metric.create { name = 'tracked', value = #items, type = items[1].unit }
end)
)");
  Engine engine(":memory:");
  engine.set_hooks(std::make_shared<LuaHookRunner>(
      engine, HookOptions{.use_shipped = false, .dirs = {dir.path()}}));
  std::string id(engine
                     .execute({.noun = "Experiment",
                               .verb = "create",
                               .data = {{"name", "Batch"},
                                        {"variants",
                                         json::array{{{"name", "Control"}}, {{"name", "Green"}}}}}})
                     .at("id")
                     .as_string());
  engine.execute({.noun = "Experiment", .verb = "start", .id = id});
  json::array units;
  for (int i = 0; i < 30; ++i) units.push_back(json::object{{"unit", "u" + std::to_string(i)}});
  auto assignments = engine.execute(
      {.noun = "Experiment", .verb = "assign", .id = id, .data = {{"units", units}}});
  int green = 0;
  for (const auto& a : assignments.at("assignments").as_array())
    green += a.at("variant") == "green";
  engine.execute({.noun = "Experiment",
                  .verb = "track",
                  .id = id,
                  .data = {{"events", json::array{{{"unit", "u4"}, {"metric", "signup"}},
                                                  {{"unit", "u5"}, {"metric", "signup"}}}}}});
  auto metrics = engine.find("Metric", {.sort = {{"name", "asc"}}}).items;
  ASSERT_EQ(metrics.size(), 2u);  // one per call, not one per unit
  EXPECT_EQ(metrics[0].at("name"), "assigned");
  EXPECT_EQ(metrics[0].at("value"), 30);
  EXPECT_EQ(metrics[0].at("type"), json::value(std::to_string(green)));
  EXPECT_EQ(metrics[1].at("name"), "tracked");
  EXPECT_EQ(metrics[1].at("value"), 2);
  EXPECT_EQ(metrics[1].at("type"), "u4");
}

}  // namespace
}  // namespace verdict::plugins
