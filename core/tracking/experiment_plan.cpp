#include "core/tracking/experiment_plan.hpp"

#include "core/error.hpp"
#include "core/stats/json_fields.hpp"
#include "core/stats/power.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>

namespace verdict::tracking {

namespace json = boost::json;

namespace {

// The control's observed mean and standard deviation stand in for the planning baseline.
json::object observed_defaults(const ObservedMetric& observed, const json::object& data) {
  json::object request = data;
  request.emplace("metricType", observed.binomial ? "proportion" : "mean");
  if (!data.contains("baseline")) {
    const MetricStats& control = observed.stats.at(0);
    if (control.n < 2)
      invalid("baseline", "the control has fewer than 2 units of " + observed.metric +
                              " so far: give baseline (and stddev for a mean metric)");
    const double n = static_cast<double>(control.n);
    const double mean = control.sum / n;
    request["baseline"] = mean;
    if (!observed.binomial && !data.contains("stddev"))
      request["stddev"] =
          std::sqrt(std::max(0.0, (control.sum_squares - control.sum * mean) / (n - 1)));
  }
  request.emplace("variants", static_cast<std::int64_t>(observed.keys.size()));
  double total = 0;
  for (const auto& arm : observed.stats) total += static_cast<double>(arm.n);
  // Observed traffic is already the allocated share, so the allocation is not applied again.
  if (observed.elapsed_days && *observed.elapsed_days > 0 && total > 0 &&
      !data.contains("dailyTraffic")) {
    request["dailyTraffic"] = total / *observed.elapsed_days;
    request["trafficAllocation"] = 1;
  }
  return request;
}

// gbstats' additional units for every treatment against the control; the slowest one decides.
json::object how_much_longer(const ObservedMetric& observed, const stats::PlanRequest& request,
                             bool sequential) {
  const auto k = static_cast<double>(observed.keys.size());
  json::object slowest{{"additionalUnits", 0}, {"variant", nullptr}};
  for (std::size_t i = 1; i < observed.stats.size(); ++i) {
    stats::AnalysisInput input;
    input.metric_type =
        observed.binomial ? stats::MetricType::kProportion : stats::MetricType::kMean;
    input.alpha = request.alpha;
    input.sequential_tuning_parameter = request.tuning_parameter;
    input.weights = {0.5, 0.5};
    for (const MetricStats* arm : {&observed.stats[0], &observed.stats[i]})
      input.variants.push_back(
          {.n = static_cast<double>(arm->n), .sum = arm->sum, .sum_squares = arm->sum_squares});
    stats::MidExperimentSettings settings;
    settings.sequential = sequential;
    settings.target_mde = *request.mde;
    settings.num_variations = static_cast<int>(k);
    settings.target_power = request.power;
    const json::object result = stats::mid_experiment_power(input, settings);
    const json::object& response = result.at("powerResponse").as_object();
    if (response.at("scalingFactor").is_null()) {
      const json::value& error = response.at("errorMessage");
      return json::object{
          {"additionalUnits", nullptr},
          {"variant", observed.keys[i]},
          {"reason", error.is_string() ? error : json::value("the target is out of reach")}};
    }
    // gbstats counts the pair; every arm needs as many more units as each arm of the pair.
    const json::value& pairwise = result.at("additionalUsers");
    const double units = pairwise.is_number() ? pairwise.to_number<double>() * k / 2 : 0;
    if (units > slowest.at("additionalUnits").to_number<double>() ||
        slowest.at("variant").is_null())
      slowest = json::object{{"additionalUnits", stats::json_count(std::ceil(units))},
                             {"variant", observed.keys[i]},
                             {"power", result.at("powerAtScalingFactor")}};
  }
  const json::value& more = slowest.at("additionalUnits");
  if (more.is_number() && request.daily_traffic)
    slowest["days"] = stats::json_count(std::ceil(
        more.to_number<double>() / (*request.daily_traffic * request.traffic_allocation)));
  return slowest;
}

}  // namespace

json::object plan_experiment(const json::object& data,
                             const std::optional<ObservedMetric>& observed) {
  if (!observed) return stats::plan(stats::parse_plan_request(data));
  json::object fields = observed_defaults(*observed, data);
  fields.erase("metric");
  const stats::PlanRequest request = stats::parse_plan_request(fields);
  json::object out = stats::plan(request);
  json::array units;
  std::int64_t total = 0;
  for (const auto& arm : observed->stats) {
    units.push_back(arm.n);
    total += arm.n;
  }
  out["observed"] = json::object{
      {"metric", observed->metric},
      {"unitsPerArm", std::move(units)},
      {"totalUnits", total},
      {"elapsedDays", observed->elapsed_days ? json::value(*observed->elapsed_days) : nullptr},
      {"dailyTraffic",
       request.daily_traffic ? json::value(*request.daily_traffic) : json::value(nullptr)}};
  if (request.mde)
    out["howMuchLonger"] =
        json::object{{"fixedHorizon", how_much_longer(*observed, request, false)},
                     {"sequential", how_much_longer(*observed, request, true)}};
  return out;
}

}  // namespace verdict::tracking
