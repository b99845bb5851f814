#include "plugins/lua_hook_runner.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "hook_dir.hpp"
#include "tests/support/error_matchers.hpp"

namespace verdict::plugins {
namespace {

using test_support::ThrowsError;

namespace json = boost::json;
using ::testing::HasSubstr;
using testing::HookDir;

class LuaHookRunnerTest : public ::testing::Test {
 protected:
  std::shared_ptr<LuaHookRunner> start_runner(Limits limits = {}) {
    auto runner = std::make_shared<LuaHookRunner>(
        engine_, HookOptions{.use_shipped = false, .dirs = {dir_.path()}, .limits = limits});
    engine_.set_hooks(runner);
    return runner;
  }

  json::object execute(const std::string& noun, const std::string& verb, const std::string& id,
                       json::object data = {}) {
    return engine_
        .execute({.noun = noun, .verb = verb, .id = id, .data = std::move(data), .actor = "test"})
        .as_object();
  }

  std::string create_experiment(json::object data = {{"name", "Pricing"}}) {
    return std::string(execute("Experiment", "create", "", std::move(data)).at("id").as_string());
  }

  Error failure(const std::string& verb, const std::string& id, json::object data = {}) {
    try {
      execute("Experiment", verb, id, std::move(data));
    } catch (const Error& error) {
      return error;
    }
    ADD_FAILURE() << verb << " did not fail";
    return Error(ErrorCode::kInternal, "");
  }

  std::vector<std::string> event_types(const std::string& id) {
    std::vector<std::string> types;
    for (const auto& event : engine_.store().history(id)) types.push_back(event.type);
    return types;
  }

  Engine engine_{":memory:"};
  HookDir dir_;
};

TEST_F(LuaHookRunnerTest, RunsHooksInLoadOrder) {
  dir_.write("b.lua", R"(
Experiment.updating(function(e) e.description = e.description .. ' b1' return e end)
Experiment.updating(function(e) e.description = e.description .. ' b2' return e end)
Experiment.updated(function(e, ctx) ctx.Event.create{type = 'b', subject = e.id} end))");
  dir_.write("a.lua", R"(
Experiment.updating(function(e) e.description = 'a' return e end)
Experiment.updated(function(e, ctx) ctx.Event.create{type = 'a', subject = e.id} end))");
  auto runner = start_runner();
  EXPECT_EQ(runner->scripts(), (std::vector<std::string>{"ops/a.lua", "ops/b.lua"}));
  EXPECT_EQ(runner->hook_count(), 5u);
  auto id = create_experiment();
  EXPECT_EQ(execute("Experiment", "update", id, {{"hypothesis", "h"}}).at("description"),
            "a b1 b2");
  std::vector<std::string> created;
  for (const auto& event : engine_.store().events_since(0))
    if (event.type == "Event.Created")
      created.emplace_back(engine_.get("Event", event.entity_id).at("type").as_string());
  EXPECT_EQ(created, (std::vector<std::string>{"a", "b"}));
}

TEST_F(LuaHookRunnerTest, RejectionWritesNothing) {
  dir_.write("gate.lua",
             "Experiment.starting(function(e)\n  error('Owner required to start')\nend)");
  start_runner();
  auto id = create_experiment();
  Error error = failure("start", id);
  EXPECT_EQ(error.code(), ErrorCode::kHookRejected);
  EXPECT_STREQ(error.what(), "Owner required to start (ops/gate.lua:2)");
  auto stored = engine_.get("Experiment", id);
  EXPECT_EQ(stored.at("status"), "Draft");
  EXPECT_EQ(stored.at("version"), 1);
  EXPECT_EQ(event_types(id), std::vector<std::string>{"Experiment.Created"});
}

TEST_F(LuaHookRunnerTest, NonStringErrorsStillReject) {
  dir_.write("gate.lua",
             "Experiment.starting(function(e) error({reason = 'x'}) end)\n"
             "Experiment.pausing(function(e) error() end)");
  start_runner();
  auto id = create_experiment();
  EXPECT_THAT(failure("start", id).what(), HasSubstr("table value"));
  EXPECT_EQ(engine_.get("Experiment", id).at("status"), "Draft");
}

TEST_F(LuaHookRunnerTest, BeforeHookModifiesAndIsValidatedAgain) {
  dir_.write("shape.lua", R"(
Experiment.updating(function(e)
  if e.hypothesis == 'too much' then e.trafficAllocation = 500 end
  e.tags = 'checked'
  e.status = 'Concluded' -- state is the pipeline's, not the hook's
  return e
end))");
  start_runner();
  auto id = create_experiment();
  auto updated = execute("Experiment", "update", id, {{"hypothesis", "fine"}});
  EXPECT_EQ(updated.at("tags"), "checked");
  EXPECT_EQ(updated.at("status"), "Draft");
  EXPECT_EQ(failure("update", id, {{"hypothesis", "too much"}}).code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(engine_.get("Experiment", id).at("hypothesis"), "fine");
}

TEST_F(LuaHookRunnerTest, AfterHookReachesTheEngineThroughCtx) {
  dir_.write("flags.lua", R"(
Experiment.created(function(e, ctx)
  local created = ctx.FeatureFlag.create{key = e.slug, name = e.name, experiment = e.id}
  for _, flag in ipairs(ctx.FeatureFlag.find{experiment = e.id}) do
    ctx.FeatureFlag.rollout(flag)
  end
  local again = ctx.FeatureFlag.get(created.id)
  ctx.Experiment.update(e.id, {description = again.status .. ' ' .. again.rolloutPercentage})
end))");
  start_runner();
  auto id = create_experiment();
  auto flags = engine_.find("FeatureFlag", {.filter = {{"experiment", id}}}).items;
  ASSERT_EQ(flags.size(), 1u);
  EXPECT_EQ(flags[0].at("status"), "RolledOut");
  EXPECT_EQ(engine_.get("Experiment", id).at("description"), "RolledOut 100");
  auto history = engine_.store().history(std::string(flags[0].at("id").as_string()));
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].type, "FeatureFlag.RolledOut");
  EXPECT_EQ(history[1].actor, "hook:ops/flags.lua");
}

TEST_F(LuaHookRunnerTest, AfterHookFailureIsRecordedAndTheVerbStands) {
  dir_.write("notify.lua",
             "Experiment.created(function(e, ctx)\n  error('mail is down')\nend)\n"
             "Experiment.created(function(e, ctx) ctx.Event.create{type = 'x'} end)");
  start_runner();
  auto id = create_experiment();
  auto history = engine_.store().history(id);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].type, "Experiment.HookFailed");
  EXPECT_EQ(history[1].data.at("hook"), "ops/notify.lua:1");
  EXPECT_EQ(history[1].data.at("error"), "mail is down (ops/notify.lua:2)");
  EXPECT_EQ(engine_.find("Event", {}).items.size(), 1u) << "later hooks still run";
}

TEST_F(LuaHookRunnerTest, RecursionStopsAtTheDepthLimit) {
  dir_.write("loop.lua", R"(
Experiment.updated(function(e, ctx)
  ctx.Experiment.update(e.id, {description = tostring(e.version)})
end))");
  start_runner();
  auto id = create_experiment();
  execute("Experiment", "update", id, {{"description", "go"}});
  // Created at version 1, then one update per depth 0..kMaxDepth.
  EXPECT_EQ(engine_.get("Experiment", id).at("version"), Engine::kMaxDepth + 2);
  auto types = event_types(id);
  EXPECT_EQ(types.back(), "Experiment.HookFailed");
  EXPECT_THAT(engine_.store().history(id).back().data.at("error").as_string().c_str(),
              HasSubstr("recursion deeper than"));
}

TEST_F(LuaHookRunnerTest, LoadErrorsNameFileAndLine) {
  dir_.write("bad.lua", "Experiment.starting(function(e)\n  if e then\nend)");
  EXPECT_THAT([&] { start_runner(); },
              ::testing::ThrowsMessage<Error>(HasSubstr("syntax error at ops/bad.lua:3")));
  dir_.write("bad.lua", "\nExperiment.startin(function() end)");
  EXPECT_THAT([&] { start_runner(); },
              ::testing::ThrowsMessage<Error>(HasSubstr("Experiment has no hook 'startin'")));
  dir_.write("bad.lua", "\nExperiment.startin(function() end)");
  try {
    start_runner();
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("(ops/bad.lua:2)"));
    EXPECT_THAT(error.what(), HasSubstr("starting, started"));
  }
}

TEST_F(LuaHookRunnerTest, HooksAreRegisteredOnlyWhileLoading) {
  dir_.write("late.lua", "Experiment.created(function(e) Experiment.starting(function() end) end)");
  start_runner();
  auto id = create_experiment();
  EXPECT_THAT(engine_.store().history(id).back().data.at("error").as_string().c_str(),
              HasSubstr("only while a script loads"));
}

TEST_F(LuaHookRunnerTest, ScriptsCannotTamperWithTheApi) {
  dir_.write("a.lua", "Experiment.starting = nil\n");
  EXPECT_THAT([&] { start_runner(); }, ::testing::ThrowsMessage<Error>(HasSubstr("read-only")));
  dir_.write("a.lua", "Experiment = nil FeatureFlag = {}\n");
  dir_.write("b.lua", "Experiment.starting(function(e) error('b ran') end)");
  start_runner();
  EXPECT_THAT(failure("start", create_experiment()).what(), HasSubstr("b ran"));
}

TEST_F(LuaHookRunnerTest, ReloadSwapsTheWholeSetOrKeepsTheOld) {
  dir_.write("a.lua", "Experiment.starting(function(e) error('first') end)");
  auto runner = start_runner();
  auto id = create_experiment();
  EXPECT_THAT(failure("start", id).what(), HasSubstr("first"));

  dir_.write("a.lua", "Experiment.starting(function(e) error('second') end)");
  dir_.write("b.lua", "this is not lua");
  EXPECT_THAT([&] { runner->reload(); }, ThrowsError(ErrorCode::kInvalidArgument));
  EXPECT_THAT(failure("start", id).what(), HasSubstr("first")) << "a failed reload changes nothing";

  dir_.write("b.lua", "Experiment.pausing(function(e) error('no pause') end)");
  runner->reload();
  EXPECT_THAT(failure("start", id).what(), HasSubstr("second"));
  EXPECT_EQ(runner->scripts().size(), 2u);
}

TEST_F(LuaHookRunnerTest, PluginsDeclareVerbsAndFields) {
  dir_.write("budget.lua", R"(
Experiment.field('budget', 'number')
Experiment.verb('extend', 'Extended', function(experiment, data)
  experiment.budget = (experiment.budget or 0) + data.amount
  experiment.status = 'Concluded'
  return experiment
end))");
  dir_.write("limit.lua", R"(
Experiment.extending(function(e) if e.budget > 1000 then error('over budget') end end)
Experiment.extended(function(e, ctx) ctx.Event.create{type = 'extended', subject = e.id} end))");
  auto runner = start_runner();
  auto id = create_experiment({{"name", "Pricing"}, {"budget", 10}});
  auto extended = execute("Experiment", "extend", id, {{"amount", 5}});
  EXPECT_EQ(extended.at("budget"), 15);
  EXPECT_EQ(extended.at("status"), "Draft");
  EXPECT_EQ(event_types(id).back(), "Experiment.Extended");
  EXPECT_EQ(engine_.find("Event", {.filter = {{"type", "extended"}}}).items.size(), 1u);
  EXPECT_THAT(failure("extend", id, {{"amount", 5000}}).what(), HasSubstr("over budget"));
  EXPECT_EQ(failure("update", id, {{"budget", "lots"}}).code(), ErrorCode::kInvalidArgument);

  // A reload rebinds the verb to the new scripts; the schema keeps it.
  runner->reload();
  EXPECT_EQ(execute("Experiment", "extend", id, {{"amount", 1}}).at("budget"), 16);
  engine_.set_hooks(nullptr);
  runner.reset();
  EXPECT_EQ(failure("extend", id, {{"amount", 1}}).code(), ErrorCode::kNotFound);
}

TEST_F(LuaHookRunnerTest, PluginDeclarationsCannotClash) {
  for (auto [source, code] :
       {std::pair{"Experiment.verb('start', 'Started', function(e) return e end)",
                  ErrorCode::kConflict},
        {"Experiment.verb('name', 'Named', function(e) return e end)", ErrorCode::kConflict},
        {"Experiment.verb('bad name', 'X', function(e) return e end)", ErrorCode::kInvalidArgument},
        {"Experiment.field('name', 'number')", ErrorCode::kConflict},
        {"Experiment.field('budget', 'money')", ErrorCode::kInvalidArgument}}) {
    dir_.write("clash.lua", source);
    EXPECT_THAT([&] { start_runner(); }, ThrowsError(code)) << source;
  }
}

TEST_F(LuaHookRunnerTest, StoppedHooksFailTheVerbAndTheEngineGoesOn) {
  dir_.write("loop.lua", "Experiment.starting(function(e)\n  while true do pcall(error) end\nend)");
  start_runner({.instructions = 100'000});
  auto id = create_experiment();
  Error error = failure("start", id);
  EXPECT_EQ(error.code(), ErrorCode::kLimitExceeded);
  EXPECT_THAT(error.what(), HasSubstr("(ops/loop.lua:2)"));
  EXPECT_EQ(execute("Experiment", "update", id, {{"tags", "x"}}).at("tags"), "x");
}

TEST_F(LuaHookRunnerTest, AStateLeftFullIsRebuilt) {
  dir_.write("hoard.lua", R"(
local hoard = {}
Experiment.updating(function(e)
  if e.tags == 'bomb' then
    while true do hoard[#hoard + 1] = string.rep('x', 1000) .. #hoard end
  end
  hoard[#hoard + 1] = e.tags
end))");
  auto runner = start_runner({.memory_bytes = 8 * 1024 * 1024});
  auto id = create_experiment();
  // A plugin that appears meanwhile: the rebuild declares its verb and field.
  dir_.write("more.lua", R"(
Experiment.field('budget', 'number')
Experiment.verb('extend', 'Extended', function(e) return e end))");
  EXPECT_EQ(failure("update", id, {{"tags", "bomb"}}).code(), ErrorCode::kLimitExceeded);
  // Issue 12: the rebuild ran inside before(), and the verbs it added could reallocate the noun's
  // verb list under the running verb. It now waits for the engine to be idle.
  EXPECT_TRUE(runner->reload_pending());
  EXPECT_EQ(engine_.schema().noun("Experiment").verb("extend"), nullptr);
  engine_.idle();
  EXPECT_FALSE(runner->reload_pending());
  EXPECT_NE(engine_.schema().noun("Experiment").verb("extend"), nullptr);
  // Without a rebuild the hoard would still fill the state and this would fail for memory.
  EXPECT_EQ(execute("Experiment", "update", id, {{"tags", "fine"}}).at("tags"), "fine");
}

// Issue 12: `Experiment.field('id', 'number')` loaded, and the next update crashed the server.
TEST_F(LuaHookRunnerTest, ReservedAndCaseClashingFieldNamesAreRefusedAtLoad) {
  for (const char* name : {"id", "version", "createdAt", "updatedAt", "history", "rowid", "ID",
                           "createdat", "Version"}) {
    dir_.write("meta.lua", std::string("Experiment.field('") + name + "', 'number')");
    try {
      start_runner();
      ADD_FAILURE() << name << " was accepted";
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument) << name;
      EXPECT_THAT(error.what(),
                  HasSubstr("cannot load ops/meta.lua: Experiment." + std::string(name) + ": '"))
          << name;
      EXPECT_THAT(error.what(), HasSubstr("is reserved")) << name;
    }
  }
  dir_.write("meta.lua", "Experiment.field('Name', 'string')");
  EXPECT_THAT([&] { start_runner(); }, ::testing::ThrowsMessage<Error>(
                                           HasSubstr("differs only in case from the field name")));
  dir_.write("meta.lua",
             "Experiment.field('budget', 'number') Experiment.field('Budget', 'number')");
  EXPECT_THAT(
      [&] { start_runner(); },
      ::testing::ThrowsMessage<Error>(HasSubstr("differs only in case from the field budget")));
  EXPECT_EQ(execute("Experiment", "update", create_experiment(), {{"tags", "x"}}).at("tags"), "x");
}

// Issue 12: `pairs(Experiment)` handed out the real API table, through which one script dropped
// another's hooks; through `pairs(string)` it changed string.format for every script.
TEST_F(LuaHookRunnerTest, PairsCannotReachTheSharedTables) {
  dir_.write("a.lua", "Experiment.starting(function(e) error(string.format('gate %d', 1)) end)");
  dir_.write("b.lua", R"(
local _, api = pairs(Experiment)
local _, strings = pairs(string)
print(pcall(function() api.starting = function() end end))
print(pcall(function() strings.format = function() return 'hacked' end end)))");
  start_runner();
  EXPECT_THAT(failure("start", create_experiment()).what(), HasSubstr("gate 1"));
  dir_.write("b.lua", "local _, api = pairs(Experiment) api.starting = function() end");
  EXPECT_THAT([&] { start_runner(); },
              ::testing::ThrowsMessage<Error>(HasSubstr("cannot assign 'starting'")));
}

// Issue 12: hooks of summary loaded and never ran; a before hook's changes on assign, track and
// analyze were dropped.
TEST_F(LuaHookRunnerTest, HooksOfCppVerbsRunOrAreRefused) {
  for (const char* hook : {"summarizing", "summarized"}) {
    dir_.write("summary.lua", std::string("Experiment.") + hook + "(function() end)");
    try {
      start_runner();
      ADD_FAILURE() << hook << " was accepted";
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
      EXPECT_THAT(error.what(), HasSubstr(std::string("Experiment.") + hook +
                                          ": summary works on no single Experiment, so it "
                                          "runs no hooks"));
    }
  }
  dir_.write("summary.lua", R"(
Experiment.assigning(function(e)
  if e.tags == 'closed' then error('assignments are closed') end
  if e.tags == 'wide' then e.trafficAllocation = 500 return e end
  e.description = 'assigned by ' .. (e.owner or 'nobody') return e
end)
Experiment.assigned(function(e, ctx) ctx.Event.create{type = 'seen', data = {d = e.description}} end))");
  start_runner();
  auto id =
      create_experiment({{"name", "Tone"}, {"variants", json::parse(R"([{"key": "a", "weight": 50},
                                                            {"key": "b", "weight": 50}])")}});
  execute("Experiment", "start", id);
  auto assigned = engine_.execute(
      {.noun = "Experiment", .verb = "assign", .id = id, .data = {{"unit", "u1"}}, .actor = "t"});
  EXPECT_EQ(assigned.at("inExperiment"), true);
  auto stored = engine_.get("Experiment", id);
  EXPECT_EQ(stored.at("description"), "assigned by nobody");
  EXPECT_EQ(stored.at("status"), "Running");
  auto events = engine_.find("Event", {.filter = {{"type", "seen"}}}).items;
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at("data").at("d"), "assigned by nobody");
  EXPECT_THAT(event_types(id), ::testing::Contains("Experiment.Updated"));

  execute("Experiment", "update", id, {{"tags", "wide"}});
  auto history = event_types(id).size();
  Error invalid = failure("assign", id, {{"unit", "u2"}});
  EXPECT_EQ(invalid.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(invalid.field(), "trafficAllocation");
  execute("Experiment", "update", id, {{"tags", "closed"}});
  EXPECT_THAT(failure("assign", id, {{"unit", "u2"}}).what(), HasSubstr("assignments are closed"));
  EXPECT_EQ(event_types(id).size(), history + 1) << "refused assignments write nothing";
}

TEST_F(LuaHookRunnerTest, ReplacesAndDisablesShippedHooksByName) {
  HookDir shipped("hooks");
  shipped.write("gate.lua", "Experiment.starting(function() error('shipped gate') end)");
  shipped.write("other.lua", "Experiment.pausing(function() error('shipped pause') end)");
  dir_.write("gate.lua", "Experiment.starting(function() error('operator gate') end)");
  dir_.write("other.lua", "");
  auto runner = std::make_shared<LuaHookRunner>(
      engine_, HookOptions{.shipped_dir = shipped.path(), .dirs = {dir_.path()}});
  engine_.set_hooks(runner);
  EXPECT_EQ(runner->scripts(), (std::vector<std::string>{"ops/gate.lua", "ops/other.lua"}));
  EXPECT_THAT(failure("start", create_experiment()).what(), HasSubstr("operator gate"));
}

}  // namespace
}  // namespace verdict::plugins
