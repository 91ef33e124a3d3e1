// `herd optimize`'s questions beyond a fixed budget: how much to spend (a target marginal
// ROI) and what each budget buys (the efficient frontier), both built on `optimize`.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "herd/analysis/analysis.hpp"

namespace herd {

namespace {

double bound_sum(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

}  // namespace

double marginal_return(const ResponseModel& r, const OptimizeOptions& o, const OptimizeResult& at) {
  const auto C = static_cast<size_t>(r.channels());
  std::vector<double> g(C);
  objective_value(r, o.objective, at.recommended.data(), g.data());
  double s = 0;
  int inside = 0;
  for (size_t c = 0; c < C; ++c) {
    // Only channels clear of their bounds: one a hair above zero spend can have a gradient
    // far from the multiplier (a Hill slope below 1 is infinitely steep at 0).
    const double margin = 1e-3 * (at.upper[c] - at.lower[c]);
    if (at.bound[c] == BoundState::kInside && at.recommended[c] > at.lower[c] + margin &&
        at.recommended[c] < at.upper[c] - margin) {
      s += g[c];
      ++inside;
    }
  }
  if (inside > 0) return s / inside;
  // Every channel on a bound: the optimum's value is piecewise in the budget; difference it
  // inside what the bounds allow.
  const double lo = bound_sum(at.lower), hi = bound_sum(at.upper);
  const double h = 1e-4 * std::max(hi - lo, 1e-300);
  const double b0 = std::max(lo, at.budget - h), b1 = std::min(hi, at.budget + h);
  if (!(b1 > b0)) return 0;
  OptimizeOptions a = o, b = o;
  a.lower = b.lower = at.lower;
  a.upper = b.upper = at.upper;
  // optimize reads a budget <= 0 as "today's": keep the lower end just above zero.
  a.budget = std::max(b0, 1e-9 * hi);
  b.budget = b1;
  const OptimizeResult ra = optimize(r, a), rb = optimize(r, b);
  return (objective_value(r, o.objective, rb.recommended.data(), nullptr) -
          objective_value(r, o.objective, ra.recommended.data(), nullptr)) /
         (b1 - a.budget);
}

TargetResult target_marginal_roi(const ResponseModel& r, OptimizeOptions o, double target) {
  if (!(target > 0) || !std::isfinite(target)) throw std::invalid_argument("the target marginal ROI must be > 0");
  if (o.lower.empty()) throw std::invalid_argument("target_marginal_roi needs bounds");
  const double lo = bound_sum(o.lower), hi = bound_sum(o.upper);
  auto at = [&](double budget) {
    o.budget = std::max(budget, 1e-9 * hi);  // optimize reads a budget <= 0 as "today's"
    TargetResult t;
    t.split = optimize(r, o);
    t.marginal_roi = marginal_return(r, o, t.split);
    return t;
  };
  TargetResult top = at(hi);
  if (top.marginal_roi >= target) {
    top.at_max = true;
    return top;
  }
  // S-shaped curves (Hill slope > 1) return little at first, more, then less: scan down from
  // the top for the largest budget that still returns the target, then bisect above it.
  constexpr int kScan = 16;
  double a = lo, b = hi;
  TargetResult best;
  bool found = false;
  for (int k = kScan - 1; k >= 0 && !found; --k) {
    const double budget = lo + (hi - lo) * k / kScan;
    TargetResult t = at(budget);
    if (t.marginal_roi >= target) {
      a = budget;
      b = lo + (hi - lo) * (k + 1) / kScan;
      best = std::move(t);
      found = true;
    }
  }
  if (!found) {
    TargetResult bottom = at(lo);
    bottom.at_min = true;
    return bottom;
  }
  // Invariant: marginal ROI >= target at a, < target at b.
  for (int it = 0; it < 40 && b - a > 1e-4 * hi; ++it) {  // a budget to 0.01% of the range
    const double m = 0.5 * (a + b);
    TargetResult t = at(m);
    if (t.marginal_roi >= target) {
      a = m;
      best = std::move(t);
    } else {
      b = m;
    }
  }
  return best;
}

std::vector<FrontierPoint> frontier(const ResponseModel& r, OptimizeOptions o, double lo, double hi, int points) {
  if (points < 2) throw std::invalid_argument("--points: at least 2");
  if (!(lo > 0) || !(hi > lo)) throw std::invalid_argument("--budget-range: need 0 < LO < HI");
  std::vector<FrontierPoint> out;
  const int n = r.draws();
  std::vector<double> y(static_cast<size_t>(n));
  for (int k = 0; k < points; ++k) {
    FrontierPoint p;
    p.budget = lo + (hi - lo) * k / (points - 1);
    o.budget = p.budget;
    p.split = optimize(r, o);
    p.marginal_roi = marginal_return(r, o, p.split);
    for (int i = 0; i < n; ++i) y[static_cast<size_t>(i)] = r.outcome(i, p.split.recommended.data(), nullptr);
    p.outcome = interval(y);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace herd
