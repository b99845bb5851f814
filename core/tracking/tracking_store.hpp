#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/storage/connection.hpp"

namespace verdict::tracking {

/// Whether a metric counts conversions (0/1 per unit) or sums values per unit. Fixed by the
/// metric's first event.
enum class MetricKind { kBinomial, kMean };

struct Exposure {
  int variant_index = 0;
  std::string variant_key;
  double bucket = 0;
  std::int64_t sequence = 0;  ///< order of assignment within the experiment, from 1
};

/// Sufficient statistics of one metric in one variant; `n` is the variant's exposed units.
struct MetricStats {
  std::int64_t n = 0;
  double sum = 0;
  double sum_squares = 0;
  double pre_sum = 0;
  double pre_sum_squares = 0;
  double post_pre_sum_of_products = 0;
  bool has_covariate = false;
  std::int64_t covariates = 0;  ///< units with a covariate (a count, so changes can be summed)
  /// Units with a positive value (conversions); from track() a change, which the caller adds
  /// to the observed conversions (a tracked unit is observed once its batch is written).
  std::int64_t positives = 0;

  /// Adds a change from track(); `n` is not a sum of changes and stays as it is.
  MetricStats& operator+=(const MetricStats& delta) {
    sum += delta.sum;
    sum_squares += delta.sum_squares;
    pre_sum += delta.pre_sum;
    pre_sum_squares += delta.pre_sum_squares;
    post_pre_sum_of_products += delta.post_pre_sum_of_products;
    covariates += delta.covariates;
    positives += delta.positives;
    return *this;
  }
};

/// What one tracked event did: the unit's variant and place in the assignment order, and the
/// change to the variant's sufficient statistics (`n` unused), for apply() once per batch.
struct Tracked {
  int variant_index = 0;
  std::int64_t sequence = 0;
  MetricStats delta;
  /// A repeat conversion: it changes no statistic and, since every unit with a stored value is
  /// observed already, moves no boundary, so its variant and sequence are not read.
  bool repeat = false;
};

/// Writes one batch's events into the per-unit rows of one experiment, its statements borrowed
/// once for the batch rather than looked up per event. Use inside the verb's transaction.
///
/// Statements per event: a repeat conversion is one UPDATE, and a first conversion that UPDATE
/// (no row), the exposure read and an INSERT; a value or a covariate reads the unit's row and
/// updates it, or, for the unit's first event of the metric, reads the exposure and inserts.
/// Folding the exposure check into an upsert with RETURNING was measured slower than these
/// (SQLite gathers RETURNING rows in a temporary table per run); see docs/performance.md.
class EventWriter {
 public:
  /// Pinned: its statements hold pointers to its own strings.
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;
  EventWriter(EventWriter&&) = delete;
  EventWriter& operator=(EventWriter&&) = delete;

  /// Applies one event to the unit's stored value: a conversion (`value` absent; a unit converts
  /// once) or a value added to the unit's sum, and optionally the unit's pre-period covariate.
  /// nullopt, with nothing written, when the unit has no exposure. `metric` and `unit` are
  /// bound without a copy and read only during the call.
  std::optional<Tracked> track(std::string_view metric, MetricKind kind, std::string_view unit,
                               std::optional<double> value, std::optional<double> covariate);

 private:
  friend class TrackingStore;
  EventWriter(storage::Connection& db, std::string_view experiment, std::string_view at);
  std::optional<Tracked> insert(std::string_view metric, std::string_view unit, double value,
                                std::optional<double> covariate, const MetricStats& delta);

  storage::Connection& db_;
  std::string experiment_;
  std::string at_;
  storage::Statement count_;     ///< a repeat conversion: one more event on the unit's row
  storage::Statement current_;   ///< the unit's row: value, covariate, variant, sequence
  storage::Statement update_;    ///< the unit's new value and covariate
  storage::Statement exposure_;  ///< the unit's variant and sequence, for its first row
  storage::Statement insert_;
};

/// Units of one arm whose outcome could have been reported, and how many of them converted.
struct ObservedArm {
  std::int64_t n = 0;
  std::int64_t conversions = 0;
};

/// The tables behind assignment and tracking: exposures (sticky assignments), per-unit metric
/// values, and per-variant sufficient statistics kept up to date in the same transaction as
/// each event, so analysis never scans raw events and the per-unit rows can rebuild them.
/// Runs on the engine thread inside the verb's transaction.
class TrackingStore {
 public:
  /// `project` is the store's current project (Store::project()), read at each exposure: an
  /// exposure row names its project so that Events are found per project. The other tables are
  /// keyed by an experiment id, which belongs to one project.
  TrackingStore(storage::Connection& db, const std::string& project);

  std::optional<Exposure> exposure(std::string_view experiment, std::string_view unit);
  /// Records a unit's first exposure; the per-variant count is added by add_exposures, once per
  /// batch rather than once per unit.
  void record_exposure(std::string_view experiment, std::string_view unit, const Exposure& exposure,
                       const std::string& at);

  /// How far assignment and outcome reporting have got: `assigned` is the last exposure's
  /// sequence, `observed_through` the newest sequence of a unit with a tracked event.
  /// Outcomes arrive roughly in assignment order, so units up to `observed_through` have had
  /// their chance to convert and later ones may still be waiting.
  struct Sequence {
    std::int64_t assigned = 0;
    std::int64_t observed_through = 0;
  };
  Sequence sequence(std::string_view experiment);
  /// Stores `sequence`; when `observed_through` moves forward, the units it passes are added to
  /// the observed units. Their conversions are the caller's to add (add_observed_conversions):
  /// the boundary only moves to the newest unit with a tracked event, so every stored per-unit
  /// row is at or below it, and the units it passes have no conversions but those of the events
  /// that move it.
  void set_sequence(std::string_view experiment, const Sequence& sequence);
  /// Per variant, the units up to `observed_through` and their conversions on a binomial
  /// metric: what a bandit may learn from without counting pending units as failures. Kept as
  /// running counts, so reading them costs the same at any number of exposures.
  std::vector<ObservedArm> observed(std::string_view experiment, std::string_view metric,
                                    std::size_t variants);
  /// Adds `count` conversions of observed units (the `positives` of their track()), those the
  /// boundary passes in the same call included.
  void add_observed_conversions(std::string_view experiment, std::string_view metric,
                                int variant_index, std::int64_t count);
  void add_exposures(std::string_view experiment, int variant_index, std::int64_t count);
  /// Exposed units per variant index (missing indexes are zero), sized to `variants`.
  std::vector<std::int64_t> exposures(std::string_view experiment, std::size_t variants);

  std::optional<MetricKind> metric_kind(std::string_view experiment, std::string_view metric);
  void declare_metric(std::string_view experiment, std::string_view metric, MetricKind kind);
  /// A writer for one batch of events, at time `at` (the time a unit's first event keeps).
  EventWriter writer(std::string_view experiment, std::string_view at);
  /// Adds accumulated changes to a variant's sufficient statistics.
  void apply(std::string_view experiment, std::string_view metric, int variant_index,
             const MetricStats& delta);

  /// The incremental statistics of a metric per variant (n from exposures).
  std::vector<MetricStats> stats(std::string_view experiment, std::string_view metric,
                                 std::size_t variants);
  /// The incremental statistics of every metric, and the same recomputed from the stored per-unit
  /// values, keyed by metric: one pass over the experiment's rows, not one per metric.
  std::map<std::string, std::vector<MetricStats>> all_stats(std::string_view experiment,
                                                            std::size_t variants);
  std::map<std::string, std::vector<MetricStats>> recompute(std::string_view experiment,
                                                            std::size_t variants);
  std::vector<std::string> metrics(std::string_view experiment);
  std::int64_t metric_count(std::string_view experiment);

 private:
  /// Creates the running observed counts, filled from the stored exposures and values.
  void migrate_observed_counts();
  /// Gives the per-unit rows their exposure's sequence, which the tracking upsert returns.
  void migrate_unit_sequence();

  storage::Connection& db_;
  const std::string& project_;
};

}  // namespace verdict::tracking
