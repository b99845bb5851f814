// Crash safety of `verdict serve`: SIGKILL at random moments under a stream of writes, and a
// full disk. The server acknowledges a request only after its transaction committed, so every
// acknowledged write must survive, and nothing unacknowledged may be half-written.
//
// VERDICT_CRASH_KILLS (default 24) and VERDICT_CRASH_SEED (default 7) make longer runs; see
// docs/reliability.md.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/server_process.hpp"

namespace verdict::server {
namespace {

namespace json = boost::json;
using test_support::connect_unix;
using test_support::DatabaseFile;
using test_support::do_params;
using test_support::env_int;
using test_support::RpcClient;
using test_support::ServerProcess;
using test_support::ServerProcessOptions;

/// What the database must hold, as far as the client can know: the writes it sent, and which
/// of them were acknowledged (a result), refused (an error) or never answered (the kill).
struct Expectations {
  enum class Outcome { kUnanswered, kDone, kRefused };

  struct Batch {
    std::string experiment;
    std::vector<std::string> units;
    Outcome outcome = Outcome::kUnanswered;
  };
  struct TrackBatch {
    std::string experiment;
    std::string metric;  // unique per batch, so its rows are exactly this batch's
    std::size_t events = 0;
    Outcome outcome = Outcome::kUnanswered;
  };

  std::map<std::string, Outcome> creates;  // by unique name
  std::map<std::string, Outcome> updates;  // by unique description token
  std::map<std::string, Outcome> deletes;  // by id
  std::map<std::string, Outcome> starts;   // by id (one start per experiment at most succeeds)
  std::vector<Batch> assignments;
  std::vector<TrackBatch> track_batches;
  // Batch metrics sent per experiment: an experiment takes at most 200 distinct metrics.
  std::map<std::string, int> batch_metrics;
  // Single `revenue` events of value 1 per (experiment, unit): acknowledged and sent counts.
  std::map<std::pair<std::string, std::string>, std::pair<int, int>> revenue;
};

/// The client's view of one experiment, resynchronised from the file after every kill.
struct KnownExperiment {
  std::string id;
  std::string status;
  std::int64_t version = 0;
  std::vector<std::string> units;  // committed assignments
  bool stale = false;              // a refused update: fetch the version again
};

json::object experiment_data(const std::string& name) {
  return {{"name", name},
          {"primaryMetric", "revenue"},
          {"variants", json::array{{{"key", "control"}, {"name", "Control"}, {"weight", 50}},
                                   {{"key", "treatment"}, {"name", "Treatment"}, {"weight", 50}}}}};
}

/// Drives random verbs over one connection until the server dies, recording outcomes.
class Driver {
 public:
  Driver(std::mt19937& random, Expectations& expect, std::map<std::string, KnownExperiment>& known,
         int round)
      : random_(random), expect_(expect), known_(known), round_(round) {}

  /// Returns the number of acknowledged requests.
  std::size_t run(RpcClient& client) {
    std::size_t acknowledged = 0;
    for (;;) {
      std::vector<Pending> window;
      std::string bytes;
      int size = std::uniform_int_distribution<int>(1, 24)(random_);
      for (int i = 0; i < size; ++i) {
        Pending pending = next_request();
        if (pending.method.empty()) continue;
        bytes += RpcClient::request_line(pending.id, pending.method, pending.params);
        window.push_back(std::move(pending));
      }
      // Lines written together usually land in one engine batch: one group commit.
      if (!client.send(bytes)) return acknowledged;
      for (auto& pending : window) {
        auto reply = client.receive();
        if (!reply) return acknowledged;
        EXPECT_EQ(reply->at("id").as_int64(), pending.id) << json::serialize(*reply);
        ++acknowledged;
        settle(pending, *reply);
      }
    }
  }

 private:
  enum class Kind { kCreate, kUpdate, kStart, kDelete, kAssign, kTrack, kTrackBatch, kGet };
  struct Pending {
    std::int64_t id = 0;
    Kind kind = Kind::kGet;
    std::string method;
    json::object params;
    std::string key;        // name, token or id, by kind
    std::size_t index = 0;  // into the batch lists
    std::vector<std::string> units;
  };

  std::vector<KnownExperiment*> with_status(std::initializer_list<std::string_view> statuses) {
    std::vector<KnownExperiment*> out;
    for (auto& [id, experiment] : known_)
      for (auto status : statuses)
        if (experiment.status == status) out.push_back(&experiment);
    return out;
  }

  template <typename T>
  T* pick(std::vector<T*>& from) {
    if (from.empty()) return nullptr;
    return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(random_)];
  }

  std::string fresh(const std::string& prefix) {
    return prefix + std::to_string(round_) + "-" + std::to_string(++sequence_);
  }

  // Experiments below the limit of distinct metrics (`revenue` and a margin included).
  std::vector<KnownExperiment*> with_room_for_a_metric(const std::vector<KnownExperiment*>& all) {
    std::vector<KnownExperiment*> out;
    for (auto* experiment : all)
      if (expect_.batch_metrics[experiment->id] < 190) out.push_back(experiment);
    return out;
  }

  Pending next_request() {
    Pending p;
    p.id = ++next_id_;
    int roll = std::uniform_int_distribution<int>(0, 99)(random_);
    auto drafts = with_status({"Draft"});
    auto live = with_status({"Started", "Running"});
    std::vector<KnownExperiment*> trackable;
    for (auto* experiment : with_status({"Running"}))
      if (!experiment->units.empty()) trackable.push_back(experiment);

    for (auto& [id, experiment] : known_)
      if (experiment.stale) {
        experiment.stale = false;
        p.kind = Kind::kGet;
        p.key = id;
        p.method = "get";
        p.params = {{"type", "Experiment"}, {"id", id}};
        return p;
      }
    if (known_.size() < 3 || (roll < 6 && drafts.size() < 3)) {
      p.kind = Kind::kCreate;
      p.key = fresh("crash-");
      p.method = "do";
      p.params = do_params("Experiment", "create", experiment_data(p.key));
      expect_.creates[p.key] = Expectations::Outcome::kUnanswered;
    } else if (roll < 22) {
      std::vector<KnownExperiment*> all;
      for (auto& [id, experiment] : known_) all.push_back(&experiment);
      auto* target = pick(all);
      p.kind = Kind::kUpdate;
      p.key = fresh("token-");
      p.units = {target->id};
      p.method = "do";
      p.params = do_params("Experiment", "update",
                           {{"version", target->version}, {"description", p.key}}, target->id);
      ++target->version;  // optimistic: a refusal marks it stale
      expect_.updates[p.key] = Expectations::Outcome::kUnanswered;
    } else if (roll < 26 && !drafts.empty() && live.size() < 12) {
      auto* target = pick(drafts);
      p.kind = Kind::kStart;
      p.key = target->id;
      p.method = "do";
      p.params = do_params("Experiment", "start", {}, target->id);
      target->status = "Started";
      ++target->version;
      expect_.starts[p.key] = Expectations::Outcome::kUnanswered;
    } else if (roll < 28 && !drafts.empty()) {
      auto* target = pick(drafts);
      p.kind = Kind::kDelete;
      p.key = target->id;
      p.method = "do";
      p.params = do_params("Experiment", "delete", {}, target->id);
      expect_.deletes[p.key] = Expectations::Outcome::kUnanswered;
      known_.erase(p.key);
    } else if (roll < 65 && !live.empty()) {
      auto* target = pick(live);
      p.kind = Kind::kAssign;
      p.key = target->id;
      bool batch = std::uniform_int_distribution<int>(0, 1)(random_) == 1;
      int units = batch ? std::uniform_int_distribution<int>(2, 50)(random_) : 1;
      std::string base = fresh("u");
      json::array list;
      for (int i = 0; i < units; ++i) {
        p.units.push_back(base + "-" + std::to_string(i));
        list.push_back(json::object{{"unit", p.units.back()}});
      }
      p.method = "do";
      p.params = do_params("Experiment", "assign",
                           batch ? json::object{{"units", std::move(list)}}
                                 : json::object{{"unit", p.units.front()}},
                           target->id);
      p.index = expect_.assignments.size();
      expect_.assignments.push_back({target->id, p.units, Expectations::Outcome::kUnanswered});
    } else if (roll < 85 && !trackable.empty()) {
      auto* target = pick(trackable);
      const auto& unit = target->units[std::uniform_int_distribution<std::size_t>(
          0, target->units.size() - 1)(random_)];
      p.kind = Kind::kTrack;
      p.key = target->id;
      p.units = {unit};
      p.method = "do";
      p.params = do_params("Experiment", "track",
                           {{"unit", unit}, {"metric", "revenue"}, {"value", 1}}, target->id);
      ++expect_.revenue[{target->id, unit}].second;
    } else if (auto roomy = with_room_for_a_metric(trackable); !roomy.empty()) {
      auto* target = pick(roomy);
      ++expect_.batch_metrics[target->id];
      p.kind = Kind::kTrackBatch;
      p.key = target->id;
      std::string metric = "batch_" + std::to_string(round_) + "_" + std::to_string(++sequence_);
      std::size_t events = std::min<std::size_t>(
          target->units.size(), std::uniform_int_distribution<std::size_t>(2, 30)(random_));
      json::array list;
      for (std::size_t i = 0; i < events; ++i)
        list.push_back(json::object{{"unit", target->units[i]}, {"metric", metric}});
      p.method = "do";
      p.params = do_params("Experiment", "track", {{"events", std::move(list)}}, target->id);
      p.index = expect_.track_batches.size();
      expect_.track_batches.push_back(
          {target->id, metric, events, Expectations::Outcome::kUnanswered});
    } else {
      std::vector<KnownExperiment*> all;
      for (auto& [id, experiment] : known_) all.push_back(&experiment);
      p.kind = Kind::kGet;
      p.key = pick(all)->id;
      p.method = "get";
      p.params = {{"type", "Experiment"}, {"id", p.key}};
    }
    return p;
  }

  void settle(const Pending& p, const json::object& reply) {
    bool ok = reply.contains("result");
    auto outcome = ok ? Expectations::Outcome::kDone : Expectations::Outcome::kRefused;
    const json::object* result = ok ? &reply.at("result").as_object() : nullptr;
    switch (p.kind) {
      case Kind::kCreate:
        EXPECT_TRUE(ok) << json::serialize(reply);
        expect_.creates[p.key] = outcome;
        if (ok) {
          std::string id(result->at("id").as_string());
          known_[id] = {id, "Draft", result->at("version").as_int64(), {}, false};
        }
        break;
      case Kind::kUpdate:
        expect_.updates[p.key] = outcome;
        if (auto it = known_.find(p.units.front()); it != known_.end()) {
          if (ok) {
            it->second.version = std::max(it->second.version, result->at("version").as_int64());
          } else {
            it->second.stale = true;
          }
        }
        break;
      case Kind::kStart:
        EXPECT_TRUE(ok) << json::serialize(reply);
        expect_.starts[p.key] = outcome;
        break;
      case Kind::kDelete:
        EXPECT_TRUE(ok) << json::serialize(reply);
        expect_.deletes[p.key] = outcome;
        break;
      case Kind::kAssign:
        EXPECT_TRUE(ok) << json::serialize(reply);
        expect_.assignments[p.index].outcome = outcome;
        if (auto it = known_.find(p.key); ok && it != known_.end()) {
          // The first assignment runs a Started experiment (a version bump).
          if (it->second.status == "Started") {
            it->second.status = "Running";
            ++it->second.version;
          }
          for (const auto& unit : p.units) it->second.units.push_back(unit);
        }
        break;
      case Kind::kTrack:
        EXPECT_TRUE(ok) << json::serialize(reply);
        if (ok) ++expect_.revenue[{p.key, p.units.front()}].first;
        break;
      case Kind::kTrackBatch:
        EXPECT_TRUE(ok) << json::serialize(reply);
        expect_.track_batches[p.index].outcome = outcome;
        break;
      case Kind::kGet:
        if (auto it = known_.find(p.key); ok && it != known_.end()) {
          it->second.version = result->at("version").as_int64();
          it->second.status = std::string(result->at("status").as_string());
        }
        break;
    }
  }

  std::mt19937& random_;
  Expectations& expect_;
  std::map<std::string, KnownExperiment>& known_;
  int round_;
  std::int64_t sequence_ = 0;
  static inline std::int64_t next_id_ = 0;
};

/// Reads what the client may rely on back from the file after a crash.
std::map<std::string, KnownExperiment> resynchronise(DatabaseFile& db) {
  std::map<std::string, KnownExperiment> known;
  for (auto& row : db.rows("SELECT id, status, version FROM experiment"))
    known[row[0]] = {row[0], row[1], std::stoll(row[2]), {}, false};
  for (auto& row : db.rows("SELECT experiment, unit FROM exposure ORDER BY experiment, unit"))
    if (auto it = known.find(row[0]); it != known.end()) it->second.units.push_back(row[1]);
  return known;
}

/// Everything that must hold in the file, whatever moment the kill came at.
void check_database(DatabaseFile& db, const Expectations& expect) {
  using Outcome = Expectations::Outcome;
  EXPECT_EQ(db.integrity(), "ok");

  // The event log and the entities agree, for every noun the stream touches (the shipped
  // started-event hook creates an Event per start, inside the same transaction).
  EXPECT_EQ(db.count("SELECT COUNT(*) FROM event_log WHERE noun NOT IN ('Experiment', 'Event')"),
            0);
  EXPECT_EQ(db.count("SELECT COUNT(*) FROM event_log WHERE type LIKE '%.HookFailed'"), 0);
  for (const auto& [noun, table] :
       std::map<std::string, std::string>{{"Experiment", "experiment"}, {"Event", "event"}}) {
    SCOPED_TRACE(noun);
    auto without_created =
        db.rows("SELECT id FROM " + table +
                    " t WHERE (SELECT COUNT(*) FROM event_log e WHERE e.entity_id ="
                    " t.id AND e.type = ?1) != 1",
                {noun + ".Created"});
    EXPECT_TRUE(without_created.empty())
        << without_created.size() << " entities, e.g. " << without_created.front().front();
    auto wrong_version = db.rows("SELECT id, version FROM " + table +
                                     " t WHERE version != (SELECT COUNT(*) FROM event_log e WHERE"
                                     " e.entity_id = t.id AND e.noun = ?1)",
                                 {noun});
    EXPECT_TRUE(wrong_version.empty())
        << wrong_version.size() << " entities whose version is not their event count, e.g. "
        << wrong_version.front().front();
    EXPECT_EQ(db.count("SELECT COUNT(*) FROM " + table +
                           " t WHERE EXISTS (SELECT 1 FROM event_log e WHERE e.entity_id = t.id"
                           " AND e.type = ?1)",
                       {noun + ".Deleted"}),
              0)
        << "deleted entities still present";
    EXPECT_EQ(db.count("SELECT COUNT(DISTINCT entity_id) FROM event_log e WHERE noun = ?1 AND NOT"
                       " EXISTS (SELECT 1 FROM " +
                           table +
                           " t WHERE t.id = e.entity_id) AND NOT EXISTS (SELECT 1 FROM event_log"
                           " d WHERE d.entity_id = e.entity_id AND d.type = ?2)",
                       {noun, noun + ".Deleted"}),
              0)
        << "events of entities that neither exist nor were deleted";
  }
  EXPECT_EQ(db.count("SELECT COUNT(*) FROM event_log s WHERE type = 'Experiment.Started' AND"
                     " (SELECT COUNT(*) FROM event e WHERE e.type = 'experiment.started' AND"
                     " e.subject = s.entity_id) != 1"),
            0)
      << "a start without exactly one experiment.started Event from its hook";

  // Everything the checks below look up, read once: the checks stay linear in the stream.
  std::map<std::string, std::int64_t> created, updated, started, deleted;
  for (auto& row : db.rows("SELECT type, entity_id, json_extract(data, '$.name'),"
                           " json_extract(data, '$.description') FROM event_log WHERE noun ="
                           " 'Experiment'")) {
    if (row[0] == "Experiment.Created") ++created[row[2]];
    if (row[0] == "Experiment.Updated") ++updated[row[3]];
    if (row[0] == "Experiment.Started") ++started[row[1]];
    if (row[0] == "Experiment.Deleted") ++deleted[row[1]];
  }
  std::set<std::string> present;
  for (auto& row : db.rows("SELECT id FROM experiment")) present.insert(row[0]);
  std::set<std::pair<std::string, std::string>> exposed;
  for (auto& row : db.rows("SELECT experiment, unit FROM exposure"))
    exposed.emplace(row[0], row[1]);
  // (experiment, metric) -> rows, events; and the revenue rows by (experiment, unit).
  std::map<std::pair<std::string, std::string>, std::pair<std::int64_t, std::int64_t>> metrics;
  std::map<std::pair<std::string, std::string>, std::pair<std::int64_t, double>> revenue;
  for (auto& row : db.rows("SELECT experiment, metric, unit, events, value FROM unit_metric")) {
    auto& tally = metrics[{row[0], row[1]}];
    ++tally.first;
    tally.second += std::stoll(row[3]);
    if (row[1] == "revenue") revenue[{row[0], row[2]}] = {std::stoll(row[3]), std::stod(row[4])};
  }
  auto lookup = [](const auto& map, const auto& key) {
    auto it = map.find(key);
    return it == map.end() ? decltype(it->second){} : it->second;
  };

  // Acknowledged writes are there exactly once, unanswered ones at most once, refused ones never.
  for (const auto& [name, outcome] : expect.creates) {
    auto count = lookup(created, name);
    if (outcome == Outcome::kDone) {
      EXPECT_EQ(count, 1) << name;
    }
    if (outcome == Outcome::kRefused) {
      EXPECT_EQ(count, 0) << name;
    }
    EXPECT_LE(count, 1) << name;
  }
  for (const auto& [token, outcome] : expect.updates) {
    auto count = lookup(updated, token);
    if (outcome == Outcome::kDone) {
      EXPECT_EQ(count, 1) << token;
    }
    if (outcome == Outcome::kRefused) {
      EXPECT_EQ(count, 0) << token;
    }
    EXPECT_LE(count, 1) << token;
  }
  for (const auto& [id, outcome] : expect.starts) {
    if (outcome == Outcome::kDone) {
      EXPECT_EQ(lookup(started, id), 1) << id;
    }
  }
  for (const auto& [id, outcome] : expect.deletes) {
    auto count = lookup(deleted, id);
    if (outcome == Outcome::kDone) {
      EXPECT_EQ(count, 1) << id;
    }
    EXPECT_EQ(count + static_cast<std::int64_t>(present.count(id)), 1)
        << id << ": deleted and present, or neither";
  }

  // A batch is all there or not at all.
  for (const auto& batch : expect.assignments) {
    std::int64_t found = 0;
    for (const auto& unit : batch.units) found += exposed.count({batch.experiment, unit});
    auto size = static_cast<std::int64_t>(batch.units.size());
    if (batch.outcome == Outcome::kDone) {
      EXPECT_EQ(found, size) << batch.experiment << " " << batch.units.front();
    } else if (batch.outcome == Outcome::kRefused) {
      EXPECT_EQ(found, 0) << batch.experiment << " " << batch.units.front();
    } else {
      EXPECT_TRUE(found == 0 || found == size)
          << "half a batch: " << found << " of " << size << " units of " << batch.units.front();
    }
  }
  for (const auto& batch : expect.track_batches) {
    auto [rows, events] = lookup(metrics, std::pair(batch.experiment, batch.metric));
    auto size = static_cast<std::int64_t>(batch.events);
    EXPECT_EQ(rows, events) << batch.metric << ": an event counted twice";
    if (batch.outcome == Outcome::kDone) {
      EXPECT_EQ(rows, size) << batch.metric;
    } else {
      EXPECT_TRUE(rows == 0 || rows == size) << "half a track batch: " << batch.metric;
    }
  }
  for (const auto& [key, counts] : expect.revenue) {
    auto [events, value] = lookup(revenue, key);
    EXPECT_GE(events, counts.first) << key.second << ": an acknowledged event is lost";
    EXPECT_LE(events, counts.second) << key.second << ": an event counted twice";
    EXPECT_EQ(value, static_cast<double>(events)) << key.second;
  }

  // Sufficient statistics equal a recomputation from the per-unit rows.
  EXPECT_EQ(db.count("SELECT COUNT(*) FROM variant_exposures v WHERE n != (SELECT COUNT(*) FROM"
                     " exposure e WHERE e.experiment = v.experiment AND e.variant = v.variant)"),
            0);
  EXPECT_EQ(db.count("SELECT COUNT(*) FROM (SELECT experiment, variant, COUNT(*) n FROM exposure"
                     " GROUP BY experiment, variant) e WHERE NOT EXISTS (SELECT 1 FROM"
                     " variant_exposures v WHERE v.experiment = e.experiment AND v.variant ="
                     " e.variant)"),
            0);
  auto drift = db.rows(
      "SELECT s.experiment, s.metric, s.variant FROM metric_stats s LEFT JOIN (SELECT experiment,"
      " metric, variant, SUM(value) sum, SUM(value * value) squares FROM unit_metric GROUP BY"
      " experiment, metric, variant) u USING (experiment, metric, variant) WHERE"
      " ABS(s.sum - IFNULL(u.sum, 0)) > 1e-6 OR ABS(s.sum_squares - IFNULL(u.squares, 0)) > 1e-6");
  EXPECT_TRUE(drift.empty()) << drift.size() << " statistics differ from a recomputation, e.g. "
                             << drift.front()[0] << " " << drift.front()[1];
}

bool schema_exists(const std::string& path) {
  if (!std::filesystem::exists(path)) return false;
  DatabaseFile db(path);
  // The tracking tables are created last when the server opens a database.
  return db.count("SELECT COUNT(*) FROM sqlite_master WHERE name = 'metric_stats'") == 1;
}

std::vector<std::string> serve_args(const std::string& db, const std::string& socket) {
  return {"serve", "--db", db, "--no-stdio", "--listen", "unix:" + socket, "--log-level", "error"};
}

TEST(CrashTest, AcknowledgedWritesSurviveSigkillAndNothingIsHalfWritten) {
  const int kills = env_int("VERDICT_CRASH_KILLS", 24);
  const int seed = env_int("VERDICT_CRASH_SEED", 7);
  SCOPED_TRACE("VERDICT_CRASH_SEED=" + std::to_string(seed));
  std::mt19937 random(static_cast<std::mt19937::result_type>(seed));
  std::string db_path = test_support::temp_path("crash", "kill.db");
  std::string socket_path = test_support::temp_path("crash", "kill.sock");
  std::string log_path = test_support::temp_path("crash", "kill.log");
  test_support::TempFiles files({db_path, socket_path, log_path});

  Expectations expect;
  std::map<std::string, KnownExperiment> known;
  std::size_t acknowledged = 0;
  int killed_mid_stream = 0;
  double check_seconds = 0;
  auto started = std::chrono::steady_clock::now();
  for (int round = 0; round < kills; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    {
      ServerProcess server(serve_args(db_path, socket_path), {.stderr_path = log_path});
      // One round in eight kills the server while it opens the database and listens.
      if (std::uniform_int_distribution<int>(0, 7)(random) == 0) {
        std::this_thread::sleep_for(
            std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 40)(random)));
      } else {
        int fd = connect_unix(socket_path);
        ASSERT_GE(fd, 0) << "the server did not come back after a kill; see " << log_path;
        RpcClient client(fd);
        auto delay = std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 400)(random));
        std::thread killer([&server, delay] {
          std::this_thread::sleep_for(delay);
          server.signal(SIGKILL);
        });
        Driver driver(random, expect, known, round);
        acknowledged += driver.run(client);
        killer.join();
        ++killed_mid_stream;
      }
      server.signal(SIGKILL);
      int status = server.wait();
      // A server that died on its own before the kill would show up as another signal or exit.
      EXPECT_EQ(status, -SIGKILL) << "the server exited by itself; see " << log_path;
    }
    // A kill during the very first start may come before the schema exists; then nothing can
    // have been acknowledged yet.
    if (!schema_exists(db_path)) {
      EXPECT_TRUE(expect.creates.empty()) << "acknowledged writes but no schema";
      continue;
    }
    auto checking = std::chrono::steady_clock::now();
    DatabaseFile db(db_path);
    check_database(db, expect);
    check_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - checking).count();
    known = resynchronise(db);
    if (::testing::Test::HasFailure()) break;
  }

  // Back up for good: the server itself agrees with what the file says.
  ServerProcess server(serve_args(db_path, socket_path), {.stderr_path = log_path});
  int fd = connect_unix(socket_path);
  ASSERT_GE(fd, 0);
  RpcClient client(fd);
  for (const auto& [id, experiment] : known) {
    auto got = client.call("get", {{"type", "Experiment"}, {"id", id}});
    ASSERT_TRUE(got && got->contains("result")) << test_support::shown(got);
    EXPECT_EQ(got->at("result").at("version").as_int64(), experiment.version);
    auto checked = client.call("do", do_params("Experiment", "checkStats", {}, id));
    ASSERT_TRUE(checked && checked->contains("result"))
        << (checked ? json::serialize(*checked) : "no reply");
    EXPECT_EQ(checked->at("result").at("consistent"), true) << json::serialize(*checked);
  }
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(), 0);
  DatabaseFile db(db_path);
  EXPECT_EQ(db.integrity(), "ok");

  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::size_t done = 0;
  for (const auto& [name, outcome] : expect.creates)
    done += outcome == Expectations::Outcome::kDone;
  std::printf(
      "[ crash    ] %d kills (%d mid-stream), %zu acknowledged replies, %zu experiments, %lld "
      "exposures, %lld events in %.1f s (%.1f s checking)\n",
      kills, killed_mid_stream, acknowledged, done,
      static_cast<long long>(db.count("SELECT COUNT(*) FROM exposure")),
      static_cast<long long>(db.count("SELECT COUNT(*) FROM event_log")), seconds, check_seconds);
  ::testing::Test::RecordProperty("kills", kills);
  ::testing::Test::RecordProperty("acknowledged", static_cast<int>(acknowledged));
}

/// `count` units of an assignment batch; long names fill the disk quickly.
json::object unit_batch(const std::string& prefix, int count, std::vector<std::string>& units) {
  json::array list;
  units.clear();
  for (int i = 0; i < count; ++i) {
    units.push_back(prefix + "-" + std::to_string(i) + "-" + std::string(180, 'x'));
    list.push_back(json::object{{"unit", units.back()}});
  }
  return {{"units", std::move(list)}};
}

bool is_clear_storage_error(const json::object& reply) {
  if (!reply.contains("error")) return false;
  const auto& error = reply.at("error").as_object();
  std::string message(error.at("message").as_string());
  return error.at("code").is_int64() &&
         message.find("nothing in this request was saved") != std::string::npos;
}

TEST(CrashTest, FullDiskGivesClearErrorsAndRecovers) {
  std::string db_path = test_support::temp_path("crash", "full.db");
  std::string socket_path = test_support::temp_path("crash", "full.sock");
  std::string log_path = test_support::temp_path("crash", "full.log");
  test_support::TempFiles files({db_path, socket_path, log_path});

  std::string id;
  {
    ServerProcess server(serve_args(db_path, socket_path), {.stderr_path = log_path});
    int fd = connect_unix(socket_path);
    ASSERT_GE(fd, 0);
    RpcClient client(fd);
    auto created = client.call("do", do_params("Experiment", "create", experiment_data("full")));
    ASSERT_TRUE(created && created->contains("result"));
    id = std::string(created->at("result").at("id").as_string());
    auto started = client.call("do", do_params("Experiment", "start", {}, id));
    ASSERT_TRUE(started && started->contains("result")) << test_support::shown(started);
    server.signal(SIGTERM);
    ASSERT_EQ(server.wait(), 0);
  }

  // Room for a few hundred KiB more in any one file (the WAL fills first).
  std::uintmax_t size = std::filesystem::file_size(db_path);
  if (std::filesystem::exists(db_path + "-wal"))
    size += std::filesystem::file_size(db_path + "-wal");
  rlim_t limit = static_cast<rlim_t>(size) + 512 * 1024;

  struct Batch {
    std::vector<std::string> units;
    bool acknowledged = false;
  };
  std::vector<Batch> batches;
  std::size_t refused = 0;
  std::string example;
  bool small_created = false;
  {
    ServerProcess server(serve_args(db_path, socket_path),
                         {.file_size_limit = limit, .stderr_path = log_path});
    int fd = connect_unix(socket_path);
    ASSERT_GE(fd, 0);
    RpcClient client(fd);
    for (int i = 0; i < 400 && refused < 5; ++i) {
      Batch batch;
      auto reply = client.call(
          "do", do_params("Experiment", "assign",
                          unit_batch("full" + std::to_string(i), 100, batch.units), id));
      ASSERT_TRUE(reply) << "the server died when the disk filled up; see " << log_path;
      batch.acknowledged = reply->contains("result");
      if (!batch.acknowledged) {
        ++refused;
        EXPECT_TRUE(is_clear_storage_error(*reply)) << json::serialize(*reply);
        example = std::string(reply->at("error").at("message").as_string());
      }
      batches.push_back(std::move(batch));
    }
    ASSERT_GT(refused, 0u) << "the file size limit never stopped a write";

    // A batch larger than SQLite's page cache (2 MiB) spills to the WAL before COMMIT, so the
    // write fails inside the verb and SQLite rolls the whole transaction back by itself. The
    // lines sent with it share its engine batch: they must not run in autocommit mode and be
    // saved while their replies say nothing was (regression).
    std::string burst;
    std::vector<Batch> spilled(3);
    for (std::size_t i = 0; i < spilled.size(); ++i)
      burst += RpcClient::request_line(
          static_cast<std::int64_t>(1000 + i), "do",
          do_params("Experiment", "assign",
                    unit_batch("spill" + std::to_string(i), i == 0 ? 10000 : 1, spilled[i].units),
                    id));
    ASSERT_TRUE(client.send(burst));
    for (auto& batch : spilled) {
      auto reply = client.receive();
      ASSERT_TRUE(reply) << "the server died on a spilling batch; see " << log_path;
      EXPECT_TRUE(is_clear_storage_error(*reply)) << json::serialize(*reply);
      batch.acknowledged = reply->contains("result");
      refused += !batch.acknowledged;
      batches.push_back(std::move(batch));
    }
    // A small write may still fit in the last pages; either way it is all or nothing.
    auto create = client.call("do", do_params("Experiment", "create", experiment_data("small")));
    ASSERT_TRUE(create);
    small_created = create->contains("result");
    EXPECT_TRUE(small_created || is_clear_storage_error(*create)) << json::serialize(*create);

    // Reads still work and the process is up.
    auto ping = client.call("ping", {});
    ASSERT_TRUE(ping && ping->contains("result"));
    auto got = client.call("get", {{"type", "Experiment"}, {"id", id}});
    ASSERT_TRUE(got && got->contains("result")) << test_support::shown(got);
    EXPECT_TRUE(server.running());
    server.signal(SIGTERM);
    EXPECT_EQ(server.wait(), 0);
  }
  std::printf("[ crash    ] full disk: %zu batches stored, %zu refused, e.g. \"%s\"\n",
              batches.size() - refused, refused, example.c_str());

  auto check_batches = [&](DatabaseFile& db) {
    for (const auto& batch : batches) {
      std::int64_t present = 0;
      for (const auto& unit : batch.units)
        present += db.count("SELECT COUNT(*) FROM exposure WHERE experiment = ?1 AND unit = ?2",
                            {id, unit});
      EXPECT_EQ(present, batch.acknowledged ? static_cast<std::int64_t>(batch.units.size()) : 0)
          << (batch.acknowledged ? "an acknowledged batch is lost: "
                                 : "a refused batch was saved: ")
          << batch.units.front().substr(0, 12);
    }
  };
  {
    DatabaseFile db(db_path);
    EXPECT_EQ(db.integrity(), "ok");
    check_batches(db);
    EXPECT_EQ(db.count("SELECT COUNT(*) FROM experiment WHERE name = 'small'"),
              small_created ? 1 : 0);
  }

  // Space is back: writes succeed again and nothing acknowledged was lost.
  ServerProcess server(serve_args(db_path, socket_path), {.stderr_path = log_path});
  int fd = connect_unix(socket_path);
  ASSERT_GE(fd, 0);
  RpcClient client(fd);
  Batch after;
  auto assigned = client.call(
      "do", do_params("Experiment", "assign", unit_batch("after", 100, after.units), id));
  ASSERT_TRUE(assigned && assigned->contains("result")) << test_support::shown(assigned);
  after.acknowledged = true;
  batches.push_back(std::move(after));
  auto tracked = client.call(
      "do",
      do_params("Experiment", "track",
                {{"unit", batches.back().units.front()}, {"metric", "revenue"}, {"value", 3}}, id));
  ASSERT_TRUE(tracked && tracked->contains("result")) << test_support::shown(tracked);
  auto checked = client.call("do", do_params("Experiment", "checkStats", {}, id));
  ASSERT_TRUE(checked && checked->contains("result"));
  EXPECT_EQ(checked->at("result").at("consistent"), true) << json::serialize(*checked);
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(), 0);
  DatabaseFile db(db_path);
  EXPECT_EQ(db.integrity(), "ok");
  check_batches(db);
  EXPECT_EQ(db.count("SELECT COUNT(*) FROM variant_exposures v WHERE n != (SELECT COUNT(*) FROM"
                     " exposure e WHERE e.experiment = v.experiment AND e.variant = v.variant)"),
            0);
}

}  // namespace
}  // namespace verdict::server
