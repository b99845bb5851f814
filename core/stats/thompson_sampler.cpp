#include "core/stats/thompson_sampler.hpp"

#include "core/error.hpp"

#include <boost/math/quadrature/gauss.hpp>
#include <boost/math/special_functions/gamma.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

namespace verdict::stats {
namespace {

// Above this many terms the closed form costs more than quadrature.
constexpr double kMaxClosedFormTerms = 20000;

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

// Gauss-Legendre rule on [-1, 1] plus its integration matrix: integral[i][l] is the integral
// from -1 to node i of the l-th Lagrange basis polynomial, so integral * f gives the running
// integral of f at every node, as accurate as the rule itself.
struct PanelRule {
  static constexpr int kNodes = 16;
  std::array<double, kNodes> nodes{};
  std::array<double, kNodes> weights{};
  std::array<std::array<double, kNodes>, kNodes> integral{};

  PanelRule() {
    using Gauss = boost::math::quadrature::gauss<double, kNodes>;
    for (int i = 0; i < kNodes / 2; ++i) {
      nodes[i] = -Gauss::abscissa()[kNodes / 2 - 1 - i];
      nodes[kNodes - 1 - i] = Gauss::abscissa()[kNodes / 2 - 1 - i];
      weights[i] = weights[kNodes - 1 - i] = Gauss::weights()[kNodes / 2 - 1 - i];
    }
    for (int i = 0; i < kNodes; ++i) {
      // Map the rule onto [-1, nodes[i]]; it integrates the degree-15 basis exactly.
      const double half = (nodes[i] + 1) / 2;
      for (int q = 0; q < kNodes; ++q) {
        const double t = -1 + half * (nodes[q] + 1);
        for (int l = 0; l < kNodes; ++l) {
          double basis = 1;
          for (int m = 0; m < kNodes; ++m) {
            if (m != l) basis *= (t - nodes[m]) / (nodes[l] - nodes[m]);
          }
          integral[i][l] += half * weights[q] * basis;
        }
      }
    }
  }
};

const PanelRule& panel_rule() {
  static const PanelRule rule;
  return rule;
}

// A Beta posterior prepared for integration: normalising constant and the window outside of
// which its density is below e^-40 of the peak (log-concave for alpha, beta >= 1, so the mass
// left out is negligible at any sample size).
class ArmDensity {
 public:
  explicit ArmDensity(const BetaPosterior& posterior)
      : a_(posterior.alpha),
        b_(posterior.beta),
        log_norm_(boost::math::lgamma(a_ + b_) - boost::math::lgamma(a_) -
                  boost::math::lgamma(b_)) {
    const double mode = a_ + b_ > 2 ? (a_ - 1) / (a_ + b_ - 2) : 0.5;
    const double floor = log_pdf(mode) - kLogDensityRange;
    low_ = a_ == 1 ? 0 : edge(mode, 0, floor);
    high_ = b_ == 1 ? 1 : edge(mode, 1, floor);
  }

  double low() const { return low_; }
  double high() const { return high_; }

  double pdf(double x) const { return x < low_ || x > high_ ? 0 : std::exp(log_pdf(x)); }

 private:
  static constexpr double kLogDensityRange = 40;

  double log_pdf(double x) const {
    double log_density = log_norm_;
    if (a_ != 1) log_density += (a_ - 1) * std::log(x);
    if (b_ != 1) log_density += (b_ - 1) * std::log1p(-x);
    return log_density;
  }

  // Bisection between the mode (above `floor`) and the boundary (below it).
  double edge(double inside, double outside, double floor) const {
    for (int i = 0; i < 60; ++i) {
      const double mid = (inside + outside) / 2;
      (log_pdf(mid) >= floor ? inside : outside) = mid;
    }
    return outside;
  }

  double a_;
  double b_;
  double log_norm_;
  double low_ = 0;
  double high_ = 1;
};

// P(arm k is best) = integral of f_k(x) * prod_{j != k} F_j(x). Every density and CDF is
// evaluated on one grid: panels split each arm's window in kPanels, and the union of all panel
// edges cuts [0, 1] into intervals on which every density is smooth. The CDFs come from the
// same nodes through the integration matrix, so no incomplete beta function is evaluated.
std::vector<double> probability_best_by_quadrature(const std::vector<BetaPosterior>& arms) {
  constexpr int kPanels = 4;
  constexpr int kNodes = PanelRule::kNodes;
  const PanelRule& rule = panel_rule();
  const std::size_t count = arms.size();

  std::vector<ArmDensity> densities;
  std::vector<double> edges;
  for (const BetaPosterior& arm : arms) {
    const ArmDensity& density = densities.emplace_back(arm);
    for (int panel = 0; panel <= kPanels; ++panel) {
      edges.push_back(density.low() + (density.high() - density.low()) * panel / kPanels);
    }
  }
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());

  std::vector<double> best(count, 0.0);
  std::vector<double> cdf_at_left(count, 0.0);
  std::vector<std::array<double, kNodes>> pdf(count);
  std::vector<std::array<double, kNodes>> cdf(count);
  std::vector<double> suffix(count + 1);
  for (std::size_t e = 0; e + 1 < edges.size(); ++e) {
    const double half = (edges[e + 1] - edges[e]) / 2;
    const double middle = (edges[e + 1] + edges[e]) / 2;
    for (std::size_t j = 0; j < count; ++j) {
      double mass = 0;
      for (int i = 0; i < kNodes; ++i) {
        pdf[j][i] = densities[j].pdf(middle + half * rule.nodes[i]);
        mass += half * rule.weights[i] * pdf[j][i];
      }
      for (int i = 0; i < kNodes; ++i) {
        double running = 0;
        for (int l = 0; l < kNodes; ++l) running += rule.integral[i][l] * pdf[j][l];
        cdf[j][i] = std::clamp(cdf_at_left[j] + half * running, 0.0, 1.0);
      }
      cdf_at_left[j] += mass;
    }
    for (int i = 0; i < kNodes; ++i) {
      // prod_{j != k} F_j from prefix and suffix products, O(count) per node.
      suffix[count] = 1;
      for (std::size_t j = count; j-- > 0;) suffix[j] = suffix[j + 1] * cdf[j][i];
      double prefix = 1;
      for (std::size_t k = 0; k < count; ++k) {
        best[k] += half * rule.weights[i] * pdf[k][i] * prefix * suffix[k + 1];
        prefix *= cdf[k][i];
      }
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
  for (std::size_t i = 0; i < posteriors.size(); ++i) {
    const BetaPosterior& posterior = posteriors[i];
    if (!(posterior.alpha >= 1 && posterior.beta >= 1) || !std::isfinite(posterior.alpha) ||
        !std::isfinite(posterior.beta)) {
      invalid("posteriors[" + std::to_string(i) + "]", "alpha and beta must be finite and >= 1");
    }
  }
  if (posteriors.size() == 1) return {1.0};
  if (posteriors.size() == 2) {
    const double b_wins = probability_b_beats_a(posteriors[0], posteriors[1]);
    return {1 - b_wins, b_wins};
  }
  return probability_best_by_quadrature(posteriors);
}

std::vector<double> apply_weight_floor(const std::vector<double>& weights, double floor) {
  const auto size = static_cast<double>(weights.size());
  const double total_floor = floor * size;
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  std::vector<double> result(weights.size(), 1 / size);
  if (total_floor >= 1 || !(total > 0)) return result;
  for (std::size_t i = 0; i < weights.size(); ++i)
    result[i] = floor + (1 - total_floor) * weights[i] / total;
  return result;
}

ThompsonSampler::Result ThompsonSampler::update(
    const std::vector<ArmCounts>& arms, const std::vector<double>& configured_weights) const {
  if (configured_weights.size() != arms.size()) {
    invalid("weights", "must have one entry per arm (" + std::to_string(arms.size()) + "), got " +
                           std::to_string(configured_weights.size()));
  }
  Result result;
  for (std::size_t i = 0; i < arms.size(); ++i) {
    const ArmCounts& arm = arms[i];
    const std::string field = "arms[" + std::to_string(i) + "]";
    if (!std::isfinite(arm.n) || arm.n < 0)
      invalid(field + ".n", "must be a non-negative finite number");
    if (!(arm.successes >= 0 && arm.successes <= arm.n)) {
      invalid(field + ".successes", "must be between 0 and n");
    }
    result.posteriors.push_back(beta_posterior(arm));
  }
  if (arms.empty()) return result;
  if (config_.inverse) {
    // X ~ Beta(a, b) means 1 - X ~ Beta(b, a): the lowest rate is the best of the mirrored arms.
    std::vector<BetaPosterior> mirrored;
    for (const BetaPosterior& posterior : result.posteriors)
      mirrored.push_back({posterior.beta, posterior.alpha});
    result.probability_best = probability_best(mirrored);
  } else {
    result.probability_best = probability_best(result.posteriors);
  }

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
