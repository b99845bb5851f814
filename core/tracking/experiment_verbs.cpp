#include "core/tracking/experiment_verbs.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <span>
#include <sstream>

#include "core/assignment/allocation.hpp"
#include "core/assignment/condition.hpp"
#include "core/clock.hpp"
#include "core/engine.hpp"
#include "core/error.hpp"
#include "core/json_style.hpp"
#include "core/stats/analysis.hpp"
#include "core/stats/thompson_sampler.hpp"
#include "core/tracking/experiment_plan.hpp"
#include "core/tracking/guardrails.hpp"
#include "core/tracking/holdouts.hpp"
#include "core/tracking/namespaces.hpp"
#include "core/tracking/ratio_metric.hpp"
#include "core/tracking/tracking_store.hpp"

namespace verdict::tracking {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxBatch = 10000;
constexpr std::size_t kMaxUnitBytes = 256;
constexpr std::size_t kMaxMetricBytes = 128;
// Distinct metrics per experiment: each costs analyze and checkStats a pass, and thousands of
// them (one per tracked event, by mistake) would stall the engine thread.
constexpr std::int64_t kMaxMetrics = 200;
constexpr double kDefaultBanditCadence = 100;
constexpr double kMaxTrackedMagnitude = 1e100;

std::string text_field(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value && value->is_string() ? std::string(value->get_string()) : std::string{};
}

double number_field(const json::object& object, std::string_view key, double fallback) {
  const auto* value = object.if_contains(key);
  return value && value->is_number() ? value->to_number<double>() : fallback;
}

std::vector<std::string> split_metrics(const std::string& text) {
  std::vector<std::string> names;
  std::stringstream stream(text);
  std::string name;
  while (std::getline(stream, name, ',')) {
    auto begin = name.find_first_not_of(' ');
    auto end = name.find_last_not_of(' ');
    if (begin != std::string::npos) names.push_back(name.substr(begin, end - begin + 1));
  }
  return names;
}

// Where an item's errors point: `events[3].unit` in a batch, `unit` for the single form. Spelled
// out only when an error needs it, so a valid batch builds no strings per item.
struct Where {
  std::string_view list;  ///< empty for the single form
  std::size_t index = 0;

  std::string field(std::string_view key) const {
    std::string path =
        list.empty() ? std::string() : std::string(list) + "[" + std::to_string(index) + "].";
    return path + std::string(key);
  }
};

void only_keys(const json::object& data, std::initializer_list<std::string_view> allowed,
               const Where& where) {
  for (const auto& entry : data) {
    bool known = entry.key() == "version";
    for (auto key : allowed) known = known || entry.key() == key;
    if (!known) {
      std::string list;
      for (auto key : allowed) list += (list.empty() ? "" : ", ") + std::string(key);
      invalid(where.field(entry.key()), "unknown argument (allowed: " + list + ")");
    }
  }
}

// The text stays in the request's JSON, which outlives the verb.
std::string_view required_text(const json::object& data, std::string_view key, std::size_t max,
                               const Where& where) {
  const auto* value = data.if_contains(key);
  if (!value || !value->is_string() || value->get_string().empty())
    invalid(where.field(key), "required, a non-empty string");
  if (value->get_string().size() > max)
    invalid(where.field(key), "longer than " + std::to_string(max) + " bytes");
  return value->get_string();
}

std::optional<double> optional_number(const json::object& data, std::string_view key,
                                      const Where& where) {
  const auto* value = data.if_contains(key);
  if (!value || value->is_null()) return std::nullopt;
  if (!value->is_number()) invalid(where.field(key), "expected a number");
  double number = value->to_number<double>();
  if (!std::isfinite(number)) invalid(where.field(key), "must be finite");
  // Sums of squares and products of many such values must stay finite for the statistics.
  if (std::fabs(number) > kMaxTrackedMagnitude)
    invalid(where.field(key), "must be between -1e100 and 1e100");
  return number;
}

/// One item of a batch verb, read in place from the request.
struct Item {
  const json::object& data;
  Where where;
};

// The batch form `{<list>: [...]}` or a single item.
std::vector<Item> items_of(const json::object& data, std::string_view list) {
  std::vector<Item> items;
  const auto* batch = data.if_contains(list);
  if (!batch) {
    items.push_back({data, {}});
    return items;
  }
  if (!batch->is_array() || batch->get_array().empty())
    invalid(std::string(list), "expected a non-empty list");
  if (batch->get_array().size() > kMaxBatch)
    invalid(std::string(list), "at most 10000 items per batch");
  for (const auto& entry : data)
    if (entry.key() != list && entry.key() != "version")
      invalid(std::string(entry.key()), "not allowed beside a batch");
  items.reserve(batch->get_array().size());
  std::size_t index = 0;
  for (const auto& item : batch->get_array()) {
    if (!item.is_object())
      invalid(std::string(list) + "[" + std::to_string(index) + "]", "expected an object");
    items.push_back({item.get_object(), {list, index++}});
  }
  return items;
}

/// What one assign call accumulates: new exposures per variant, written once at its end.
struct Batch {
  std::string at;
  TrackingStore::Sequence sequence;
  std::map<int, std::int64_t> fresh;
};

/// What one track call accumulates for one metric, written once at its end.
struct BatchMetric {
  struct Arm {
    bool touched = false;
    /// Its `positives` are all conversions of observed units once the batch moves the boundary
    /// to its newest unit: the units it passes have no earlier rows (TrackingStore::set_sequence).
    MetricStats delta;
  };
  MetricKind kind;
  std::vector<Arm> arms;  ///< by variant index

  Arm& arm(int variant_index) {
    auto index = static_cast<std::size_t>(variant_index);
    if (index >= arms.size()) arms.resize(index + 1);
    return arms[index];
  }
};

/// A holdout covering the experiment being assigned, with the exposures this call records in it.
struct Enrolment {
  json::object holdout;
  Batch batch;
};

/// Assignment state derived from one version of an experiment, reused across calls.
struct Plan {
  /// The version and update time it was built from. The version alone is not enough: a batch
  /// that fails to commit rolls an experiment back, and a later change reuses its version.
  std::string built_from;
  std::vector<std::string> keys;
  std::unique_ptr<assignment::Allocation> allocation;
  std::optional<json::object> condition;
  std::optional<assignment::Namespace> ns;
};

class ExperimentVerbs {
 public:
  explicit ExperimentVerbs(Engine& engine)
      : engine_(engine), store_(engine.store().db(), engine.store().project()) {}

  // The split `assign` makes, as a GrowthBook experiment rule: the same seed, hash version,
  // coverage, weights and the bucket ranges they give, so an SDK buckets every unit alike.
  static json::object growthbook_rule(const json::object& experiment) {
    const std::string id = text_field(experiment, "id");
    const std::string seed = text_field(experiment, "seed");
    json::array weights, ranges, meta;
    for (double weight : allocation_weights(experiment)) weights.push_back(weight);
    const auto allocation = allocation_of(experiment);
    for (const auto& range : allocation->ranges())
      ranges.push_back(json::array{range.start, range.end});
    for (const auto& variant : experiment.at("variants").get_array()) {
      const std::string name = text_field(variant.get_object(), "name");
      meta.push_back(json::object{{"key", variant.at("key")},
                                  {"name", name.empty() ? variant.at("key") : json::value(name)}});
    }
    json::object rule{{"id", id},
                      {"key", id},
                      {"name", text_field(experiment, "name")},
                      {"seed", seed.empty() ? id : seed},
                      {"hashAttribute", "id"},
                      {"hashVersion", static_cast<int>(number_field(experiment, "hashVersion", 2))},
                      {"coverage", number_field(experiment, "trafficAllocation", 100) / 100.0},
                      {"weights", std::move(weights)},
                      {"ranges", std::move(ranges)},
                      {"meta", std::move(meta)},
                      {"phase", "0"}};
    if (auto condition = target_condition(text_field(experiment, "targetAudience")))
      rule["condition"] = std::move(*condition);
    if (auto ns = parse_namespace(experiment))
      rule["namespace"] = json::array{ns->id, ns->start, ns->end};
    return rule;
  }

  json::value assign(const Noun& noun, const VerbRequest& request, json::object& experiment) {
    auto items = items_of(request.data, "units");
    std::string status = text_field(experiment, "status");
    if (status == "Started") {
      engine_.execute({.noun = noun.name,
                       .verb = "run",
                       .id = text_field(experiment, "id"),
                       .actor = request.actor,
                       .depth = request.depth + 1,
                       .caller = request.caller});
      experiment = engine_.store().get(noun, text_field(experiment, "id")).value();
      status = "Running";
    }
    json::array results;
    Batch batch{.at = now_iso8601(), .sequence = store_.sequence(text_field(experiment, "id"))};
    std::vector<Enrolment> holdouts;
    if (status == "Running")
      for (auto& holdout : covering_holdouts(engine_, experiment))
        holdouts.push_back(enrolment(noun, std::move(holdout), request, batch.at));
    for (const auto& [item, where] : items) {
      only_keys(item, {"unit", "attributes"}, where);
      std::string unit(required_text(item, "unit", kMaxUnitBytes, where));
      const auto* attributes = item.if_contains("attributes");
      if (attributes && !attributes->is_object())
        invalid(where.field("attributes"), "expected an object");
      results.push_back(assign_one(experiment, status, unit,
                                   attributes ? attributes->get_object() : json::object{}, batch,
                                   holdouts));
    }
    std::string id = text_field(experiment, "id");
    const std::int64_t fresh = record_fresh(id, batch);
    for (auto& holdout : holdouts) record_fresh(text_field(holdout.holdout, "id"), holdout.batch);
    if (fresh > 0 && bandit_enabled(experiment)) {
      std::int64_t total = 0;
      for (auto n : store_.exposures(id, plan_for(experiment).keys.size())) total += n;
      auto cadence = static_cast<std::int64_t>(
          number_field(experiment, "banditCadence", kDefaultBanditCadence));
      if (total / cadence != (total - fresh) / cadence) reweight(noun, experiment, request.actor);
    }
    if (request.data.contains("units")) return json::object{{"assignments", std::move(results)}};
    return results.front();
  }

  json::value track(const Noun& noun, const VerbRequest& request, json::object& experiment) {
    std::string status = text_field(experiment, "status");
    if (status == "Started" && is_holdout(experiment)) {
      experiment = enrolment(noun, experiment, request, "").holdout;
      status = "Running";
    }
    if (status != "Running" && status != "Paused")
      throw Error(ErrorCode::kInvalidTransition,
                  "cannot track: experiment is " + status +
                      "; events are recorded while it is Running or Paused",
                  "verb");
    std::string id = text_field(experiment, "id");
    auto items = items_of(request.data, "events");
    // Kinds are looked up once per metric and statistics summed per variant, then written once
    // per batch: per event only the unit's own row is written.
    std::map<std::string, BatchMetric, std::less<>> metrics;
    TrackingStore::Sequence sequence = store_.sequence(id);
    std::int64_t newest_tracked = 0;
    const std::string at = now_iso8601();
    // A holdout takes every unit's events: one it has not seen yet is enrolled by its hash (as
    // assign would) and one in neither arm is passed over, so an application can send it all.
    const bool holdout = is_holdout(experiment);
    Batch enrolled{.at = at, .sequence = sequence};
    std::size_t ignored = 0;
    EventWriter writer = store_.writer(id, at);
    for (const auto& [item, where] : items) {
      only_keys(item, {"unit", "metric", "value", "covariate"}, where);
      const std::string_view unit = required_text(item, "unit", kMaxUnitBytes, where);
      const std::string_view metric = required_text(item, "metric", kMaxMetricBytes, where);
      auto value = optional_number(item, "value", where);
      auto covariate = optional_number(item, "covariate", where);
      MetricKind kind = value ? MetricKind::kMean : MetricKind::kBinomial;
      auto known = metrics.find(metric);
      std::optional<MetricKind> stored;
      if (known == metrics.end()) stored = store_.metric_kind(id, metric);
      if (const MetricKind expected =
              known != metrics.end() ? known->second.kind : stored.value_or(kind);
          expected != kind)
        invalid(where.field(value ? "value" : "metric"),
                "metric '" + std::string(metric) + "' " +
                    (expected == MetricKind::kMean
                         ? "records values (a mean metric); give a value"
                         : "records conversions (a binomial metric); drop the value"));
      auto tracked = writer.track(metric, kind, unit, value, covariate);
      if (!tracked && holdout) {
        if (assign_one(experiment, "Running", std::string(unit), {}, enrolled).at("inExperiment") !=
            true) {
          ++ignored;
          continue;
        }
        tracked = writer.track(metric, kind, unit, value, covariate);
      }
      if (!tracked)
        invalid(where.field("unit"),
                "'" + std::string(unit) + "' was never assigned to " + id +
                    " (assign it first; events of unassigned units are refused)");
      // A metric counts once an event of it is written; a refused batch rolls the row back.
      if (known == metrics.end()) {
        if (!stored && store_.metric_count(id) >= kMaxMetrics)
          invalid(where.field("metric"), "'" + std::string(metric) + "' would be metric number " +
                                             std::to_string(kMaxMetrics + 1) + " of " + id +
                                             "; an experiment tracks at most " +
                                             std::to_string(kMaxMetrics) + " distinct metrics");
        if (!stored) store_.declare_metric(id, metric, kind);
        known = metrics.emplace(metric, BatchMetric{kind}).first;
      }
      if (tracked->repeat) continue;
      newest_tracked = std::max(newest_tracked, tracked->sequence);
      BatchMetric::Arm& arm = known->second.arm(tracked->variant_index);
      arm.touched = true;
      arm.delta += tracked->delta;
    }
    for (const auto& [metric, batch] : metrics)
      for (std::size_t variant = 0; variant < batch.arms.size(); ++variant) {
        const BatchMetric::Arm& arm = batch.arms[variant];
        if (arm.touched) store_.apply(id, metric, static_cast<int>(variant), arm.delta);
        if (arm.delta.positives != 0)
          store_.add_observed_conversions(id, metric, static_cast<int>(variant),
                                          arm.delta.positives);
      }
    if (record_fresh(id, enrolled) > 0) sequence.assigned = enrolled.sequence.assigned;
    if (newest_tracked > sequence.observed_through) {
      sequence.observed_through = newest_tracked;
      store_.set_sequence(id, sequence);
    }
    // The shown posterior follows the outcomes as they arrive; weights move at the cadence.
    if (bandit_enabled(experiment) && metrics.contains(text_field(experiment, "primaryMetric")))
      reweight(noun, experiment, request.actor, Reweight::kPosteriorOnly);
    json::object tracked{{"tracked", items.size() - ignored}};
    if (holdout) tracked["ignored"] = ignored;
    return tracked;
  }

  json::value analyze(const Noun& noun, const VerbRequest& request, json::object& experiment) {
    only_keys(request.data, {}, {});
    const Plan& plan = plan_for(experiment);
    std::string id = text_field(experiment, "id");
    std::vector<std::string> metrics;
    if (auto primary = text_field(experiment, "primaryMetric"); !primary.empty())
      metrics.push_back(primary);
    for (auto& name : split_metrics(text_field(experiment, "metrics")))
      if (std::find(metrics.begin(), metrics.end(), name) == metrics.end()) metrics.push_back(name);
    if (metrics.empty())
      invalid("primaryMetric", "set a primary metric (or metrics) before analyzing");
    const auto guardrails = parse_guardrails(text_field(experiment, "guardrails"));
    for (const auto& guardrail : guardrails)
      if (std::find(metrics.begin(), metrics.end(), guardrail.metric) == metrics.end())
        metrics.push_back(guardrail.metric);
    json::array guardrail_results;
    bool guardrail_harmed = false;

    // A bandit moves traffic on purpose, so the configured split is no yardstick for sample
    // ratio mismatch: the check is made against the observed shares (never a mismatch) and
    // reported as not applicable.
    const bool bandit = bandit_enabled(experiment);
    const json::object* previous = nullptr;
    if (const auto* results = experiment.if_contains("results"); results && results->is_object())
      if (const auto* mins = results->get_object().if_contains("runningMinP");
          mins && mins->is_object())
        previous = &mins->get_object();

    json::object by_metric, running_min, look;
    std::optional<stats::AnalysisResult> primary;
    std::vector<MetricStats> primary_stats;
    bool primary_binomial = true;
    for (const auto& metric : metrics) {
      auto kind = store_.metric_kind(id, metric).value_or(MetricKind::kBinomial);
      auto stats = store_.stats(id, metric, plan.keys.size());
      stats::AnalysisInput input;
      input.metric_type =
          kind == MetricKind::kBinomial ? stats::MetricType::kProportion : stats::MetricType::kMean;
      const auto ratio = ratio_parts(metric);
      std::vector<stats::RatioSums> ratio_per_variant;
      if (ratio) {
        kind = MetricKind::kMean;
        input.metric_type = stats::MetricType::kRatio;
        input.numerator_type = component_type(id, ratio->first);
        input.denominator_type = component_type(id, ratio->second);
        ratio_per_variant =
            ratio_sums(engine_.store().db(), id, ratio->first, ratio->second, plan.keys.size());
        // The summary's "sum" of a ratio is its numerator's.
        for (std::size_t i = 0; i < stats.size(); ++i) stats[i].sum = ratio_per_variant[i].m_sum;
      }
      input.metric_name = metric;
      input.variant_names = display_names(experiment);
      input.conclude_blocked = conclude_blocked(text_field(experiment, "status"));
      input.weights = bandit ? observed_shares(stats) : configured_weights(experiment);
      bool covariates = true;
      for (const auto& s : stats) covariates = covariates && s.has_covariate;
      json::array mins;
      for (std::size_t i = 0; i < stats.size(); ++i) {
        stats::VariantData variant{.n = static_cast<double>(stats[i].n),
                                   .sum = stats[i].sum,
                                   .sum_squares = stats[i].sum_squares};
        if (covariates && !ratio)
          variant.covariate = stats::Covariate{stats[i].pre_sum, stats[i].pre_sum_squares,
                                               stats[i].post_pre_sum_of_products};
        if (ratio) variant.ratio = ratio_per_variant[i];
        if (previous && i > 0)
          if (const auto* list = previous->if_contains(metric);
              list && list->is_array() && list->get_array().size() >= i)
            if (const auto& p = list->get_array()[i - 1]; p.is_number())
              variant.previous_min_sequential_p = p.to_number<double>();
        input.variants.push_back(variant);
      }
      auto result = stats::analyze(input);
      for (const auto& comparison : result.comparisons) mins.push_back(comparison.running_min_p);
      running_min[metric] = std::move(mins);
      by_metric[metric] = camel_case_keys(stats::to_json(result));
      for (const auto& guardrail : guardrails) {
        if (guardrail.metric != metric) continue;
        json::object check = guardrail_result(guardrail, input, result, plan.keys);
        guardrail_harmed = guardrail_harmed || check.at("harmed").as_bool();
        guardrail_results.push_back(std::move(check));
      }
      if (!primary) {
        look = look_json(plan, metric, input.alpha, result);
        primary = std::move(result);
        primary_stats = std::move(stats);
        primary_binomial = kind == MetricKind::kBinomial;
      }
    }

    json::object view = summarize(plan, *primary, primary_stats, primary_binomial);
    if (bandit) view["srm"].as_object()["applicable"] = false;
    if (!guardrails.empty()) {
      view["guardrails"] = guardrail_results;
      view["guardrailHarmed"] = guardrail_harmed;
    }
    json::object results{{"analyzedAt", now_iso8601()},
                         {"primaryMetric", metrics.front()},
                         {"summary", view},
                         {"metrics", by_metric},
                         {"runningMinP", std::move(running_min)}};
    experiment["results"] = std::move(results);
    std::int64_t total = 0;
    for (const auto& s : primary_stats) total += s.n;
    experiment["sampleSize"] = total;
    if (primary_binomial) {
      double conversions = 0;
      for (const auto& s : primary_stats) conversions += s.sum;
      experiment["conversions"] = conversions;
    }
    // Before a conclusion the stored winner is the latest analysis' suggestion, which conclude
    // adopts; afterwards it is the decision that was made, and analyze leaves it alone.
    if (suggests_winner(text_field(experiment, "status"))) {
      if (const auto* winner = view.if_contains("winner")) {
        experiment["winner"] = *winner;
        experiment["confidence"] = view.at("confidence");
      } else {
        experiment.erase("winner");
        experiment.erase("confidence");
      }
    }
    look["units"] = total;
    engine_.persist(noun, experiment, "Analyzed", look, request.actor);
    if (bandit && primary_binomial) reweight(noun, experiment, request.actor);
    view["metrics"] = std::move(by_metric);
    return view;
  }

  json::value plan(const Noun& noun, const VerbRequest& request) {
    if (request.id.empty()) return plan_experiment(request.data, std::nullopt);
    json::object experiment = engine_.get(noun.name, request.id);
    std::string id = text_field(experiment, "id");
    std::string metric = text_field(request.data, "metric");
    if (metric.empty()) metric = text_field(experiment, "primaryMetric");
    if (metric.empty()) {
      auto metrics = split_metrics(text_field(experiment, "metrics"));
      if (metrics.empty()) invalid("metric", "the experiment has no metric yet: name one");
      metric = metrics.front();
    }
    ObservedMetric observed{
        .metric = metric,
        .binomial =
            store_.metric_kind(id, metric).value_or(MetricKind::kBinomial) == MetricKind::kBinomial,
        .keys = plan_for(experiment).keys};
    observed.stats = store_.stats(id, metric, observed.keys.size());
    if (const auto ratio = ratio_parts(metric)) {
      observed.binomial = false;
      observed.ratio =
          ratio_sums(engine_.store().db(), id, ratio->first, ratio->second, observed.keys.size());
      observed.numerator_type = component_type(id, ratio->first);
      observed.denominator_type = component_type(id, ratio->second);
    }
    if (auto start = parse_iso8601_utc(text_field(experiment, "startAt")))
      observed.elapsed_days =
          std::chrono::duration<double>(std::chrono::system_clock::now() - *start).count() / 86400;
    return plan_experiment(request.data, observed);
  }

  json::value check_stats(const json::object& experiment) {
    std::string id = text_field(experiment, "id");
    std::size_t variants = plan_for(experiment).keys.size();
    json::object metrics;
    bool consistent = true;
    auto all_incremental = store_.all_stats(id, variants);
    auto all_recomputed = store_.recompute(id, variants);
    const std::vector<MetricStats> none(variants);
    auto of = [&](const auto& by_metric, const std::string& metric) -> const auto& {
      auto found = by_metric.find(metric);
      return found == by_metric.end() ? none : found->second;
    };
    for (const auto& metric : store_.metrics(id)) {
      const auto& incremental = of(all_incremental, metric);
      const auto& recomputed = of(all_recomputed, metric);
      bool same = true;
      for (std::size_t i = 0; i < variants; ++i) {
        auto close = [](double a, double b) {
          return std::fabs(a - b) <= 1e-6 * std::max(1.0, std::fabs(b));
        };
        same =
            same && incremental[i].n == recomputed[i].n &&
            close(incremental[i].sum, recomputed[i].sum) &&
            close(incremental[i].sum_squares, recomputed[i].sum_squares) &&
            close(incremental[i].pre_sum, recomputed[i].pre_sum) &&
            close(incremental[i].post_pre_sum_of_products, recomputed[i].post_pre_sum_of_products);
      }
      consistent = consistent && same;
      metrics[metric] = same;
    }
    return json::object{{"consistent", consistent}, {"metrics", std::move(metrics)}};
  }

  json::value summary(const Noun& noun) {
    Store& store = engine_.store();
    return json::object{
        {"total", store.count(noun, {})},
        {"running",
         store.count(noun, {{"status", json::object{{"$in", json::array{"Started", "Running"}}}}})},
        // A winner counts once it is decided, not while an analysis of a running experiment
        // merely suggests one.
        {"winnersFound",
         store.count(noun, {{"winner", json::object{{"$exists", true}}},
                            {"status", json::object{{"$in", json::array{"Concluded", "Completed",
                                                                        "Archived"}}}}})},
        {"concluded", store.count(noun, {{"status", "Concluded"}})}};
  }

 private:
  // A conversion metric is a 0/1 value per unit: a proportion component of a ratio.
  stats::MetricType component_type(const std::string& experiment, const std::string& metric) {
    return store_.metric_kind(experiment, metric).value_or(MetricKind::kMean) ==
                   MetricKind::kBinomial
               ? stats::MetricType::kProportion
               : stats::MetricType::kMean;
  }

  const Plan& plan_for(const json::object& experiment) {
    std::string id = text_field(experiment, "id");
    std::string built_from =
        json::serialize(experiment.at("version")) + "@" + text_field(experiment, "updatedAt");
    Plan& plan = plans_[id];
    if (plan.built_from == built_from) return plan;
    plan = Plan{};
    const auto* variants = experiment.if_contains("variants");
    if (!variants || !variants->is_array() || variants->get_array().size() < 2)
      invalid("variants", "the experiment needs at least two variants to assign and analyze");
    for (const auto& variant : variants->get_array())
      plan.keys.push_back(std::string(variant.at("key").get_string()));
    plan.allocation = allocation_of(experiment);
    plan.condition = target_condition(text_field(experiment, "targetAudience"));
    plan.ns = parse_namespace(experiment);
    plan.built_from = std::move(built_from);
    return plan;
  }

  static bool suggests_winner(const std::string& status) {
    return status == "Started" || status == "Running" || status == "Paused";
  }

  static std::string conclude_blocked(const std::string& status) {
    if (status == "Draft" || status == "Started" || status == "Running") return {};
    if (status == "Paused") return "The experiment is Paused: resume it to conclude";
    if (status == "Stopped") return "The experiment is Stopped, so it cannot be concluded";
    return "The experiment is already " + status;
  }

  // Recommendations speak of variants by their names; the key stands in for a missing name.
  static std::vector<std::string> display_names(const json::object& experiment) {
    std::vector<std::string> names;
    for (const auto& variant : experiment.at("variants").get_array()) {
      std::string name = text_field(variant.get_object(), "name");
      names.push_back(name.empty() ? text_field(variant.get_object(), "key") : name);
    }
    return names;
  }

  static std::vector<double> normalized(std::vector<double> weights) {
    double total = 0;
    for (double w : weights) total += w;
    for (double& w : weights) w = total > 0 ? w / total : 1.0 / static_cast<double>(weights.size());
    return weights;
  }

  static std::vector<double> observed_shares(const std::vector<MetricStats>& stats) {
    std::vector<double> shares;
    for (const auto& s : stats) shares.push_back(static_cast<double>(s.n));
    return normalized(std::move(shares));
  }

  static std::vector<double> configured_weights(const json::object& experiment) {
    std::vector<double> weights;
    for (const auto& variant : experiment.at("variants").get_array())
      weights.push_back(number_field(variant.get_object(), "weight", 1));
    return normalized(std::move(weights));
  }

  static std::unique_ptr<assignment::Allocation> allocation_of(const json::object& experiment) {
    const std::string seed = text_field(experiment, "seed");
    return std::make_unique<assignment::Allocation>(
        seed.empty() ? text_field(experiment, "id") : seed,
        is_holdout(experiment) ? holdout_coverage(experiment)
                               : number_field(experiment, "trafficAllocation", 100) / 100.0,
        allocation_weights(experiment),
        static_cast<int>(number_field(experiment, "hashVersion", 2)));
  }

  // Bandit experiments assign by the weights Thompson sampling last computed.
  static std::vector<double> allocation_weights(const json::object& experiment) {
    std::vector<double> weights = configured_weights(experiment);
    const auto& variants = experiment.at("variants").get_array();
    for (std::size_t i = 0; i < variants.size(); ++i)
      if (const auto* w = variants[i].get_object().if_contains("banditWeight"); w && w->is_number())
        weights[i] = w->to_number<double>();
    return normalized(std::move(weights));
  }

  // A covering holdout that is Started starts running with its first exposure, as the
  // experiment itself does.
  Enrolment enrolment(const Noun& noun, json::object holdout, const VerbRequest& request,
                      const std::string& at) {
    const std::string id = text_field(holdout, "id");
    if (text_field(holdout, "status") == "Started") {
      engine_.execute({.noun = noun.name,
                       .verb = "run",
                       .id = id,
                       .actor = request.actor,
                       .depth = request.depth + 1,
                       .caller = request.caller});
      holdout = engine_.store().get(noun, id).value();
    }
    return {std::move(holdout), Batch{.at = at, .sequence = store_.sequence(id)}};
  }

  // Writes what one call's new exposures add up to; returns how many there were.
  std::int64_t record_fresh(const std::string& id, const Batch& batch) {
    if (batch.fresh.empty()) return 0;
    store_.set_sequence(id, batch.sequence);
    std::int64_t fresh = 0;
    for (const auto& [variant, count] : batch.fresh) {
      store_.add_exposures(id, variant, count);
      fresh += count;
    }
    return fresh;
  }

  json::object assign_one(const json::object& experiment, const std::string& status,
                          const std::string& unit, const json::object& attributes, Batch& batch,
                          std::span<Enrolment> holdouts = {}) {
    auto refusal = [&](std::string reason) {
      return json::object{{"variant", nullptr},
                          {"variantIndex", nullptr},
                          {"inExperiment", false},
                          {"bucket", nullptr},
                          {"reason", std::move(reason)}};
    };
    if (status == "Concluded" || status == "Completed" || status == "Archived") {
      std::string winner = text_field(experiment, "winner");
      if (winner.empty()) return refusal("experiment is " + status + " without a winner");
      json::object result = refusal("experiment is " + status + "; serving the winner");
      result["variant"] = winner;
      const auto& variants = experiment.at("variants").get_array();
      for (std::size_t i = 0; i < variants.size(); ++i)
        if (variants[i].at("key") == json::value(winner)) result["variantIndex"] = i;
      return result;
    }
    if (status != "Running") return refusal("experiment is " + status);
    const Plan& plan = plan_for(experiment);
    std::string id = text_field(experiment, "id");
    if (auto exposure = store_.exposure(id, unit))
      return json::object{{"variant", exposure->variant_key},
                          {"variantIndex", exposure->variant_index},
                          {"inExperiment", true},
                          {"bucket", exposure->bucket},
                          {"reason", "sticky"}};
    // Both arms of a holdout are recorded alike, so that its own analysis compares like with
    // like; only the holdout arm is kept out.
    for (auto& enrolment : holdouts) {
      const json::object arm =
          assign_one(enrolment.holdout, "Running", unit, attributes, enrolment.batch);
      if (arm.at("inExperiment") == true && arm.at("variantIndex") == 0) {
        json::object out = refusal("holdout");
        out["holdout"] = enrolment.holdout.at("id");
        return out;
      }
    }
    if (plan.condition && !assignment::eval_condition(attributes, *plan.condition))
      return refusal("targeting");
    if (plan.ns && !assignment::in_namespace(unit, *plan.ns)) return refusal("namespace");
    auto result = plan.allocation->assign(unit);
    if (!result.in_experiment) {
      json::object out = refusal(assignment::to_string(result.reason));
      if (result.bucket) out["bucket"] = *result.bucket;
      return out;
    }
    Exposure exposure{result.variant_index,
                      plan.keys[static_cast<std::size_t>(result.variant_index)],
                      result.bucket.value_or(0)};
    exposure.sequence = ++batch.sequence.assigned;
    store_.record_exposure(id, unit, exposure, batch.at);
    ++batch.fresh[exposure.variant_index];
    return json::object{{"variant", exposure.variant_key},
                        {"variantIndex", exposure.variant_index},
                        {"inExperiment", true},
                        {"bucket", exposure.bucket},
                        {"reason", assignment::to_string(result.reason)}};
  }

  enum class Reweight { kWeights, kPosteriorOnly };

  static bool bandit_enabled(const json::object& experiment) {
    const auto* enabled = experiment.if_contains("banditEnabled");
    return enabled && *enabled == true;
  }

  // Thompson sampling over the units whose outcome could have been reported (assigned no later
  // than the newest unit with a tracked event): a unit still waiting for its conversion is not
  // a failure, so the arm that just received more traffic does not look worse.
  void reweight(const Noun& noun, json::object& experiment, const std::string& actor,
                Reweight mode = Reweight::kWeights) {
    std::string metric = text_field(experiment, "primaryMetric");
    if (metric.empty()) return;
    std::string id = text_field(experiment, "id");
    if (store_.metric_kind(id, metric).value_or(MetricKind::kBinomial) != MetricKind::kBinomial)
      return;
    const Plan& plan = plan_for(experiment);
    std::vector<stats::ArmCounts> arms;
    for (const auto& arm : store_.observed(id, metric, plan.keys.size()))
      arms.push_back({static_cast<double>(arm.n), static_cast<double>(arm.conversions)});
    auto result = stats::ThompsonSampler().update(arms, configured_weights(experiment));
    if (mode == Reweight::kPosteriorOnly) result.reweighted = false;
    auto& variants = experiment.at("variants").as_array();
    if (mode == Reweight::kPosteriorOnly && same_posteriors(variants, result.posteriors)) return;
    for (std::size_t i = 0; i < variants.size(); ++i) {
      auto& variant = variants[i].as_object();
      variant["alpha"] = result.posteriors[i].alpha;
      variant["beta"] = result.posteriors[i].beta;
      variant["probabilityBest"] = result.probability_best[i];
      if (result.reweighted) variant["banditWeight"] = result.weights[i];
    }
    if (mode == Reweight::kPosteriorOnly) {
      engine_.persist(noun, experiment, "PosteriorUpdated", {}, actor);
      return;
    }
    engine_.persist(
        noun, experiment, "Reweighted",
        {{"weights", json::value_from(result.weights)}, {"reweighted", result.reweighted}}, actor);
  }

  // Whether the stored posteriors already are these: events that convert no observed unit
  // (pending units, repeat conversions) leave the experiment's version alone.
  static bool same_posteriors(const json::array& variants,
                              const std::vector<stats::BetaPosterior>& posteriors) {
    for (std::size_t i = 0; i < variants.size(); ++i) {
      const auto& variant = variants[i].as_object();
      const auto* alpha = variant.if_contains("alpha");
      const auto* beta = variant.if_contains("beta");
      if (!alpha || !beta || !alpha->is_number() || !beta->is_number() ||
          alpha->to_number<double>() != posteriors[i].alpha ||
          beta->to_number<double>() != posteriors[i].beta)
        return false;
    }
    return true;
  }

  // The stored results hold the latest look only; the Analyzed event keeps each look's
  // always-valid numbers of the primary metric, so the log answers "how did the evidence
  // build up" (the console plots it) without the entity growing with every look.
  static json::object look_json(const Plan& plan, const std::string& metric, double alpha,
                                const stats::AnalysisResult& result) {
    json::array comparisons;
    for (std::size_t i = 0; i < result.comparisons.size(); ++i) {
      const stats::Comparison& comparison = result.comparisons[i];
      json::object entry{
          {"variant", plan.keys[comparison.variant]},
          {"relativeLift", comparison.lift.estimate},
          {"alwaysValidCI", json::array{comparison.sequential.ci[0], comparison.sequential.ci[1]}},
          {"alwaysValidPValueCurrentLook", comparison.sequential.p_value},
          {"alwaysValidPValueRunningMin", comparison.running_min_p},
          {"alwaysValidPValueAdjusted", result.decision.p_values[i]}};
      // Without data to compare (an empty arm, no variance) the lift and interval are
      // placeholders, not an estimate of "no change": say so.
      if (!comparison.effect.valid) entry["error"] = comparison.effect.error;
      comparisons.push_back(std::move(entry));
    }
    return {{"metric", metric}, {"alpha", alpha}, {"comparisons", std::move(comparisons)}};
  }

  static json::object summarize(const Plan& plan, const stats::AnalysisResult& result,
                                const std::vector<MetricStats>& stats, bool binomial) {
    json::array table;
    for (std::size_t i = 0; i < plan.keys.size(); ++i) {
      json::object row{{"variant", plan.keys[i]}, {"exposures", stats[i].n}};
      row[binomial ? "conversions" : "sum"] = stats[i].sum;
      row[binomial ? "rate" : "mean"] = result.variants[i].mean;
      table.push_back(std::move(row));
    }
    json::object view{{"srm", {{"pValue", result.srm.p_value}, {"mismatch", result.srm.mismatch}}},
                      {"variants", std::move(table)},
                      {"recommendation", result.recommendation}};
    // The headline comparison is the decision's leader, else the treatment with the strongest
    // evidence; winner, confidence and the recommendation all come from the same adjusted p.
    const stats::Decision& decision = result.decision;
    std::optional<std::size_t> headline = decision.leader;
    if (!headline && !decision.p_values.empty())
      headline = static_cast<std::size_t>(
          std::min_element(decision.p_values.begin(), decision.p_values.end()) -
          decision.p_values.begin());
    if (headline) {
      const stats::Comparison& best = result.comparisons[*headline];
      view["comparedVariant"] = plan.keys[best.variant];
      view["pValue"] = best.lift.p_value;
      view["alwaysValidPValueCurrentLook"] = best.sequential.p_value;
      view["msprtLogLRCurrentLook"] = best.sequential.log_lr;
      view["alwaysValidPValueRunningMin"] = best.running_min_p;
      view["alwaysValidPValueAdjusted"] = decision.p_values[*headline];
      view["relativeLift"] = best.lift.estimate;
    }
    if (decision.winner) {
      view["winner"] = plan.keys[*decision.winner];
      // Two decimals, but never a certainty the evidence does not have.
      view["confidence"] = std::min(std::round(decision.confidence * 100) / 100, 99.99);
    }
    return view;
  }

  Engine& engine_;
  TrackingStore store_;
  std::map<std::string, Plan, std::less<>> plans_;
};

// The items after hooks of a batch verb receive: the single form is a batch of one.
json::array batch_of(const json::object& data, std::string_view list) {
  if (const auto* batch = data.if_contains(list)) return batch->get_array();
  json::object item = data;
  item.erase("version");
  return json::array{std::move(item)};
}

// assign's items: each unit with the assignment it got.
json::array assigned_items(const json::object& data, const json::value& result) {
  json::array items = batch_of(data, "units");
  const auto* assignments = result.get_object().if_contains("assignments");
  for (std::size_t i = 0; i < items.size(); ++i) {
    json::object item{{"unit", items[i].at("unit")}};
    for (const auto& [key, value] :
         assignments ? assignments->get_array()[i].get_object() : result.get_object())
      item[key] = value;
    items[i] = std::move(item);
  }
  return items;
}

Verb data_verb(std::string name, std::string event, std::string description,
               std::vector<std::string> from, std::vector<Field> params,
               decltype(Verb::batch_items) batch_items = {}) {
  Verb verb =
      make_verb(std::move(name), VerbKind::kCustom, std::move(event), std::move(description));
  verb.from = std::move(from);
  verb.params = std::move(params);
  verb.batch_items = std::move(batch_items);
  return verb;
}

}  // namespace

void add_experiment_verbs(Engine& engine) {
  auto verbs = std::make_shared<ExperimentVerbs>(engine);
  engine.schema().add_validator("Experiment", [&engine](const json::object& experiment) {
    check_namespace_overlap(engine, experiment);
  });
  auto with_entity = [verbs](auto method) {
    return [verbs, method](Engine&, const Noun& noun, const VerbRequest& request,
                           json::object* entity) -> json::value {
      return ((*verbs).*method)(noun, request, *entity);
    };
  };
  // Applications assign with an evaluator key; reports (analyze, plan, summary) need a reader.
  auto for_role = [](Verb verb, Role role) {
    verb.role = role;
    return verb;
  };
  engine.add_custom_verb(
      "Experiment",
      for_role(
          data_verb(
              "assign", "Assigned",
              "bucket a unit {unit, attributes?} (or {units: [...]}) into a variant, GrowthBook-"
              "compatible; records the exposure",
              {},
              {parse_field("unit", "string", "the unit id, e.g. a user id"),
               parse_field("attributes", "json", "targeting attributes"),
               parse_field("units", "json", "batch: a list of {unit, attributes?}")},
              assigned_items),
          Role::kEvaluator),
      with_entity(&ExperimentVerbs::assign));
  engine.add_custom_verb(
      "Experiment",
      data_verb(
          "track", "Tracked",
          "record a conversion {unit, metric} or a value {unit, metric, value, covariate?}"
          " (or {events: [...]}) for an assigned unit",
          {},
          {parse_field("unit", "string", "an assigned unit"),
           parse_field("metric", "string", "metric name"),
           parse_field("value", "number", "value to add (mean metrics); absent: a conversion"),
           parse_field("covariate", "number", "the unit's pre-period value (CUPED)"),
           parse_field("events", "json", "batch: a list of {unit, metric, value?, covariate?}")},
          [](const json::object& data, const json::value&) { return batch_of(data, "events"); }),
      with_entity(&ExperimentVerbs::track));
  engine.add_custom_verb(
      "Experiment",
      for_role(data_verb("analyze", "Analyzed",
                         "run the statistics (SRM, p-value, mSPRT, lift, Bayesian, CUPED) on the "
                         "primary metric and every metric; stores results, sets winner and "
                         "confidence when the always-valid test is significant",
                         {}, {}),
               Role::kReader),
      with_entity(&ExperimentVerbs::analyze));
  engine.add_custom_verb(
      "Experiment",
      for_role(data_verb("checkStats", "StatsChecked",
                         "compare the incremental statistics with a recomputation from per-unit "
                         "data",
                         {}, {}),
               Role::kReader),
      [verbs](Engine&, const Noun&, const VerbRequest&, json::object* entity) -> json::value {
        return verbs->check_stats(*entity);
      });
  Verb plan = data_verb(
      "plan", "Planned",
      "sample size per arm, MDE, power and days for the fixed-horizon and sequential test; with "
      "an id, planned from the experiment's own data so far, with how much longer it needs",
      {},
      {parse_field("metricType", "string", "proportion or mean (default: the metric's kind)"),
       parse_field("baseline", "number", "conversion rate or per-unit mean"),
       parse_field("stddev", "number", "per-unit standard deviation (mean metrics)"),
       parse_field("mde", "number", "relative effect to detect, 0.05 = +5 %"),
       parse_field("sampleSizePerArm", "number", "units per arm available (gives the MDE)"),
       parse_field("variants", "number", "number of arms including the control (default 2)"),
       parse_field("alpha", "number", "false-positive rate (default 0.05)"),
       parse_field("power", "number", "target power (default 0.8)"),
       parse_field("dailyTraffic", "number", "units per day reaching the experiment"),
       parse_field("trafficAllocation", "number", "share of that traffic included, (0, 1]"),
       parse_field("sequentialTuningParameter", "number", "N* of the always-valid test (5000)"),
       parse_field("metric", "string", "with an id: the metric to plan (default: primary)")});
  plan.needs_entity = false;
  plan.role = Role::kReader;
  plan.before_hook = "planning";
  plan.after_hook = "planned";
  engine.add_custom_verb(
      "Experiment", std::move(plan),
      [verbs](Engine&, const Noun& noun, const VerbRequest& request, json::object*) -> json::value {
        return verbs->plan(noun, request);
      });
  Verb summary =
      data_verb("summary", "Summarized",
                "stat cards for the experiments list: total, running, winners found", {}, {});
  summary.needs_entity = false;
  summary.role = Role::kReader;
  summary.before_hook = "summarizing";
  summary.after_hook = "summarized";
  engine.add_custom_verb("Experiment", std::move(summary),
                         [verbs](Engine&, const Noun& noun, const VerbRequest&,
                                 json::object*) -> json::value { return verbs->summary(noun); });
}

json::object growthbook_experiment_rule(const json::object& experiment) {
  return ExperimentVerbs::growthbook_rule(experiment);
}

}  // namespace verdict::tracking
