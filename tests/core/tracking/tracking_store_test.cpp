#include "core/tracking/tracking_store.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/storage/sqlite_connection.hpp"
#include "core/tracking/tracking_statements.hpp"

namespace verdict::tracking {
namespace {

// A database written before exposures were numbered: its units count as observed.
TEST(TrackingStoreTest, ExposuresFromBeforeTheSequenceCountAsObserved) {
  storage::SqliteConnection db(":memory:");
  db.exec(R"(
    CREATE TABLE exposure (
      experiment TEXT NOT NULL, unit TEXT NOT NULL, variant INTEGER NOT NULL,
      variant_key TEXT NOT NULL, bucket REAL NOT NULL, at TEXT NOT NULL,
      PRIMARY KEY (experiment, unit)) WITHOUT ROWID;
    INSERT INTO exposure VALUES ('e', 'old-unit', 1, 'b', 0.5, '2026-01-01T00:00:00.000Z');)");
  const std::string project = "prj_default";
  TrackingStore store(db, project);
  ASSERT_EQ(store.exposure("e", "old-unit")->sequence, 0);
  store.record_exposure("e", "new-unit", Exposure{0, "a", 0.1, 1}, "2026-01-02T00:00:00.000Z");
  store.set_sequence("e", {.assigned = 1, .observed_through = 0});
  auto arms = store.observed("e", "m", 2);
  EXPECT_EQ(arms[0].n, 0);  // assigned after the newest tracked unit: still waiting
  EXPECT_EQ(arms[1].n, 1);
  store.set_sequence("e", {.assigned = 1, .observed_through = 1});
  EXPECT_EQ(store.observed("e", "m", 2)[0].n, 1);
  // Opening the migrated database again changes nothing.
  TrackingStore again(db, project);
  EXPECT_EQ(again.sequence("e").observed_through, 1);
}

// Bandits read the observed counts on every track: running counts, not a pass over exposures.
// The boundary counts the units it passes; conversions are added as tracked, since a unit's
// events are what move the boundary past it.
TEST(TrackingStoreTest, ObservedCountsAreKeptAsTheBoundaryMovesAndUnitsConvert) {
  storage::SqliteConnection db(":memory:");
  const std::string project = "prj_default";  // the store reads it by reference
  TrackingStore store(db, project);
  const std::string at = "2026-01-02T00:00:00.000Z";
  for (int i = 1; i <= 4; ++i)
    store.record_exposure("e", "u" + std::to_string(i), Exposure{(i + 1) % 2, "k", 0.1, i}, at);
  store.declare_metric("e", "m", MetricKind::kBinomial);
  EventWriter writer = store.writer("e", at);
  auto convert = [&](int unit) {
    auto tracked = writer.track("m", MetricKind::kBinomial, "u" + std::to_string(unit),
                                std::nullopt, std::nullopt);
    if (!tracked->repeat) {
      EXPECT_EQ(tracked->variant_index, (unit + 1) % 2);
      EXPECT_EQ(tracked->sequence, unit);
    }
    return tracked->delta;
  };
  // u1 and u3 (variant 0) convert: the boundary moves to u3, passing u1, u2 and u3.
  EXPECT_EQ(convert(1).positives, 1);
  EXPECT_EQ(convert(3).positives, 1);
  EXPECT_EQ(store.observed("e", "m", 2)[0].n, 0);
  store.add_observed_conversions("e", "m", 0, 2);
  store.set_sequence("e", {.assigned = 4, .observed_through = 3});
  auto arms = store.observed("e", "m", 2);
  EXPECT_EQ(arms[0].n, 2);
  EXPECT_EQ(arms[0].conversions, 2);
  EXPECT_EQ(arms[1].n, 1);
  EXPECT_EQ(arms[1].conversions, 0);
  // A converted unit converting again changes nothing.
  EXPECT_EQ(convert(1).positives, 0);
  EXPECT_EQ(convert(2).positives, 1);
  store.add_observed_conversions("e", "m", 1, 1);
  // Moving the boundary back or to where it is adds nothing.
  store.set_sequence("e", {.assigned = 4, .observed_through = 3});
  EXPECT_EQ(store.observed("e", "m", 2)[1].n, 1);
  EXPECT_EQ(store.observed("e", "m", 2)[1].conversions, 1);
  // Passing u4, which has no event, adds a unit and no conversion.
  store.set_sequence("e", {.assigned = 4, .observed_through = 4});
  EXPECT_EQ(store.observed("e", "m", 2)[1].n, 2);
  EXPECT_EQ(store.observed("e", "m", 2)[1].conversions, 1);
  // The counts are read as they are, not re-aggregated from the exposures.
  db.exec("DELETE FROM exposure");
  EXPECT_EQ(store.observed("e", "m", 2)[0].conversions, 2);
}

// The tracking upsert returns the sequence from the unit's row: a file written before the rows
// carried it gets it from the exposures when opened.
TEST(TrackingStoreTest, PerUnitRowsFromBeforeTheSequenceGetTheirExposuresSequence) {
  storage::SqliteConnection db(":memory:");
  db.exec(R"(
    CREATE TABLE exposure (
      experiment TEXT NOT NULL, unit TEXT NOT NULL, variant INTEGER NOT NULL,
      variant_key TEXT NOT NULL, bucket REAL NOT NULL, at TEXT NOT NULL,
      sequence INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (experiment, unit)) WITHOUT ROWID;
    CREATE TABLE unit_metric (
      experiment TEXT NOT NULL, metric TEXT NOT NULL, unit TEXT NOT NULL, variant INTEGER NOT NULL,
      value REAL NOT NULL, covariate REAL, events INTEGER NOT NULL, at TEXT,
      PRIMARY KEY (experiment, metric, unit)) WITHOUT ROWID;
    INSERT INTO exposure VALUES ('e', 'u', 1, 'b', 0.5, '2026-01-01T00:00:00.000Z', 7);
    INSERT INTO unit_metric VALUES ('e', 'm', 'u', 1, 2.5, NULL, 1, NULL);)");
  const std::string project = "prj_default";
  TrackingStore store(db, project);
  EventWriter writer = store.writer("e", "2026-01-02T00:00:00.000Z");
  auto tracked = writer.track("m", MetricKind::kMean, "u", 1.0, std::nullopt);
  ASSERT_TRUE(tracked);
  EXPECT_EQ(tracked->sequence, 7);
  EXPECT_EQ(tracked->variant_index, 1);
  EXPECT_EQ(tracked->delta.sum, 1.0);
  EXPECT_EQ(tracked->delta.sum_squares, 3.5 * 3.5 - 2.5 * 2.5);
}

// A unit never assigned gets no row, whichever path its event takes.
TEST(TrackingStoreTest, AnEventOfAnUnassignedUnitWritesNothing) {
  storage::SqliteConnection db(":memory:");
  const std::string project = "prj_default";
  TrackingStore store(db, project);
  store.record_exposure("e", "u", Exposure{0, "a", 0.1, 1}, "2026-01-01T00:00:00.000Z");
  EventWriter writer = store.writer("e", "2026-01-02T00:00:00.000Z");
  EXPECT_FALSE(writer.track("m", MetricKind::kBinomial, "stranger", std::nullopt, std::nullopt));
  EXPECT_FALSE(writer.track("m", MetricKind::kMean, "stranger", 2.0, 1.0));
  EXPECT_FALSE(writer.track("m", MetricKind::kBinomial, "stranger", std::nullopt, 1.0));
  auto rows = db.prepare("SELECT COUNT(*) FROM unit_metric");
  rows.step();
  EXPECT_EQ(rows.column_int(0), 0);
  // The same unit assigned in another experiment is not this one's.
  EventWriter other = store.writer("f", "2026-01-02T00:00:00.000Z");
  EXPECT_FALSE(other.track("m", MetricKind::kBinomial, "u", std::nullopt, std::nullopt));
}

// A conversion's change is known from whether the row was new; a covariate changes the
// covariate sums by the difference from the stored one.
TEST(TrackingStoreTest, ConversionsAndCovariatesChangeTheSumsExactly) {
  storage::SqliteConnection db(":memory:");
  const std::string project = "prj_default";
  TrackingStore store(db, project);
  store.record_exposure("e", "u", Exposure{0, "a", 0.1, 1}, "2026-01-01T00:00:00.000Z");
  EventWriter writer = store.writer("e", "2026-01-02T00:00:00.000Z");
  auto first = writer.track("m", MetricKind::kBinomial, "u", std::nullopt, 4.0)->delta;
  EXPECT_EQ(first.sum, 1.0);
  EXPECT_EQ(first.pre_sum, 4.0);
  EXPECT_EQ(first.post_pre_sum_of_products, 4.0);
  EXPECT_EQ(first.covariates, 1);
  auto repeat = writer.track("m", MetricKind::kBinomial, "u", std::nullopt, std::nullopt);
  EXPECT_TRUE(repeat->repeat);
  auto again = repeat->delta;
  EXPECT_EQ(again.sum, 0.0);
  EXPECT_EQ(again.pre_sum, 0.0);
  EXPECT_EQ(again.post_pre_sum_of_products, 0.0);
  EXPECT_EQ(again.positives, 0);
  auto changed = writer.track("m", MetricKind::kBinomial, "u", std::nullopt, 1.0)->delta;
  EXPECT_EQ(changed.sum, 0.0);
  EXPECT_EQ(changed.pre_sum, -3.0);
  EXPECT_EQ(changed.pre_sum_squares, 1.0 - 16.0);
  EXPECT_EQ(changed.covariates, 0);
  auto row = db.prepare("SELECT value, covariate, events FROM unit_metric");
  ASSERT_TRUE(row.step());
  EXPECT_EQ(row.column_double(0), 1.0);
  EXPECT_EQ(row.column_double(1), 1.0);
  EXPECT_EQ(row.column_int(2), 3);
}

// The statements a conversion runs, in order: the ceiling bench measures exactly these, so one
// more (a second look for a row the count's UPDATE just found missing) is a cost per event.
TEST(TrackingStoreTest, AConversionRunsOnlyTheCountThenTheExposureAndTheInsert) {
  storage::SqliteConnection db(":memory:");
  const std::string project = "prj_default";
  TrackingStore store(db, project);
  store.record_exposure("e", "u", Exposure{1, "b", 0.6, 1}, "2026-01-01T00:00:00.000Z");
  EventWriter writer = store.writer("e", "2026-01-02T00:00:00.000Z");
  std::vector<std::string> run;
  sqlite3_trace_v2(
      db.handle(), SQLITE_TRACE_STMT,
      [](unsigned, void* context, void* statement, void*) {
        static_cast<std::vector<std::string>*>(context)->push_back(
            sqlite3_sql(static_cast<sqlite3_stmt*>(statement)));
        return 0;
      },
      &run);
  auto first = writer.track("m", MetricKind::kBinomial, "u", std::nullopt, std::nullopt);
  EXPECT_EQ(run,
            (std::vector<std::string>{sql::kCountEvent, sql::kReadExposure, sql::kInsertUnitRow}));
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->repeat);
  EXPECT_EQ(first->variant_index, 1);
  EXPECT_EQ(first->sequence, 1);
  EXPECT_EQ(first->delta.sum, 1.0);
  EXPECT_EQ(first->delta.positives, 1);
  run.clear();
  EXPECT_TRUE(writer.track("m", MetricKind::kBinomial, "u", std::nullopt, std::nullopt)->repeat);
  EXPECT_EQ(run, std::vector<std::string>{sql::kCountEvent});
  sqlite3_trace_v2(db.handle(), 0, nullptr, nullptr);
}

}  // namespace
}  // namespace verdict::tracking
