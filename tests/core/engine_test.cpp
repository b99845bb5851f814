#include "core/engine.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/json_style.hpp"
#include "core/storage/sqlite_connection.hpp"
#include "tests/support/error_matchers.hpp"
#include "tests/support/test_store.hpp"

namespace verdict {
namespace {

using test_support::ThrowsError;

namespace json = boost::json;

// conclude needs an analysis, or force with a reason; these tests are about the state machine.
json::object data_for(const std::string& verb) {
  if (verb != "conclude") return {};
  return {{"force", true}, {"reason", "state machine test without an analysis"}};
}

json::object create_experiment(Engine& engine, json::object data) {
  return engine.execute({.noun = "Experiment", .verb = "create", .data = std::move(data)})
      .as_object();
}

// The scheduled work runs between requests: a store it cannot read (a lost connection) is
// logged and tried again later, never thrown out of the engine's thread.
TEST(EngineTest, IdleSurvivesAStoreItCannotRead) {
  Engine engine(test_support::fresh_store());
  engine.store().db().exec("DROP TABLE api_key; DROP TABLE project");
  std::optional<Clock::time_point> due;
  EXPECT_NO_THROW(due = engine.idle());
  EXPECT_TRUE(due.has_value()) << "told to come back and try again";
}

TEST(EngineTest, CreateDerivesIdSlugStatusAndVersion) {
  Engine engine(test_support::fresh_store());
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
  Engine engine(test_support::fresh_store());
  auto id = std::string(create_experiment(engine, {{"name", "x"}}).at("id").as_string());
  auto run = [&](const char* verb) {
    return engine.execute({.noun = "Experiment", .verb = verb, .id = id, .data = data_for(verb)})
        .as_object();
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

// Nodes of one PostgreSQL database often start together (a deployment rolled out at once), and
// processes on one SQLite file may (`verdict serve` and `verdict keys create` run together on a
// new file): each creates the schema if it is missing, and none may fail because another is
// creating it.
TEST(EngineTest, EnginesStartingTogetherOnOneStoreAllStart) {
  std::string file = (std::filesystem::temp_directory_path() /
                      ("verdict_engines_together_" + std::to_string(::getpid()) + ".db"))
                         .string();
  auto remove_file = [&] {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(file + suffix);
  };
  remove_file();
  std::string location = test_support::shared_store(file);
  constexpr int kEngines = 4;
  std::vector<std::unique_ptr<Engine>> engines(kEngines);
  std::vector<std::string> failures(kEngines);
  std::vector<std::thread> threads;
  for (int i = 0; i < kEngines; ++i)
    threads.emplace_back([&, i] {
      try {
        engines[i] = std::make_unique<Engine>(location);
      } catch (const std::exception& error) {
        failures[i] = error.what();
      }
    });
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < kEngines; ++i) ASSERT_EQ(failures[i], "") << "engine " << i;
  auto created = create_experiment(*engines[0], {{"name", "Started together"}});
  EXPECT_EQ(engines[kEngines - 1]
                ->get(Caller::local_operator(), "Experiment", "started-together")
                .at("id"),
            created.at("id"));
  engines.clear();
  remove_file();
}

TEST(EngineTest, InvalidInputChangesNothing) {
  Engine engine(test_support::fresh_store());
  EXPECT_THAT(
      [&] {
        create_experiment(engine, {{"name", "x"}, {"trafficAllocation", 150}});
      },
      ThrowsError(ErrorCode::kInvalidArgument, "trafficAllocation"));
  EXPECT_THAT(
      [&] {
        create_experiment(engine, {{"name", "x"}, {"bogus", 1}});
      },
      ThrowsError(ErrorCode::kInvalidArgument, "bogus"));
  EXPECT_THAT(
      [&] {
        create_experiment(engine, {{"hypothesis", "no name"}});
      },
      ThrowsError(ErrorCode::kInvalidArgument, "name"));
  EXPECT_THAT(
      [&] {
        create_experiment(engine, {{"name", "x"}, {"owner", "contact_missing1"}});
      },
      ThrowsError(ErrorCode::kInvalidArgument, "owner"));
  EXPECT_EQ(engine.find("Experiment", {}).items.size(), 0u);
  EXPECT_TRUE(engine.store().events_since(0).empty());
}

}  // namespace
}  // namespace verdict

namespace verdict {
namespace {

using Strings = std::vector<std::string>;

// Runs `action` and returns the Error it throws; fails the test when nothing is thrown.
Error error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error;
  }
  ADD_FAILURE() << "no error thrown";
  return Error(ErrorCode::kInternal, "none");
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

class EngineVerbTest : public ::testing::Test {
 protected:
  Engine engine_{test_support::fresh_store()};

  json::object run(const std::string& noun, const std::string& verb, const std::string& id,
                   json::object data = {}) {
    return engine_
        .execute({.noun = noun, .verb = verb, .id = id, .data = std::move(data), .actor = "tester"})
        .as_object();
  }
  std::string create(const std::string& noun, json::object data) {
    return std::string(run(noun, "create", "", std::move(data)).at("id").as_string());
  }
  std::string experiment(json::object data = {{"name", "x"}}) {
    return create("Experiment", std::move(data));
  }
  std::string status(const std::string& noun, const std::string& id) {
    return std::string(engine_.get(noun, id).at("status").as_string());
  }
  std::size_t rows(const std::string& noun) {
    return engine_.find(noun, {.limit = 1000}).items.size();
  }
  std::size_t events() { return engine_.store().events_since(0, 10000).size(); }

  // Everything an invalid verb must leave untouched.
  struct Snapshot {
    std::size_t rows;
    std::size_t events;
  };
  Snapshot snapshot(const std::string& noun) { return {rows(noun), events()}; }
  void expect_unchanged(const std::string& noun, Snapshot before) {
    EXPECT_EQ(rows(noun), before.rows);
    EXPECT_EQ(events(), before.events);
  }
  // Expects `data` to be refused by create with an error naming `field`, writing nothing.
  void expect_create_refused(const std::string& noun, json::object data, const std::string& field,
                             ErrorCode code = ErrorCode::kInvalidArgument) {
    auto before = snapshot(noun);
    Error error = error_of([&] { create(noun, data); });
    EXPECT_EQ(error.code(), code) << error.what();
    EXPECT_EQ(error.field(), field) << error.what();
    EXPECT_TRUE(contains(error.what(), field)) << error.what();
    expect_unchanged(noun, before);
  }
};

TEST_F(EngineVerbTest, CreateValidationNamesTheFieldAndWritesNothing) {
  std::string contact = create("Contact", {{"name", "Ada"}});
  expect_create_refused("Experiment", {{"name", 5}}, "name");
  expect_create_refused("Experiment", {{"hypothesis", "h"}}, "name");
  expect_create_refused("Experiment", {{"name", "x"}, {"colour", "red"}}, "colour");
  expect_create_refused("Experiment", {{"name", "x"}, {"trafficAllocation", 101}},
                        "trafficAllocation");
  expect_create_refused("Experiment", {{"name", "x"}, {"trafficAllocation", -0.5}},
                        "trafficAllocation");
  expect_create_refused("Experiment",
                        {{"name", "x"}, {"variants", json::array{{{"key", "a"}, {"weight", 150}}}}},
                        "variants[0].weight");
  expect_create_refused("Experiment",
                        {{"name", "x"}, {"variants", json::array{{{"key", "a"}, {"weight", -1}}}}},
                        "variants[0].weight");
  expect_create_refused("Experiment",
                        {{"name", "x"}, {"variants", json::array{{{"key", "a"}}, {{"key", "a"}}}}},
                        "variants[1].key");
  expect_create_refused("Experiment", {{"name", "x"}, {"type", "Bogus"}}, "type");
  expect_create_refused("Experiment", {{"name", "x"}, {"owner", "contact_missing1"}}, "owner");
  expect_create_refused("Experiment", {{"name", "x"}, {"owner", contact + "x"}}, "owner");
  expect_create_refused("Experiment", {{"name", "x"}, {"startAt", "31/01/2026"}}, "startAt");
  expect_create_refused("Experiment", {{"name", "x"}, {"banditEnabled", "true"}}, "banditEnabled");
  expect_create_refused("Experiment", {{"name", "x"}, {"status", "Running"}}, "status");
  expect_create_refused("Experiment", {{"name", "x"}, {"id", "experiment_AAAAAAAA"}}, "id");
  expect_create_refused("Experiment", {{"name", "x"}, {"slug", "Not A Slug"}}, "slug");
  expect_create_refused("FeatureFlag", {{"name", "n"}}, "key");
  expect_create_refused("Activity", {{"subject", "s"}, {"contact", "contact_missing1"}}, "contact");
  // A valid relation is accepted.
  EXPECT_EQ(engine_.get("Experiment", experiment({{"name", "x"}, {"owner", contact}})).at("owner"),
            json::value(contact));
}

TEST_F(EngineVerbTest, UpdateValidationWritesNothing) {
  std::string id = experiment({{"name", "x"}, {"trafficAllocation", 50}});
  auto before = snapshot("Experiment");
  Error error = error_of([&] { run("Experiment", "update", id, {{"trafficAllocation", 200}}); });
  EXPECT_EQ(error.field(), "trafficAllocation");
  error = error_of([&] { run("Experiment", "update", id, {{"name", nullptr}}); });
  EXPECT_EQ(error.field(), "name");
  error = error_of([&] { run("Experiment", "update", id, {{"status", "Running"}}); });
  EXPECT_EQ(error.field(), "status");
  expect_unchanged("Experiment", before);
  auto stored = engine_.get("Experiment", id);
  EXPECT_EQ(stored.at("trafficAllocation"), 50);
  EXPECT_EQ(stored.at("version"), 1);
}

TEST_F(EngineVerbTest, UpdateChangesAndClearsFields) {
  std::string id = experiment({{"name", "x"}, {"hypothesis", "h"}});
  auto updated = run("Experiment", "update", id, {{"hypothesis", nullptr}, {"tags", "a,b"}});
  EXPECT_FALSE(updated.contains("hypothesis"));
  EXPECT_EQ(updated.at("tags"), "a,b");
  EXPECT_EQ(updated.at("version"), 2);
  EXPECT_EQ(engine_.get("Experiment", id), updated);
}

TEST_F(EngineVerbTest, EveryExperimentTransitionIsAllowedOrRefused) {
  // How to reach each state from Draft.
  const std::map<std::string, Strings> paths = {
      {"Draft", {}},
      {"Started", {"start"}},
      {"Running", {"start", "run"}},
      {"Paused", {"start", "pause"}},
      {"Concluded", {"start", "run", "conclude"}},
      {"Completed", {"start", "run", "conclude", "complete"}},
      {"Stopped", {"start", "stop"}},
      {"Archived", {"start", "stop", "archive"}},
  };
  // The seed's state machine: verb -> (from states, to state).
  const std::map<std::string, std::pair<Strings, std::string>> machine = {
      {"start", {{"Draft"}, "Started"}},
      {"launch", {{"Draft"}, "Started"}},
      {"run", {{"Started"}, "Running"}},
      {"pause", {{"Started", "Running"}, "Paused"}},
      {"resume", {{"Paused"}, "Running"}},
      {"conclude", {{"Running"}, "Concluded"}},
      {"complete", {{"Concluded"}, "Completed"}},
      {"stop", {{"Started", "Running", "Paused"}, "Stopped"}},
      {"archive", {{"Concluded", "Completed", "Stopped"}, "Archived"}},
  };
  int allowed = 0, refused = 0;
  for (const auto& [state, path] : paths) {
    for (const auto& [verb, rule] : machine) {
      std::string id = experiment();
      for (const auto& step : path) run("Experiment", step, id, data_for(step));
      ASSERT_EQ(status("Experiment", id), state);
      const auto& [from, to] = rule;
      bool ok = std::find(from.begin(), from.end(), state) != from.end();
      if (ok) {
        ++allowed;
        EXPECT_EQ(run("Experiment", verb, id, data_for(verb)).at("status"), json::value(to))
            << verb << " from " << state;
        EXPECT_EQ(status("Experiment", id), to);
        continue;
      }
      ++refused;
      auto before = engine_.get("Experiment", id);
      std::size_t events_before = events();
      Error error = error_of([&] { run("Experiment", verb, id); });
      EXPECT_EQ(error.code(), ErrorCode::kInvalidTransition) << verb << " from " << state;
      EXPECT_TRUE(contains(error.what(), "it is " + state)) << error.what();
      // The message lists the verbs that the state does allow.
      for (const auto& [other, other_rule] : machine) {
        const auto& other_from = other_rule.first;
        if (other != "launch" &&
            std::find(other_from.begin(), other_from.end(), state) != other_from.end()) {
          EXPECT_TRUE(contains(error.what(), other)) << error.what();
        }
      }
      EXPECT_EQ(engine_.get("Experiment", id), before);
      EXPECT_EQ(events(), events_before);
    }
  }
  EXPECT_EQ(allowed, 14);
  EXPECT_EQ(refused, 8 * 9 - 14);
}

TEST_F(EngineVerbTest, ArchivedAllowsNoStateChange) {
  std::string id = experiment();
  for (const char* verb : {"start", "stop", "archive"}) run("Experiment", verb, id);
  Error error = error_of([&] { run("Experiment", "start", id); });
  EXPECT_TRUE(contains(error.what(), "no state change is allowed from Archived")) << error.what();
}

TEST_F(EngineVerbTest, PauseAndResumeRoundTrip) {
  std::string id = experiment();
  run("Experiment", "launch", id);
  EXPECT_EQ(run("Experiment", "pause", id).at("status"), "Paused");
  EXPECT_EQ(run("Experiment", "resume", id).at("status"), "Running");
  EXPECT_EQ(run("Experiment", "pause", id).at("status"), "Paused");
  EXPECT_EQ(run("Experiment", "resume", id).at("status"), "Running");
  EXPECT_EQ(run("Experiment", "stop", id).at("status"), "Stopped");
}

TEST_F(EngineVerbTest, StartSetsStartAtOnlyWhenNotGiven) {
  std::string id = experiment();
  auto started = run("Experiment", "start", id);
  ASSERT_TRUE(started.contains("startAt"));
  EXPECT_TRUE(is_iso8601_utc(started.at("startAt").as_string()));
  EXPECT_FALSE(started.contains("endAt"));

  std::string planned = experiment({{"name", "y"}, {"startAt", "2026-03-01T00:00:00Z"}});
  EXPECT_EQ(run("Experiment", "start", planned).at("startAt"), "2026-03-01T00:00:00.000Z");
  std::string given = experiment({{"name", "z"}});
  EXPECT_EQ(run("Experiment", "start", given, {{"startAt", "2026-04-01T00:00:00Z"}}).at("startAt"),
            "2026-04-01T00:00:00.000Z");
  Error error = error_of([&] { run("Experiment", "start", given, {{"startAt", "soon"}}); });
  EXPECT_EQ(error.code(), ErrorCode::kInvalidTransition);
  std::string bad = experiment({{"name", "w"}});
  error = error_of([&] { run("Experiment", "start", bad, {{"startAt", "soon"}}); });
  EXPECT_EQ(error.field(), "startAt");
  EXPECT_EQ(status("Experiment", bad), "Draft");
}

TEST_F(EngineVerbTest, ConcludeAndStopSetEndAt) {
  std::string concluded = experiment();
  for (const char* verb : {"start", "run"}) run("Experiment", verb, concluded);
  EXPECT_FALSE(engine_.get("Experiment", concluded).contains("endAt"));
  const json::object forced{{"force", true}, {"reason", "no analysis in this test"}};
  EXPECT_TRUE(run("Experiment", "conclude", concluded, forced).contains("endAt"));
  std::string stopped = experiment();
  run("Experiment", "start", stopped);
  EXPECT_TRUE(run("Experiment", "stop", stopped).contains("endAt"));
  std::string given = experiment();
  for (const char* verb : {"start", "run"}) run("Experiment", verb, given);
  json::object with_end = forced;
  with_end["endAt"] = "2099-05-01T00:00:00Z";  // an end before the start is refused
  EXPECT_EQ(run("Experiment", "conclude", given, with_end).at("endAt"), "2099-05-01T00:00:00.000Z");
}

TEST_F(EngineVerbTest, ConcludeRecordsWinnerAndConfidence) {
  std::string id = experiment(
      {{"name", "x"}, {"variants", json::array{{{"key", "control"}}, {{"key", "treatment"}}}}});
  for (const char* verb : {"start", "run"}) run("Experiment", verb, id);
  // Without an analysis only a forced conclusion (with its reason) is possible.
  const auto forced = [](json::object data) {
    data["force"] = true;
    data["reason"] = "decided by the product owner";
    return data;
  };
  auto before = snapshot("Experiment");
  Error error = error_of([&] { run("Experiment", "conclude", id, {{"winner", "treatment"}}); });
  EXPECT_EQ(error.field(), "winner");
  error = error_of([&] { run("Experiment", "conclude", id, forced({{"winner", "other"}})); });
  EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(error.field(), "winner");
  error = error_of([&] {
    run("Experiment", "conclude", id, forced({{"winner", "treatment"}, {"confidence", 120}}));
  });
  EXPECT_EQ(error.field(), "confidence");
  error = error_of([&] { run("Experiment", "conclude", id, forced({{"winner", 1}})); });
  EXPECT_EQ(error.field(), "winner");
  error = error_of([&] {
    run("Experiment", "conclude", id, {{"winner", "treatment"}, {"force", true}});
  });
  EXPECT_EQ(error.field(), "reason");
  expect_unchanged("Experiment", before);
  EXPECT_EQ(status("Experiment", id), "Running");

  auto concluded =
      run("Experiment", "conclude", id, forced({{"winner", "treatment"}, {"confidence", 97.5}}));
  EXPECT_EQ(concluded.at("status"), "Concluded");
  EXPECT_EQ(concluded.at("winner"), "treatment");
  EXPECT_EQ(concluded.at("confidence"), 97.5);
  auto history = engine_.get("Experiment", id, true).at("history").as_array();
  EXPECT_EQ(history.back().at("data"), forced({{"winner", "treatment"}, {"confidence", 97.5}}));
}

TEST_F(EngineVerbTest, ConcludeWithAWinnerNeedsVariants) {
  std::string id = experiment();
  for (const char* verb : {"start", "run"}) run("Experiment", verb, id);
  Error error = error_of([&] {
    run("Experiment", "conclude", id,
        {{"winner", "anything"}, {"force", true}, {"reason", "testing validation"}});
  });
  EXPECT_EQ(error.field(), "winner");
  EXPECT_EQ(status("Experiment", id), "Running");
}

TEST_F(EngineVerbTest, AddVariantAppendsWithDerivedKey) {
  std::string id = experiment();
  auto added = run("Experiment", "addVariant", id, {{"name", "Big Button"}, {"weight", 30}});
  ASSERT_EQ(added.at("variants").as_array().size(), 1u);
  EXPECT_EQ(added.at("variants").as_array()[0],
            (json::object{{"key", "big-button"}, {"name", "Big Button"}, {"weight", 30}}));
  added = run("Experiment", "addVariant", id, {{"name", "Control"}, {"key", "control"}});
  EXPECT_EQ(added.at("variants").as_array()[1].at("weight"), 50);
  EXPECT_EQ(added.at("version"), 3);
  auto history = engine_.get("Experiment", id, true).at("history").as_array();
  EXPECT_EQ(history.back().at("type"), "Experiment.VariantAdded");
  EXPECT_EQ(history.back().at("verb"), "addVariant");
}

TEST_F(EngineVerbTest, AddVariantRefusesBadInput) {
  std::string id = experiment();
  run("Experiment", "addVariant", id, {{"name", "A"}});
  auto before = snapshot("Experiment");
  EXPECT_EQ(error_of([&] {
              run("Experiment", "addVariant", id, {{"name", "B"}, {"weight", -5}});
            }).field(),
            "variants[1].weight");
  EXPECT_EQ(error_of([&] {
              run("Experiment", "addVariant", id, {{"name", "B"}, {"weight", 101}});
            }).field(),
            "variants[1].weight");
  EXPECT_EQ(error_of([&] {
              run("Experiment", "addVariant", id, {{"name", "a"}});
            }).field(),
            "variants[1].key");
  EXPECT_EQ(error_of([&] {
              run("Experiment", "addVariant", id, {{"weight", 5}});
            }).field(),
            "name");
  EXPECT_EQ(error_of([&] {
              run("Experiment", "addVariant", id, {{"name", "B"}, {"colour", 1}});
            }).field(),
            "colour");
  expect_unchanged("Experiment", before);
  EXPECT_EQ(engine_.get("Experiment", id).at("variants").as_array().size(), 1u);
  for (const char* verb : {"start", "run", "conclude"}) run("Experiment", verb, id, data_for(verb));
  EXPECT_EQ(error_of([&] {
              run("Experiment", "addVariant", id, {{"name", "C"}});
            }).code(),
            ErrorCode::kInvalidTransition);
}

TEST_F(EngineVerbTest, FeatureFlagVerbs) {
  std::string id = create("FeatureFlag", {{"key", "checkout"}, {"name", "Checkout"}});
  EXPECT_EQ(status("FeatureFlag", id), "Draft");
  EXPECT_TRUE(id.starts_with("featureFlag_"));
  EXPECT_EQ(run("FeatureFlag", "enable", id).at("status"), "Enabled");
  EXPECT_EQ(error_of([&] { run("FeatureFlag", "enable", id); }).code(),
            ErrorCode::kInvalidTransition);
  EXPECT_EQ(run("FeatureFlag", "disable", id).at("status"), "Disabled");
  auto rolled = run("FeatureFlag", "rollout", id, {{"rolloutPercentage", 10}});
  EXPECT_EQ(rolled.at("status"), "RolledOut");
  EXPECT_EQ(rolled.at("rolloutPercentage"), 100);
  EXPECT_EQ(run("FeatureFlag", "disable", id).at("status"), "Disabled");
  EXPECT_EQ(run("FeatureFlag", "archive", id).at("status"), "Archived");
  for (const char* verb : {"enable", "disable", "rollout", "archive"}) {
    Error error = error_of([&] { run("FeatureFlag", verb, id); });
    EXPECT_EQ(error.code(), ErrorCode::kInvalidTransition) << verb;
    EXPECT_TRUE(contains(error.what(), "it is Archived")) << error.what();
  }
  Strings types;
  for (const auto& event : engine_.store().history(id)) types.push_back(event.type);
  EXPECT_EQ(types,
            (Strings{"FeatureFlag.Created", "FeatureFlag.Enabled", "FeatureFlag.Disabled",
                     "FeatureFlag.RolledOut", "FeatureFlag.Disabled", "FeatureFlag.Archived"}));
}

TEST_F(EngineVerbTest, DuplicateFlagKeyIsAConflictNamingKey) {
  std::string first = create("FeatureFlag", {{"key", "checkout"}, {"name", "A"}});
  expect_create_refused("FeatureFlag", {{"key", "checkout"}, {"name", "B"}}, "key",
                        ErrorCode::kConflict);
  std::string second = create("FeatureFlag", {{"key", "search"}, {"name", "B"}});
  Error error = error_of([&] { run("FeatureFlag", "update", second, {{"key", "checkout"}}); });
  EXPECT_EQ(error.code(), ErrorCode::kConflict);
  EXPECT_EQ(error.field(), "key");
  EXPECT_TRUE(contains(error.what(), first)) << error.what();
  // Keeping one's own key is not a conflict.
  EXPECT_EQ(run("FeatureFlag", "update", first, {{"key", "checkout"}, {"name", "A2"}}).at("name"),
            "A2");
}

TEST_F(EngineVerbTest, ExplicitDuplicateSlugIsAConflict) {
  experiment({{"name", "x"}, {"slug", "taken"}});
  expect_create_refused("Experiment", {{"name", "y"}, {"slug", "taken"}}, "slug",
                        ErrorCode::kConflict);
}

TEST_F(EngineVerbTest, StaleVersionIsRefusedAndChangesNothing) {
  std::string id = experiment({{"name", "x"}});
  auto v2 = run("Experiment", "update", id, {{"version", 1}, {"hypothesis", "first"}});
  EXPECT_EQ(v2.at("version"), 2);
  auto before = snapshot("Experiment");
  Error error = error_of([&] {
    run("Experiment", "update", id, {{"version", 1}, {"hypothesis", "second"}});
  });
  EXPECT_EQ(error.code(), ErrorCode::kConflict);
  EXPECT_EQ(error.field(), "version");
  EXPECT_EQ(error_of([&] {
              run("Experiment", "start", id, {{"version", 1}});
            }).code(),
            ErrorCode::kConflict);
  EXPECT_EQ(error_of([&] {
              run("Experiment", "update", id, {{"version", 7}});
            }).code(),
            ErrorCode::kConflict);
  expect_unchanged("Experiment", before);
  EXPECT_EQ(engine_.get("Experiment", id).at("hypothesis"), "first");
  EXPECT_EQ(error_of([&] {
              run("Experiment", "update", id, {{"version", "2"}});
            }).field(),
            "version");
  EXPECT_EQ(
      error_of([&] {
        run("Experiment", "update", id, {{"version", std::numeric_limits<std::uint64_t>::max()}});
      }).field(),
      "version");
  EXPECT_EQ(run("Experiment", "start", id, {{"version", 2}}).at("version"), 3);
}

TEST_F(EngineVerbTest, EveryVerbAppendsOneEvent) {
  std::string id = experiment({{"name", "x"}});
  run("Experiment", "update", id, {{"hypothesis", "h"}});
  run("Experiment", "launch", id);
  run("Experiment", "delete", id);
  auto history = engine_.store().history(id);
  ASSERT_EQ(history.size(), 4u);
  const Strings types = {"Experiment.Created", "Experiment.Updated", "Experiment.Started",
                         "Experiment.Deleted"};
  const Strings verbs = {"create", "update", "start", "delete"};
  for (std::size_t i = 0; i < history.size(); ++i) {
    EXPECT_EQ(history[i].type, types[i]);
    EXPECT_EQ(history[i].verb, verbs[i]);
    EXPECT_EQ(history[i].noun, "Experiment");
    EXPECT_EQ(history[i].entity_id, id);
    EXPECT_EQ(history[i].actor, "tester");
    EXPECT_TRUE(is_iso8601_utc(history[i].at)) << history[i].at;
    if (i > 0) {
      EXPECT_GT(history[i].sequence, history[i - 1].sequence);
    }
  }
  EXPECT_EQ(history[0].data, (json::object{{"name", "x"}}));
  EXPECT_EQ(history[1].data, (json::object{{"hypothesis", "h"}}));
  EXPECT_EQ(events(), 4u);
}

TEST_F(EngineVerbTest, EventLogRefusesUpdateAndDelete) {
  experiment();
  EXPECT_THROW(engine_.store().db().exec("UPDATE event_log SET actor = 'mallory'"),
               storage::StorageError);
  EXPECT_THROW(engine_.store().db().exec("DELETE FROM event_log"), storage::StorageError);
  EXPECT_EQ(events(), 1u);
  EXPECT_EQ(engine_.store().events_since(0)[0].actor, "tester");
}

TEST_F(EngineVerbTest, GetByIdOrSlugWithHistory) {
  std::string id = experiment({{"name", "Checkout Flow"}});
  EXPECT_EQ(engine_.get("Experiment", "checkout-flow").at("id"), json::value(id));
  EXPECT_EQ(engine_.get("Experiment", id).at("slug"), "checkout-flow");
  run("Experiment", "start", "checkout-flow");
  auto with_history = engine_.get("Experiment", "checkout-flow", true);
  ASSERT_EQ(with_history.at("history").as_array().size(), 2u);
  EXPECT_EQ(with_history.at("history").as_array()[1].at("actor"), "tester");
  EXPECT_FALSE(engine_.get("Experiment", id).contains("history"));
  Error error = error_of([&] { engine_.get("Experiment", "missing"); });
  EXPECT_EQ(error.code(), ErrorCode::kNotFound);
  EXPECT_EQ(error.field(), "id");
  EXPECT_EQ(error_of([&] { engine_.get("Widget", id); }).code(), ErrorCode::kNotFound);
  EXPECT_EQ(error_of([&] { run("Experiment", "start", ""); }).field(), "id");
}

TEST_F(EngineVerbTest, SlugStaysWhenTheNameChanges) {
  std::string id = experiment({{"name", "First"}});
  run("Experiment", "update", id, {{"name", "Second"}});
  EXPECT_EQ(engine_.get("Experiment", "first").at("name"), "Second");
  EXPECT_EQ(experiment({{"name", "!!!"}}).size(), std::string("experiment_").size() + 8);
}

TEST_F(EngineVerbTest, DeleteRemovesTheRow) {
  std::string id = create("Organization", {{"name", "Acme"}});
  auto result = engine_.execute({.noun = "Organization", .verb = "delete", .id = id});
  EXPECT_EQ(result, (json::object{{"id", id}, {"deleted", true}}));
  EXPECT_EQ(error_of([&] { engine_.get("Organization", id); }).code(), ErrorCode::kNotFound);
  EXPECT_EQ(engine_.store().history(id).back().type, "Organization.Deleted");
}

TEST_F(EngineVerbTest, UnknownVerbListsTheVerbs) {
  std::string id = experiment();
  Error error = error_of([&] { run("Experiment", "explode", id); });
  EXPECT_EQ(error.code(), ErrorCode::kNotFound);
  EXPECT_EQ(error.field(), "verb");
  EXPECT_TRUE(contains(error.what(), "conclude")) << error.what();
}

TEST_F(EngineVerbTest, StatusWithoutVerbsIsAnOrdinaryField) {
  // Activity.status has no state machine: it is set on create and changed by update.
  std::string id = create("Activity", {{"subject", "call Ada"}, {"status", "InProgress"}});
  EXPECT_EQ(status("Activity", id), "InProgress");
  EXPECT_EQ(run("Activity", "update", id, {{"status", "Completed"}}).at("status"), "Completed");
  EXPECT_EQ(status("Activity", create("Activity", {{"subject", "s"}})), "Pending");
  EXPECT_EQ(error_of([&] {
              run("Activity", "update", id, {{"status", "Done"}});
            }).field(),
            "status");
}

TEST_F(EngineVerbTest, EventNounDefaultsTimestampAndChecksSubject) {
  std::string experiment_id = experiment();
  auto event =
      run("Event", "create", "", {{"type", "experiment.started"}, {"subject", experiment_id}});
  EXPECT_TRUE(is_iso8601_utc(event.at("timestamp").as_string()));
  expect_create_refused("Event", {{"type", "t"}, {"subject", "experiment_missing1"}}, "subject");
}

TEST_F(EngineVerbTest, FindThroughTheEngine) {
  for (int i = 0; i < 5; ++i)
    experiment({{"name", "e" + std::to_string(i)}, {"trafficAllocation", i * 10}});
  auto found = engine_.find("Experiment", {.filter = {{"trafficAllocation", {{"$gte", 20}}}},
                                           .sort = {{"trafficAllocation", "desc"}}});
  ASSERT_EQ(found.items.size(), 3u);
  EXPECT_EQ(found.items[0].at("name"), "e4");
  EXPECT_EQ(found.items[2].at("name"), "e2");
  EXPECT_EQ(engine_.find("Experiment", {.filter = {{"name", "x' OR 1=1 --"}}}).items.size(), 0u);
  EXPECT_EQ(error_of([&] {
              engine_.find("Experiment", {.filter = {{"nope", 1}}});
            }).field(),
            "filter.nope");
}

// A HookRunner double that records calls and lets each test script its behaviour.
class ScriptedHooks : public HookRunner {
 public:
  using Before =
      std::function<std::optional<json::object>(const HookContext&, const json::object&)>;
  using After =
      std::function<std::vector<HookFailure>(const HookContext&, const json::object&, Engine&)>;

  std::optional<json::object> before(const HookContext& context,
                                     const json::object& entity) override {
    calls.push_back(context.verb.before_hook);
    return on_before ? on_before(context, entity) : std::nullopt;
  }
  std::vector<HookFailure> after(const HookContext& context, const json::object& entity,
                                 Engine& engine) override {
    calls.push_back(context.verb.after_hook);
    return on_after ? on_after(context, entity, engine) : std::vector<HookFailure>{};
  }

  Strings calls;
  Before on_before;
  After on_after;
};

class EngineHookTest : public EngineVerbTest {
 protected:
  void SetUp() override { engine_.set_hooks(hooks_); }
  std::shared_ptr<ScriptedHooks> hooks_ = std::make_shared<ScriptedHooks>();
};

TEST_F(EngineHookTest, RunsValidateBeforePersistAfterInOrder) {
  Strings order;
  std::string id;
  hooks_->on_before = [&](const HookContext& context, const json::object& entity) {
    // Validation has run (the slug is derived) and nothing is persisted yet.
    EXPECT_EQ(entity.at("slug"), "x");
    EXPECT_EQ(context.request.verb, "create");
    EXPECT_FALSE(engine_.store().get(context.noun, entity.at("id").as_string()));
    EXPECT_EQ(events(), 0u);
    order.push_back("before");
    return std::nullopt;
  };
  hooks_->on_after = [&](const HookContext& context, const json::object& entity, Engine& engine) {
    // After hooks see the committed row and its event.
    EXPECT_FALSE(engine.store().db().in_transaction());
    EXPECT_TRUE(engine.store().get(context.noun, entity.at("id").as_string()));
    EXPECT_EQ(engine.store().history(entity.at("id").as_string()).size(), 1u);
    EXPECT_EQ(entity.at("version"), 1);
    order.push_back("after");
    return std::vector<HookFailure>{};
  };
  id = experiment();
  EXPECT_EQ(order, (Strings{"before", "after"}));
  EXPECT_EQ(hooks_->calls, (Strings{"creating", "created"}));
  hooks_->on_before = {};
  hooks_->on_after = {};
  run("Experiment", "launch", id);
  run("Experiment", "stop", id);
  EXPECT_EQ(hooks_->calls,
            (Strings{"creating", "created", "starting", "started", "stopping", "stopped"}));
}

TEST_F(EngineHookTest, InvalidInputNeverReachesHooks) {
  EXPECT_THAT(
      [&] {
        experiment({{"name", "x"}, {"trafficAllocation", 500}});
      },
      ThrowsError(ErrorCode::kInvalidArgument, "trafficAllocation"));
  EXPECT_TRUE(hooks_->calls.empty());
}

TEST_F(EngineHookTest, RejectionLeavesNoRowAndNoEvent) {
  hooks_->on_before = [](const HookContext& context,
                         const json::object&) -> std::optional<json::object> {
    if (context.verb.name == "create" || context.verb.name == "start")
      throw Error(ErrorCode::kHookRejected, "primary metric must be defined before starting");
    return std::nullopt;
  };
  auto before = snapshot("Experiment");
  Error error = error_of([&] { experiment(); });
  EXPECT_EQ(error.code(), ErrorCode::kHookRejected);
  EXPECT_TRUE(contains(error.what(), "primary metric")) << error.what();
  expect_unchanged("Experiment", before);
  EXPECT_EQ(hooks_->calls, (Strings{"creating"}));

  hooks_->on_before = {};
  std::string id = experiment();
  hooks_->on_before = [](const HookContext&, const json::object&) -> std::optional<json::object> {
    throw Error(ErrorCode::kHookRejected, "no");
  };
  auto stored = engine_.get("Experiment", id);
  before = snapshot("Experiment");
  EXPECT_EQ(error_of([&] { run("Experiment", "start", id); }).code(), ErrorCode::kHookRejected);
  EXPECT_EQ(engine_.get("Experiment", id), stored);
  expect_unchanged("Experiment", before);
  EXPECT_EQ(hooks_->calls.back(), "starting");
}

TEST_F(EngineHookTest, ModifiedEntityIsRevalidatedAndWritten) {
  hooks_->on_before = [](const HookContext&, const json::object& entity) {
    json::object modified = entity;
    modified["primaryMetric"] = "conversion";
    modified["status"] = "Archived";  // identity and state stay as the pipeline set them
    modified["version"] = 99;
    return std::optional(modified);
  };
  auto created = engine_.get("Experiment", experiment());
  EXPECT_EQ(created.at("primaryMetric"), "conversion");
  EXPECT_EQ(created.at("status"), "Draft");
  EXPECT_EQ(created.at("version"), 1);

  hooks_->on_before = [](const HookContext&, const json::object& entity) {
    json::object modified = entity;
    modified["trafficAllocation"] = 250;
    return std::optional(modified);
  };
  auto before = snapshot("Experiment");
  Error error = error_of([&] { experiment({{"name", "y"}}); });
  EXPECT_EQ(error.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(error.field(), "trafficAllocation");
  expect_unchanged("Experiment", before);
  EXPECT_EQ(hooks_->calls.back(), "creating");  // refused: no after hook
}

TEST_F(EngineHookTest, AfterHooksCanRunNestedVerbs) {
  hooks_->on_after = [&](const HookContext& context, const json::object& entity, Engine& engine) {
    if (context.verb.name == "conclude")
      engine.execute({.noun = "Experiment",
                      .verb = "complete",
                      .id = std::string(entity.at("id").as_string()),
                      .actor = "hook",
                      .depth = context.request.depth + 1});
    return std::vector<HookFailure>{};
  };
  std::string id = experiment();
  for (const char* verb : {"start", "run"}) run("Experiment", verb, id);
  auto concluded = run("Experiment", "conclude", id, data_for("conclude"));
  EXPECT_EQ(concluded.at("status"), "Concluded");  // the verb's own result
  EXPECT_EQ(status("Experiment", id), "Completed");
  auto history = engine_.store().history(id);
  EXPECT_EQ(history.back().type, "Experiment.Completed");
  EXPECT_EQ(history.back().actor, "hook");
}

TEST_F(EngineHookTest, FailingAfterHookKeepsTheVerbAndRecordsHookFailed) {
  hooks_->on_after = [](const HookContext&, const json::object&, Engine&) {
    return std::vector<HookFailure>{{"hooks/started.lua:3", "attempt to index a nil value"}};
  };
  std::string id = experiment();
  auto history = engine_.store().history(id);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].type, "Experiment.Created");
  EXPECT_EQ(history[1].type, "Experiment.HookFailed");
  EXPECT_EQ(history[1].verb, "create");
  EXPECT_EQ(history[1].actor, "tester");
  EXPECT_EQ(history[1].data, (json::object{{"hook", "hooks/started.lua:3"},
                                           {"error", "attempt to index a nil value"}}));
  EXPECT_EQ(status("Experiment", id), "Draft");
}

TEST_F(EngineHookTest, ThrowingAfterHookDoesNotUndoOrFailTheVerb) {
  hooks_->on_after = [](const HookContext&, const json::object&,
                        Engine&) -> std::vector<HookFailure> {
    throw std::runtime_error("runner broke");
  };
  std::string id;
  EXPECT_NO_THROW(id = experiment());
  ASSERT_FALSE(id.empty());
  auto history = engine_.store().history(id);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].type, "Experiment.HookFailed");
  EXPECT_TRUE(contains(json::serialize(history[1].data), "runner broke"));
}

TEST_F(EngineHookTest, RecursionBeyondMaxDepthStops) {
  std::vector<int> depths;
  std::optional<Error> deepest;
  hooks_->on_after = [&](const HookContext& context, const json::object& entity, Engine& engine) {
    depths.push_back(context.request.depth);
    try {
      engine.execute({.noun = "Experiment",
                      .verb = "update",
                      .id = std::string(entity.at("id").as_string()),
                      .data = {{"tags", std::to_string(context.request.depth)}},
                      .depth = context.request.depth + 1});
    } catch (const Error& error) {
      deepest = error;
      return std::vector<HookFailure>{{"loop", error.what()}};
    }
    return std::vector<HookFailure>{};
  };
  std::string id = experiment();
  ASSERT_TRUE(deepest);
  EXPECT_EQ(deepest->code(), ErrorCode::kLimitExceeded);
  ASSERT_EQ(depths.size(), static_cast<std::size_t>(Engine::kMaxDepth) + 1);
  EXPECT_EQ(depths.back(), Engine::kMaxDepth);
  auto stored = engine_.get("Experiment", id);
  EXPECT_EQ(stored.at("version"), Engine::kMaxDepth + 1);
  EXPECT_EQ(engine_.store().history(id).back().type, "Experiment.HookFailed");
  EXPECT_EQ(error_of([&] {
              engine_.execute({.noun = "Experiment",
                               .verb = "create",
                               .data = {{"name", "z"}},
                               .depth = Engine::kMaxDepth + 1});
            }).code(),
            ErrorCode::kLimitExceeded);
}

class EngineFileTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
  }
  std::string path_ = (std::filesystem::temp_directory_path() /
                       ("verdict_engine_test_" + std::to_string(::getpid()) + ".db"))
                          .string();
};

TEST_F(EngineFileTest, AcknowledgedVerbsSurviveReopen) {
  std::string id;
  {
    Engine engine(path_);
    id = std::string(create_experiment(engine, {{"name", "Durable"}}).at("id").as_string());
    engine.execute({.noun = "Experiment", .verb = "start", .id = id});
  }
  Engine reopened(path_);
  auto stored = reopened.get("Experiment", "durable", true);
  EXPECT_EQ(stored.at("id"), json::value(id));
  EXPECT_EQ(stored.at("status"), "Started");
  EXPECT_EQ(stored.at("history").as_array().size(), 2u);
}

TEST_F(EngineFileTest, SchemaGrowthMigratesTheTable) {
  std::string id;
  {
    Engine engine(path_);
    id = std::string(create_experiment(engine, {{"name", "Old"}}).at("id").as_string());
  }
  Engine engine(path_);
  engine.schema().add_field("Experiment", parse_field("team", "string"));
  engine.store().migrate();
  EXPECT_EQ(engine.get("Experiment", id).at("name"), "Old");
  auto updated = engine.execute(
      {.noun = "Experiment", .verb = "update", .id = id, .data = {{"team", "growth"}}});
  EXPECT_EQ(updated.at("team"), "growth");
  EXPECT_EQ(engine.find("Experiment", {.filter = {{"team", "growth"}}}).items.size(), 1u);
}

// get_json serves a serialized entity from a cache; every way the row can change must show.
class EntityCacheTest : public EngineHookTest {
 protected:
  std::string json_of(const std::string& id, const Caller& caller = Caller::local_operator()) {
    return engine_.get_json(caller, "Experiment", id);
  }
  // What get_json must always equal: get's object as replies write it.
  std::string expected(const std::string& id, const Caller& caller = Caller::local_operator()) {
    return to_json_text(engine_.get(caller, "Experiment", id));
  }
  std::string name_in(const std::string& text) {
    return std::string(json::parse(text).at("name").as_string());
  }
};

TEST_F(EntityCacheTest, TextIsGetsObjectWithJsonFieldsSpliced) {
  std::string id = experiment({{"name", "Splice \"quoted\" \\ name"},
                               {"variants", json::array{{{"name", "Control"}, {"weight", 33.3}},
                                                        {{"name", "B"}, {"weight", 66.7}}}},
                               {"primaryMetric", "purchase"}});
  for (int pass = 0; pass < 2; ++pass) {  // the read, then the cached copy
    EXPECT_EQ(json_of(id), expected(id));
    EXPECT_EQ(engine_.get_json(Caller::local_operator(), "Experiment", "splice-quoted-name"),
              expected(id));
  }
  EXPECT_NE(json_of(id).find(R"("weight":33.3)"), std::string::npos) << json_of(id);
  EXPECT_THAT([&] { json_of("experiment_nope"); }, ThrowsError(ErrorCode::kNotFound, "id"));
}

TEST_F(EntityCacheTest, UpdateShowsAtOnce) {
  std::string id = experiment({{"name", "before"}});
  EXPECT_EQ(name_in(json_of(id)), "before");
  run("Experiment", "update", id, {{"name", "after"}});
  EXPECT_EQ(name_in(json_of(id)), "after");
  EXPECT_EQ(json_of(id), expected(id));
  run("Experiment", "delete", id);
  EXPECT_THAT([&] { json_of(id); }, ThrowsError(ErrorCode::kNotFound, "id"));
}

TEST_F(EntityCacheTest, EscapedTextIsKeptWithTheEntityAndFollowsItsChanges) {
  std::string id = experiment({{"name", "say \"first\""}});
  auto quoted = [&] {
    return std::string(engine_.entity_json(Caller::local_operator(), "Experiment", id).quoted());
  };
  auto literal_of = [](const std::string& text) {
    std::string literal;
    append_json_string(literal, text);
    return literal;
  };
  const EntityJson& cached = engine_.entity_json(Caller::local_operator(), "Experiment", id);
  EXPECT_EQ(cached.quoted(), literal_of(expected(id)));
  // A hit is the same entry, escaped form included.
  EXPECT_EQ(&engine_.entity_json(Caller::local_operator(), "Experiment", id), &cached);
  run("Experiment", "update", id, {{"name", "say \"second\""}});
  EXPECT_EQ(quoted(), literal_of(expected(id)));
  EXPECT_EQ(name_in(std::string(json::parse(quoted()).as_string())), "say \"second\"");
}

TEST_F(EntityCacheTest, FailedVerbThatReadItsOwnWriteLeavesNoPhantom) {
  std::string id = experiment({{"name", "kept"}});
  std::string before = json_of(id);
  // A verb that writes, reads the written entity through the cache, then fails: the rollback
  // must take the cached copy with it.
  Verb rename = make_verb("renameThenFail", VerbKind::kCustom, "Renamed");
  engine_.add_custom_verb(
      "Experiment", rename,
      [&](Engine& engine, const Noun& noun, const VerbRequest&,
          json::object* entity) -> json::value {
        (*entity)["name"] = "phantom";
        engine.persist(noun, *entity, "Renamed", {}, "tester");
        EXPECT_EQ(name_in(engine.get_json(engine.caller(), "Experiment", id)), "phantom");
        throw Error(ErrorCode::kInvalidArgument, "name: refused after the write", "name");
      });
  EXPECT_THAT([&] { run("Experiment", "renameThenFail", id); },
              ThrowsError(ErrorCode::kInvalidArgument, "name"));
  EXPECT_EQ(json_of(id), before);
  EXPECT_EQ(json_of(id), expected(id));
}

TEST_F(EntityCacheTest, RolledBackBatchAndSavepointLeaveNoPhantom) {
  std::string id = experiment({{"name", "committed"}});
  json_of(id);
  {
    // The server's batch: one transaction around many lines, which may fail to commit.
    storage::Transaction batch(engine_.store().db());
    {
      storage::Transaction line(engine_.store().db());  // a script's savepoint
      run("Experiment", "update", id, {{"name", "in savepoint"}});
      EXPECT_EQ(name_in(json_of(id)), "in savepoint");
    }
    EXPECT_EQ(name_in(json_of(id)), "committed");
    run("Experiment", "update", id, {{"name", "in batch"}});
    EXPECT_EQ(name_in(json_of(id)), "in batch");
  }
  EXPECT_EQ(name_in(json_of(id)), "committed");
  EXPECT_EQ(json_of(id), expected(id));
}

TEST_F(EntityCacheTest, ChangesMadeByHooksShow) {
  std::string watched = experiment({{"name", "watched"}});
  std::string other = experiment({{"name", "other"}});
  json_of(watched);
  hooks_->on_after = [&](const HookContext& context, const json::object&, Engine& engine) {
    if (context.verb.name == "update" && context.request.depth == 0)
      engine.execute({.noun = "Experiment",
                      .verb = "update",
                      .id = watched,
                      .data = {{"name", "changed by a hook"}},
                      .depth = 1});
    return std::vector<HookFailure>{};
  };
  // A before hook's replacement is what is written, and what is served.
  hooks_->on_before = [](const HookContext& context,
                         const json::object& entity) -> std::optional<json::object> {
    if (context.verb.name != "update") return std::nullopt;
    json::object modified = entity;
    modified["description"] = "set by a before hook";
    return modified;
  };
  json_of(other);
  run("Experiment", "update", other, {{"name", "other 2"}});
  EXPECT_EQ(name_in(json_of(watched)), "changed by a hook");
  EXPECT_EQ(json::parse(json_of(other)).at("description"), "set by a before hook");
  EXPECT_EQ(json_of(watched), expected(watched));
  EXPECT_EQ(json_of(other), expected(other));
}

TEST_F(EntityCacheTest, EntriesStayInTheirProjectAndRolesAreCheckedOnEveryHit) {
  engine_.keys().create_project("acme", "Acme");
  engine_.keys().create_project("beta", "Beta");
  Caller acme = engine_.keys().operator_of("acme");
  Caller beta = engine_.keys().operator_of("beta");
  auto create_in = [&](const Caller& caller, const char* name) {
    return std::string(engine_
                           .execute({.noun = "Experiment",
                                     .verb = "create",
                                     .data = {{"name", name}, {"description", caller.project_slug}},
                                     .caller = caller})
                           .at("id")
                           .as_string());
  };
  std::string in_acme = create_in(acme, "Same Slug");
  std::string in_beta = create_in(beta, "Same Slug");
  for (int pass = 0; pass < 2; ++pass) {
    EXPECT_EQ(json::parse(engine_.get_json(acme, "Experiment", "same-slug")).at("id"),
              json::value(in_acme));
    EXPECT_EQ(json::parse(engine_.get_json(beta, "Experiment", "same-slug")).at("id"),
              json::value(in_beta));
    EXPECT_THAT([&] { engine_.get_json(beta, "Experiment", in_acme); },
                ThrowsError(ErrorCode::kNotFound, "id"));
  }
  Caller evaluator = acme;
  evaluator.role = Role::kEvaluator;
  evaluator.key_id = "key_evaluator";
  EXPECT_THAT([&] { engine_.get_json(evaluator, "Experiment", in_acme); },
              ThrowsError(ErrorCode::kUnauthorized));
}

TEST_F(EntityCacheTest, KeysAreNeverCachedAndNeverShowTheirSecret) {
  auto created = engine_.execute({.noun = "Key", .verb = "create", .data = {{"role", "reader"}}});
  std::string id(created.at("id").as_string());
  std::string secret(created.at("secret").as_string());
  std::string text = engine_.get_json(Caller::local_operator(), "Key", id);
  EXPECT_EQ(text.find(secret), std::string::npos);
  EXPECT_FALSE(json::parse(text).as_object().contains("secret"));
  EXPECT_EQ(text, to_json_text(engine_.get("Key", id)));
  engine_.execute({.noun = "Key", .verb = "revoke", .id = id});
  EXPECT_EQ(engine_.get_json(Caller::local_operator(), "Key", id),
            to_json_text(engine_.get("Key", id)));
}

TEST_F(EngineFileTest, EntityCacheSeesAnotherProcessCommit) {
  Engine engine(path_);
  std::string id = std::string(create_experiment(engine, {{"name", "mine"}}).at("id").as_string());
  EXPECT_EQ(json::parse(engine.get_json(engine.caller(), "Experiment", id)).at("name"), "mine");
  {
    storage::SqliteConnection other(path_);  // another process's connection to the same file
    other.exec("UPDATE " + engine.schema().noun("Experiment").table +
               " SET \"name\" = 'theirs' WHERE \"id\" = '" + id + "'");
  }
  EXPECT_EQ(json::parse(engine.get_json(engine.caller(), "Experiment", id)).at("name"), "theirs");
}

}  // namespace
}  // namespace verdict
