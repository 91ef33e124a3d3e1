// `herd optimize`'s questions beyond a fixed budget: how much to spend (a target marginal or
// average return), what each budget buys (the efficient frontier) and a panel's split with a
// budget per geo, all built on `optimize`.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "herd/analysis/analysis.hpp"

namespace herd {

namespace {

double total(const std::vector<double>& v) {
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
  const double lo = total(at.lower), hi = total(at.upper);
  const double h = 1e-4 * std::max(hi - lo, 1e-300);
  const double b0 = std::max(lo, at.budget - h), b1 = std::min(hi, at.budget + h);
  if (!(b1 > b0)) return 0;
  OptimizeOptions a = o, b = o;
  a.lower = b.lower = at.lower;
  a.upper = b.upper = at.upper;
  a.budget = b0;
  b.budget = b1;
  const OptimizeResult ra = optimize(r, a), rb = optimize(r, b);
  return (objective_value(r, o.objective, rb.recommended.data(), nullptr) -
          objective_value(r, o.objective, ra.recommended.data(), nullptr)) /
         (b1 - b0);
}

std::vector<double> move_confidence(const ResponseModel& r, const OptimizeResult& split, double marginal) {
  const int C = r.channels();
  std::vector<double> p(static_cast<size_t>(C), std::numeric_limits<double>::quiet_NaN());
  for (int c = 0; c < C; ++c) {
    const auto cs = static_cast<size_t>(c);
    const double from = split.current[cs], to = split.recommended[cs];
    if (!(std::fabs(to - from) > 1e-9 * std::max(1.0, std::fabs(from)))) continue;
    int wins = 0;
    for (int i = 0; i < r.draws(); ++i) {
      double y_from = 0, y_to = 0;
      r.sweep(i, c, split.recommended.data(), &from, 1, &y_from, nullptr);
      r.sweep(i, c, split.recommended.data(), &to, 1, &y_to, nullptr);
      wins += y_to - y_from > marginal * (to - from);
    }
    p[cs] = static_cast<double>(wins) / r.draws();
  }
  return p;
}

double average_return(const ResponseModel& r, const std::vector<double>& x) {
  const auto C = static_cast<size_t>(r.channels());
  std::vector<double> ref(C);
  for (size_t c = 0; c < C; ++c) ref[c] = r.reference(static_cast<int>(c));
  const double spend = total(x) - total(ref);
  if (!(spend > 1e-12 * std::max(1.0, total(x)))) return std::numeric_limits<double>::quiet_NaN();
  return (r.mean_outcome(x.data(), nullptr) - r.mean_outcome(ref.data(), nullptr)) / spend;
}

TargetResult target_budget(const ResponseModel& r, OptimizeOptions o, TargetKind kind, double target) {
  if (!(target > 0) || !std::isfinite(target)) throw std::invalid_argument("the target return must be > 0");
  if (o.lower.empty()) throw std::invalid_argument("target_budget needs bounds");
  const double lo = total(o.lower), hi = total(o.upper);
  int calls = 0;
  // One budget's answer, from a neighbouring budget's split when given (the scan and the root
  // search move in small steps, so one start from there does what three blind ones do).
  auto at = [&](double budget, const TargetResult* near) {
    OptimizeOptions q = o;
    q.budget = budget;
    if (near) q.start = near->split.recommended;
    TargetResult t;
    t.split = optimize(r, q);
    t.marginal_roi = marginal_return(r, q, t.split);
    t.roi = average_return(r, t.split.recommended);
    ++calls;
    return t;
  };
  // How far above the target a budget's answer returns; NaN (no spend above the reference)
  // never meets it.
  auto excess = [&](const TargetResult& t) { return (kind == TargetKind::kMarginal ? t.marginal_roi : t.roi) - target; };
  auto done = [&](TargetResult t) {
    t.optimizations = calls;
    return t;
  };
  TargetResult top = at(hi, nullptr);
  if (excess(top) >= 0) {
    top.at_max = true;
    return done(std::move(top));
  }
  // S-shaped curves (Hill slope > 1) return little at first, more, then less: scan down from
  // the top for the largest budget that still returns the target.
  constexpr int kScan = 16;
  TargetResult above = std::move(top), met;
  double a = lo, b = hi;
  for (int k = kScan - 1;; --k) {
    const double budget = lo + (hi - lo) * k / kScan;
    TargetResult t = at(budget, &above);
    if (excess(t) >= 0) {
      a = budget;
      b = lo + (hi - lo) * (k + 1) / kScan;
      met = std::move(t);
      break;
    }
    if (k == 0) {
      t.at_min = true;
      return done(std::move(t));
    }
    above = std::move(t);
  }
  // The largest root between a (met) and b (not met): Illinois regula falsi, the return being
  // smooth in the budget; bisection where a value is not finite. To 0.01% of the range.
  double fa = excess(met), fb = excess(above);
  int side = 0;
  for (int it = 0; it < 60 && b - a > 1e-4 * hi; ++it) {
    double m = 0.5 * (a + b);
    if (std::isfinite(fa) && std::isfinite(fb) && fa > fb) m = a + (b - a) * fa / (fa - fb);
    m = std::clamp(m, a + 0.01 * (b - a), b - 0.01 * (b - a));
    TargetResult t = at(m, m - a < b - m ? &met : &above);
    const double fm = excess(t);
    if (fm >= 0) {
      a = m;
      fa = fm;
      met = std::move(t);
      if (side == 1) fb *= 0.5;
      side = 1;
      if (fm < 1e-5 * target) break;
    } else {
      b = m;
      fb = fm;
      above = std::move(t);
      if (side == -1) fa *= 0.5;
      side = -1;
    }
  }
  // The answer from the usual starts too: the better split at that budget is reported.
  TargetResult full = at(a, nullptr);
  const bool better = objective_value(r, o.objective, full.split.recommended.data(), nullptr) >
                      objective_value(r, o.objective, met.split.recommended.data(), nullptr);
  return done(better ? std::move(full) : std::move(met));
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
    p.roi = average_return(r, p.split.recommended);
    r.outcomes(p.split.recommended.data(), y.data());
    p.outcome = interval(y);
    out.push_back(std::move(p));
  }
  return out;
}

PanelResult optimize_geos(const ResponseModel& r, const std::vector<OptimizeOptions>& per_geo) {
  const int G = r.geos();
  if (static_cast<int>(per_geo.size()) != G) throw std::invalid_argument("optimize_geos: one set of options per geo");
  const auto C = static_cast<size_t>(r.channels()), N = static_cast<size_t>(r.draws());
  PanelResult out;
  OptimizeResult& t = out.total;
  t.current.assign(C, 0);
  t.recommended.assign(C, 0);
  t.lower.assign(C, 0);
  t.upper.assign(C, 0);
  t.objective = per_geo.empty() ? "mean" : per_geo[0].objective;
  std::vector<double> y_cur(N, 0), y_rec(N, 0), y(N);
  for (int g = 0; g < G; ++g) {
    const ResponseModel rg = r.geo(g);
    OptimizeResult res = optimize(rg, per_geo[static_cast<size_t>(g)]);
    for (size_t c = 0; c < C; ++c) {
      t.current[c] += res.current[c];
      t.recommended[c] += res.recommended[c];
      t.lower[c] += res.lower[c];
      t.upper[c] += res.upper[c];
    }
    t.budget += res.budget;
    t.evaluations += res.evaluations;
    rg.outcomes(res.current.data(), y.data());
    for (size_t i = 0; i < N; ++i) y_cur[i] += y[i];
    rg.outcomes(res.recommended.data(), y.data());
    for (size_t i = 0; i < N; ++i) y_rec[i] += y[i];
    out.geos.push_back(std::move(res));
  }
  for (size_t c = 0; c < C; ++c) {
    BoundState b = out.geos.empty() ? BoundState::kInside : out.geos[0].bound[c];
    for (const auto& res : out.geos)
      if (res.bound[c] != b) b = BoundState::kInside;
    t.bound.push_back(b);
  }
  std::vector<double> lift(N);
  double better = 0;
  for (size_t i = 0; i < N; ++i) {
    t.outcome_current += y_cur[i] / static_cast<double>(N);
    t.outcome_recommended += y_rec[i] / static_cast<double>(N);
    lift[i] = y_rec[i] - y_cur[i];
    better += y_rec[i] > y_cur[i];
  }
  t.lift = interval(lift);
  t.p_better = better / static_cast<double>(N);
  return out;
}

}  // namespace herd
