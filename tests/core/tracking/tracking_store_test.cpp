#include "core/tracking/tracking_store.hpp"

#include <gtest/gtest.h>

namespace verdict::tracking {
namespace {

// A database written before exposures were numbered: its units count as observed.
TEST(TrackingStoreTest, ExposuresFromBeforeTheSequenceCountAsObserved) {
  sqlite::Database db(":memory:");
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
TEST(TrackingStoreTest, ObservedCountsAreKeptAsTheBoundaryMovesAndUnitsConvert) {
  sqlite::Database db(":memory:");
  const std::string project = "prj_default";  // the store reads it by reference
  TrackingStore store(db, project);
  const std::string at = "2026-01-02T00:00:00.000Z";
  for (int i = 1; i <= 4; ++i)
    store.record_exposure("e", "u" + std::to_string(i), Exposure{(i + 1) % 2, "k", 0.1, i}, at);
  store.declare_metric("e", "m", MetricKind::kBinomial);
  auto convert = [&](int unit) {
    return store.track("e", "m", MetricKind::kBinomial, "u" + std::to_string(unit), (unit + 1) % 2,
                       std::nullopt, std::nullopt, at);
  };
  // u1 and u3 (variant 0) convert while nothing is observed yet.
  EXPECT_EQ(convert(1).positives, 1);
  EXPECT_EQ(convert(3).positives, 1);
  EXPECT_EQ(store.observed("e", "m", 2)[0].n, 0);
  store.set_sequence("e", {.assigned = 4, .observed_through = 3});
  auto arms = store.observed("e", "m", 2);
  EXPECT_EQ(arms[0].n, 2);
  EXPECT_EQ(arms[0].conversions, 2);
  EXPECT_EQ(arms[1].n, 1);
  EXPECT_EQ(arms[1].conversions, 0);
  // An observed unit converting again counts once; the caller adds a first conversion.
  EXPECT_EQ(convert(1).positives, 0);
  EXPECT_EQ(convert(2).positives, 1);
  store.add_observed_conversions("e", "m", 1, 1);
  // Moving the boundary back or to where it is adds nothing.
  store.set_sequence("e", {.assigned = 4, .observed_through = 3});
  EXPECT_EQ(store.observed("e", "m", 2)[1].n, 1);
  EXPECT_EQ(store.observed("e", "m", 2)[1].conversions, 1);
  // The counts are read as they are, not re-aggregated from the exposures.
  db.exec("DELETE FROM exposure");
  EXPECT_EQ(store.observed("e", "m", 2)[0].conversions, 2);
}

}  // namespace
}  // namespace verdict::tracking
