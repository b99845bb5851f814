#include "core/tracking/tracking_store.hpp"

#include "core/access/caller.hpp"
#include "core/clock.hpp"
#include "core/storage/catalog.hpp"
#include "core/tracking/tracking_statements.hpp"

namespace verdict::tracking {

TrackingStore::TrackingStore(storage::Connection& db, const std::string& project)
    : db_(db), project_(project) {
  // One transaction: the checks before each ALTER TABLE and migration see what another process
  // starting on the same SQLite file did (it waits for the file's write lock), and a migration
  // cut short leaves nothing half done (observed_units without its counts would stay so).
  storage::Transaction schema_change(db_);
  db_.exec(storage::ddl(db_.backend(), R"(
    CREATE TABLE IF NOT EXISTS exposure (
      experiment {TEXT} NOT NULL, unit {TEXT} NOT NULL, variant {INT} NOT NULL,
      variant_key {TEXT} NOT NULL, bucket {REAL} NOT NULL, at {TEXT} NOT NULL,
      PRIMARY KEY (experiment, unit)){KEYED};
    CREATE TABLE IF NOT EXISTS variant_exposures (
      experiment {TEXT} NOT NULL, variant {INT} NOT NULL, n {INT} NOT NULL,
      PRIMARY KEY (experiment, variant)){KEYED};
    CREATE TABLE IF NOT EXISTS experiment_metric (
      experiment {TEXT} NOT NULL, metric {TEXT} NOT NULL, kind {TEXT} NOT NULL,
      PRIMARY KEY (experiment, metric)){KEYED};
    CREATE TABLE IF NOT EXISTS unit_metric (
      experiment {TEXT} NOT NULL, metric {TEXT} NOT NULL, unit {TEXT} NOT NULL,
      variant {INT} NOT NULL, value {REAL} NOT NULL, covariate {REAL}, events {INT} NOT NULL,
      at {TEXT}, sequence {INT} NOT NULL DEFAULT 0, PRIMARY KEY (experiment, metric, unit)){KEYED};
    CREATE TABLE IF NOT EXISTS metric_stats (
      experiment {TEXT} NOT NULL, metric {TEXT} NOT NULL, variant {INT} NOT NULL,
      sum {REAL} NOT NULL DEFAULT 0, sum_squares {REAL} NOT NULL DEFAULT 0,
      pre_sum {REAL} NOT NULL DEFAULT 0, pre_sum_squares {REAL} NOT NULL DEFAULT 0,
      post_pre_sum_of_products {REAL} NOT NULL DEFAULT 0, covariates {INT} NOT NULL DEFAULT 0,
      PRIMARY KEY (experiment, metric, variant)){KEYED};
    CREATE TABLE IF NOT EXISTS exposure_sequence (
      experiment {TEXT} PRIMARY KEY, assigned {INT} NOT NULL DEFAULT 0,
      observed_through {INT} NOT NULL DEFAULT 0){KEYED};)"));
  // Exposures recorded before the sequence existed have 0: they count as observed.
  if (!storage::has_column(db_, "exposure", "sequence"))
    db_.exec(storage::ddl(db_.backend(),
                          "ALTER TABLE exposure ADD COLUMN sequence {INT} NOT NULL DEFAULT 0"));
  // Files from before conversions were Events have no time of first conversion.
  if (!storage::has_column(db_, "unit_metric", "at"))
    db_.exec(storage::ddl(db_.backend(), "ALTER TABLE unit_metric ADD COLUMN at {TEXT}"));
  if (!storage::has_column(db_, "exposure", "project"))
    db_.exec(storage::ddl(db_.backend(),
                          "ALTER TABLE exposure ADD COLUMN project {TEXT} NOT NULL"
                          " DEFAULT '") +
             std::string(kDefaultProjectId) + "'");
  migrate_unit_sequence();
  migrate_observed_counts();
  schema_change.commit();
}

void TrackingStore::migrate_unit_sequence() {
  if (storage::has_column(db_, "unit_metric", "sequence")) return;
  db_.exec(storage::ddl(db_.backend(), R"(
    ALTER TABLE unit_metric ADD COLUMN sequence {INT} NOT NULL DEFAULT 0;
    UPDATE unit_metric SET sequence = COALESCE((SELECT e.sequence FROM exposure e
      WHERE e.experiment = unit_metric.experiment AND e.unit = unit_metric.unit), 0);)"));
}

void TrackingStore::migrate_observed_counts() {
  if (storage::has_table(db_, "observed_units")) return;
  // Running counts of what observed() used to aggregate from every exposure on each request.
  // Exposures without a sequence (0) are observed from the start.
  db_.exec(storage::ddl(db_.backend(), R"(
    CREATE INDEX IF NOT EXISTS exposure_sequence_order ON exposure(experiment, sequence);
    CREATE TABLE observed_units (
      experiment {TEXT} NOT NULL, variant {INT} NOT NULL, n {INT} NOT NULL,
      PRIMARY KEY (experiment, variant)){KEYED};
    CREATE TABLE observed_conversions (
      experiment {TEXT} NOT NULL, metric {TEXT} NOT NULL, variant {INT} NOT NULL,
      n {INT} NOT NULL, PRIMARY KEY (experiment, metric, variant)){KEYED};
    INSERT INTO observed_units
      SELECT e.experiment, e.variant, COUNT(*) FROM exposure e
      LEFT JOIN exposure_sequence s ON s.experiment = e.experiment
      WHERE e.sequence <= COALESCE(s.observed_through, 0) GROUP BY e.experiment, e.variant;
    INSERT INTO observed_conversions
      SELECT m.experiment, m.metric, e.variant, COUNT(*) FROM unit_metric m
      JOIN exposure e ON e.experiment = m.experiment AND e.unit = m.unit
      LEFT JOIN exposure_sequence s ON s.experiment = e.experiment
      WHERE m.value > 0 AND e.sequence <= COALESCE(s.observed_through, 0)
      GROUP BY m.experiment, m.metric, e.variant;)"));
}

TrackingStore::Sequence TrackingStore::sequence(std::string_view experiment) {
  auto statement =
      db_.prepare("SELECT assigned, observed_through FROM exposure_sequence WHERE experiment = ?");
  statement.bind(1, experiment);
  if (!statement.step()) return {};
  return {statement.column_int(0), statement.column_int(1)};
}

void TrackingStore::set_sequence(std::string_view experiment, const Sequence& sequence) {
  const std::int64_t before = this->sequence(experiment).observed_through;
  if (sequence.observed_through > before) {
    // Only the units the boundary passes: each exposure is counted once, when it is passed.
    auto advance = db_.prepare(sql::kObserveUnits);
    advance.bind(1, experiment).bind(2, before).bind(3, sequence.observed_through);
    advance.run();
  }
  auto statement = db_.prepare(
      "INSERT INTO exposure_sequence (experiment, assigned, observed_through) VALUES (?, ?, ?)"
      " ON CONFLICT (experiment) DO UPDATE SET assigned = excluded.assigned,"
      " observed_through = excluded.observed_through");
  statement.bind(1, experiment).bind(2, sequence.assigned).bind(3, sequence.observed_through);
  statement.run();
}

std::vector<ObservedArm> TrackingStore::observed(std::string_view experiment,
                                                 std::string_view metric, std::size_t variants) {
  std::vector<ObservedArm> arms(variants);
  auto units = db_.prepare("SELECT variant, n FROM observed_units WHERE experiment = ?");
  units.bind(1, experiment);
  while (units.step()) {
    auto index = static_cast<std::size_t>(units.column_int(0));
    if (index < variants) arms[index].n = units.column_int(1);
  }
  auto conversions = db_.prepare(
      "SELECT variant, n FROM observed_conversions WHERE experiment = ? AND metric = ?");
  conversions.bind(1, experiment).bind(2, metric);
  while (conversions.step()) {
    auto index = static_cast<std::size_t>(conversions.column_int(0));
    if (index < variants) arms[index].conversions = conversions.column_int(1);
  }
  return arms;
}

void TrackingStore::add_observed_conversions(std::string_view experiment, std::string_view metric,
                                             int variant_index, std::int64_t count) {
  auto statement = db_.prepare(sql::kAddObservedConversions);
  statement.bind(1, experiment).bind(2, metric).bind(3, variant_index).bind(4, count);
  statement.run();
}

std::optional<Exposure> TrackingStore::exposure(std::string_view experiment,
                                                std::string_view unit) {
  auto statement = db_.prepare(
      "SELECT variant, variant_key, bucket, sequence FROM exposure WHERE experiment = ? AND"
      " unit = ?");
  statement.bind(1, experiment).bind(2, unit);
  if (!statement.step()) return std::nullopt;
  return Exposure{static_cast<int>(statement.column_int(0)), statement.column_text(1),
                  statement.column_double(2), statement.column_int(3)};
}

void TrackingStore::record_exposure(std::string_view experiment, std::string_view unit,
                                    const Exposure& exposure, const std::string& at) {
  auto insert = db_.prepare(
      "INSERT INTO exposure (experiment, unit, variant, variant_key, bucket, at, sequence, project)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  insert.bind(1, experiment).bind(2, unit).bind(3, exposure.variant_index);
  insert.bind(4, exposure.variant_key).bind(5, exposure.bucket).bind(6, at);
  insert.bind(7, exposure.sequence).bind(8, project_);
  insert.run();
}

void TrackingStore::add_exposures(std::string_view experiment, int variant_index,
                                  std::int64_t count) {
  auto statement = db_.prepare(
      "INSERT INTO variant_exposures (experiment, variant, n) VALUES (?, ?, ?)"
      " ON CONFLICT (experiment, variant) DO UPDATE SET n = variant_exposures.n + excluded.n");
  statement.bind(1, experiment).bind(2, variant_index).bind(3, count);
  statement.run();
}

std::vector<std::int64_t> TrackingStore::exposures(std::string_view experiment,
                                                   std::size_t variants) {
  std::vector<std::int64_t> counts(variants, 0);
  auto statement = db_.prepare("SELECT variant, n FROM variant_exposures WHERE experiment = ?");
  statement.bind(1, experiment);
  while (statement.step()) {
    auto index = static_cast<std::size_t>(statement.column_int(0));
    if (index < variants) counts[index] = statement.column_int(1);
  }
  return counts;
}

std::optional<MetricKind> TrackingStore::metric_kind(std::string_view experiment,
                                                     std::string_view metric) {
  auto statement =
      db_.prepare("SELECT kind FROM experiment_metric WHERE experiment = ? AND metric = ?");
  statement.bind(1, experiment).bind(2, metric);
  if (!statement.step()) return std::nullopt;
  return statement.column_text(0) == "binomial" ? MetricKind::kBinomial : MetricKind::kMean;
}

void TrackingStore::declare_metric(std::string_view experiment, std::string_view metric,
                                   MetricKind kind) {
  auto declare = db_.prepare(
      "INSERT INTO experiment_metric (experiment, metric, kind) VALUES (?, ?, ?)"
      " ON CONFLICT DO NOTHING");
  declare.bind(1, experiment).bind(2, metric);
  declare.bind(3, kind == MetricKind::kBinomial ? "binomial" : "mean");
  declare.run();
}

namespace {

// The change one event makes to its variant's sufficient statistics, from the unit's value and
// covariate before and after it.
MetricStats change(double old_value, std::optional<double> old_covariate, double new_value,
                   std::optional<double> new_covariate) {
  double x0 = old_covariate.value_or(0), x1 = new_covariate.value_or(0);
  MetricStats delta;
  delta.sum = new_value - old_value;
  delta.sum_squares = new_value * new_value - old_value * old_value;
  delta.pre_sum = x1 - x0;
  delta.pre_sum_squares = x1 * x1 - x0 * x0;
  delta.post_pre_sum_of_products = new_value * x1 - old_value * x0;
  delta.covariates = (new_covariate && !old_covariate) ? 1 : 0;
  delta.positives = (new_value > 0 ? 1 : 0) - (old_value > 0 ? 1 : 0);
  return delta;
}

std::optional<double> optional_double(const storage::Statement& statement, int column) {
  if (statement.is_null(column)) return std::nullopt;
  return statement.column_double(column);
}

}  // namespace

EventWriter TrackingStore::writer(std::string_view experiment, std::string_view at) {
  return EventWriter(db_, experiment, at);
}

EventWriter::EventWriter(storage::Connection& db, std::string_view experiment, std::string_view at)
    : db_(db),
      experiment_(experiment),
      at_(at),
      count_(db.prepare(sql::kCountEvent)),
      current_(db.prepare(sql::kReadUnitRow)),
      update_(db.prepare(sql::kUpdateUnitRow)),
      exposure_(db.prepare(sql::kReadExposure)),
      insert_(db.prepare(sql::kInsertUnitRow)) {
  for (auto* statement : {&count_, &current_, &exposure_, &insert_})
    statement->bind_static(1, experiment_);
  update_.bind_static(3, experiment_);
  insert_.bind_static(7, at_);
}

std::optional<Tracked> EventWriter::track(std::string_view metric, MetricKind kind,
                                          std::string_view unit, std::optional<double> value,
                                          std::optional<double> covariate) {
  if (kind == MetricKind::kBinomial && !covariate) {
    // A conversion's value is 1 once its row exists, and its covariate stays: nothing changes
    // but the event count, and a unit with a row has had its exposure checked.
    count_.bind_static(2, metric).bind_static(3, unit);
    count_.run();
    count_.reset();
    if (db_.changes() == 1) return Tracked{.repeat = true};
    // No row: the unit's first conversion, from nothing to 1. Reading the row again would only
    // find it missing a second time (one more B-tree descent per first event).
    return insert(metric, unit, 1.0, std::nullopt, change(0.0, std::nullopt, 1.0, std::nullopt));
  }
  current_.bind_static(2, metric).bind_static(3, unit);
  const bool exists = current_.step();
  const double old_value = exists ? current_.column_double(0) : 0.0;
  const auto old_covariate = exists ? optional_double(current_, 1) : std::nullopt;
  const auto variant = exists ? static_cast<int>(current_.column_int(2)) : 0;
  const auto sequence = exists ? current_.column_int(3) : 0;
  current_.reset();
  // A unit converts at most once on a binomial metric; values accumulate on a mean metric.
  const double new_value = kind == MetricKind::kBinomial ? 1.0 : old_value + value.value_or(0);
  const std::optional<double> new_covariate = covariate ? covariate : old_covariate;
  const MetricStats delta = change(old_value, old_covariate, new_value, new_covariate);
  if (!exists) return insert(metric, unit, new_value, new_covariate, delta);
  update_.bind(1, new_value).bind_static(4, metric).bind_static(5, unit);
  if (new_covariate) {
    update_.bind(2, *new_covariate);
  } else {
    update_.bind(2, nullptr);
  }
  update_.run();
  update_.reset();
  return Tracked{variant, sequence, delta};
}

std::optional<Tracked> EventWriter::insert(std::string_view metric, std::string_view unit,
                                           double value, std::optional<double> covariate,
                                           const MetricStats& delta) {
  exposure_.bind_static(2, unit);
  if (!exposure_.step()) {
    exposure_.reset();
    return std::nullopt;
  }
  Tracked tracked{static_cast<int>(exposure_.column_int(0)), exposure_.column_int(1), delta};
  exposure_.reset();
  insert_.bind_static(2, metric).bind_static(3, unit).bind(4, tracked.variant_index);
  insert_.bind(5, value);
  if (covariate) {
    insert_.bind(6, *covariate);
  } else {
    insert_.bind(6, nullptr);
  }
  insert_.bind(8, tracked.sequence);
  insert_.run();
  insert_.reset();
  return tracked;
}

void TrackingStore::apply(std::string_view experiment, std::string_view metric, int variant_index,
                          const MetricStats& delta) {
  auto update = db_.prepare(sql::kApplyStats);
  update.bind(1, experiment).bind(2, metric).bind(3, variant_index);
  update.bind(4, delta.sum).bind(5, delta.sum_squares).bind(6, delta.pre_sum);
  update.bind(7, delta.pre_sum_squares).bind(8, delta.post_pre_sum_of_products);
  update.bind(9, delta.covariates);
  update.run();
}

namespace {

std::vector<MetricStats> with_exposures(std::vector<MetricStats> stats,
                                        const std::vector<std::int64_t>& exposures) {
  for (std::size_t i = 0; i < stats.size(); ++i) stats[i].n = exposures[i];
  return stats;
}

// Reads rows of (variant, sum, sum_squares, pre_sum, pre_sum_squares, post_pre_sum_of_products,
// covariates) starting at column `first`.
void read_row(storage::Statement& statement, int first, std::vector<MetricStats>& stats) {
  auto index = static_cast<std::size_t>(statement.column_int(first));
  if (index >= stats.size()) return;
  auto& s = stats[index];
  s.sum = statement.column_double(first + 1);
  s.sum_squares = statement.column_double(first + 2);
  s.pre_sum = statement.column_double(first + 3);
  s.pre_sum_squares = statement.column_double(first + 4);
  s.post_pre_sum_of_products = statement.column_double(first + 5);
  s.has_covariate = statement.column_int(first + 6) > 0;
}

void read_stats(storage::Statement& statement, std::vector<MetricStats>& stats) {
  while (statement.step()) read_row(statement, 0, stats);
}

// Rows that start with the metric's name, grouped by metric, each sized to `variants`.
std::map<std::string, std::vector<MetricStats>> read_by_metric(
    storage::Statement& statement, std::size_t variants, const std::vector<std::int64_t>& counts) {
  std::map<std::string, std::vector<MetricStats>> by_metric;
  while (statement.step()) {
    auto entry =
        by_metric.try_emplace(statement.column_text(0), std::vector<MetricStats>(variants)).first;
    read_row(statement, 1, entry->second);
  }
  for (auto& [metric, stats] : by_metric) stats = with_exposures(std::move(stats), counts);
  return by_metric;
}

}  // namespace

std::vector<MetricStats> TrackingStore::stats(std::string_view experiment, std::string_view metric,
                                              std::size_t variants) {
  std::vector<MetricStats> stats(variants);
  auto statement = db_.prepare(
      "SELECT variant, sum, sum_squares, pre_sum, pre_sum_squares, post_pre_sum_of_products,"
      " covariates FROM metric_stats WHERE experiment = ? AND metric = ?");
  statement.bind(1, experiment).bind(2, metric);
  read_stats(statement, stats);
  return with_exposures(std::move(stats), exposures(experiment, variants));
}

std::map<std::string, std::vector<MetricStats>> TrackingStore::all_stats(
    std::string_view experiment, std::size_t variants) {
  auto statement = db_.prepare(
      "SELECT metric, variant, sum, sum_squares, pre_sum, pre_sum_squares,"
      " post_pre_sum_of_products, covariates FROM metric_stats WHERE experiment = ?");
  statement.bind(1, experiment);
  return read_by_metric(statement, variants, exposures(experiment, variants));
}

std::map<std::string, std::vector<MetricStats>> TrackingStore::recompute(
    std::string_view experiment, std::size_t variants) {
  std::vector<std::int64_t> counts(variants, 0);
  auto exposed =
      db_.prepare("SELECT variant, COUNT(*) FROM exposure WHERE experiment = ? GROUP BY variant");
  exposed.bind(1, experiment);
  while (exposed.step()) {
    auto index = static_cast<std::size_t>(exposed.column_int(0));
    if (index < variants) counts[index] = exposed.column_int(1);
  }
  auto statement = db_.prepare(
      "SELECT metric, variant, SUM(value), SUM(value * value), SUM(COALESCE(covariate, 0)),"
      " SUM(COALESCE(covariate, 0) * COALESCE(covariate, 0)), SUM(value * COALESCE(covariate, 0)),"
      " COUNT(covariate) FROM unit_metric WHERE experiment = ? GROUP BY metric, variant");
  statement.bind(1, experiment);
  return read_by_metric(statement, variants, counts);
}

std::vector<std::string> TrackingStore::metrics(std::string_view experiment) {
  std::vector<std::string> names;
  auto statement =
      db_.prepare("SELECT metric FROM experiment_metric WHERE experiment = ? ORDER BY metric");
  statement.bind(1, experiment);
  while (statement.step()) names.push_back(statement.column_text(0));
  return names;
}

std::int64_t TrackingStore::metric_count(std::string_view experiment) {
  auto statement = db_.prepare("SELECT COUNT(*) FROM experiment_metric WHERE experiment = ?");
  statement.bind(1, experiment);
  statement.step();
  return statement.column_int(0);
}

}  // namespace verdict::tracking
