#include "core/tracking/experiment_plan.hpp"

#include "core/error.hpp"
#include "core/stats/json_fields.hpp"
#include "core/stats/power.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <utility>

namespace verdict::tracking {

namespace json = boost::json;

namespace {

// A ratio of means m/d over n units, as a mean: the ratio, and the per-unit standard deviation
// whose square over n is the delta method's variance of the ratio (gbstats' RatioStatistic).
std::pair<double, double> ratio_as_mean(const stats::RatioSums& sums, double n) {
  const double mean_m = sums.m_sum / n, mean_d = sums.d_sum / n;
  const double var_m = (sums.m_sum_squares - sums.m_sum * mean_m) / (n - 1);
  const double var_d = (sums.d_sum_squares - sums.d_sum * mean_d) / (n - 1);
  const double cov = (sums.m_d_sum_of_products - sums.m_sum * mean_d) / (n - 1);
  const double ratio = mean_m / mean_d;
  const double variance = (var_m - 2 * ratio * cov + ratio * ratio * var_d) / (mean_d * mean_d);
  return {ratio, std::sqrt(std::max(0.0, variance))};
}

// The control's observed mean and standard deviation stand in for the planning baseline.
json::object observed_defaults(const ObservedMetric& observed, const json::object& data) {
  json::object request = data;
  request.emplace("metricType",
                  observed.binomial && observed.ratio.empty() ? "proportion" : "mean");
  if (!data.contains("baseline")) {
    const MetricStats& control = observed.stats.at(0);
    if (control.n < 2)
      invalid("baseline", "the control has fewer than 2 units of " + observed.metric +
                              " so far: give baseline (and stddev for a mean metric)");
    const double n = static_cast<double>(control.n);
    if (!observed.ratio.empty()) {
      if (!(observed.ratio[0].d_sum > 0))
        invalid("baseline", "the control has no " + observed.metric +
                                " denominator tracked so far: give baseline and stddev");
      const auto [ratio, stddev] = ratio_as_mean(observed.ratio[0], n);
      request["baseline"] = ratio;
      if (!data.contains("stddev")) request["stddev"] = stddev;
    } else {
      const double mean = control.sum / n;
      request["baseline"] = mean;
      if (!observed.binomial && !data.contains("stddev"))
        request["stddev"] =
            std::sqrt(std::max(0.0, (control.sum_squares - control.sum * mean) / (n - 1)));
    }
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
    for (const std::size_t arm : {std::size_t{0}, i}) {
      const MetricStats& stats = observed.stats[arm];
      input.variants.push_back(
          {.n = static_cast<double>(stats.n), .sum = stats.sum, .sum_squares = stats.sum_squares});
      if (!observed.ratio.empty()) input.variants.back().ratio = observed.ratio[arm];
    }
    if (!observed.ratio.empty()) {
      input.metric_type = stats::MetricType::kRatio;
      input.numerator_type = observed.numerator_type;
      input.denominator_type = observed.denominator_type;
    }
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
