#include "core/stats/thompson_sampler.hpp"

#include "core/error.hpp"

#include <boost/math/quadrature/gauss.hpp>
#include <boost/math/special_functions/beta.hpp>
#include <boost/math/special_functions/gamma.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace verdict::stats {
namespace {

// Above this many terms the closed form costs more than quadrature.
constexpr double kMaxClosedFormTerms = 20000;
// Posterior mass left outside each arm's integration window, per tail.
constexpr double kTailMass = 1e-13;
constexpr int kPanels = 4;

// Evan Miller's closed form of P(X2 > X1), X1 ~ Beta(a1, b1), X2 ~ Beta(a2, b2), integer a2:
// sum_{i < a2} B(a1 + i, b1 + b2) / ((b2 + i) B(1 + i, b2) B(a1, b1)). Consecutive terms differ
// by a rational factor, so only the first needs log-gamma; the sum is kept scaled in log space
// because early terms can underflow.
double miller_sum(double a1, double b1, double a2, double b2) {
  using boost::math::lgamma;
  double log_term = lgamma(b1 + b2) - lgamma(a1 + b1 + b2) - lgamma(b1) + lgamma(a1 + b1);
  double log_scale = log_term;
  double scaled_sum = 0;
  for (double i = 0; i < a2; ++i) {
    if (log_term > log_scale) {
      scaled_sum *= std::exp(log_scale - log_term);
      log_scale = log_term;
    }
    scaled_sum += std::exp(log_term - log_scale);
    log_term += std::log((a1 + i) * (b2 + i) / ((a1 + b1 + b2 + i) * (1 + i)));
  }
  return std::clamp(std::exp(log_scale) * scaled_sum, 0.0, 1.0);
}

bool is_whole(double value) {
  return value == std::floor(value);
}

struct Window {
  double low;
  double high;
};

Window support_window(const BetaPosterior& posterior) {
  return {boost::math::ibeta_inv(posterior.alpha, posterior.beta, kTailMass),
          boost::math::ibetac_inv(posterior.alpha, posterior.beta, kTailMass)};
}

std::vector<double> probability_best_by_quadrature(const std::vector<BetaPosterior>& arms) {
  using Rule = boost::math::quadrature::gauss<double, 20>;
  std::vector<Window> windows;
  windows.reserve(arms.size());
  for (const BetaPosterior& arm : arms) windows.push_back(support_window(arm));

  std::vector<double> best(arms.size());
  for (std::size_t k = 0; k < arms.size(); ++k) {
    const auto integrand = [&](double x) {
      double product = boost::math::ibeta_derivative(arms[k].alpha, arms[k].beta, x);
      for (std::size_t j = 0; j < arms.size() && product > 0; ++j) {
        if (j == k || x >= windows[j].high) continue;
        product =
            x <= windows[j].low ? 0 : product * boost::math::ibeta(arms[j].alpha, arms[j].beta, x);
      }
      return product;
    };
    const double width = (windows[k].high - windows[k].low) / kPanels;
    for (int panel = 0; panel < kPanels; ++panel) {
      const double low = windows[k].low + panel * width;
      best[k] += Rule::integrate(integrand, low, low + width);
    }
  }
  const double total = std::accumulate(best.begin(), best.end(), 0.0);
  if (total > 0) {
    for (double& p : best) p = std::clamp(p / total, 0.0, 1.0);
  }
  return best;
}

}  // namespace

BetaPosterior beta_posterior(const ArmCounts& arm) {
  return {arm.successes + 1, arm.n - arm.successes + 1};
}

double probability_b_beats_a(const BetaPosterior& a, const BetaPosterior& b) {
  // The four symmetric forms of the sum (swap the arms, or mirror x -> 1 - x); each sums
  // over its third argument, so take the form where that is smallest.
  struct Form {
    double a1, b1, a2, b2;
    bool complement;
  };
  const Form forms[] = {{a.alpha, a.beta, b.alpha, b.beta, false},
                        {b.alpha, b.beta, a.alpha, a.beta, true},
                        {b.beta, b.alpha, a.beta, a.alpha, false},
                        {a.beta, a.alpha, b.beta, b.alpha, true}};
  const Form* cheapest = nullptr;
  for (const Form& form : forms) {
    if (is_whole(form.a2) && (!cheapest || form.a2 < cheapest->a2)) cheapest = &form;
  }
  if (cheapest && cheapest->a2 <= kMaxClosedFormTerms) {
    const double sum = miller_sum(cheapest->a1, cheapest->b1, cheapest->a2, cheapest->b2);
    return cheapest->complement ? 1 - sum : sum;
  }
  return probability_best_by_quadrature({a, b})[1];
}

std::vector<double> probability_best(const std::vector<BetaPosterior>& posteriors) {
  if (posteriors.size() == 1) return {1.0};
  if (posteriors.size() == 2) {
    const double b_wins = probability_b_beats_a(posteriors[0], posteriors[1]);
    return {1 - b_wins, b_wins};
  }
  return probability_best_by_quadrature(posteriors);
}

std::vector<double> apply_weight_floor(const std::vector<double>& weights, double floor) {
  const std::size_t size = weights.size();
  std::vector<bool> pinned(size, false);
  std::vector<double> result(size, floor);
  // Pinning an arm at the floor shrinks the mass left for the others, which can push another
  // arm below the floor; at most `size` rounds.
  for (std::size_t round = 0; round <= size; ++round) {
    double free_weight = 0;
    std::size_t free_arms = 0;
    for (std::size_t i = 0; i < size; ++i) {
      if (!pinned[i]) {
        free_weight += weights[i];
        ++free_arms;
      }
    }
    const double free_mass = 1 - floor * static_cast<double>(size - free_arms);
    bool changed = false;
    for (std::size_t i = 0; i < size; ++i) {
      if (pinned[i]) continue;
      result[i] = free_weight > 0 ? free_mass * weights[i] / free_weight
                                  : free_mass / static_cast<double>(free_arms);
      if (result[i] < floor) {
        pinned[i] = true;
        result[i] = floor;
        changed = true;
      }
    }
    if (!changed) break;
  }
  return result;
}

ThompsonSampler::Result ThompsonSampler::update(
    const std::vector<ArmCounts>& arms, const std::vector<double>& configured_weights) const {
  if (configured_weights.size() != arms.size()) {
    invalid("weights", "must have one entry per arm (" + std::to_string(arms.size()) + "), got " +
                           std::to_string(configured_weights.size()));
  }
  Result result;
  for (const ArmCounts& arm : arms) result.posteriors.push_back(beta_posterior(arm));
  if (arms.empty()) return result;
  result.probability_best = probability_best(result.posteriors);

  const bool enough_units = std::all_of(arms.begin(), arms.end(), [this](const ArmCounts& arm) {
    return arm.n >= config_.min_units;
  });
  if (!enough_units) {
    const double total = std::accumulate(configured_weights.begin(), configured_weights.end(), 0.0);
    for (double weight : configured_weights) {
      result.weights.push_back(total > 0 ? weight / total : 1.0 / arms.size());
    }
    return result;
  }
  result.weights = apply_weight_floor(result.probability_best, config_.floor);
  result.reweighted = true;
  return result;
}

}  // namespace verdict::stats
