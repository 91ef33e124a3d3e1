// `herd optimize`: budget allocation by SLSQP (NLopt) on the posterior expected response, or
// on a risk-aware version of it, with analytic gradients through the response curves.
#include <nlopt.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "herd/analysis/analysis.hpp"

namespace herd {

double objective_value(const ResponseModel& r, const std::string& objective, const double* x, double* grad) {
  const int n = r.draws(), C = r.channels();
  const auto Cs = static_cast<size_t>(C), N = static_cast<size_t>(n);
  if (objective == "mean") return r.mean_outcome(x, grad);
  // Risk-aware objectives need every draw's outcome first, then the gradients of the draws
  // that define the statistic (a subgradient where draws tie).
  std::vector<double> y(N);
  r.outcomes(x, y.data());
  std::vector<size_t> order(N);
  for (size_t i = 0; i < N; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return y[a] < y[b]; });
  std::vector<std::pair<size_t, double>> weights;  // draw, weight
  if (objective == "q10") {
    // Type-7 quantile: interpolate between the two order statistics around 0.1 (n - 1).
    const double h = 0.1 * static_cast<double>(N - 1);
    const auto lo = static_cast<size_t>(std::floor(h));
    const size_t hi = std::min(lo + 1, N - 1);
    const double frac = h - static_cast<double>(lo);
    weights = {{order[lo], 1 - frac}, {order[hi], frac}};
  } else if (objective == "cvar10") {
    const size_t k = std::max<size_t>(1, N / 10);
    for (size_t j = 0; j < k; ++j) weights.push_back({order[j], 1.0 / static_cast<double>(k)});
  } else {
    throw std::invalid_argument("--objective must be mean, q10 or cvar10, not \"" + objective + "\"");
  }
  double v = 0;
  std::vector<double> g(Cs);
  if (grad) std::fill(grad, grad + C, 0.0);
  for (const auto& [i, w] : weights) {
    v += w * y[i];
    if (grad) {
      r.outcome(static_cast<int>(i), x, g.data());
      for (size_t c = 0; c < Cs; ++c) grad[c] += w * g[c];
    }
  }
  return v;
}

namespace {

// The free channels as NLopt sees them, in units of `unit` spend, objective divided by `norm`.
struct Problem {
  const ResponseModel* r;
  std::string objective;
  std::vector<int> free;  // channel of each variable
  std::vector<double> full;
  double unit = 1, norm = 1;
  int evals = 0;
};

double nl_objective(unsigned n, const double* z, double* grad, void* data) {
  auto* p = static_cast<Problem*>(data);
  ++p->evals;
  for (unsigned j = 0; j < n; ++j) p->full[static_cast<size_t>(p->free[j])] = z[j] * p->unit;
  std::vector<double> g(p->full.size());
  const double v = objective_value(*p->r, p->objective, p->full.data(), grad ? g.data() : nullptr);
  if (grad)
    for (unsigned j = 0; j < n; ++j) grad[j] = g[static_cast<size_t>(p->free[j])] * p->unit / p->norm;
  return v / p->norm;
}

double nl_budget(unsigned n, const double* z, double* grad, void* data) {
  const double target = *static_cast<const double*>(data);
  double s = 0;
  for (unsigned j = 0; j < n; ++j) {
    s += z[j];
    if (grad) grad[j] = 1;
  }
  return s - target;
}

// The point of the box closest to `x` (by a common shift) whose coordinates sum to `total`.
std::vector<double> project(const std::vector<double>& x, const std::vector<double>& lo, const std::vector<double>& hi,
                            double total) {
  auto sum_at = [&](double shift) {
    double s = 0;
    for (size_t i = 0; i < x.size(); ++i) s += std::clamp(x[i] + shift, lo[i], hi[i]);
    return s;
  };
  // A total at (or, by rounding, past) an end of the box is that end: the shift searches
  // below would never stop there.
  if (total >= sum_at(std::numeric_limits<double>::infinity())) return hi;
  if (total <= sum_at(-std::numeric_limits<double>::infinity())) return lo;
  double a = -1, b = 1;
  while (sum_at(a) > total) a *= 2;
  while (sum_at(b) < total) b *= 2;
  for (int it = 0; it < 200; ++it) {
    const double m = 0.5 * (a + b);
    (sum_at(m) < total ? a : b) = m;
  }
  std::vector<double> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = std::clamp(x[i] + 0.5 * (a + b), lo[i], hi[i]);
  return out;
}

}  // namespace

OptimizeResult optimize(const ResponseModel& r, const OptimizeOptions& o) {
  const int C = r.channels();
  const auto Cs = static_cast<size_t>(C);
  OptimizeResult res;
  res.objective = o.objective;
  res.current = r.current();
  res.lower = o.lower.empty() ? std::vector<double>(Cs) : o.lower;
  res.upper = o.upper.empty() ? std::vector<double>(Cs) : o.upper;
  if (o.lower.empty())
    for (size_t c = 0; c < Cs; ++c) {
      res.lower[c] = res.current[c] * (1 - o.bound_fraction);
      res.upper[c] = res.current[c] * (1 + o.bound_fraction);
    }
  double total = 0;
  for (double x : res.current) total += x;
  res.budget = o.budget.value_or(total);
  double lo_sum = 0, hi_sum = 0;
  for (size_t c = 0; c < Cs; ++c) {
    if (!(res.lower[c] <= res.upper[c]) || res.lower[c] < 0)
      throw std::invalid_argument("bounds of channel " + std::to_string(c) + " are empty or negative");
    lo_sum += res.lower[c];
    hi_sum += res.upper[c];
  }
  const double slack = 1e-9 * std::max(1.0, res.budget);
  if (res.budget < lo_sum - slack || res.budget > hi_sum + slack)
    throw std::invalid_argument("budget " + std::to_string(res.budget) + " per week lies outside what the bounds allow [" +
                                std::to_string(lo_sum) + ", " + std::to_string(hi_sum) + "]");

  Problem p;
  p.r = &r;
  p.objective = o.objective;
  p.full = project(res.current, res.lower, res.upper, res.budget);
  double fixed = 0;
  for (int c = 0; c < C; ++c) {
    if (res.upper[static_cast<size_t>(c)] - res.lower[static_cast<size_t>(c)] > slack)
      p.free.push_back(c);
    else
      fixed += p.full[static_cast<size_t>(c)];
  }
  const std::vector<double> start = p.full;
  const double start_value = objective_value(r, o.objective, start.data(), nullptr);
  std::vector<double> best = start;
  double best_value = start_value;
  const auto nf = static_cast<unsigned>(p.free.size());
  if (nf > 1) {
    p.unit = std::max(res.budget / static_cast<double>(C), 1e-300);
    p.norm = std::max(std::fabs(start_value), 1e-300);
    double target = (res.budget - fixed) / p.unit;
    std::vector<double> zlo(nf), zhi(nf);
    for (unsigned j = 0; j < nf; ++j) {
      zlo[j] = res.lower[static_cast<size_t>(p.free[j])] / p.unit;
      zhi[j] = res.upper[static_cast<size_t>(p.free[j])] / p.unit;
    }
    // Three starts: the current allocation (projected by a common shift), the current mix
    // scaled to the budget, and the middle of the box (projected); S-shaped curves can leave
    // SLSQP at a local optimum from any one of them (far from today's budget the shifted
    // start sits in a corner: all of a small budget on one channel).
    std::vector<std::vector<double>> starts;
    if (!o.start.empty()) {
      // A neighbouring budget's answer, scaled to this budget: one start.
      std::vector<double> near(nf);
      double near_free = 0;
      for (unsigned j = 0; j < nf; ++j) near_free += o.start[static_cast<size_t>(p.free[j])];
      for (unsigned j = 0; j < nf; ++j)
        near[j] = near_free > 0 ? o.start[static_cast<size_t>(p.free[j])] / near_free * target : target / nf;
      starts.push_back(project(near, zlo, zhi, target));
    } else {
      std::vector<double> z(nf), mix(nf), mid(nf);
      double free_now = 0;
      for (unsigned j = 0; j < nf; ++j) free_now += res.current[static_cast<size_t>(p.free[j])];
      for (unsigned j = 0; j < nf; ++j) {
        z[j] = start[static_cast<size_t>(p.free[j])] / p.unit;
        mix[j] = free_now > 0 ? res.current[static_cast<size_t>(p.free[j])] / free_now * target : target / nf;
        mid[j] = 0.5 * (zlo[j] + zhi[j]);
      }
      starts.push_back(z);
      starts.push_back(project(mix, zlo, zhi, target));
      starts.push_back(project(mid, zlo, zhi, target));
    }
    std::vector<double> flo(nf), fhi(nf);
    for (unsigned j = 0; j < nf; ++j) {
      flo[j] = res.lower[static_cast<size_t>(p.free[j])];
      fhi[j] = res.upper[static_cast<size_t>(p.free[j])];
    }
    // SLSQP from z (free channels, in units); keeps the result when it beats the best.
    auto polish = [&](std::vector<double> z) {
      nlopt_opt opt = nlopt_create(NLOPT_LD_SLSQP, nf);
      nlopt_set_lower_bounds(opt, zlo.data());
      nlopt_set_upper_bounds(opt, zhi.data());
      nlopt_set_max_objective(opt, nl_objective, &p);
      nlopt_add_equality_constraint(opt, nl_budget, &target, 1e-10 * std::max(1.0, target));
      nlopt_set_ftol_rel(opt, 1e-12);
      nlopt_set_xtol_rel(opt, 1e-10);
      nlopt_set_maxeval(opt, 500);
      double f = 0;
      nlopt_optimize(opt, z.data(), &f);  // a failure code leaves z at its best point so far; checked below
      nlopt_destroy(opt);
      // SLSQP meets the budget only to its tolerance; land exactly on it inside the box.
      std::vector<double> fr(nf);
      for (unsigned j = 0; j < nf; ++j) fr[j] = z[j] * p.unit;
      fr = project(fr, flo, fhi, res.budget - fixed);
      std::vector<double> cand = start;
      for (unsigned j = 0; j < nf; ++j) cand[static_cast<size_t>(p.free[j])] = fr[j];
      const double v = objective_value(r, o.objective, cand.data(), nullptr);
      if (v > best_value) {
        best_value = v;
        best = cand;
      }
    };
    for (auto& z : starts) polish(z);
    // S-shaped curves (Hill slope > 1) can hold a channel in a local optimum: spent on, yet
    // returning less on average than the same money earns at the margin elsewhere. Such a
    // channel is tried at its lower bound, the money it frees spread by projection.
    std::vector<double> g(Cs);
    for (unsigned j = 0; j < nf; ++j) {
      const auto c = static_cast<size_t>(p.free[j]);
      const double spent = best[c] - res.lower[c];
      if (!(spent > 1e-6 * (res.upper[c] - res.lower[c]))) continue;
      objective_value(r, o.objective, best.data(), g.data());
      double margin = 0;
      int inside = 0;
      for (unsigned k = 0; k < nf; ++k) {
        const auto e = static_cast<size_t>(p.free[k]);
        if (k != j && best[e] > res.lower[e] && best[e] < res.upper[e]) margin += g[e], ++inside;
      }
      if (inside == 0) continue;
      std::vector<double> dropped = best;
      dropped[c] = res.lower[c];
      const double gain = best_value - objective_value(r, o.objective, dropped.data(), nullptr);
      if (gain >= margin / inside * spent) continue;
      std::vector<double> z(nf);
      for (unsigned k = 0; k < nf; ++k) z[k] = dropped[static_cast<size_t>(p.free[k])] / p.unit;
      std::vector<double> zl = zlo, zh = zhi;
      zh[j] = zl[j];  // the dropped channel stays put while the projection spreads its money
      z = project(z, zl, zh, target);
      polish(z);
    }
  }
  res.evaluations = p.evals;
  res.recommended = best;
  for (size_t c = 0; c < best.size(); ++c) {
    // The projection lands exactly on a bound; the tolerance only absorbs rounding.
    const double tol = 1e-9 * std::max(1.0, res.upper[c]);
    res.bound.push_back(res.lower[c] == res.upper[c]    ? BoundState::kFixed
                        : best[c] <= res.lower[c] + tol ? BoundState::kLower
                        : best[c] >= res.upper[c] - tol ? BoundState::kUpper
                                                        : BoundState::kInside);
  }
  const int n = r.draws();
  std::vector<double> lift(static_cast<size_t>(n)), y_cur(static_cast<size_t>(n)), y_rec(static_cast<size_t>(n));
  r.outcomes(res.current.data(), y_cur.data());
  r.outcomes(best.data(), y_rec.data());
  double sc = 0, sr = 0, better = 0;
  for (int i = 0; i < n; ++i) {
    const double yc = y_cur[static_cast<size_t>(i)], yr = y_rec[static_cast<size_t>(i)];
    sc += yc;
    sr += yr;
    lift[static_cast<size_t>(i)] = yr - yc;
    better += yr > yc;
  }
  res.outcome_current = sc / n;
  res.outcome_recommended = sr / n;
  res.lift = interval(lift);
  res.p_better = better / n;
  return res;
}

const char* to_string(BoundState s) {
  switch (s) {
    case BoundState::kInside: return "inside";
    case BoundState::kLower: return "lower_bound";
    case BoundState::kUpper: return "upper_bound";
    case BoundState::kFixed: break;
  }
  return "fixed";
}

}  // namespace herd
