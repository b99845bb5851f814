#include "core/tracking/experiment_verbs.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include "core/engine.hpp"
#include "core/error.hpp"
#include "core/json_style.hpp"
#include "core/stats/analysis.hpp"
#include "tests/support/error_matchers.hpp"
#include "tests/support/json_checks.hpp"
#include "tests/support/test_store.hpp"

namespace verdict::tracking {
namespace {

using test_support::ThrowsError;

namespace json = boost::json;

// A unit's numerator and denominator added to a ratio's sums, as the store sums them.
void add_unit(stats::RatioSums& sums, double m, double d) {
  sums.m_sum += m;
  sums.m_sum_squares += m * m;
  sums.d_sum += d;
  sums.d_sum_squares += d * d;
  sums.m_d_sum_of_products += m * d;
}

class ExperimentVerbsTest : public ::testing::Test {
 protected:
  json::value run(const std::string& verb, json::object data = {}, std::string id = {}) {
    return engine_.execute(
        {.noun = "Experiment", .verb = verb, .id = id.empty() ? id_ : id, .data = std::move(data)});
  }

  void create(json::object extra = {}) {
    json::object data{
        {"name", "Signup button"},
        {"primaryMetric", "signup"},
        // Not the random id: its split would fire SRM (and so lose the winner) 1 run in 1000.
        {"seed", "signup-button-6"},
        {"variants", json::array{{{"key", "control"}, {"name", "Control"}, {"weight", 50}},
                                 {{"key", "green"}, {"name", "Green"}, {"weight", 50}}}}};
    for (const auto& entry : extra) data[entry.key()] = entry.value();
    id_ = std::string(engine_.execute({.noun = "Experiment", .verb = "create", .data = data})
                          .at("id")
                          .as_string());
  }

  // Assigns `count` fresh units and converts green's at 30% and control's at 10%: enough for
  // the always-valid test to find green significantly better.
  void clear_winner(int count = 4000) {
    json::array units, events;
    for (int i = 0; i < count; ++i)
      units.push_back(json::object{{"unit", "u" + std::to_string(i)}});
    auto assignments = run("assign", {{"units", units}}).at("assignments").as_array();
    for (int i = 0; i < count; ++i) {
      bool green = assignments[static_cast<std::size_t>(i)].at("variant") == "green";
      if (i % 100 < (green ? 30 : 10))
        events.push_back(json::object{{"unit", "u" + std::to_string(i)}, {"metric", "signup"}});
    }
    run("track", {{"events", events}});
  }

  Error error_of(const std::string& verb, json::object data) {
    try {
      run(verb, std::move(data));
    } catch (const Error& error) {
      return error;
    }
    ADD_FAILURE() << verb << " was accepted";
    return Error(ErrorCode::kInternal, "accepted");
  }

  Engine engine_{test_support::fresh_store()};
  std::string id_;
};

TEST_F(ExperimentVerbsTest, DraftExperimentsDoNotAssign) {
  create();
  auto result = run("assign", {{"unit", "user-1"}}).as_object();
  EXPECT_EQ(result.at("inExperiment"), false);
  EXPECT_EQ(result.at("reason"), "experiment is Draft");
}

TEST_F(ExperimentVerbsTest, FirstAssignmentMovesStartedToRunningAndIsSticky) {
  create();
  run("start");
  auto first = run("assign", {{"unit", "user-1"}}).as_object();
  EXPECT_EQ(first.at("inExperiment"), true);
  EXPECT_EQ(engine_.get("Experiment", id_).at("status"), "Running");
  auto again = run("assign", {{"unit", "user-1"}}).as_object();
  EXPECT_EQ(again.at("variant"), first.at("variant"));
  EXPECT_EQ(again.at("reason"), "sticky");
}

TEST_F(ExperimentVerbsTest, AssignmentIsDeterministicAcrossExperimentsWithTheSameSeed) {
  create({{"seed", "shared-seed"}});
  std::string first_id = id_;
  run("start");
  create({{"seed", "shared-seed"}});
  run("start");
  for (int i = 0; i < 50; ++i) {
    std::string unit = "user-" + std::to_string(i);
    EXPECT_EQ(run("assign", {{"unit", unit}}).at("variant"),
              run("assign", {{"unit", unit}}, first_id).at("variant"));
  }
}

TEST_F(ExperimentVerbsTest, TargetingConditionExcludesNonMatchingUnits) {
  create({{"targetAudience", R"({"country": {"$in": ["US", "CA"]}})"}});
  run("start");
  auto out = run("assign", {{"unit", "u1"}, {"attributes", {{"country", "FR"}}}}).as_object();
  EXPECT_EQ(out.at("inExperiment"), false);
  EXPECT_EQ(out.at("reason"), "targeting");
  EXPECT_EQ(run("assign", {{"unit", "u2"}, {"attributes", {{"country", "US"}}}}).at("inExperiment"),
            true);
}

TEST_F(ExperimentVerbsTest, MalformedTargetingConditionIsRefused) {
  try {
    create({{"targetAudience", R"({"country": {"$in": ["US"]})"}});
    FAIL() << "a broken condition was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.field(), "targetAudience");
  }
}

TEST_F(ExperimentVerbsTest, TrackRefusesUnassignedUnitsAndKindMismatches) {
  create();
  run("start");
  run("assign", {{"unit", "u1"}});
  EXPECT_THAT(
      [&] {
        run("track", {{"unit", "ghost"}, {"metric", "signup"}});
      },
      ThrowsError(ErrorCode::kInvalidArgument, "unit"));
  run("track", {{"unit", "u1"}, {"metric", "signup"}});
  try {
    run("track", {{"unit", "u1"}, {"metric", "signup"}, {"value", 3}});
    FAIL();
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("binomial"), std::string::npos) << error.what();
  }
}

TEST_F(ExperimentVerbsTest, ValuesWhoseSquaresWouldOverflowAreRefused) {
  create({{"primaryMetric", "revenue"}});
  run("start");
  run("assign", {{"unit", "u1"}});
  EXPECT_EQ(error_of("track", {{"unit", "u1"}, {"metric", "revenue"}, {"value", 1e200}}).field(),
            "value");
  EXPECT_EQ(error_of("track",
                     {{"unit", "u1"}, {"metric", "revenue"}, {"value", 1}, {"covariate", -1e160}})
                .field(),
            "covariate");
  run("track", {{"unit", "u1"}, {"metric", "revenue"}, {"value", 1e100}});
  verdict::test_support::expect_all_finite(run("analyze"));
}

TEST_F(ExperimentVerbsTest, BatchIsAllOrNothingAndNamesTheFailingItem) {
  create();
  run("start");
  run("assign", {{"units", json::array{{{"unit", "a"}}, {{"unit", "b"}}}}});
  try {
    run("track", {{"events", json::array{{{"unit", "a"}, {"metric", "signup"}},
                                         {{"unit", "zzz"}, {"metric", "signup"}}}}});
    FAIL();
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("events[1].unit"), std::string::npos) << error.what();
  }
  auto analysis = run("analyze").as_object();
  double conversions = 0;
  for (const auto& row : analysis.at("variants").as_array())
    conversions += row.at("conversions").to_number<double>();
  EXPECT_EQ(conversions, 0);
}

TEST_F(ExperimentVerbsTest, IncrementalStatisticsEqualRecomputation) {
  create({{"metrics", "revenue"}});
  run("start");
  json::array units, events;
  for (int i = 0; i < 300; ++i) units.push_back(json::object{{"unit", "u" + std::to_string(i)}});
  run("assign", {{"units", units}});
  for (int i = 0; i < 300; i += 3) {
    events.push_back(json::object{{"unit", "u" + std::to_string(i)},
                                  {"metric", "revenue"},
                                  {"value", i * 0.5},
                                  {"covariate", i % 7}});
    events.push_back(
        json::object{{"unit", "u" + std::to_string(i)}, {"metric", "revenue"}, {"value", 1.25}});
    events.push_back(json::object{{"unit", "u" + std::to_string(i)}, {"metric", "signup"}});
  }
  run("track", {{"events", events}});
  auto check = run("checkStats").as_object();
  EXPECT_EQ(check.at("consistent"), true) << json::serialize(check);
}

TEST_F(ExperimentVerbsTest, CheckStatsNamesTheMetricThatDisagrees) {
  create();
  run("start");
  run("assign", {{"units", json::array{{{"unit", "u1"}}, {{"unit", "u2"}}}}});
  run("track", {{"events", json::array{{{"unit", "u1"}, {"metric", "signup"}},
                                       {{"unit", "u2"}, {"metric", "revenue"}, {"value", 4}},
                                       {{"unit", "u1"}, {"metric", "visits"}, {"value", 2}}}}});
  engine_.store().db().exec("UPDATE metric_stats SET sum = sum + 1 WHERE metric = 'revenue'");
  auto check = run("checkStats").as_object();
  EXPECT_EQ(check.at("consistent"), false);
  EXPECT_EQ(check.at("metrics"),
            json::parse(R"({"revenue": false, "signup": true, "visits": true})"));
}

// The observed counts a bandit reads are kept as running sums; after every batch they equal a
// recount from the exposures and per-unit rows up to the boundary, whether a batch's units are
// below it, passed by it, or both, and whether a value takes a unit below zero again.
TEST_F(ExperimentVerbsTest, ObservedCountsEqualARecountAfterEveryBatch) {
  create();
  run("start");
  json::array units;
  for (int i = 0; i < 40; ++i) units.push_back(json::object{{"unit", "u" + std::to_string(i)}});
  run("assign", {{"units", units}});
  auto& db = engine_.store().db();
  auto count = [&](const std::string& sql) {
    auto statement = db.prepare(sql);
    statement.bind(1, id_);
    statement.step();
    return statement.column_int(0);
  };
  const std::string exposures =
      " FROM exposure e JOIN exposure_sequence s ON s.experiment = e.experiment";
  const std::string observed = " WHERE e.experiment = ?1 AND e.sequence <= s.observed_through";
  const std::string units_recount =
      "SELECT e.variant, COUNT(*)" + exposures + observed + " GROUP BY e.variant";
  const std::string conversions_recount =
      "SELECT m.metric, e.variant, COUNT(*)" + exposures +
      " JOIN unit_metric m ON m.experiment = e.experiment AND m.unit = e.unit AND m.value > 0" +
      observed + " GROUP BY m.metric, e.variant";
  auto expect_recount = [&](const std::string& when) {
    const std::string units_kept = "SELECT variant, n FROM observed_units WHERE experiment = ?1";
    const std::string conversions_kept =
        "SELECT metric, variant, n FROM observed_conversions WHERE experiment = ?1 AND n != 0";
    for (const auto& [kept, recount] :
         {std::pair{units_kept, units_recount}, std::pair{conversions_kept, conversions_recount}}) {
      EXPECT_EQ(count("SELECT COUNT(*) FROM (" + kept + " EXCEPT " + recount + ") AS difference"),
                0)
          << when;
      EXPECT_EQ(count("SELECT COUNT(*) FROM (" + recount + " EXCEPT " + kept + ") AS difference"),
                0)
          << when;
    }
  };
  auto event = [](int unit, const char* metric, std::optional<double> value = std::nullopt) {
    json::object item{{"unit", "u" + std::to_string(unit)}, {"metric", metric}};
    if (value) item["value"] = *value;
    return item;
  };
  // Every unit is past the boundary (nothing tracked yet): it moves to u9, passing u0-u9.
  run("track",
      {{"events", json::array{event(5, "signup"), event(2, "signup"), event(9, "revenue", 3.0)}}});
  expect_recount("first batch");
  // Below the boundary (u1, u5 again) and past it (u12, u30, which goes to 2 and then -3).
  run("track", {{"events", json::array{event(1, "signup"), event(30, "revenue", 2.0),
                                       event(30, "revenue", -5.0), event(12, "signup"),
                                       event(5, "signup")}}});
  expect_recount("second batch");
  // An observed unit falls to -1; u35 and u20 are passed in the same batch.
  run("track", {{"events", json::array{event(9, "revenue", -4.0), event(35, "signup"),
                                       event(20, "revenue", 1.0)}}});
  expect_recount("third batch");
  EXPECT_EQ(count("SELECT SUM(n) FROM observed_conversions WHERE experiment = ?1 AND"
                  " metric = 'signup'"),
            5);
  EXPECT_EQ(count("SELECT SUM(n) FROM observed_units WHERE experiment = ?1"), 36);
}

// Issue 12: 2,700 metrics made checkStats take 12-21 s on the engine thread; an experiment now
// takes at most 200, and the check reads all of them in one pass.
TEST_F(ExperimentVerbsTest, AnExperimentTracksAtMostTwoHundredMetrics) {
  create();
  run("start");
  run("assign", {{"unit", "u1"}});
  json::array events;
  for (int i = 0; i < 200; ++i)
    events.push_back(json::object{{"unit", "u1"}, {"metric", "m" + std::to_string(i)}});
  run("track", {{"events", events}});
  EXPECT_THAT(
      [&] {
        run("track", {{"events", json::array{{{"unit", "u1"}, {"metric", "m200"}}}}});
      },
      ThrowsError(ErrorCode::kInvalidArgument, "events[0].metric"));
  EXPECT_THAT(
      [&] {
        run("track", {{"unit", "u1"}, {"metric", "one-more"}});
      },
      ThrowsError(ErrorCode::kInvalidArgument, "metric"));
  run("track", {{"unit", "u1"}, {"metric", "m7"}});
  auto check = run("checkStats").as_object();
  EXPECT_EQ(check.at("consistent"), true);
  EXPECT_EQ(check.at("metrics").as_object().size(), 200u);
}

TEST_F(ExperimentVerbsTest, AnalyzeFindsAClearWinner) {
  create();
  run("start");
  json::array units, events;
  for (int i = 0; i < 4000; ++i) units.push_back(json::object{{"unit", "u" + std::to_string(i)}});
  auto assignments = run("assign", {{"units", units}}).at("assignments").as_array();
  for (int i = 0; i < 4000; ++i) {
    bool green = assignments[static_cast<std::size_t>(i)].at("variant") == "green";
    if (i % 100 < (green ? 30 : 10))
      events.push_back(json::object{{"unit", "u" + std::to_string(i)}, {"metric", "signup"}});
  }
  run("track", {{"events", events}});
  auto view = run("analyze").as_object();
  EXPECT_EQ(view.at("winner"), "green") << json::serialize(view);
  auto stored = engine_.get("Experiment", id_);
  EXPECT_EQ(stored.at("winner"), "green");
  EXPECT_GT(stored.at("confidence").to_number<double>(), 95);
  EXPECT_EQ(stored.at("sampleSize"), 4000);
  EXPECT_TRUE(view.at("recommendation").as_string().starts_with("Green beats Control on signup"))
      << view.at("recommendation").as_string();
}

TEST_F(ExperimentVerbsTest, BanditShiftsWeightTowardTheBetterArm) {
  create({{"banditEnabled", true}, {"banditCadence", 200}});
  run("start");
  json::array units, events;
  for (int i = 0; i < 1000; ++i) units.push_back(json::object{{"unit", "u" + std::to_string(i)}});
  auto assignments = run("assign", {{"units", units}}).at("assignments").as_array();
  for (int i = 0; i < 1000; ++i) {
    bool green = assignments[static_cast<std::size_t>(i)].at("variant") == "green";
    if (i % 100 < (green ? 40 : 5))
      events.push_back(json::object{{"unit", "u" + std::to_string(i)}, {"metric", "signup"}});
  }
  run("track", {{"events", events}});
  auto view = run("analyze").as_object();
  EXPECT_EQ(view.at("srm").at("applicable"), false);
  EXPECT_EQ(view.at("srm").at("mismatch"), false);
  auto variants = engine_.get("Experiment", id_).at("variants").as_array();
  EXPECT_GT(variants[1].at("banditWeight").to_number<double>(), 0.9);
  EXPECT_GE(variants[0].at("banditWeight").to_number<double>(), 0.0099);
  EXPECT_GT(variants[1].at("alpha").to_number<double>(),
            variants[0].at("alpha").to_number<double>());
}

TEST_F(ExperimentVerbsTest, SummaryCountsRunningAndWinners) {
  create();
  run("start");
  clear_winner();
  run("analyze");
  ASSERT_EQ(engine_.get("Experiment", id_).at("winner"), "green");
  create();
  auto summary = engine_.execute({.noun = "Experiment", .verb = "summary"}).as_object();
  EXPECT_EQ(summary.at("total"), 2);
  EXPECT_EQ(summary.at("running"), 1);
  // An analysis leaning one way is not a winner found; a conclusion is.
  EXPECT_EQ(summary.at("winnersFound"), 0);
}

TEST_F(ExperimentVerbsTest, SummaryCountsConcludedWinners) {
  create();
  run("start");
  clear_winner();
  run("analyze");
  run("conclude");
  auto summary = engine_.execute({.noun = "Experiment", .verb = "summary"}).as_object();
  EXPECT_EQ(summary.at("winnersFound"), 1);
}

TEST_F(ExperimentVerbsTest, ConcludeTakesTheLatestAnalysis) {
  create();
  run("start");
  clear_winner();
  auto view = run("analyze").as_object();
  auto concluded = run("conclude").as_object();
  EXPECT_EQ(concluded.at("status"), "Concluded");
  EXPECT_EQ(concluded.at("winner"), "green");
  EXPECT_EQ(concluded.at("confidence"), view.at("confidence"));
  EXPECT_GT(concluded.at("confidence").to_number<double>(), 95);
}

TEST_F(ExperimentVerbsTest, ConcludeWithoutAnalysisNeedsForceAndAReason) {
  create();
  run("start");
  run("assign", {{"unit", "only-one"}});
  Error refused = error_of("conclude", {{"winner", "green"}, {"confidence", 99}});
  EXPECT_EQ(refused.field(), "winner");
  EXPECT_THAT(refused.what(), ::testing::HasSubstr("no analysis"));
  EXPECT_EQ(engine_.get("Experiment", id_).at("status"), "Running");
  EXPECT_EQ(error_of("conclude", {{"winner", "green"}, {"force", true}}).field(), "reason");

  auto forced = run("conclude", {{"winner", "green"},
                                 {"confidence", 99},
                                 {"force", true},
                                 {"reason", "the design team decided regardless of the data"}})
                    .as_object();
  EXPECT_EQ(forced.at("winner"), "green");
  EXPECT_FALSE(forced.contains("force"));
  EXPECT_FALSE(forced.contains("reason"));
  bool recorded = false;
  for (const auto& event : engine_.store().history(id_))
    if (event.type == "Experiment.Concluded")
      recorded = event.data.at("reason") == "the design team decided regardless of the data" &&
                 event.data.at("force") == true;
  EXPECT_TRUE(recorded);
}

TEST_F(ExperimentVerbsTest, ConcludeRefusesAWinnerTheAnalysisDoesNotSupport) {
  create();
  run("start");
  clear_winner();
  run("analyze");
  Error refused = error_of("conclude", {{"winner", "control"}});
  EXPECT_EQ(refused.field(), "winner");
  EXPECT_THAT(refused.what(), ::testing::HasSubstr("supports 'green', not 'control'"));
  EXPECT_EQ(error_of("conclude", {{"confidence", 100}}).field(), "confidence");

  // No significant difference: nothing to conclude without force.
  create();
  run("start");
  json::array units;
  for (int i = 0; i < 200; ++i) units.push_back(json::object{{"unit", "n" + std::to_string(i)}});
  run("assign", {{"units", units}});
  run("track", {{"unit", "n1"}, {"metric", "signup"}});
  run("analyze");
  refused = error_of("conclude", {});
  EXPECT_THAT(refused.what(), ::testing::HasSubstr("no significant winner"));
}

TEST_F(ExperimentVerbsTest, ConfidenceIsAPercentage) {
  create();
  run("start");
  clear_winner();
  run("analyze");
  Error refused = error_of("conclude", {{"confidence", 0.99}});
  EXPECT_EQ(refused.field(), "confidence");
  EXPECT_STREQ(refused.what(), "confidence: confidence is a percentage (0-100); did you mean 99?");
}

TEST_F(ExperimentVerbsTest, FractionalTrafficAllocationIsAcceptedWithAWarning) {
  create({{"trafficAllocation", 0.3}});
  auto stored = engine_.get("Experiment", id_);
  EXPECT_EQ(stored.at("trafficAllocation"), 0.3);
  auto updated = run("update", {{"trafficAllocation", 0.5}}).as_object();
  ASSERT_TRUE(updated.contains("warnings")) << json::serialize(updated);
  EXPECT_THAT(std::string(updated.at("warnings").at(0).as_string()),
              ::testing::HasSubstr("0.5 means 0.5% of traffic; for 50% pass 50"));
  EXPECT_FALSE(run("update", {{"trafficAllocation", 50}}).as_object().contains("warnings"));
  EXPECT_TRUE(run("update", {{"trafficAllocation", 0}}).as_object().contains("warnings"));
  EXPECT_FALSE(run("update", {{"name", "renamed"}}).as_object().contains("warnings"));
}

TEST_F(ExperimentVerbsTest, UpdateCannotWriteTheVerdict) {
  create();
  for (const char* field : {"winner", "confidence", "results"}) {
    json::value value = std::string(field) == "confidence" ? json::value(99)
                        : std::string(field) == "winner"   ? json::value("green")
                                                           : json::value(json::object{});
    Error refused = error_of("update", {{field, value}});
    EXPECT_EQ(refused.field(), field);
    EXPECT_THAT(refused.what(), ::testing::HasSubstr("not by update"));
  }
  EXPECT_FALSE(engine_.get("Experiment", id_).contains("winner"));
}

TEST_F(ExperimentVerbsTest, AddVariantIsRefusedOnceStarted) {
  create();
  run("addVariant", {{"name", "Blue"}});
  run("start");
  Error refused = error_of("addVariant", {{"name", "Red"}});
  EXPECT_EQ(refused.code(), ErrorCode::kInvalidTransition);
  EXPECT_EQ(engine_.get("Experiment", id_).at("variants").as_array().size(), 3u);
}

TEST_F(ExperimentVerbsTest, AStoppedExperimentIsNotToldToConclude) {
  create();
  run("start");
  clear_winner();
  run("analyze");
  run("stop");
  EXPECT_FALSE(engine_.get("Experiment", id_).contains("winner"));
  auto view = run("analyze").as_object();
  std::string text(view.at("recommendation").as_string());
  EXPECT_EQ(text.find("Safe to conclude"), std::string::npos) << text;
  EXPECT_NE(text.find("Stopped, so it cannot be concluded"), std::string::npos) << text;
  EXPECT_FALSE(engine_.get("Experiment", id_).contains("winner"));
}

TEST_F(ExperimentVerbsTest, StoredWinnerFollowsTheHolmAdjustedDecision) {
  create({{"variants", json::array{{{"key", "control"}, {"name", "Control"}, {"weight", 34}},
                                   {{"key", "green"}, {"name", "Green"}, {"weight", 33}},
                                   {{"key", "blue"}, {"name", "Blue"}, {"weight", 33}}}}});
  run("start");
  clear_winner(6000);
  auto view = run("analyze").as_object();
  ASSERT_TRUE(view.contains("winner")) << json::serialize(view);
  EXPECT_LE(view.at("alwaysValidPValueRunningMin").to_number<double>(),
            view.at("alwaysValidPValueAdjusted").to_number<double>());
  EXPECT_NEAR(view.at("confidence").to_number<double>(),
              100 * (1 - view.at("alwaysValidPValueAdjusted").to_number<double>()), 0.01);
  EXPECT_TRUE(view.contains("alwaysValidPValueCurrentLook"));
  EXPECT_TRUE(view.contains("msprtLogLRCurrentLook"));
  EXPECT_FALSE(view.contains("msprtLogLR"));
}

TEST_F(ExperimentVerbsTest, EachAnalyzedEventKeepsItsLooksAlwaysValidNumbers) {
  create();
  run("start");
  std::vector<json::object> looks;  // each look's stored comparison, as results show it
  for (int look = 0; look < 3; ++look) {
    // Fresh units each time (u<look>-<i>): the evidence for green grows look by look.
    json::array units, events;
    for (int i = 0; i < 1500; ++i)
      units.push_back(json::object{{"unit", "u" + std::to_string(look) + "-" + std::to_string(i)}});
    auto assignments = run("assign", {{"units", units}}).at("assignments").as_array();
    for (std::size_t i = 0; i < assignments.size(); ++i)
      if (i % 100 < (assignments[i].at("variant") == "green" ? 30u : 10u))
        events.push_back(json::object{{"unit", units[i].at("unit")}, {"metric", "signup"}});
    run("track", {{"events", events}});
    run("analyze");
    auto results = engine_.get("Experiment", id_).at("results").as_object();
    looks.push_back(results.at("metrics").at("signup").at("comparisons").at(0).as_object());
  }
  std::vector<json::object> recorded;
  for (const auto& event : engine_.store().history(id_))
    if (event.type == "Experiment.Analyzed") recorded.push_back(event.data);
  ASSERT_EQ(recorded.size(), 3u);
  double previous_min = 1;
  for (std::size_t i = 0; i < recorded.size(); ++i) {
    SCOPED_TRACE("look " + std::to_string(i + 1));
    const auto& data = recorded[i];
    EXPECT_EQ(data.at("metric"), "signup");
    EXPECT_EQ(data.at("alpha"), 0.05);
    EXPECT_EQ(data.at("units"), 1500 * static_cast<std::int64_t>(i + 1));
    ASSERT_EQ(data.at("comparisons").as_array().size(), 1u);
    const auto& comparison = data.at("comparisons").at(0).as_object();
    const auto& sequential = looks[i].at("sequential").as_object();
    EXPECT_EQ(comparison.at("variant"), "green");
    EXPECT_EQ(comparison.at("relativeLift"), looks[i].at("lift").at("estimate"));
    EXPECT_EQ(comparison.at("alwaysValidCI"), sequential.at("ci"));
    EXPECT_EQ(comparison.at("alwaysValidPValueCurrentLook"), sequential.at("pValueCurrent"));
    EXPECT_EQ(comparison.at("alwaysValidPValueRunningMin"), sequential.at("pValue"));
    EXPECT_EQ(comparison.at("alwaysValidPValueAdjusted"), sequential.at("pValueHolm"));
    EXPECT_FALSE(comparison.contains("error"));
    const double running_min = comparison.at("alwaysValidPValueRunningMin").to_number<double>();
    EXPECT_LE(running_min, previous_min);
    previous_min = running_min;
  }
  EXPECT_LT(previous_min, 0.05);
}

TEST_F(ExperimentVerbsTest, ALookWithNothingToCompareSaysWhyInItsEvent) {
  create();
  run("start");
  run("assign", {{"unit", "lonely"}});
  run("analyze");
  json::object data;
  for (const auto& event : engine_.store().history(id_))
    if (event.type == "Experiment.Analyzed") data = event.data;
  const auto& comparison = data.at("comparisons").at(0).as_object();
  ASSERT_TRUE(comparison.contains("error")) << json::serialize(data);
  EXPECT_FALSE(comparison.at("error").as_string().empty());
  EXPECT_EQ(data.at("units"), 1);
}

TEST_F(ExperimentVerbsTest, BanditPosteriorIsCurrentAfterTracking) {
  create({{"banditEnabled", true}});
  run("start");
  json::array units, events;
  for (int i = 0; i < 300; ++i) units.push_back(json::object{{"unit", "u" + std::to_string(i)}});
  run("assign", {{"units", units}});
  for (int i = 0; i < 60; ++i)
    events.push_back(json::object{{"unit", "u" + std::to_string(i)}, {"metric", "signup"}});
  run("track", {{"events", events}});
  double alphas = 0;
  const json::object stored = engine_.get("Experiment", id_);
  for (const auto& variant : stored.at("variants").as_array())
    alphas += variant.at("alpha").to_number<double>();
  EXPECT_EQ(alphas, 60 + 2);  // Beta(successes + 1, ...) per arm
}

TEST_F(ExperimentVerbsTest, BanditTrackThatChangesNoPosteriorKeepsTheVersion) {
  create({{"banditEnabled", true}});
  run("start");
  run("assign", {{"units", json::array{{{"unit", "u1"}}, {{"unit", "u2"}}}}});
  run("track", {{"unit", "u1"}, {"metric", "signup"}});
  auto version = engine_.get("Experiment", id_).at("version").as_int64();
  // A repeat conversion of the same unit: the counts, and so the posterior, stay as they are.
  run("track", {{"unit", "u1"}, {"metric", "signup"}});
  EXPECT_EQ(engine_.get("Experiment", id_).at("version").as_int64(), version);
  run("track", {{"unit", "u2"}, {"metric", "signup"}});
  EXPECT_GT(engine_.get("Experiment", id_).at("version").as_int64(), version);
}

// True rates 10% and 16%; each round assigns 500 new units, and their conversions arrive only
// after the next round has been assigned (a delay of one round). Units whose outcome cannot
// have arrived must not count as failures, or the arm that just got more traffic looks worse
// and the weights swing back and forth.
TEST_F(ExperimentVerbsTest, BanditLearnsFromDelayedConversions) {
  create({{"banditEnabled", true}, {"seed", "delayed-conversions"}});  // a repeatable split
  run("start");
  constexpr int kRounds = 24;
  constexpr int kUnitsPerRound = 500;
  constexpr double kRates[] = {0.10, 0.16};
  std::mt19937_64 random(20261201);
  std::uniform_real_distribution<double> uniform(0, 1);
  json::array pending;  // conversions of the previous round, not reported yet
  double bandit_regret = 0;
  std::vector<double> better_share;
  int unit = 0;
  for (int round = 0; round < kRounds; ++round) {
    json::array units;
    for (int i = 0; i < kUnitsPerRound; ++i)
      units.push_back(json::object{{"unit", "u" + std::to_string(unit + i)}});
    auto assignments = run("assign", {{"units", units}}).at("assignments").as_array();
    if (!pending.empty()) run("track", {{"events", pending}});
    pending.clear();
    int better = 0;
    for (int i = 0; i < kUnitsPerRound; ++i) {
      const auto arm = static_cast<std::size_t>(
          assignments[static_cast<std::size_t>(i)].at("variantIndex").to_number<std::int64_t>());
      better += arm == 1;
      bandit_regret += kRates[1] - kRates[arm];
      if (uniform(random) < kRates[arm])
        pending.push_back(
            json::object{{"unit", "u" + std::to_string(unit + i)}, {"metric", "signup"}});
    }
    unit += kUnitsPerRound;
    better_share.push_back(static_cast<double>(better) / kUnitsPerRound);
  }
  const double fixed_split_regret = kUnitsPerRound * kRounds * (kRates[1] - kRates[0]) / 2;
  std::string shares;
  for (double share : better_share) shares += std::to_string(share).substr(0, 4) + " ";
  std::printf("better arm's share per round: %s\nregret: bandit %.1f, fixed 50/50 split %.1f\n",
              shares.c_str(), bandit_regret, fixed_split_regret);
  // It climbs: once more than 90% of a round goes to the better arm, it stays high (counting
  // pending units as failures made it fall back to 39% two rounds later).
  const auto climbed = std::find_if(better_share.begin(), better_share.end(),
                                    [](double share) { return share > 0.9; });
  ASSERT_NE(climbed, better_share.end()) << shares;
  EXPECT_LE(climbed - better_share.begin(), kRounds / 4) << shares;
  for (auto round = climbed; round != better_share.end(); ++round)
    EXPECT_GT(*round, 0.8) << "round " << (round - better_share.begin()) << ": " << shares;
  EXPECT_LT(bandit_regret, 0.25 * fixed_split_regret) << shares;
}

TEST_F(ExperimentVerbsTest, PlanWithoutAnExperimentIsAPureCalculation) {
  auto out = engine_
                 .execute({.noun = "Experiment",
                           .verb = "plan",
                           .data = {{"baseline", 0.1}, {"mde", 0.05}, {"dailyTraffic", 2000}}})
                 .as_object();
  EXPECT_EQ(out.at("fixedHorizon").at("sampleSizePerArm"), 59409);
  EXPECT_EQ(out.at("fixedHorizon").at("days"), 60);
  EXPECT_FALSE(out.contains("observed"));
}

TEST_F(ExperimentVerbsTest, PlanOfARunningExperimentSaysHowMuchLonger) {
  create({{"startAt", "2026-01-01T00:00:00Z"}});
  run("start");
  clear_winner();
  const auto version = engine_.get("Experiment", id_).at("version");
  auto out = run("plan", {{"mde", 0.02}}).as_object();
  const auto& observed = out.at("observed").as_object();
  EXPECT_EQ(observed.at("metric"), "signup");
  EXPECT_EQ(observed.at("totalUnits"), 4000);
  const double daily = observed.at("dailyTraffic").to_number<double>();
  EXPECT_NEAR(daily, 4000 / observed.at("elapsedDays").to_number<double>(), 1e-6);
  // The control converts at about 10 %: that is the planning baseline.
  EXPECT_NEAR(out.at("settings").at("baseline").to_number<double>(), 0.1, 0.02);
  const auto& fixed = out.at("howMuchLonger").at("fixedHorizon").as_object();
  const auto& sequential = out.at("howMuchLonger").at("sequential").as_object();
  EXPECT_EQ(fixed.at("variant"), "green");
  const double more = fixed.at("additionalUnits").to_number<double>();
  EXPECT_GT(more, 4000);
  EXPECT_GT(sequential.at("additionalUnits").to_number<double>(), more);
  EXPECT_EQ(fixed.at("days").to_number<double>(), std::ceil(more / daily));
  EXPECT_EQ(engine_.get("Experiment", id_).at("version"), version) << "plan changed the experiment";

  // A target the data already detect with 80 % power needs nothing more.
  auto easy = run("plan", {{"mde", 1.5}}).as_object();
  EXPECT_EQ(easy.at("howMuchLonger").at("fixedHorizon").at("additionalUnits"), 0);
}

TEST_F(ExperimentVerbsTest, PlanRefusesUnknownFieldsAndEmptyControls) {
  create();
  EXPECT_THAT(error_of("plan", {{"mde", 0.1}}).what(), ::testing::HasSubstr("baseline"));
  EXPECT_THAT(error_of("plan", {{"mde", 0.1}, {"baseline", 0.1}, {"typo", 1}}).what(),
              ::testing::HasSubstr("typo"));
  // An Experiment's trafficAllocation is a percentage; planning's is a fraction.
  const Error percent =
      error_of("plan", {{"mde", 0.1}, {"baseline", 0.1}, {"trafficAllocation", 50}});
  EXPECT_EQ(percent.field(), "trafficAllocation");
  EXPECT_THAT(percent.what(),
              ::testing::HasSubstr("must be a fraction in (0, 1]; did you mean 0.5?"));
}

// A ratio is planned as a mean: the control's ratio is the baseline, and its delta-method
// variance per unit the variance, so n units give the ratio's standard error.
TEST_F(ExperimentVerbsTest, PlanOfARatioMetricUsesTheDeltaMethod) {
  create({{"primaryMetric", "revenue/sessions"}});
  run("start");
  json::array units, events;
  for (int i = 0; i < 1000; ++i) units.push_back(json::object{{"unit", "u" + std::to_string(i)}});
  auto assignments = run("assign", {{"units", units}}).at("assignments").as_array();
  stats::RatioSums control;
  double n = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::string unit = "u" + std::to_string(i);
    const bool green = assignments[static_cast<std::size_t>(i)].at("variant") == "green";
    const double sessions = 1 + i % 4;
    const double revenue = (green ? 2.2 : 2.0) * sessions + i % 7;
    events.push_back(json::object{{"unit", unit}, {"metric", "sessions"}, {"value", sessions}});
    events.push_back(json::object{{"unit", unit}, {"metric", "revenue"}, {"value", revenue}});
    if (green) continue;
    n += 1;
    add_unit(control, revenue, sessions);
  }
  run("track", {{"events", events}});
  auto out = run("plan", {{"mde", 0.05}}).as_object();
  EXPECT_EQ(out.at("settings").at("metricType"), "mean");
  const double ratio = control.m_sum / control.d_sum;
  EXPECT_NEAR(out.at("settings").at("baseline").to_number<double>(), ratio, 1e-12);
  // The same plan from the delta method written out here.
  const double mm = control.m_sum / n, md = control.d_sum / n;
  const double var_m = (control.m_sum_squares - n * mm * mm) / (n - 1);
  const double var_d = (control.d_sum_squares - n * md * md) / (n - 1);
  const double cov = (control.m_d_sum_of_products - n * mm * md) / (n - 1);
  const double stddev = std::sqrt((var_m - 2 * ratio * cov + ratio * ratio * var_d) / (md * md));
  auto direct = engine_
                    .execute({.noun = "Experiment",
                              .verb = "plan",
                              .data = {{"metricType", "mean"},
                                       {"baseline", ratio},
                                       {"stddev", stddev},
                                       {"mde", 0.05}}})
                    .as_object();
  EXPECT_EQ(out.at("fixedHorizon").at("sampleSizePerArm"),
            direct.at("fixedHorizon").at("sampleSizePerArm"));
  const auto& more = out.at("howMuchLonger").at("fixedHorizon").as_object();
  EXPECT_TRUE(more.at("additionalUnits").is_number()) << more;
  EXPECT_EQ(more.at("variant"), "green");
}

TEST_F(ExperimentVerbsTest, RatioMetricsAreAnalysedFromBothMetricsPerUnit) {
  create({{"primaryMetric", "revenue/sessions"}});
  run("start");
  json::array units, events;
  for (int i = 0; i < 400; ++i) units.push_back(json::object{{"unit", "u" + std::to_string(i)}});
  auto assignments = run("assign", {{"units", units}}).at("assignments").as_array();
  // Sums computed here, independently of the store: every exposed unit counts, with 0 for a
  // metric it never tracked.
  std::vector<stats::RatioSums> expected(2);
  std::vector<double> n(2, 0);
  for (int i = 0; i < 400; ++i) {
    const std::string unit = "u" + std::to_string(i);
    const std::size_t arm = assignments[static_cast<std::size_t>(i)].at("variant") == "green";
    n[arm] += 1;
    const double sessions = 1 + i % 4;
    const double revenue = i % 3 == 0 ? 0 : (arm ? 2.5 : 2.0) * sessions + i % 5;
    if (i % 7 != 0)
      events.push_back(json::object{{"unit", unit}, {"metric", "sessions"}, {"value", sessions}});
    const double tracked_sessions = i % 7 != 0 ? sessions : 0;
    if (revenue > 0)
      events.push_back(json::object{{"unit", unit}, {"metric", "revenue"}, {"value", revenue}});
    add_unit(expected[arm], revenue, tracked_sessions);
  }
  run("track", {{"events", events}});
  auto view = run("analyze").as_object();
  const auto stored = engine_.get("Experiment", id_);
  const auto& result = stored.at("results").at("metrics").at("revenue/sessions");

  stats::AnalysisInput input;
  input.metric_type = stats::MetricType::kRatio;
  input.weights = {0.5, 0.5};
  for (std::size_t arm = 0; arm < 2; ++arm)
    input.variants.push_back({.n = n[arm], .ratio = expected[arm]});
  // Stored results carry the server's camelCase names.
  const auto direct = camel_case_keys(stats::to_json(stats::analyze(input)));
  // The store sums in its own order, so the last bits may differ.
  for (const char* key : {"estimate", "se", "pValue"})
    EXPECT_NEAR(result.at("comparisons").at(0).at("lift").at(key).to_number<double>(),
                direct.at("comparisons").at(0).at("lift").at(key).to_number<double>(), 1e-12)
        << key;
  for (std::size_t arm = 0; arm < 2; ++arm)
    EXPECT_NEAR(result.at("variants").at(arm).at("variance").to_number<double>(),
                direct.at("variants").at(arm).at("variance").to_number<double>(), 1e-12);
  EXPECT_NEAR(result.at("variants").at(0).at("mean").to_number<double>(),
              expected[0].m_sum / expected[0].d_sum, 1e-12);
  // The stored copy went through JSON text, which may round the last bit.
  EXPECT_NEAR(view.at("variants").at(0).at("mean").to_number<double>(),
              result.at("variants").at(0).at("mean").to_number<double>(), 1e-12);
  EXPECT_NEAR(view.at("variants").at(1).at("sum").to_number<double>(), expected[1].m_sum, 1e-9);
}

TEST_F(ExperimentVerbsTest, NamespacesKeepExperimentsMutuallyExclusive) {
  create({{"name", "Checkout A"}, {"namespace", json::array{"checkout", 0, 0.5}}});
  const std::string first = id_;
  create({{"name", "Checkout B"}, {"namespace", json::array{"checkout", 0.5, 1}}});
  const std::string second = id_;
  // Another namespace, or the same range elsewhere, is independent.
  create({{"name", "Search"}, {"namespace", json::array{"search", 0, 1}}});

  auto refused = [&](json::object data, const std::string& id) {
    try {
      engine_.execute({.noun = "Experiment",
                       .verb = id.empty() ? "create" : "update",
                       .id = id,
                       .data = std::move(data)});
    } catch (const Error& error) {
      return std::string(error.what());
    }
    return std::string("accepted");
  };
  const std::string overlap = refused({{"name", "Checkout C"},
                                       {"variants", json::array{{{"key", "a"}}, {{"key", "b"}}}},
                                       {"namespace", json::array{"checkout", 0.4, 0.6}}},
                                      "");
  // It overlaps both; the message names the first one found, with its range.
  EXPECT_THAT(overlap,
              ::testing::ContainsRegex("Checkout C \\[0\\.4, 0\\.6\\) overlaps Checkout "
                                       "(A \\(.*\\) \\[0, 0\\.5\\)|B \\(.*\\) \\[0\\.5, 1\\))"));
  EXPECT_EQ(engine_.find("Experiment", {}).items.size(), 3u) << "the refused create wrote";
  EXPECT_THAT(refused({{"namespace", json::array{"checkout", 0.25, 0.75}}}, second),
              ::testing::HasSubstr("overlaps Checkout A"));
  EXPECT_THAT(refused({{"namespace", json::array{"checkout", 0.7, 0.2}}}, second),
              ::testing::HasSubstr("namespace: the range needs 0 <= start < end <= 1"));

  // No unit is in both: each takes the units whose namespace hash falls in its half.
  for (const auto& id : {first, second}) run("start", {}, id);
  json::array units;
  for (int i = 0; i < 1000; ++i) units.push_back(json::object{{"unit", "u" + std::to_string(i)}});
  auto a = run("assign", {{"units", units}}, first).at("assignments").as_array();
  auto b = run("assign", {{"units", units}}, second).at("assignments").as_array();
  int in_a = 0, in_b = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const bool ina = a[i].at("inExperiment").as_bool();
    const bool inb = b[i].at("inExperiment").as_bool();
    EXPECT_FALSE(ina && inb) << "unit u" << i << " is in both";
    EXPECT_TRUE(ina || inb) << "unit u" << i << " is in neither half";
    if (!ina) {
      EXPECT_EQ(a[i].at("reason"), "namespace");
    }
    in_a += ina;
    in_b += inb;
  }
  EXPECT_NEAR(in_a, 500, 60);
  EXPECT_NEAR(in_b, 500, 60);

  // A stopped experiment frees its range.
  run("stop", {}, first);
  EXPECT_EQ(refused({{"namespace", json::array{"checkout", 0.25, 0.75}}}, second), "accepted");
  // The stopped one still names its old range; writing it must not collide with the reuser.
  EXPECT_EQ(refused({{"description", "kept for the record"}}, first), "accepted");
  run("archive", {}, first);
  EXPECT_EQ(engine_.get("Experiment", first).at("status"), "Archived");
}

}  // namespace
}  // namespace verdict::tracking
