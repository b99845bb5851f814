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

}  // namespace
}  // namespace verdict::tracking
