#include "core/flags/flag_verbs.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>

#include "core/engine.hpp"
#include "core/error.hpp"
#include "tests/support/manual_clock.hpp"
#include "tests/support/test_store.hpp"

namespace verdict::flags {
namespace {

namespace json = boost::json;

class FlagVerbsTest : public ::testing::Test {
 protected:
  json::object create(json::object data) {
    // Copied first: inserting "name" may rehash the object and move the key's value.
    if (!data.contains("name")) data["name"] = json::value(data.at("key"));
    auto flag = engine_.execute({.noun = "FeatureFlag", .verb = "create", .data = std::move(data)})
                    .as_object();
    ids_[std::string(flag.at("key").as_string())] = std::string(flag.at("id").as_string());
    return flag;
  }

  json::object evaluate(const std::string& flag, const std::string& unit,
                        json::object attributes = {}) {
    json::object data{{"unit", unit}};
    if (!attributes.empty()) data["attributes"] = std::move(attributes);
    return engine_
        .execute({.noun = "FeatureFlag", .verb = "evaluate", .id = flag, .data = std::move(data)})
        .as_object();
  }

  // The generic verbs take an id (FeatureFlag has no slug); evaluate takes a key too.
  void verb(const std::string& key, const std::string& name, json::object data = {}) {
    engine_.execute(
        {.noun = "FeatureFlag", .verb = name, .id = ids_.at(key), .data = std::move(data)});
  }

  Error refusal(json::object data) {
    try {
      create(std::move(data));
    } catch (const Error& error) {
      return error;
    }
    ADD_FAILURE() << "the flag was accepted";
    return Error(ErrorCode::kInternal, "accepted");
  }

  // A running 50/50 experiment with variants control and green.
  std::string running_experiment() {
    auto experiment =
        engine_
            .execute({.noun = "Experiment",
                      .verb = "create",
                      .data = {{"name", "Checkout"},
                               {"primaryMetric", "buy"},
                               {"variants", json::array{{{"key", "control"}, {"weight", 50}},
                                                        {{"key", "green"}, {"weight", 50}}}}}})
            .as_object();
    std::string id(experiment.at("id").as_string());
    engine_.execute({.noun = "Experiment", .verb = "start", .id = id});
    engine_.execute({.noun = "Experiment", .verb = "run", .id = id});
    return id;
  }

  // A String flag on the experiment: control serves (and defaults to) `control`.
  void create_linked(const std::string& key, const std::string& experiment,
                     const std::string& control, const std::string& green) {
    create({{"key", key},
            {"type", "String"},
            {"defaultValue", control},
            {"experiment", experiment},
            {"variants", json::array{{{"key", "control"}, {"value", control}},
                                     {{"key", "green"}, {"value", green}}}}});
  }

  Engine engine_{test_support::fresh_store()};
  std::map<std::string, std::string> ids_;
};

TEST_F(FlagVerbsTest, StatesThatAreOffServeTheDefaultAsDisabled) {
  create(
      {{"key", "off"}, {"type", "Boolean"}, {"defaultValue", false}, {"rolloutPercentage", 100}});
  auto expect_disabled = [&](const char* state) {
    auto result = evaluate("off", "u1");
    EXPECT_EQ(result.at("value"), false) << state;
    EXPECT_EQ(result.at("reason"), "DISABLED") << state;
    EXPECT_TRUE(result.at("ruleId").is_null()) << state;
  };
  expect_disabled("Draft");
  verb("off", "enable");
  EXPECT_EQ(evaluate("off", "u1").at("value"), true);
  // No verb leads to Paused, but a database another tool wrote may hold it.
  json::object paused = engine_.get("FeatureFlag", ids_.at("off"));
  const auto version = paused.at("version").to_number<std::int64_t>();
  paused["status"] = "Paused";
  paused["version"] = version + 1;
  engine_.store().update(engine_.schema().noun("FeatureFlag"), paused, version);
  expect_disabled("Paused");
  verb("off", "disable");
  expect_disabled("Disabled");
  verb("off", "archive");
  expect_disabled("Archived");
}

TEST_F(FlagVerbsTest, TargetingRulesMatchInOrderThenTheDefault) {
  auto flag =
      create({{"key", "banner"},
              {"type", "String"},
              {"defaultValue", "plain"},
              {"variants", json::array{{{"key", "plain"}, {"value", "plain"}},
                                       {{"key", "gold"}, {"value", "gold"}}}},
              {"targetingRules",
               json::array{{{"id", "vip"}, {"condition", {{"tier", "vip"}}}, {"force", "gold"}},
                           {{"condition", {{"tier", "staff"}}}, {"force", "staff"}}}}});
  verb("banner", "enable");
  auto vip = evaluate("banner", "u1", {{"tier", "vip"}});
  EXPECT_EQ(vip.at("value"), "gold");
  EXPECT_EQ(vip.at("variant"), "gold");
  EXPECT_EQ(vip.at("reason"), "TARGETING_MATCH");
  EXPECT_EQ(vip.at("ruleId"), "vip");
  auto staff = evaluate(std::string(flag.at("id").as_string()), "u1", {{"tier", "staff"}});
  EXPECT_EQ(staff.at("value"), "staff");
  EXPECT_EQ(staff.at("ruleId"), "targetingRules[1]");
  auto other = evaluate("banner", "u1", {{"tier", "free"}});
  EXPECT_EQ(other.at("value"), "plain");
  EXPECT_EQ(other.at("reason"), "DEFAULT");
}

TEST_F(FlagVerbsTest, RolloutPercentageIsStickyAndGrowsWithoutFlipping) {
  create({{"key", "new-nav"},
          {"type", "Boolean"},
          {"defaultValue", false},
          {"rolloutPercentage", 30}});
  verb("new-nav", "enable");
  std::vector<bool> at30;
  int on = 0;
  for (int i = 0; i < 2000; ++i) {
    auto result = evaluate("new-nav", "user-" + std::to_string(i));
    at30.push_back(result.at("value").as_bool());
    on += at30.back();
    EXPECT_EQ(result.at("reason"), at30.back() ? "SPLIT" : "DEFAULT");
    EXPECT_EQ(evaluate("new-nav", "user-" + std::to_string(i)).at("value"), result.at("value"));
  }
  EXPECT_NEAR(on, 600, 90);
  verb("new-nav", "update", {{"rolloutPercentage", 60}});
  for (int i = 0; i < 2000; ++i) {
    if (at30[static_cast<std::size_t>(i)]) {
      EXPECT_EQ(evaluate("new-nav", "user-" + std::to_string(i)).at("value"), true) << i;
    }
  }
}

TEST_F(FlagVerbsTest, ExperimentRulesSplitByVariationKey) {
  create({{"key", "price"},
          {"type", "Number"},
          {"defaultValue", 10},
          {"targetingRules",
           json::array{{{"key", "price-test"},
                        {"variations", json::array{10, 12}},
                        {"meta", json::array{{{"key", "low"}}, {{"key", "high"}}}}}}}});
  verb("price", "enable");
  int high = 0;
  for (int i = 0; i < 400; ++i) {
    auto result = evaluate("price", "u" + std::to_string(i));
    EXPECT_EQ(result.at("reason"), "SPLIT");
    const bool is_high = result.at("value") == 12;
    EXPECT_EQ(result.at("variant"), is_high ? "high" : "low");
    high += is_high;
  }
  EXPECT_NEAR(high, 200, 50);
}

TEST_F(FlagVerbsTest, LinkedRunningExperimentServesTheAssignedVariantWithItsExposure) {
  std::string experiment = running_experiment();
  create_linked("checkout-color", experiment, "blue", "green");
  verb("checkout-color", "enable");
  for (int i = 0; i < 50; ++i) {
    const std::string unit = "u" + std::to_string(i);
    auto result = evaluate("checkout-color", unit);
    EXPECT_EQ(result.at("reason"), "SPLIT");
    EXPECT_EQ(result.at("ruleId"), json::value(experiment));
    auto assigned = engine_
                        .execute({.noun = "Experiment",
                                  .verb = "assign",
                                  .id = experiment,
                                  .data = {{"unit", unit}}})
                        .as_object();
    // The evaluation recorded the exposure: assign finds it rather than making a new one.
    EXPECT_EQ(assigned.at("reason"), "sticky");
    EXPECT_EQ(result.at("variant"), assigned.at("variant"));
    EXPECT_EQ(result.at("value"), assigned.at("variant") == "green" ? "green" : "blue");
  }
}

TEST_F(FlagVerbsTest, ALinkedFlagNeedsAValueForEachExperimentVariant) {
  const std::string experiment = running_experiment();
  auto partial = refusal({{"key", "half"},
                          {"type", "String"},
                          {"experiment", experiment},
                          {"variants", json::array{{{"key", "control"}, {"value", "blue"}}}}});
  EXPECT_EQ(partial.field(), "variants");
  EXPECT_THAT(partial.what(), ::testing::HasSubstr("no value for experiment variant 'green' of "
                                                   "Checkout"));
  auto none = refusal({{"key", "none"}, {"type", "Boolean"}, {"experiment", experiment}});
  EXPECT_THAT(none.what(), ::testing::HasSubstr("variant 'control', 'green'"));
  EXPECT_EQ(engine_.find("FeatureFlag", {}).items.size(), 0u) << "a refused create wrote";

  // Variants added to a Draft after a flag was linked are caught when it starts.
  const std::string draft(
      engine_
          .execute({.noun = "Experiment",
                    .verb = "create",
                    .data = {{"name", "Later"},
                             {"primaryMetric", "buy"},
                             {"variants", json::array{{{"key", "control"}}, {{"key", "green"}}}}}})
          .at("id")
          .as_string());
  create_linked("later", draft, "blue", "green");
  engine_.execute({.noun = "Experiment",
                   .verb = "addVariant",
                   .id = draft,
                   .data = {{"name", "Red"}, {"key", "red"}}});
  try {
    engine_.execute({.noun = "Experiment", .verb = "start", .id = draft});
    ADD_FAILURE() << "started with a flag that has no value for 'red'";
  } catch (const Error& error) {
    EXPECT_EQ(error.field(), "variants");
    EXPECT_THAT(error.what(), ::testing::HasSubstr("flag later (" + ids_.at("later") +
                                                   ") has no value for variant 'red'"));
  }
  EXPECT_EQ(engine_.get("Experiment", draft).at("status"), "Draft");
}

// A running experiment's variants can still be edited; a unit in a variant the flag has no value
// for gets the default as ERROR, without a variant that would read as a decision.
TEST_F(FlagVerbsTest, AnErrorEvaluationNamesNoVariant) {
  const std::string experiment = running_experiment();
  create_linked("color", experiment, "blue", "green");
  verb("color", "enable");
  engine_.execute({.noun = "Experiment",
                   .verb = "update",
                   .id = experiment,
                   .data = {{"variants", json::array{{{"key", "control"}, {"weight", 0}},
                                                     {{"key", "green"}, {"weight", 0}},
                                                     {{"key", "red"}, {"weight", 100}}}}}});
  auto result = evaluate("color", "u1");
  EXPECT_EQ(result.at("reason"), "ERROR");
  EXPECT_EQ(result.at("value"), "blue");
  EXPECT_TRUE(result.at("variant").is_null()) << result;
  EXPECT_THAT(std::string(result.at("errorMessage").as_string()),
              ::testing::HasSubstr("no variant keyed 'red'"));
  // Turning it off never depends on its variants; turning it back on does.
  verb("color", "disable");
  EXPECT_THROW(verb("color", "enable"), Error);
  EXPECT_EQ(engine_.get("FeatureFlag", ids_.at("color")).at("status"), "Disabled");
}

TEST_F(FlagVerbsTest, RolledOutServesTheWinnerToEveryone) {
  std::string experiment = running_experiment();
  create_linked("cta", experiment, "Buy", "Buy now");
  engine_.execute({.noun = "Experiment",
                   .verb = "conclude",
                   .id = experiment,
                   .data = {{"winner", "green"}, {"force", true}, {"reason", "test"}}});
  verb("cta", "rollout");
  for (int i = 0; i < 20; ++i) {
    auto result = evaluate("cta", "u" + std::to_string(i));
    EXPECT_EQ(result.at("value"), "Buy now");
    EXPECT_EQ(result.at("variant"), "green");
    EXPECT_EQ(result.at("reason"), "STATIC");
  }
}

TEST_F(FlagVerbsTest, RolledOutBooleanFlagServesTrue) {
  create({{"key", "dark"}, {"type", "Boolean"}, {"defaultValue", false}});
  verb("dark", "rollout");
  auto result = evaluate("dark", "anyone");
  EXPECT_EQ(result.at("value"), true);
  EXPECT_EQ(result.at("reason"), "STATIC");
}

TEST_F(FlagVerbsTest, ValuesAreCheckedAgainstTheTypeWhenWritten) {
  EXPECT_EQ(refusal({{"key", "a"}, {"type", "String"}, {"defaultValue", true}}).field(),
            "defaultValue");
  EXPECT_EQ(refusal({{"key", "b"},
                     {"type", "Number"},
                     {"variants", json::array{{{"key", "x"}, {"value", "1"}}}}})
                .field(),
            "variants[0].value");
  EXPECT_EQ(
      refusal(
          {{"key", "c"}, {"type", "Boolean"}, {"targetingRules", json::array{{{"force", "yes"}}}}})
          .field(),
      "targetingRules[0].force");
  EXPECT_EQ(
      refusal({{"key", "d"}, {"targetingRules", json::array{{{"force", 1}, {"coverage", "half"}}}}})
          .field(),
      "targetingRules[0].coverage");
  EXPECT_EQ(refusal({{"key", "e"}, {"type", "String"}, {"rolloutPercentage", 10}}).field(),
            "variants");
  // Server-side evaluation has no sticky bucket documents, so a fallback would be ignored.
  EXPECT_EQ(refusal({{"key", "f"},
                     {"targetingRules", json::array{{{"variations", json::array{false, true}},
                                                     {"fallbackAttribute", "deviceId"}}}}})
                .field(),
            "targetingRules[0].fallbackAttribute");
  // A refused write leaves nothing behind.
  EXPECT_TRUE(engine_.find("FeatureFlag", {}).items.empty());
}

TEST_F(FlagVerbsTest, PrerequisitesGateOnTheParentsValue) {
  create({{"key", "parent"},
          {"type", "Boolean"},
          {"defaultValue", false},
          {"rolloutPercentage", 100}});
  create(
      {{"key", "child"},
       {"type", "String"},
       {"defaultValue", "off"},
       {"targetingRules",
        json::array{
            {{"parentConditions",
              json::array{{{"id", "parent"}, {"condition", {{"value", true}}}, {"gate", true}}}}},
            {{"force", "on"}}}}});
  verb("child", "enable");
  // The parent is Draft: the failed gate serves no value, as GrowthBook's SDKs do.
  EXPECT_TRUE(evaluate("child", "u1").at("value").is_null());
  verb("parent", "enable");
  auto result = evaluate("child", "u1");
  EXPECT_EQ(result.at("value"), "on");
  EXPECT_EQ(result.at("reason"), "STATIC");
}

// A cycle would make every flag on it evaluate as ERROR, so it is refused when written.
TEST_F(FlagVerbsTest, PrerequisiteCyclesAreRefusedWhenWritten) {
  auto gated_by = [](const char* parent) {
    return json::array{
        {{"parentConditions", json::array{{{"id", parent}, {"gate", true}}}}, {"force", true}}};
  };
  create({{"key", "a"}, {"type", "Boolean"}, {"defaultValue", false}});
  create({{"key", "b"},
          {"type", "Boolean"},
          {"defaultValue", false},
          {"targetingRules", gated_by("a")}});
  create({{"key", "c"},
          {"type", "Boolean"},
          {"defaultValue", false},
          {"targetingRules", gated_by("b")}});
  try {
    verb("a", "update", {{"targetingRules", json::array{{{"force", false}}, gated_by("c")[0]}}});
    ADD_FAILURE() << "the cycle was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.field(), "targetingRules[1].parentConditions[0].id");
    EXPECT_NE(std::string(error.what()).find("a -> c -> b -> a"), std::string::npos)
        << error.what();
  }
  auto stored = engine_.store().get(engine_.schema().noun("FeatureFlag"), ids_.at("a"));
  ASSERT_TRUE(stored);
  EXPECT_FALSE(stored->contains("targetingRules")) << "a refused update changes nothing";

  Error self =
      refusal({{"key", "self"}, {"type", "Boolean"}, {"targetingRules", gated_by("self")}});
  EXPECT_EQ(self.field(), "targetingRules[0].parentConditions[0].id");
  EXPECT_NE(std::string(self.what()).find("self -> self"), std::string::npos) << self.what();
  // A parent that does not exist yet, and a diamond, are no cycles.
  create(
      {{"key", "d"},
       {"type", "Boolean"},
       {"targetingRules", json::array{gated_by("b")[0], gated_by("c")[0], gated_by("later")[0]}}});
}

TEST_F(FlagVerbsTest, BatchEvaluatesFlagsForUnits) {
  create({{"key", "one"}, {"type", "Boolean"}, {"defaultValue", false}});
  create({{"key", "two"}, {"type", "Number"}, {"defaultValue", 2}});
  verb("one", "rollout");
  auto result = engine_
                    .execute({.noun = "FeatureFlag",
                              .verb = "evaluate",
                              .data = {{"units", json::array{{{"unit", "a"}}, {{"unit", "b"}}}}}})
                    .as_object();
  const auto& list = result.at("evaluations").as_array();
  ASSERT_EQ(list.size(), 4u);
  EXPECT_EQ(list[0].at("flag"), "one");
  EXPECT_EQ(list[0].at("unit"), "a");
  EXPECT_EQ(list[0].at("value"), true);
  EXPECT_EQ(list[1].at("flag"), "two");
  EXPECT_EQ(list[1].at("reason"), "DISABLED");
  EXPECT_EQ(list[3].at("unit"), "b");
}

TEST_F(FlagVerbsTest, UnknownFlagAndBadArgumentsAreNamed) {
  try {
    evaluate("missing", "u1");
    ADD_FAILURE() << "evaluated a missing flag";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kNotFound);
  }
  create({{"key", "x"}});
  try {
    engine_.execute({.noun = "FeatureFlag", .verb = "evaluate", .id = "x", .data = {{"unit", 5}}});
    ADD_FAILURE() << "accepted a numeric unit";
  } catch (const Error& error) {
    EXPECT_EQ(error.field(), "unit");
  }
}

TEST_F(FlagVerbsTest, AnUpdatedFlagIsEvaluatedWithItsNewRules) {
  create({{"key", "copy"},
          {"type", "String"},
          {"defaultValue", "none"},
          {"targetingRules", json::array{{{"force", "first"}}}}});
  verb("copy", "enable");
  EXPECT_EQ(evaluate("copy", "u1").at("value"), "first");
  verb("copy", "update", {{"targetingRules", json::array{{{"force", "second"}}}}});
  EXPECT_EQ(evaluate("copy", "u1").at("value"), "second") << "the compiled rules follow the flag";
}

TEST_F(FlagVerbsTest, EvaluationsAreCountedInBatchesWithoutNewVersions) {
  auto flag = create({{"key", "counted"}, {"type", "Boolean"}, {"defaultValue", false}});
  json::array units;
  for (int i = 0; i < 999; ++i) units.push_back(json::object{{"unit", "u" + std::to_string(i)}});
  engine_.execute({.noun = "FeatureFlag",
                   .verb = "evaluate",
                   .id = ids_.at("counted"),
                   .data = {{"units", units}}});
  evaluate("counted", "one-more");
  auto stored = engine_.get("FeatureFlag", ids_.at("counted"));
  EXPECT_EQ(stored.at("evaluations"), 1000);
  EXPECT_TRUE(stored.at("lastEvaluatedAt").is_string());
  EXPECT_EQ(stored.at("version"), flag.at("version")) << "counting is not an edit";
}

// A burst of evaluations followed by silence: the engine's idle timetable writes the counts
// once they are due, without waiting for the next evaluation.
TEST(FlagUsage, IdleTimeWritesCountsLeftByABurst) {
  test_support::ManualClock clock(std::chrono::system_clock::now());
  Engine engine(test_support::fresh_store());
  engine.set_clock(clock);
  const std::string id(
      engine
          .execute({.noun = "FeatureFlag", .verb = "create", .data = {{"key", "k"}, {"name", "k"}}})
          .at("id")
          .as_string());
  EXPECT_EQ(engine.idle(), std::nullopt) << "nothing to write";
  const auto burst = clock.now();
  for (int i = 0; i < 3; ++i)
    engine.execute({.noun = "FeatureFlag", .verb = "evaluate", .id = "k", .data = {{"unit", "u"}}});
  const json::object before = engine.get("FeatureFlag", id);
  const json::value* counted = before.if_contains("evaluations");
  EXPECT_TRUE(!counted || counted->is_null() || *counted == 0) << "written before due";
  EXPECT_EQ(engine.idle(), burst + std::chrono::seconds(5)) << "due 5 s after the first";

  clock.set(burst + std::chrono::seconds(5));
  EXPECT_EQ(engine.idle(), std::nullopt);
  const auto stored = engine.get("FeatureFlag", id);
  EXPECT_EQ(stored.at("evaluations"), 3);
  EXPECT_TRUE(stored.at("lastEvaluatedAt").is_string());
}

TEST(FlagUsage, CountsReachTheDatabaseAtShutdown) {
  // The pid keeps concurrent runs (another build's tests, another checkout) off this file.
  const std::string path =
      ::testing::TempDir() + "flag_usage_test_" + std::to_string(::getpid()) + ".db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  std::string id;
  {
    Engine engine(path);
    id = std::string(
        engine
            .execute(
                {.noun = "FeatureFlag", .verb = "create", .data = {{"key", "k"}, {"name", "k"}}})
            .at("id")
            .as_string());
    for (int i = 0; i < 3; ++i)
      engine.execute(
          {.noun = "FeatureFlag", .verb = "evaluate", .id = "k", .data = {{"unit", "u"}}});
  }
  Engine reopened(path);
  EXPECT_EQ(reopened.get("FeatureFlag", id).at("evaluations"), 3);
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
}

}  // namespace
}  // namespace verdict::flags
