#pragma once

namespace verdict {
class Store;
}

namespace verdict::tracking {

/// Shows assignment and tracking as Events without writing them twice: every first exposure is
/// an `experiment.assigned` Event and every unit's conversion on a metric an
/// `experiment.converted` Event, read from the tables assign and track already write. They carry
/// `subject` (the experiment id), `unit`, `variant` (the variant key) and `timestamp`, so
/// `find {type: "Event", filter: {...}}` filters on all of them. Needs the tracking tables
/// (TrackingStore) and an Event noun; read-only.
void add_tracking_events(Store& store);

}  // namespace verdict::tracking
