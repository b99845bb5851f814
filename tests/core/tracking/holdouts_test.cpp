#include "core/tracking/holdouts.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "core/engine.hpp"
#include "core/error.hpp"
#include "core/flags/feature_rules.hpp"
#include "core/flags/sdk_payload.hpp"
#include "tests/support/growthbook_features.hpp"
#include "tests/support/test_store.hpp"

namespace verdict::tracking {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

constexpr int kUnits = 4000;

class HoldoutsTest : public ::testing::Test {
 protected:
  json::value execute(const std::string& noun, const std::string& verb, const std::string& id,
                      json::object data = {}) {
    return engine_.execute({.noun = noun, .verb = verb, .id = id, .data = std::move(data)});
  }

  std::string create(const std::string& noun, json::object data) {
    return std::string(execute(noun, "create", "", std::move(data)).at("id").as_string());
  }

  std::string started_holdout(json::object data = {}) {
    data["name"] = "Q1 holdout";
    data["type"] = "Holdout";
    if (!data.contains("trafficAllocation")) data["trafficAllocation"] = 10;
    data["primaryMetric"] = "revenue";
    data["seed"] = "q1-holdout-1";  // not the random id: its split would fire SRM 1 run in 1000
    const auto id = create("Experiment", std::move(data));
    execute("Experiment", "start", id);
    return id;
  }

  std::string started_experiment(json::object data = {}) {
    data["name"] = "Checkout copy";
    data["primaryMetric"] = "buy";
    data["variants"] = json::array{json::object{{"key", "control"}, {"weight", 50}},
                                   json::object{{"key", "green"}, {"weight", 50}}};
    const auto id = create("Experiment", std::move(data));
    execute("Experiment", "start", id);
    return id;
  }

  json::array assign_all(const std::string& experiment) {
    json::array units;
    for (int i = 0; i < kUnits; ++i) units.push_back(json::object{{"unit", unit(i)}});
    return execute("Experiment", "assign", experiment, {{"units", units}})
        .at("assignments")
        .as_array();
  }

  static std::string unit(int i) { return "user-" + std::to_string(i); }

  std::vector<std::int64_t> exposures(const std::string& experiment) {
    std::vector<std::int64_t> counts;
    const auto summary = execute("Experiment", "analyze", experiment).at("variants").as_array();
    for (const auto& row : summary) counts.push_back(row.at("exposures").to_number<std::int64_t>());
    return counts;
  }

  Engine engine_{test_support::fresh_store()};
};

TEST_F(HoldoutsTest, TheHoldoutArmIsKeptOutOfEveryCoveredExperiment) {
  const auto holdout = started_holdout();
  const auto first = started_experiment();
  const auto second = started_experiment();
  const auto one = assign_all(first);
  const auto two = assign_all(second);

  std::set<std::string> held;
  for (int i = 0; i < kUnits; ++i) {
    const auto& a = one[static_cast<std::size_t>(i)].as_object();
    const auto& b = two[static_cast<std::size_t>(i)].as_object();
    EXPECT_EQ(a.at("reason") == "holdout", b.at("reason") == "holdout") << "the same units";
    if (a.at("reason") != "holdout") {
      EXPECT_EQ(a.at("inExperiment"), true);
      continue;
    }
    EXPECT_EQ(a.at("inExperiment"), false);
    EXPECT_EQ(a.at("variant"), nullptr);
    EXPECT_EQ(a.at("holdout"), json::value(holdout));
    held.insert(unit(i));
  }
  EXPECT_GT(held.size(), kUnits * 0.08);
  EXPECT_LT(held.size(), kUnits * 0.12);

  // The holdout's own assignment agrees, and it recorded both arms of every unit it saw once.
  EXPECT_EQ(engine_.get("Experiment", holdout).at("status"), "Running");
  for (int i = 0; i < 200; ++i) {
    const auto mine = execute("Experiment", "assign", holdout, {{"unit", unit(i)}}).as_object();
    EXPECT_EQ(mine.at("variant") == "holdout", held.contains(unit(i))) << unit(i);
  }
  const auto counts = exposures(holdout);
  EXPECT_EQ(counts[0], static_cast<std::int64_t>(held.size()));
  EXPECT_GT(counts[1], kUnits * 0.08) << "as many others measured";
  EXPECT_LT(counts[1], kUnits * 0.12);
  const auto in_first = exposures(first);
  EXPECT_EQ(in_first[0] + in_first[1], kUnits - static_cast<std::int64_t>(held.size()));
}

TEST_F(HoldoutsTest, FlagsServeTheirDefaultToHeldOutUnits) {
  const auto holdout = started_holdout();
  const auto flag = create("FeatureFlag", {{"key", "new-nav"},
                                           {"name", "New nav"},
                                           {"type", "Boolean"},
                                           {"defaultValue", false},
                                           {"rolloutPercentage", 100}});
  execute("FeatureFlag", "enable", flag);
  const auto experiment = started_experiment();
  const auto assignments = assign_all(experiment);
  int held = 0;
  for (int i = 0; i < 400; ++i) {
    const auto answer =
        execute("FeatureFlag", "evaluate", "new-nav", {{"unit", unit(i)}}).as_object();
    if (assignments[static_cast<std::size_t>(i)].at("reason") == "holdout") {
      ++held;
      EXPECT_EQ(answer.at("value"), false);
      EXPECT_EQ(answer.at("reason"), "DEFAULT");
      EXPECT_EQ(answer.at("ruleId"), json::value(holdout));
    } else {
      EXPECT_EQ(answer.at("value"), true) << unit(i);
    }
  }
  EXPECT_GT(held, 0);
  execute("Experiment", "stop", holdout);
  for (int i = 0; i < 400; ++i)
    EXPECT_EQ(execute("FeatureFlag", "evaluate", "new-nav", {{"unit", unit(i)}}).at("value"), true)
        << "a stopped holdout releases its units";
}

// An SDK given the payload serves each unit what `evaluate` serves it, held-out units included:
// a holdout of everyone in the US (10 %), and one of the checkout namespace (20 % of the units
// whose namespace hash falls in [0, 0.6)) that covers only the linked experiment's flag.
TEST_F(HoldoutsTest, TheSdkPayloadHoldsOutTheUnitsEvaluateHoldsOut) {
  const auto everyone = started_holdout({{"targetAudience", R"({"country": "US"})"}});
  const auto checkout = create("Experiment", {{"name", "Checkout holdout"},
                                              {"type", "Holdout"},
                                              {"primaryMetric", "buy"},
                                              {"trafficAllocation", 20},
                                              {"hashVersion", 1},
                                              {"namespace", json::array{"checkout", 0, 0.6}}});
  execute("Experiment", "start", checkout);
  const auto experiment = started_experiment({{"namespace", json::array{"checkout", 0, 1}}});
  const auto banner = create("FeatureFlag", {{"key", "banner"},
                                             {"name", "Banner"},
                                             {"type", "Boolean"},
                                             {"defaultValue", false},
                                             {"rolloutPercentage", 60}});
  const auto color =
      create("FeatureFlag", {{"key", "color"},
                             {"name", "Color"},
                             {"type", "String"},
                             {"defaultValue", "blue"},
                             {"experiment", experiment},
                             {"variants", json::array{{{"key", "control"}, {"value", "blue"}},
                                                      {{"key", "green"}, {"value", "green"}}}}});
  for (const auto& id : {banner, color}) execute("FeatureFlag", "enable", id);

  json::array units;
  for (int i = 0; i < kUnits / 2; ++i)
    units.push_back(
        json::object{{"unit", unit(i)}, {"attributes", {{"country", i % 2 ? "FR" : "US"}}}});
  const auto evaluations = execute("FeatureFlag", "evaluate", "",
                                   {{"flags", json::array{"banner", "color"}}, {"units", units}})
                               .at("evaluations")
                               .as_array();
  ASSERT_EQ(evaluations.size(), 2 * units.size());

  testing_support::CaseFeatures payload(flags::growthbook_payload(engine_));
  const flags::FeatureLookup lookup = payload.lookup();
  int held_by_everyone = 0, held_by_checkout = 0;
  for (std::size_t i = 0; i < evaluations.size(); ++i) {
    const json::object& served = evaluations[i].as_object();
    assignment::RunContext context;
    context.attributes = units[i / 2].at("attributes").as_object();
    context.attributes["id"] = served.at("unit");
    const std::string key(served.at("flag").as_string());
    const flags::FeatureResult sdk = flags::evaluate_feature(key, context, lookup);
    EXPECT_EQ(sdk.value, served.at("value")) << key << " for " << served.at("unit");
    for (const auto* holdout : {&everyone, &checkout})
      if (served.at("ruleId") == json::value(*holdout)) {
        EXPECT_EQ(sdk.rule_id, *holdout) << key << " for " << served.at("unit");
        (holdout == &everyone ? held_by_everyone : held_by_checkout) += 1;
      }
  }
  // About 10 % of the US half for each flag, and 20 % of 60 % for the linked one: both rules
  // were exercised.
  EXPECT_GT(held_by_everyone, 100);
  EXPECT_GT(held_by_checkout, 100);
}

TEST_F(HoldoutsTest, AHoldoutCoversItsOrganizationAndItsNamespaceOnly) {
  const auto ours = create("Organization", {{"name", "Ours"}});
  const auto theirs = create("Organization", {{"name", "Theirs"}});
  started_holdout({{"organization", ours}, {"namespace", json::array{"checkout", 0, 1}}});
  auto held_out = [&](const std::string& experiment) {
    int held = 0;
    for (const auto& a : assign_all(experiment)) held += a.at("reason") == "holdout";
    return held;
  };
  EXPECT_GT(held_out(started_experiment(
                {{"organization", ours}, {"namespace", json::array{"checkout", 0, 0.5}}})),
            0)
      << "in its namespace: covered, and the ranges do not count as an overlap";
  EXPECT_EQ(held_out(started_experiment(
                {{"organization", ours}, {"namespace", json::array{"search", 0, 1}}})),
            0);
  EXPECT_EQ(held_out(started_experiment({{"organization", ours}})), 0);
  EXPECT_EQ(held_out(started_experiment(
                {{"organization", theirs}, {"namespace", json::array{"checkout", 0.5, 1}}})),
            0);
}

TEST_F(HoldoutsTest, UnitsAlreadyInAnExperimentStayThere) {
  const auto experiment = started_experiment();
  const auto before = assign_all(experiment);
  started_holdout();
  const auto after = assign_all(experiment);
  for (std::size_t i = 0; i < before.size(); ++i)
    EXPECT_EQ(after[i].at("variant"), before[i].at("variant"));
}

// Its own analysis: everyone's events go to the holdout, which keeps those of its two arms and
// compares the general population (all features) with the holdout (none).
TEST_F(HoldoutsTest, TheHoldoutIsAnalyzedAsItsOwnExperiment) {
  const auto holdout = started_holdout({{"trafficAllocation", 20}});
  const auto experiment = started_experiment();
  const auto assignments = assign_all(experiment);
  json::array events;
  for (int i = 0; i < kUnits; ++i) {
    const bool held = assignments[static_cast<std::size_t>(i)].at("reason") == "holdout";
    // The shipped features earn the general population about 20 % more.
    events.push_back(json::object{
        {"unit", unit(i)}, {"metric", "revenue"}, {"value", (held ? 10.0 : 12.0) + (i % 7)}});
  }
  for (int i = kUnits; i < kUnits + 500; ++i)
    events.push_back(json::object{{"unit", unit(i)}, {"metric", "revenue"}, {"value", 12.0}});
  const auto tracked = execute("Experiment", "track", holdout, {{"events", events}}).as_object();
  EXPECT_EQ(tracked.at("tracked").to_number<std::int64_t>() +
                tracked.at("ignored").to_number<std::int64_t>(),
            kUnits + 500);
  EXPECT_GT(tracked.at("ignored").to_number<std::int64_t>(), kUnits * 0.5)
      << "units in neither arm are passed over";

  const auto view = execute("Experiment", "analyze", holdout).as_object();
  EXPECT_EQ(view.at("comparedVariant"), "general");
  EXPECT_GT(view.at("relativeLift").to_number<double>(), 0.1);
  EXPECT_EQ(view.at("winner"), "general");
  EXPECT_THAT(std::string(view.at("recommendation").as_string()),
              HasSubstr("General population beats Holdout"));
  EXPECT_EQ(view.at("srm").at("mismatch"), false) << "both arms are recorded alike";
}

TEST_F(HoldoutsTest, AHoldoutsShapeIsChecked) {
  auto refused = [&](json::object data) {
    data["name"] = "Bad holdout";
    data["type"] = "Holdout";
    try {
      create("Experiment", std::move(data));
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
      return std::string(error.what());
    }
    return std::string("accepted");
  };
  EXPECT_THAT(refused({{"trafficAllocation", 60}}), HasSubstr("trafficAllocation: "));
  EXPECT_THAT(
      refused({{"variants", json::array{json::object{{"key", "a"}}, json::object{{"key", "b"}}}}}),
      HasSubstr("variants: a holdout's arms are fixed"));
  EXPECT_THAT(refused({{"banditEnabled", true}}), HasSubstr("banditEnabled: "));
  const auto made =
      engine_.get("Experiment", create("Experiment", {{"name", "Fine"}, {"type", "Holdout"}}));
  EXPECT_EQ(made.at("trafficAllocation"), 5);
  EXPECT_EQ(made.at("variants").at(1).at("key"), "general");
}

}  // namespace
}  // namespace verdict::tracking
