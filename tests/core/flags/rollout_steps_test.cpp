#include "core/flags/rollout_steps.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/engine.hpp"
#include "core/error.hpp"
#include "tests/support/manual_clock.hpp"
#include "tests/support/test_store.hpp"

namespace verdict::flags {
namespace {

namespace json = boost::json;
using std::chrono::hours;
using test_support::ManualClock;
using ::testing::HasSubstr;

class RolloutStepsTest : public ::testing::Test {
 protected:
  RolloutStepsTest() { engine_.set_clock(clock_); }

  json::value execute(const std::string& noun, const std::string& verb, const std::string& id,
                      json::object data = {}) {
    return engine_.execute({.noun = noun, .verb = verb, .id = id, .data = std::move(data)});
  }

  std::string create(const std::string& noun, json::object data) {
    return std::string(execute(noun, "create", "", std::move(data)).at("id").as_string());
  }

  std::string flag(json::object data = {}) {
    data["key"] = "new-nav";
    data["name"] = "New nav";
    data["type"] = "Boolean";
    data["defaultValue"] = false;
    return create("FeatureFlag", std::move(data));
  }

  // A flag on the experiment: a value for each of its variants, "on" being the rollout's.
  std::string linked_flag(const std::string& experiment) {
    return flag({{"experiment", experiment},
                 {"variants", json::array{{{"key", "off"}, {"value", false}},
                                          {{"key", "on"}, {"value", true}}}}});
  }

  json::object stored(const std::string& id) { return engine_.get("FeatureFlag", id); }

  json::object last_event(const std::string& id) {
    return engine_.get("FeatureFlag", id, true).at("history").as_array().back().as_object();
  }

  // The share of 2,000 units the flag is on for.
  double share_on() {
    int on = 0;
    for (int i = 0; i < 2000; ++i)
      on += execute("FeatureFlag", "evaluate", "new-nav", {{"unit", "u" + std::to_string(i)}})
                .at("value") == true;
    return on / 2000.0;
  }

  // A started experiment guarding revenue, whose treatment loses `loss` of it on 4,000 units.
  std::string guarded_experiment_losing(double loss) {
    const auto id = create(
        "Experiment",
        {{"name", "New nav"},
         {"primaryMetric", "signup"},
         {"guardrails", "revenue"},
         // Not the random id: the harm the guardrail sees depends on its split.
         {"seed", "new-nav-5"},
         {"variants", json::array{json::object{{"key", "off"}}, json::object{{"key", "on"}}}}});
    execute("Experiment", "start", id);
    json::array units, events;
    for (int i = 0; i < 4000; ++i) units.push_back(json::object{{"unit", "x" + std::to_string(i)}});
    const auto assignments = execute("Experiment", "assign", id, {{"units", units}});
    for (int i = 0; i < 4000; ++i) {
      const bool on =
          assignments.at("assignments").at(static_cast<std::size_t>(i)).at("variant") == "on";
      events.push_back(json::object{{"unit", "x" + std::to_string(i)},
                                    {"metric", "revenue"},
                                    {"value", (on ? 10.0 - loss : 10.0) + (i % 5) - 2}});
    }
    execute("Experiment", "track", id, {{"events", events}});
    return id;
  }

  ManualClock clock_{std::chrono::system_clock::now()};
  Engine engine_{test_support::fresh_store()};
};

TEST_F(RolloutStepsTest, StepsAdvanceOnTheirScheduleUntilRolledOut) {
  const auto id = flag();
  execute("FeatureFlag", "rollout", id, {{"steps", json::array{5, 25, 100}}, {"every", 3600}});
  EXPECT_EQ(stored(id).at("status"), "Enabled");
  EXPECT_EQ(stored(id).at("rolloutPercentage"), 5);
  EXPECT_NEAR(share_on(), 0.05, 0.02);
  const auto due = engine_.idle();
  ASSERT_TRUE(due);
  EXPECT_NEAR(std::chrono::duration<double>(*due - clock_.now()).count(), 3600, 5);

  clock_.set(*due);
  const auto next = engine_.idle();
  EXPECT_EQ(stored(id).at("rolloutPercentage"), 25);
  const auto stepped = last_event(id);
  EXPECT_EQ(stepped.at("type"), "FeatureFlag.RolloutStepped");
  EXPECT_EQ(stepped.at("actor"), "scheduler");
  EXPECT_EQ(stepped.at("data").at("rolloutPercentage"), 25);
  EXPECT_NEAR(share_on(), 0.25, 0.03);
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, *due + hours(1)) << "the next step is an interval after this one";

  clock_.set(*next);
  EXPECT_EQ(engine_.idle(), std::nullopt);
  const auto done = stored(id);
  EXPECT_EQ(done.at("status"), "RolledOut");
  EXPECT_EQ(done.at("rolloutPercentage"), 100);
  EXPECT_FALSE(done.contains("rolloutSteps"));
  EXPECT_EQ(last_event(id).at("type"), "FeatureFlag.RolledOut");
  EXPECT_EQ(last_event(id).at("actor"), "scheduler");
}

TEST_F(RolloutStepsTest, HarmToTheLinkedExperimentsGuardrailRollsBack) {
  const auto experiment = guarded_experiment_losing(1.0);
  const auto id = linked_flag(experiment);
  execute("FeatureFlag", "rollout", id, {{"steps", json::array{10, 50, 100}}, {"every", 86400}});
  clock_.set(clock_.now() + hours(25));
  EXPECT_EQ(engine_.idle(), std::nullopt);
  const auto rolled_back = stored(id);
  EXPECT_EQ(rolled_back.at("status"), "Disabled");
  EXPECT_EQ(rolled_back.at("rolloutPercentage"), 0);
  EXPECT_FALSE(rolled_back.contains("nextRolloutAt"));
  const auto history = engine_.get("FeatureFlag", id, true).at("history").as_array();
  const auto& back = history.at(history.size() - 2).as_object();
  EXPECT_EQ(back.at("type"), "FeatureFlag.RolledBack");
  EXPECT_EQ(back.at("actor"), "scheduler");
  EXPECT_EQ(back.at("data").at("from"), 10);
  EXPECT_EQ(back.at("data").at("guardrails").at(0).at("metric"), "revenue");
  EXPECT_EQ(history.back().at("type"), "FeatureFlag.Disabled");
}

TEST_F(RolloutStepsTest, GuardrailsThatHoldLetTheStepsAdvance) {
  const auto experiment = guarded_experiment_losing(0.0);
  const auto id = linked_flag(experiment);
  execute("FeatureFlag", "rollout", id, {{"steps", json::array{10, 50, 100}}, {"every", 86400}});
  clock_.set(clock_.now() + hours(25));
  engine_.idle();
  EXPECT_EQ(stored(id).at("rolloutPercentage"), 50);
  EXPECT_EQ(engine_.get("Experiment", experiment).at("results").at("summary").at("guardrailHarmed"),
            false)
      << "the step analyzed the experiment";
}

TEST_F(RolloutStepsTest, BadStepsAreRefusedNamingTheField) {
  const auto id = flag();
  auto refused = [&](json::object data) {
    try {
      execute("FeatureFlag", "rollout", id, std::move(data));
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
      return std::string(error.what());
    }
    return std::string("accepted");
  };
  EXPECT_THAT(refused({{"steps", json::array{5, 3, 100}}, {"every", 60}}), HasSubstr("steps[1]: "));
  EXPECT_THAT(refused({{"steps", json::array{5, 50}}, {"every", 60}}),
              HasSubstr("steps: the last step must be 100"));
  EXPECT_THAT(refused({{"steps", json::array{5, 100}}}), HasSubstr("every: required with steps"));
  EXPECT_THAT(refused({{"steps", json::array{5, 100}}, {"every", 0}}), HasSubstr("every: "));
  EXPECT_EQ(stored(id).at("status"), "Draft") << "a refused rollout changes nothing";
  execute("FeatureFlag", "rollout", id);
  EXPECT_EQ(stored(id).at("status"), "RolledOut") << "without steps: all at once";
  EXPECT_EQ(stored(id).at("rolloutPercentage"), 100);
}

}  // namespace
}  // namespace verdict::flags
