#pragma once

// The SQL a tracked event runs. Named here, not inline in TrackingStore, because
// bench/track_ceiling_bench runs the very same statements on raw SQLite as the ceiling the
// `track` verb is measured against: a copy there could drift from what the verb does.
// Parameters are plain `?`, numbered by position, and an upsert names the stored row by its
// table (PostgreSQL calls a bare column there ambiguous): forms every storage backend reads.

namespace verdict::tracking::sql {

/// A repeat conversion: its row exists, so only the event count changes.
inline constexpr const char* kCountEvent =
    "UPDATE unit_metric SET events = events + 1 WHERE experiment = ? AND metric = ? AND unit = ?";
inline constexpr const char* kReadUnitRow =
    "SELECT value, covariate, variant, sequence FROM unit_metric"
    " WHERE experiment = ? AND metric = ? AND unit = ?";
/// Its parameters are the new value and covariate, then experiment, metric and unit.
inline constexpr const char* kUpdateUnitRow =
    "UPDATE unit_metric SET value = ?, covariate = ?, events = events + 1"
    " WHERE experiment = ? AND metric = ? AND unit = ?";
inline constexpr const char* kReadExposure =
    "SELECT variant, sequence FROM exposure WHERE experiment = ? AND unit = ?";
/// The row keeps the exposure's variant and sequence, so that later events of the unit need not
/// look the exposure up again.
inline constexpr const char* kInsertUnitRow =
    "INSERT INTO unit_metric (experiment, metric, unit, variant, value, covariate, events,"
    " at, sequence) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)";
/// Adds one event's change to its variant's sufficient statistics.
inline constexpr const char* kApplyStats =
    "INSERT INTO metric_stats (experiment, metric, variant, sum, sum_squares, pre_sum,"
    " pre_sum_squares, post_pre_sum_of_products, covariates) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (experiment, metric, variant) DO UPDATE"
    " SET sum = metric_stats.sum + excluded.sum,"
    " sum_squares = metric_stats.sum_squares + excluded.sum_squares,"
    " pre_sum = metric_stats.pre_sum + excluded.pre_sum,"
    " pre_sum_squares = metric_stats.pre_sum_squares + excluded.pre_sum_squares,"
    " post_pre_sum_of_products ="
    " metric_stats.post_pre_sum_of_products + excluded.post_pre_sum_of_products,"
    " covariates = metric_stats.covariates + excluded.covariates";
/// Conversions of observed units (experiment, metric, variant, count), once per batch.
inline constexpr const char* kAddObservedConversions =
    "INSERT INTO observed_conversions (experiment, metric, variant, n) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (experiment, metric, variant) DO UPDATE"
    " SET n = observed_conversions.n + excluded.n";
/// The units an advancing observed boundary passes (experiment, before, through), once each.
inline constexpr const char* kObserveUnits =
    "INSERT INTO observed_units (experiment, variant, n) SELECT experiment, variant, COUNT(*)"
    " FROM exposure WHERE experiment = ? AND sequence > ? AND sequence <= ? GROUP BY experiment, "
    "variant"
    " ON CONFLICT (experiment, variant) DO UPDATE SET n = observed_units.n + excluded.n";

}  // namespace verdict::tracking::sql
