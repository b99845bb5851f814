#include "core/tracking/experiment_verbs.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/engine.hpp"
#include "core/error.hpp"
#include "tests/support/error_matchers.hpp"

namespace verdict::tracking {
namespace {

using test_support::ThrowsError;

namespace json = boost::json;

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
        {"variants", json::array{{{"key", "control"}, {"name", "Control"}, {"weight", 50}},
                                 {{"key", "green"}, {"name", "Green"}, {"weight", 50}}}}};
    for (const auto& entry : extra) data[entry.key()] = entry.value();
    id_ = std::string(engine_.execute({.noun = "Experiment", .verb = "create", .data = data})
                          .at("id")
                          .as_string());
  }

  Engine engine_{":memory:"};
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
  EXPECT_TRUE(view.at("recommendation").as_string().starts_with("Green beats control on signup"))
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
  create();
  auto summary = engine_.execute({.noun = "Experiment", .verb = "summary"}).as_object();
  EXPECT_EQ(summary.at("total"), 2);
  EXPECT_EQ(summary.at("running"), 1);
  EXPECT_EQ(summary.at("winnersFound"), 0);
}

}  // namespace
}  // namespace verdict::tracking
