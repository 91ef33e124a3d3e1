#pragma once
// The No-U-Turn sampler as Stan runs it (base_nuts.hpp, Stan >= 2.21): multinomial sampling
// within subtrees, biased progressive sampling at the top level, the generalized U-turn
// criterion on p-sharp with the two extra checks across subtrees, divergence when the energy
// error exceeds max_delta_h. Written iteratively: a subtree of depth d is 2^d leapfrog steps
// with merges at the same moments, in the same order and with the same random draws as
// Stan's recursion, using one checkpoint per level instead of a call stack. No allocation:
// everything lives in a caller-provided workspace, so a CUDA thread or block can run it.
//
// A Target is any type with `HERD_HD Real operator()(const Real* q, Real* grad, Real* scratch) const`
// returning the log density (-inf outside its domain) and its gradient.
//
// Lanes (core/lanes.hpp): with several lanes per chain, vector element i is owned by lane
// i % count(), dot products are reduced over lanes, and every lane draws the same random
// numbers and takes the same decisions. SerialLanes is the serial algorithm, bit for bit.
#include <cmath>

#include "herd/core/hd.hpp"
#include "herd/core/lanes.hpp"
#include "herd/core/math.hpp"
#include "herd/hmc/philox.hpp"

namespace herd {

/// Deepest tree the workspace layout supports (Stan's default max_depth is 10).
constexpr int kMaxTreeDepth = 15;

/// Reals of NUTS workspace for a dim-dimensional target.
HERD_HD_INLINE int nuts_workspace_size(int dim, int max_depth) { return (23 + 6 * max_depth) * dim; }

/// A point in phase space; the vectors live in a workspace.
template <class Real>
struct PhasePoint {
  Real* q;
  Real* p;
  Real* g;  // gradient of the log density at q
  Real lp;  // log density at q
};

/// A chain's point, read and overwritten by a transition: n coordinates q, the gradient g of
/// the log density at q, and the log density *lp.
template <class Real>
struct ChainPoint {
  int n;
  Real* q;
  Real* g;
  Real* lp;
};

/// How a NUTS transition runs: step size, tree depth cap, energy error that is a divergence.
template <class Real>
struct NutsSettings {
  Real eps;
  int max_depth;
  Real max_delta_h;
};

/// Caller-provided memory: `work` holds nuts_workspace_size(n, max_depth) Reals, `target`
/// what the target needs.
template <class Real>
struct NutsScratch {
  Real* work;
  Real* target;
};

/// What one transition reports (Stan's sampler parameters).
template <class Real>
struct NutsStats {
  Real accept_prob;  // mean Metropolis acceptance over the whole trajectory
  int depth;
  int n_leapfrog;
  bool divergent;
  Real energy;  // Hamiltonian at the returned point
};

namespace nuts_detail {

/// p ~ N(0, M): every lane draws every coordinate's normal (one stream, the same on every
/// lane) and keeps its own; M^-1 is the diagonal inv_metric.
template <class Real, class Lanes>
HERD_HD_INLINE void draw_momentum(Real* p, const Real* inv_metric, int n, Philox& rng, const Lanes& L) {
  using std::sqrt;
  for (int i = 0, own = L.lane(); i < n; ++i) {
    const double r = rng.normal();
    if (i == own) {
      p[i] = static_cast<Real>(r) / sqrt(inv_metric[i]);
      own += L.count();
    }
  }
}

template <class Real, class Lanes>
HERD_HD_INLINE void copy(Real* dst, const Real* src, int n, const Lanes& L) {
  for (int i = L.lane(); i < n; i += L.count()) dst[i] = src[i];
}

template <class Real, class Lanes>
HERD_HD_INLINE void copy_point(PhasePoint<Real>& dst, const PhasePoint<Real>& src, int n, const Lanes& L) {
  copy(dst.q, src.q, n, L);
  copy(dst.p, src.p, n, L);
  copy(dst.g, src.g, n, L);
  dst.lp = src.lp;
}

template <class T>
HERD_HD_INLINE void swap(T& a, T& b) {
  T t = a;
  a = b;
  b = t;
}

template <class Real>
HERD_HD_INLINE Real log_sum_exp(Real a, Real b) {
  using std::exp;
  using std::log1p;
  if (a == math::neg_inf<Real>()) return b;
  if (b == math::neg_inf<Real>()) return a;
  return a > b ? a + log1p(exp(b - a)) : b + log1p(exp(a - b));
}

/// H = -log p(q) + p' M^-1 p / 2 (diagonal metric given as M^-1).
template <class Real, class Lanes>
HERD_HD_INLINE Real hamiltonian(const PhasePoint<Real>& z, const Real* inv_metric, int n, const Lanes& L) {
  Real k = 0;
  for (int i = L.lane(); i < n; i += L.count()) k += inv_metric[i] * z.p[i] * z.p[i];
  return Real(0.5) * L.sum(k) - z.lp;
}

/// p-sharp(a) . (x + y): the U-turn criterion's projection, p-sharp = M^-1 p never stored.
template <class Real, class Lanes>
HERD_HD_INLINE Real sharp_dot(const Real* inv_metric, const Real* a, const Real* x, const Real* y, int n,
                              const Lanes& L) {
  Real s = 0;
  for (int i = L.lane(); i < n; i += L.count()) s += inv_metric[i] * a[i] * (x[i] + (y ? y[i] : Real(0)));
  return L.sum(s);
}

template <class Real, class Lanes>
HERD_HD_INLINE bool criterion(const Real* inv_metric, const Real* p_minus, const Real* p_plus, const Real* rho,
                              const Real* rho2, int n, const Lanes& L) {
  return sharp_dot(inv_metric, p_plus, rho, rho2, n, L) > 0 && sharp_dot(inv_metric, p_minus, rho, rho2, n, L) > 0;
}

/// Leapfrog step with a diagonal metric (Stan's expl_leapfrog).
/// The target reads all of q: with lanes it must sync first (log_density_grad does).
template <class Real, class Target, class Lanes>
HERD_HD void leapfrog(const Target& target, PhasePoint<Real>& z, Real eps, const Real* inv_metric, int n,
                      Real* target_scratch, const Lanes& L) {
  const Real half = Real(0.5) * eps;
  const int i0 = L.lane(), di = L.count();
  for (int i = i0; i < n; i += di) z.p[i] += half * z.g[i];
  for (int i = i0; i < n; i += di) z.q[i] += eps * inv_metric[i] * z.p[i];
  z.lp = target(z.q, z.g, target_scratch);
  for (int i = i0; i < n; i += di) z.p[i] += half * z.g[i];
}

/// One (sub)tree: its summed momentum, boundary momenta, multinomial proposal and log weight.
template <class Real>
struct Subtree {
  Real* rho;
  Real* p_beg;  // momentum at the end nearest the trajectory it extends
  Real* p_end;  // momentum at the far end
  PhasePoint<Real> propose;
  Real log_sum_weight;
};

/// Carves a workspace of nuts_workspace_size(n, max_depth) Reals.
template <class Real>
struct Workspace {
  PhasePoint<Real> z, z_fwd, z_bck, sample;
  Real *rho, *p_fwd_fwd, *p_fwd_bck, *p_bck_fwd, *p_bck_bck;
  Subtree<Real> cur;
  Subtree<Real> slot[kMaxTreeDepth];

  HERD_HD Workspace(Real* w, int n, int max_depth) {
    auto take = [&]() {
      Real* r = w;
      w += n;
      return r;
    };
    auto point = [&]() { return PhasePoint<Real>{take(), take(), take(), Real(0)}; };
    auto subtree = [&]() {
      Subtree<Real> s;
      s.rho = take();
      s.p_beg = take();
      s.p_end = take();
      s.propose = point();
      s.log_sum_weight = Real(0);
      return s;
    };
    z = point();
    z_fwd = point();
    z_bck = point();
    sample = point();
    rho = take();
    p_fwd_fwd = take();
    p_fwd_bck = take();
    p_bck_fwd = take();
    p_bck_bck = take();
    cur = subtree();
    for (int k = 0; k < max_depth; ++k) slot[k] = subtree();
  }
};

/// Trajectory-wide accumulators.
template <class Real>
struct Trajectory {
  Real H0;
  Real sum_metro_prob;
  int n_leapfrog;
  bool divergent;
};

/// Builds a subtree of 2^depth leapfrog steps from ws.z in direction sign (Stan's build_tree
/// unrolled). On return ws.cur holds it; false when it diverged or U-turned inside.
template <class Real, class Target, class Lanes>
HERD_HD bool build_tree(const Target& target, Workspace<Real>& ws, Trajectory<Real>& tr, int depth, Real eps,
                        const Real* inv_metric, int n, Real max_delta_h, Philox& rng, Real* target_scratch,
                        const Lanes& L) {
  using std::exp;
  const long long n_leaves = 1LL << depth;
  for (long long j = 0; j < n_leaves; ++j) {
    leapfrog(target, ws.z, eps, inv_metric, n, target_scratch, L);
    ++tr.n_leapfrog;
    Real h = hamiltonian(ws.z, inv_metric, n, L);
    if (h != h) h = math::inf<Real>();
    if (h - tr.H0 > max_delta_h) tr.divergent = true;
    tr.sum_metro_prob += tr.H0 - h > Real(0) ? Real(1) : exp(tr.H0 - h);

    Subtree<Real>& cur = ws.cur;
    cur.log_sum_weight = tr.H0 - h;
    copy_point(cur.propose, ws.z, n, L);
    copy(cur.rho, ws.z.p, n, L);
    copy(cur.p_beg, ws.z.p, n, L);
    copy(cur.p_end, ws.z.p, n, L);
    if (tr.divergent) return false;

    // The subtree just completed is the final half of every level whose size divides j + 1:
    // merge with the waiting initial halves, innermost first, as the recursion returns.
    int k = 0;
    for (long long c = j + 1; (c & 1) == 0; c >>= 1, ++k) {
      Subtree<Real>& init = ws.slot[k];
      const Real lsw = log_sum_exp(init.log_sum_weight, cur.log_sum_weight);
      if (!(cur.log_sum_weight > lsw)) {
        const Real accept = exp(cur.log_sum_weight - lsw);
        if (!(rng.uniform() < static_cast<double>(accept))) swap(cur.propose, init.propose);
      }
      const bool persist = criterion(inv_metric, init.p_beg, cur.p_end, init.rho, cur.rho, n, L) &&
                           criterion(inv_metric, init.p_beg, cur.p_beg, init.rho, cur.p_beg, n, L) &&
                           criterion(inv_metric, init.p_end, cur.p_end, cur.rho, init.p_end, n, L);
      for (int i = L.lane(); i < n; i += L.count()) cur.rho[i] += init.rho[i];
      swap(cur.p_beg, init.p_beg);
      cur.log_sum_weight = lsw;
      if (!persist) return false;
    }
    if (k < depth) swap(ws.slot[k], ws.cur);  // a finished initial half waits for its sibling
  }
  return true;
}

}  // namespace nuts_detail

/// One NUTS transition from the chain's point, which it overwrites with the new one, under
/// the diagonal inverse metric inv_metric.
template <class Real, class Target, class Lanes = SerialLanes>
HERD_HD NutsStats<Real> nuts_transition(const Target& target, const ChainPoint<Real>& point, const Real* inv_metric,
                                        const NutsSettings<Real>& settings, Philox& rng,
                                        const NutsScratch<Real>& scratch, const Lanes& L = Lanes()) {
  using namespace nuts_detail;
  using std::exp;
  const int n = point.n, max_depth = settings.max_depth;
  const Real eps = settings.eps, max_delta_h = settings.max_delta_h;
  Real* const target_scratch = scratch.target;
  Workspace<Real> ws(scratch.work, n, max_depth);
  copy(ws.z.q, point.q, n, L);
  copy(ws.z.g, point.g, n, L);
  ws.z.lp = *point.lp;
  draw_momentum(ws.z.p, inv_metric, n, rng, L);
  copy_point(ws.z_fwd, ws.z, n, L);
  copy_point(ws.z_bck, ws.z, n, L);
  copy_point(ws.sample, ws.z, n, L);
  copy(ws.rho, ws.z.p, n, L);
  copy(ws.p_fwd_fwd, ws.z.p, n, L);
  copy(ws.p_fwd_bck, ws.z.p, n, L);
  copy(ws.p_bck_fwd, ws.z.p, n, L);
  copy(ws.p_bck_bck, ws.z.p, n, L);

  Trajectory<Real> tr{hamiltonian(ws.z, inv_metric, n, L), Real(0), 0, false};
  Real log_sum_weight = 0;  // log(exp(H0 - H0))
  int depth = 0;
  while (depth < max_depth) {
    const bool forward = rng.uniform() > 0.5;
    Subtree<Real>& sub = ws.cur;
    bool valid;
    if (forward) {
      // The old trajectory becomes the backward part; its forward end is p_fwd_fwd.
      swap(ws.z, ws.z_fwd);
      swap(ws.p_bck_fwd, ws.p_fwd_fwd);
      valid = build_tree(target, ws, tr, depth, eps, inv_metric, n, max_delta_h, rng, target_scratch, L);
      swap(ws.z, ws.z_fwd);
      swap(ws.p_fwd_bck, sub.p_beg);
      swap(ws.p_fwd_fwd, sub.p_end);
    } else {
      swap(ws.z, ws.z_bck);
      swap(ws.p_fwd_bck, ws.p_bck_bck);
      valid = build_tree(target, ws, tr, depth, -eps, inv_metric, n, max_delta_h, rng, target_scratch, L);
      swap(ws.z, ws.z_bck);
      swap(ws.p_bck_fwd, sub.p_beg);
      swap(ws.p_bck_bck, sub.p_end);
    }
    if (!valid) break;
    ++depth;

    // Biased progressive sampling: prefer the new subtree by its weight relative to the old.
    if (sub.log_sum_weight > log_sum_weight) {
      swap(ws.sample, sub.propose);
    } else {
      const Real accept = exp(sub.log_sum_weight - log_sum_weight);
      if (rng.uniform() < static_cast<double>(accept)) swap(ws.sample, sub.propose);
    }
    log_sum_weight = log_sum_exp(log_sum_weight, sub.log_sum_weight);

    // rho_bck and rho_fwd: the old trajectory and the new subtree, on their sides.
    const Real* rho_old = ws.rho;
    const Real* rho_new = sub.rho;
    const Real* rho_bck = forward ? rho_old : rho_new;
    const Real* rho_fwd = forward ? rho_new : rho_old;
    const bool persist = criterion(inv_metric, ws.p_bck_bck, ws.p_fwd_fwd, rho_old, rho_new, n, L) &&
                         criterion(inv_metric, ws.p_bck_bck, ws.p_fwd_bck, rho_bck, ws.p_fwd_bck, n, L) &&
                         criterion(inv_metric, ws.p_bck_fwd, ws.p_fwd_fwd, rho_fwd, ws.p_bck_fwd, n, L);
    for (int i = L.lane(); i < n; i += L.count()) ws.rho[i] += sub.rho[i];
    if (!persist) break;
  }

  copy(point.q, ws.sample.q, n, L);
  copy(point.g, ws.sample.g, n, L);
  *point.lp = ws.sample.lp;
  NutsStats<Real> s;
  s.accept_prob = tr.n_leapfrog > 0 ? tr.sum_metro_prob / Real(tr.n_leapfrog) : Real(0);
  s.depth = depth;
  s.n_leapfrog = tr.n_leapfrog;
  s.divergent = tr.divergent;
  s.energy = hamiltonian(ws.sample, inv_metric, n, L);
  return s;
}

/// Stan's init_stepsize: from eps, double or halve until the one-step acceptance crosses 0.8.
/// Returns the new step size, or a negative value when the search runs away (eps > 1e7 or 0).
template <class Real, class Target, class Lanes = SerialLanes>
HERD_HD Real find_reasonable_stepsize(const Target& target, int n, Real eps, const Real* inv_metric, const Real* q,
                                      const Real* g, Real lp, Philox& rng, Real* work, Real* target_scratch,
                                      const Lanes& L = Lanes()) {
  using namespace nuts_detail;
  using std::log;
  using std::sqrt;
  if (eps == Real(0) || eps > Real(1e7) || eps != eps) return eps;
  PhasePoint<Real> z{work, work + n, work + 2 * n, lp};
  const Real log08 = log(Real(0.8));
  int direction = 0;
  for (int iter = 0;; ++iter) {
    copy(z.q, q, n, L);
    copy(z.g, g, n, L);
    z.lp = lp;
    draw_momentum(z.p, inv_metric, n, rng, L);
    const Real H0 = hamiltonian(z, inv_metric, n, L);
    leapfrog(target, z, eps, inv_metric, n, target_scratch, L);
    Real h = hamiltonian(z, inv_metric, n, L);
    if (h != h) h = math::inf<Real>();
    const Real delta_h = H0 - h;
    if (iter == 0) {
      direction = delta_h > log08 ? 1 : -1;
      continue;  // Stan decides the direction on a first step, then searches from the same eps
    }
    if (direction == 1 && !(delta_h > log08)) break;
    if (direction == -1 && !(delta_h < log08)) break;
    eps = direction == 1 ? eps * Real(2) : eps * Real(0.5);
    if (eps > Real(1e7) || eps == Real(0)) return Real(-1);
  }
  return eps;
}

}  // namespace herd
