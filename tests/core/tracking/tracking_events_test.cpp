#include "core/tracking/tracking_events.hpp"

#include <gtest/gtest.h>

#include <set>

#include "core/clock.hpp"
#include "core/engine.hpp"
#include "core/error.hpp"
#include "tests/support/test_store.hpp"

namespace verdict::tracking {
namespace {

namespace json = boost::json;

// Records what the after hooks of batch verbs were given.
class RecordingHooks : public HookRunner {
 public:
  std::optional<json::object> before(const HookContext&, const json::object&) override {
    return std::nullopt;
  }
  std::vector<HookFailure> after(const HookContext& context, const json::object&,
                                 Engine&) override {
    if (context.items) batches.push_back({context.verb.name, context.items()});
    return {};
  }
  std::vector<std::pair<std::string, json::array>> batches;
};

class TrackingEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    id_ = std::string(
        engine_
            .execute({.noun = "Experiment",
                      .verb = "create",
                      .data = {{"name", "Signup button"},
                               {"primaryMetric", "signup"},
                               {"variants", json::array{{{"key", "control"}, {"weight", 50}},
                                                        {{"key", "green"}, {"weight", 50}}}}}})
            .at("id")
            .as_string());
    engine_.execute({.noun = "Experiment", .verb = "start", .id = id_});
  }
  json::value run(const std::string& verb, json::object data) {
    return engine_.execute(
        {.noun = "Experiment", .verb = verb, .id = id_, .data = std::move(data)});
  }
  std::vector<json::object> events(json::object filter) {
    return engine_.find("Event", {.filter = std::move(filter), .limit = 1000}).items;
  }
  json::array units(int count) {
    json::array list;
    for (int i = 0; i < count; ++i)
      list.push_back(json::object{{"unit", "user-" + std::to_string(i)}});
    return list;
  }

  Engine engine_{test_support::fresh_store()};
  std::string id_;
};

// Regression: assign and track wrote their own tables and nothing an agent could find as Events.
TEST_F(TrackingEventsTest, AssignmentsAreEventsWithUnitVariantAndTime) {
  std::string before = now_iso8601();
  auto assignments = run("assign", {{"units", units(40)}}).at("assignments").as_array();
  run("assign", {{"unit", "user-0"}});  // sticky: no second exposure, no second event
  auto assigned = events({{"type", "experiment.assigned"}, {"subject", id_}});
  ASSERT_EQ(assigned.size(), 40u);
  std::map<std::string, std::string> variant_of;
  for (std::size_t i = 0; i < assignments.size(); ++i)
    variant_of["user-" + std::to_string(i)] = std::string(assignments[i].at("variant").as_string());
  for (const auto& event : assigned) {
    std::string unit(event.at("unit").as_string());
    EXPECT_EQ(event.at("variant"), json::value(variant_of.at(unit))) << unit;
    EXPECT_TRUE(event.at("id").as_string().starts_with("event_"));
    EXPECT_GE(event.at("timestamp").as_string(), before);
    EXPECT_TRUE(event.at("data").as_object().contains("bucket"));
  }
  std::size_t green = events({{"type", "experiment.assigned"}, {"variant", "green"}}).size();
  std::size_t control = events({{"type", "experiment.assigned"}, {"variant", "control"}}).size();
  EXPECT_EQ(green + control, 40u);
  EXPECT_GT(green, 0u);
  EXPECT_GT(control, 0u);
  EXPECT_EQ(events({{"type", "experiment.assigned"}, {"unit", "user-7"}}).size(), 1u);
  EXPECT_EQ(events({{"type", "experiment.assigned"}, {"timestamp", {{"$lt", before}}}}).size(), 0u);
  EXPECT_EQ(events({{"type", "experiment.assigned"}, {"subject", "experiment_other123"}}).size(),
            0u);
  // The subject may be given as the experiment's slug, as a new user writes it.
  EXPECT_EQ(events({{"type", "experiment.assigned"}, {"subject", "signup-button"}}).size(), 40u);
  try {
    events({{"subject", "signup-buton"}});
    ADD_FAILURE() << "a subject naming nothing was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.field(), "filter.subject");
    EXPECT_NE(std::string(error.what()).find("no entity with id, slug or key 'signup-buton'"),
              std::string::npos)
        << error.what();
  }
  // get finds one by id, like any Event.
  EXPECT_EQ(engine_.get("Event", assigned[0].at("id").as_string()).at("unit"),
            assigned[0].at("unit"));
}

TEST_F(TrackingEventsTest, ConversionsAreEventsOncePerUnitAndMetric) {
  run("assign", {{"units", units(10)}});
  run("track",
      {{"events", json::array{{{"unit", "user-1"}, {"metric", "signup"}},
                              {{"unit", "user-1"}, {"metric", "signup"}},
                              {{"unit", "user-2"}, {"metric", "signup"}},
                              {{"unit", "user-3"}, {"metric", "revenue"}, {"value", 5}},
                              {{"unit", "user-3"}, {"metric", "revenue"}, {"value", 2.5}}}}});
  auto converted = events({{"type", "experiment.converted"}, {"subject", id_}});
  ASSERT_EQ(converted.size(), 3u);
  std::set<std::string> seen;
  for (const auto& event : converted) {
    std::string unit(event.at("unit").as_string());
    seen.insert(unit + ":" + std::string(event.at("data").at("metric").as_string()));
    auto assigned = events({{"type", "experiment.assigned"}, {"unit", unit}});
    ASSERT_EQ(assigned.size(), 1u);
    EXPECT_EQ(event.at("variant"), assigned[0].at("variant"));
    EXPECT_TRUE(event.contains("timestamp"));
    if (unit == "user-3") {
      EXPECT_EQ(event.at("data").at("value").to_number<double>(), 7.5);
    }
    if (unit == "user-1") {
      EXPECT_EQ(event.at("data").at("events"), 2);
    }
  }
  EXPECT_EQ(seen, (std::set<std::string>{"user-1:signup", "user-2:signup", "user-3:revenue"}));
  std::string variant(converted[0].at("variant").as_string());
  for (const auto& event : events({{"type", "experiment.converted"}, {"variant", variant}}))
    EXPECT_EQ(event.at("variant"), json::value(variant));
}

TEST_F(TrackingEventsTest, DerivedEventsAreReadOnlyAndOrdinaryEventsStay) {
  run("assign", {{"unit", "user-1"}});
  engine_.execute(
      {.noun = "Event",
       .verb = "create",
       .data = {{"type", "experiment.assigned"}, {"subject", id_}, {"unit", "manual"}}});
  auto assigned = events({{"type", "experiment.assigned"}});
  ASSERT_EQ(assigned.size(), 2u);
  EXPECT_EQ(engine_.store().count(*engine_.schema().find("Event"), {{"subject", id_}}), 2);
  std::string derived = assigned[0].at("unit") == "user-1"
                            ? std::string(assigned[0].at("id").as_string())
                            : std::string(assigned[1].at("id").as_string());
  for (const char* verb : {"update", "delete"}) {
    try {
      engine_.execute({.noun = "Event", .verb = verb, .id = derived, .data = {}});
      ADD_FAILURE() << verb << " of a derived event succeeded";
    } catch (const Error& error) {
      EXPECT_EQ(error.field(), "id");
      EXPECT_NE(std::string(error.what()).find("recorded by assign or track"), std::string::npos)
          << error.what();
    }
  }
}

// After hooks of assign and track run once per call and receive the batch's items.
TEST_F(TrackingEventsTest, AfterHooksRunOncePerBatchWithItsItems) {
  auto hooks = std::make_shared<RecordingHooks>();
  engine_.set_hooks(hooks);
  run("assign", {{"units", units(25)}});
  run("assign", {{"unit", "solo"}});
  run("track", {{"events", json::array{{{"unit", "user-1"}, {"metric", "signup"}},
                                       {{"unit", "user-2"}, {"metric", "signup"}}}}});
  ASSERT_EQ(hooks->batches.size(), 3u);
  EXPECT_EQ(hooks->batches[0].first, "assign");
  ASSERT_EQ(hooks->batches[0].second.size(), 25u);
  EXPECT_EQ(hooks->batches[0].second[3].at("unit"), "user-3");
  EXPECT_TRUE(hooks->batches[0].second[3].as_object().contains("variant"));
  ASSERT_EQ(hooks->batches[1].second.size(), 1u);
  EXPECT_EQ(hooks->batches[1].second[0].at("unit"), "solo");
  EXPECT_EQ(hooks->batches[2].first, "track");
  ASSERT_EQ(hooks->batches[2].second.size(), 2u);
  EXPECT_EQ(hooks->batches[2].second[1].at("unit"), "user-2");
}

}  // namespace
}  // namespace verdict::tracking
