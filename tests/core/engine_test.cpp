#include "core/engine.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

namespace verdict {
namespace {

namespace json = boost::json;

json::object create_experiment(Engine& engine, json::object data) {
  return engine.execute({.noun = "Experiment", .verb = "create", .data = std::move(data)})
      .as_object();
}

TEST(EngineTest, CreateDerivesIdSlugStatusAndVersion) {
  Engine engine(":memory:");
  auto experiment = create_experiment(engine, {{"name", "Pricing Page V2"}});
  EXPECT_TRUE(std::string(experiment.at("id").as_string()).starts_with("experiment_"));
  EXPECT_EQ(experiment.at("id").as_string().size(), std::string("experiment_").size() + 8);
  EXPECT_EQ(experiment.at("slug"), "pricing-page-v2");
  EXPECT_EQ(experiment.at("status"), "Draft");
  EXPECT_EQ(experiment.at("version"), 1);
  auto second = create_experiment(engine, {{"name", "Pricing page v2"}});
  EXPECT_EQ(second.at("slug"), "pricing-page-v2-2");
  EXPECT_EQ(engine.get("Experiment", "pricing-page-v2").at("id"), experiment.at("id"));
}

TEST(EngineTest, LifecycleFollowsTheStateMachineAndLogsEvents) {
  Engine engine(":memory:");
  auto id = std::string(create_experiment(engine, {{"name", "x"}}).at("id").as_string());
  auto run = [&](const char* verb) {
    return engine.execute({.noun = "Experiment", .verb = verb, .id = id}).as_object();
  };
  EXPECT_EQ(run("launch").at("status"), "Started");
  EXPECT_TRUE(engine.get("Experiment", id).contains("startAt"));
  try {
    run("conclude");
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kInvalidTransition);
    EXPECT_NE(std::string(error.what()).find("it is Started"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("pause, stop"), std::string::npos) << error.what();
  }
  EXPECT_EQ(run("run").at("status"), "Running");
  EXPECT_EQ(run("conclude").at("status"), "Concluded");
  auto history = engine.get("Experiment", id, true).at("history").as_array();
  ASSERT_EQ(history.size(), 4u);
  EXPECT_EQ(history[0].at("type"), "Experiment.Created");
  EXPECT_EQ(history[3].at("type"), "Experiment.Concluded");
}

TEST(EngineTest, InvalidInputChangesNothing) {
  Engine engine(":memory:");
  EXPECT_THROW(create_experiment(engine, {{"name", "x"}, {"trafficAllocation", 150}}), Error);
  EXPECT_THROW(create_experiment(engine, {{"name", "x"}, {"bogus", 1}}), Error);
  EXPECT_THROW(create_experiment(engine, {{"hypothesis", "no name"}}), Error);
  EXPECT_THROW(create_experiment(engine, {{"name", "x"}, {"owner", "contact_missing1"}}), Error);
  EXPECT_EQ(engine.find("Experiment", {}).items.size(), 0u);
  EXPECT_TRUE(engine.store().events_since(0).empty());
}

}  // namespace
}  // namespace verdict
