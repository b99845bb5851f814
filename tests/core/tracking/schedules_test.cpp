#include "core/tracking/schedules.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "core/clock.hpp"
#include "core/engine.hpp"
#include "core/error.hpp"
#include "tests/support/manual_clock.hpp"
#include "tests/support/test_store.hpp"

namespace verdict::tracking {
namespace {

namespace json = boost::json;
using std::chrono::hours;
using std::chrono::minutes;
using test_support::ManualClock;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Records every after hook with the actor that ran the verb, and may refuse a start.
class RecordingHooks final : public HookRunner {
 public:
  std::optional<json::object> before(const HookContext& context, const json::object&) override {
    if (refuse_start && context.verb.name == "start")
      throw Error(ErrorCode::kHookRejected, "not before the launch review");
    return std::nullopt;
  }
  std::vector<HookFailure> after(const HookContext& context, const json::object&,
                                 Engine&) override {
    calls.push_back(context.verb.after_hook + " by " + context.request.actor);
    return {};
  }
  std::vector<std::string> calls;
  bool refuse_start = false;
};

// Schedules are in the past of the real clock, so that `start` keeps a due startAt as it is;
// the engine's clock walks up to them.
const Clock::time_point kStart =
    std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) - hours(48);

class SchedulesTest : public ::testing::Test {
 protected:
  SchedulesTest() { use(engine_); }

  void use(Engine& engine) {
    engine.set_clock(clock_);
    engine.set_hooks(hooks_);
  }

  json::object execute(const std::string& verb, const std::string& id, json::object data = {}) {
    return engine_.execute({.noun = "Experiment", .verb = verb, .id = id, .data = std::move(data)})
        .as_object();
  }

  std::string create(json::object data) {
    data["name"] = "Scheduled";
    data["primaryMetric"] = "signup";
    data["seed"] = "scheduled-1";  // not the random id: its split would fire SRM 1 run in 1000
    data["variants"] = json::array{json::object{{"key", "control"}, {"weight", 50}},
                                   json::object{{"key", "green"}, {"weight", 50}}};
    return std::string(execute("create", "", std::move(data)).at("id").as_string());
  }

  std::string status(const std::string& id) {
    return std::string(engine_.get("Experiment", id).at("status").as_string());
  }

  json::object last_event(const std::string& id) {
    const auto history = engine_.get("Experiment", id, true).at("history").as_array();
    return history.back().as_object();
  }

  // 2,000 units, green converting at 40 % and control at 10 %: the analysis supports green.
  void traffic_with_a_winner(const std::string& id) {
    json::array units, events;
    for (int i = 0; i < 2000; ++i) units.push_back(json::object{{"unit", "u" + std::to_string(i)}});
    const auto assignments = execute("assign", id, {{"units", units}}).at("assignments");
    for (int i = 0; i < 2000; ++i) {
      const auto& assignment = assignments.at(static_cast<std::size_t>(i));
      if (i % 10 < (assignment.at("variant") == "green" ? 4 : 1))
        events.push_back(json::object{{"unit", "u" + std::to_string(i)}, {"metric", "signup"}});
    }
    execute("track", id, {{"events", events}});
  }

  ManualClock clock_{kStart - hours(1)};
  std::shared_ptr<RecordingHooks> hooks_ = std::make_shared<RecordingHooks>();
  Engine engine_{test_support::fresh_store()};
};

TEST_F(SchedulesTest, AFutureStartAtStartsTheExperimentThenAsTheScheduler) {
  const auto id = create({{"startAt", to_iso8601(kStart)}});
  hooks_->calls.clear();
  EXPECT_EQ(engine_.idle(), kStart) << "the worker is told when to come back";
  EXPECT_EQ(status(id), "Draft");

  clock_.set(kStart - std::chrono::seconds(1));
  EXPECT_EQ(engine_.idle(), kStart);
  EXPECT_EQ(status(id), "Draft");

  clock_.set(kStart);
  EXPECT_EQ(engine_.idle(), std::nullopt) << "nothing else is scheduled";
  EXPECT_EQ(status(id), "Started");
  EXPECT_EQ(engine_.get("Experiment", id).at("startAt"), json::value(to_iso8601(kStart)))
      << "startAt stays the scheduled time";
  const auto event = last_event(id);
  EXPECT_EQ(event.at("type"), "Experiment.Started");
  EXPECT_EQ(event.at("actor"), "scheduler");
  EXPECT_THAT(hooks_->calls, ElementsAre("started by scheduler"));

  clock_.set(kStart + hours(1));
  engine_.idle();
  EXPECT_THAT(hooks_->calls, ElementsAre("started by scheduler")) << "a start runs once";
}

TEST_F(SchedulesTest, AnEndAtWithASupportedWinnerAnalyzesAndConcludes) {
  const auto id =
      create({{"startAt", to_iso8601(kStart)}, {"endAt", to_iso8601(kStart + hours(24))}});
  EXPECT_EQ(engine_.idle(), kStart);
  clock_.set(kStart);
  EXPECT_EQ(engine_.idle(), kStart + hours(24)) << "started: now the end is next";
  traffic_with_a_winner(id);
  ASSERT_EQ(status(id), "Running");
  hooks_->calls.clear();

  clock_.set(kStart + hours(30));
  EXPECT_EQ(engine_.idle(), std::nullopt);
  const auto experiment = engine_.get("Experiment", id);
  EXPECT_EQ(experiment.at("status"), "Concluded");
  EXPECT_EQ(experiment.at("winner"), "green");
  EXPECT_EQ(experiment.at("endAt"), json::value(to_iso8601(kStart + hours(24))));
  EXPECT_THAT(hooks_->calls, ElementsAre("analyzed by scheduler", "concluded by scheduler"));
  EXPECT_EQ(last_event(id).at("actor"), "scheduler");
  // It no longer collects: assignments serve the winner and events are refused.
  EXPECT_EQ(execute("assign", id, {{"unit", "late"}}).at("inExperiment"), false);
  EXPECT_THROW(execute("track", id, {{"unit", "u1"}, {"metric", "signup"}}), Error);
}

TEST_F(SchedulesTest, AnEndAtWithoutAWinnerStopsAndAPausedOneStopsToo) {
  const auto quiet =
      create({{"startAt", to_iso8601(kStart)}, {"endAt", to_iso8601(kStart + hours(2))}});
  const auto paused =
      create({{"startAt", to_iso8601(kStart)}, {"endAt", to_iso8601(kStart + hours(3))}});
  clock_.set(kStart);
  engine_.idle();
  execute("assign", quiet, {{"unit", "someone"}});
  execute("pause", paused);
  hooks_->calls.clear();

  clock_.set(kStart + hours(2));
  EXPECT_EQ(engine_.idle(), kStart + hours(3)) << "the paused one is next";
  EXPECT_EQ(status(quiet), "Stopped") << "no significant winner: stopped, not concluded";
  EXPECT_EQ(status(paused), "Paused");
  clock_.set(kStart + hours(3));
  engine_.idle();
  EXPECT_EQ(status(paused), "Stopped");
  EXPECT_THAT(hooks_->calls,
              ElementsAre("analyzed by scheduler", "stopped by scheduler", "stopped by scheduler"));
}

TEST_F(SchedulesTest, TwoDueAtOnceRunInTheirOrderAndTheNextIsReported) {
  const auto later = create({{"startAt", to_iso8601(kStart + minutes(5))}});
  const auto sooner = create({{"startAt", to_iso8601(kStart)}});
  const auto tomorrow = create({{"startAt", to_iso8601(kStart + hours(24))}});
  clock_.set(kStart + minutes(10));
  EXPECT_EQ(engine_.idle(), kStart + hours(24));
  EXPECT_EQ(status(sooner), "Started");
  EXPECT_EQ(status(later), "Started");
  EXPECT_EQ(status(tomorrow), "Draft");
}

TEST_F(SchedulesTest, AScheduleChangedOrRemovedIsReadAgain) {
  const auto id = create({{"startAt", to_iso8601(kStart + hours(5))}});
  EXPECT_EQ(engine_.idle(), kStart + hours(5));
  execute("update", id, {{"startAt", to_iso8601(kStart + hours(2))}});
  EXPECT_EQ(engine_.idle(), kStart + hours(2));
  execute("update", id, {{"startAt", nullptr}});
  EXPECT_EQ(engine_.idle(), std::nullopt);
  clock_.set(kStart + hours(6));
  engine_.idle();
  EXPECT_EQ(status(id), "Draft");
}

TEST_F(SchedulesTest, ARefusedStartIsRecordedOnceAndTriedAgainWhenTheExperimentChanges) {
  hooks_->refuse_start = true;
  const auto id = create({{"startAt", to_iso8601(kStart)}});
  clock_.set(kStart);
  EXPECT_EQ(engine_.idle(), std::nullopt) << "a failed schedule is not retried in a loop";
  EXPECT_EQ(status(id), "Draft");
  const auto failure = last_event(id);
  EXPECT_EQ(failure.at("type"), "Experiment.ScheduleFailed");
  EXPECT_EQ(failure.at("actor"), "scheduler");
  EXPECT_THAT(std::string(failure.at("data").at("error").as_string()),
              HasSubstr("not before the launch review"));
  engine_.idle();
  EXPECT_EQ(engine_.get("Experiment", id, true).at("history").as_array().size(), 2u)
      << "Created and one ScheduleFailed";

  hooks_->refuse_start = false;
  execute("update", id, {{"description", "reviewed"}});
  engine_.idle();
  EXPECT_EQ(status(id), "Started");
}

TEST_F(SchedulesTest, AnEndAtBeforeStartAtIsRefused) {
  try {
    create({{"startAt", to_iso8601(kStart)}, {"endAt", to_iso8601(kStart - minutes(1))}});
    FAIL() << "accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(error.what(), HasSubstr("endAt: must not be before startAt"));
  }
  EXPECT_TRUE(engine_.find("Experiment", {}).items.empty());
}

TEST_F(SchedulesTest, StartingByHandBeforeTheScheduleStartsNow) {
  const auto future = std::chrono::system_clock::now() + hours(24);
  const auto id = create({{"startAt", to_iso8601(future)}});
  execute("start", id);
  const auto started = parse_iso8601_utc(engine_.get("Experiment", id).at("startAt").as_string());
  ASSERT_TRUE(started);
  EXPECT_LT(*started, future - hours(23));
}

class SchedulesFileTest : public SchedulesTest {
 protected:
  void TearDown() override {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
  }
  std::string path_ = (std::filesystem::temp_directory_path() /
                       ("verdict_schedules_test_" + std::to_string(::getpid()) + ".db"))
                          .string();
  /// A store two engines in this process share, as nodes on one PostgreSQL database do.
  std::string shared_ = test_support::shared_store(path_);
};

// A schedule written through another connection (another node, `verdict` in a shell) never
// passed this engine's verbs: the store's data version tells it to look again.
TEST_F(SchedulesFileTest, AScheduleWrittenByAnotherNodeRunsHere) {
  Engine runner(shared_);
  use(runner);
  EXPECT_EQ(runner.idle(), std::nullopt) << "nothing is scheduled yet";
  Engine writer(shared_);
  writer.set_clock(clock_);
  json::object data{
      {"name", "Scheduled elsewhere"},
      {"variants", json::array{json::object{{"key", "a"}}, json::object{{"key", "b"}}}},
      {"startAt", to_iso8601(kStart)}};
  const std::string id(
      writer.execute({.noun = "Experiment", .verb = "create", .data = data}).at("id").as_string());
  clock_.set(kStart);
  hooks_->calls.clear();
  EXPECT_EQ(runner.idle(), std::nullopt);
  EXPECT_EQ(runner.get("Experiment", id).at("status"), "Started");
  EXPECT_THAT(hooks_->calls, ElementsAre("started by scheduler"));
}

// Due times come from the stored experiments: a start and an end that fell due while no server
// ran both happen at the first idle after a restart.
TEST_F(SchedulesFileTest, WhatFellDueWhileStoppedRunsAfterARestart) {
  std::string pending, running;
  {
    Engine before(shared_);
    use(before);
    auto create_in = [&](json::object data) {
      data["name"] = "Scheduled";
      data["variants"] = json::array{json::object{{"key", "a"}}, json::object{{"key", "b"}}};
      return std::string(before.execute({.noun = "Experiment", .verb = "create", .data = data})
                             .at("id")
                             .as_string());
    };
    pending = create_in({{"startAt", to_iso8601(kStart + hours(1))}});
    running =
        create_in({{"startAt", to_iso8601(kStart)}, {"endAt", to_iso8601(kStart + hours(2))}});
    clock_.set(kStart);
    EXPECT_EQ(before.idle(), kStart + hours(1));
  }
  clock_.set(kStart + hours(3));
  Engine after(shared_);
  use(after);
  hooks_->calls.clear();
  EXPECT_EQ(after.idle(), std::nullopt);
  EXPECT_EQ(after.get("Experiment", pending).at("status"), "Started");
  EXPECT_EQ(after.get("Experiment", running).at("status"), "Stopped");
  EXPECT_THAT(hooks_->calls, ElementsAre("started by scheduler", "stopped by scheduler"));
}

}  // namespace
}  // namespace verdict::tracking
