#pragma once
// ChEES-HMC (Hoffman, Radul & Sountsov 2021, "An Adaptive MCMC Scheme for Setting
// Trajectory Lengths in Hamiltonian Monte Carlo") on the wave: every chain of a model takes
// the same number of leapfrog steps, ceil(h_n T / eps) with h_n a Halton jitter, so a model's
// chains stay in step (the natural GPU sampler). The chain function runs the static HMC
// steps; after each warmup iteration a model function adapts, across the model's chains,
//  - the step size by dual averaging on the harmonic mean of the acceptance probabilities
//    (target 0.651, Beskos et al.'s optimum for HMC),
//  - the trajectory length T by Adam ascent on the ChEES criterion, whose per-chain gradient
//    estimate is h_n T (|x' - mean x'|^2 - |x - mean x|^2) (x' - mean x') . M^-1 p', weighted by
//    acceptance (updates clipped to +-0.35 in log T, as TFP and BlackJAX do),
//  - both through moving averages of their logs with weight n^-1/2.
// The diagonal metric is the chains' pooled variance at the ends of Stan's windows
// (wave_pool_metric), and the step size restarts from the median of the chains' searches.
// Model state and reductions are in double whatever the wave's precision.
#include "herd/engine/wave.hpp"

namespace herd {

namespace wave_detail {

// Where a chain's ChEES vectors live in its workspace (hmc_step takes the first 4 rows).
template <class Real, class View>
struct CheesRows {
  Real *work, *q0, *prop_q, *prop_p, *prop_mean, *init_mean;
  HERD_HD CheesRows(const WaveView<Real, View>& w, int c) {
    work = w.work + c * w.work_stride;
    q0 = work + 4 * w.stride;
    prop_q = work + 5 * w.stride;
    prop_p = work + 6 * w.stride;
    prop_mean = work + 7 * w.stride;  // the model's, in its first chain's rows
    init_mean = work + 8 * w.stride;
  }
};

// Every chain of model m samples with its step size.
template <class Real, class View>
HERD_HD void share_step_size(const WaveView<Real, View>& w, int m) {
  for (int c = w.model_chain0[m]; c < w.model_chain0[m] + w.model_chains[m]; ++c)
    w.eps[c] = static_cast<Real>(w.chees[m].eps);
}

}  // namespace wave_detail

/// ChEES iterations win.first..win.last of chain c: static HMC with the model's step size and
/// trajectory length; Welford sums during warmup (the model function adapts between
/// iterations), draws into the chunk buffer after it.
template <class Real, class View, class Lanes = SerialLanes>
HERD_HD void wave_chees_transitions(const WaveView<Real, View>& w, int c, const WaveWindow& win,
                                    const Lanes& lanes = Lanes()) {
  if (w.status[c] != kWaveOk) return;
  const int i0 = lanes.lane(), di = lanes.count();
  const int mi = w.chain_model[c];
  const View m = w.models[mi];
  const int n = m.dim;
  const long long row = static_cast<long long>(c) * w.stride;
  const wave_detail::Target<Real, Lanes, View> target{m, lanes};
  const wave_detail::CheesRows<Real, View> r(w, c);
  Real* q = w.q + row;
  Real* g = w.g + row;
  Real* scratch = w.scratch + c * w.scratch_stride;
  const Real* inv_metric = w.inv_metric + row;
  const CheesState cs = w.chees[mi];
  const Real eps = static_cast<Real>(cs.eps);
  Real lp = w.lp[c];
  int welford_n = w.welford_n[c];
  long long evals = 0;
  HmcStats<Real> st{};
  for (int i = win.first; i <= win.last; ++i) {
    const int steps = cs.steps(i, w.chees_options.max_leapfrog);
    for (int k = i0; k < n; k += di) r.q0[k] = q[k];
    Philox rng(w.key[mi], static_cast<std::uint32_t>(w.chain_index[c]), static_cast<std::uint32_t>(i), RngUse::kChees);
    st = hmc_step(target, n, eps, steps, inv_metric, q, g, &lp, rng, w.max_delta_h[mi], r.work, r.prop_q, r.prop_p,
                  scratch, lanes);
    evals += steps;
    if (i < win.warmup) {
      if (i >= win.window_lo && i < win.window_hi) welford_add(welford_n, w.mean + row, w.m2 + row, q, n, lanes);
      continue;
    }
    wave_detail::write_draw(w, c, i - win.chunk_first, q, n, lp, st.accept_prob, eps, st.energy, 0, steps, st.divergent,
                            lanes);
  }
  if (lanes.leader()) {
    w.lp[c] = lp;
    w.welford_n[c] = welford_n;
    w.evals[c] += evals;
    w.accept[c] = st.accept_prob;
    w.divergent[c] = st.divergent ? 1 : 0;
  }
  lanes.sync();
}

/// Model m's ChEES state before any search: the initial step size, T equal to it.
template <class Real, class View>
HERD_HD void wave_chees_start(const WaveView<Real, View>& w, int m) {
  w.chees[m].start(static_cast<double>(w.step_size[m]), w.chees_options.target_accept);
  wave_detail::share_step_size(w, m);
}

/// After the chains' step-size searches: the model's step size is their median (the first
/// search starts the adaptation; later ones restart it on the new metric).
template <class Real, class View>
HERD_HD void wave_chees_searched(const WaveView<Real, View>& w, int m, int window) {
  if (!wave_detail::model_running(w, m)) return;
  const int c0 = w.model_chain0[m], C = w.model_chains[m];
  // The upper median (sorted[C / 2]) by counting, without sorting or memory.
  double median = static_cast<double>(w.eps[c0]);
  for (int j = c0; j < c0 + C; ++j) {
    int less = 0, leq = 0;
    for (int k = c0; k < c0 + C; ++k) {
      less += w.eps[k] < w.eps[j];
      leq += w.eps[k] <= w.eps[j];
    }
    if (less <= C / 2 && C / 2 < leq) median = static_cast<double>(w.eps[j]);
  }
  if (window == 0)
    w.chees[m].start(median, w.chees_options.target_accept);
  else
    w.chees[m].restart(median, w.chees_options.max_leapfrog);
  wave_detail::share_step_size(w, m);
}

/// Model m's cross-chain adaptation after warmup iteration `it` (the last of `warmup`).
template <class Real, class View>
HERD_HD void wave_chees_adapt(const WaveView<Real, View>& w, int m, int it, int warmup) {
  using std::exp;
  using std::log;
  using std::pow;
  using std::sqrt;
  if (!wave_detail::model_running(w, m)) return;
  const CheesOptions& co = w.chees_options;
  CheesState s = w.chees[m];
  const int c0 = w.model_chain0[m], C = w.model_chains[m], n = w.models[m].dim;
  const long long S = w.stride;

  // Step size: dual averaging on the harmonic mean acceptance of the non-divergent chains.
  double inv_sum = 0, weight_sum = 0;
  int used = 0;
  for (int c = c0; c < c0 + C; ++c) {
    if (w.divergent[c]) continue;
    const double a = static_cast<double>(w.accept[c]);
    inv_sum += a > 0 ? 1 / a : math::inf<double>();
    weight_sum += a;
    ++used;
  }
  double harmonic = used > 0 ? used / inv_sum : 0.0;
  if (!math::is_finite(harmonic)) harmonic = 0;
  const double eps_new = s.da.learn(harmonic);
  const double eps_next = math::is_finite(eps_new) && eps_new > 0 ? eps_new : s.eps;
  const double wt = pow(static_cast<double>(s.ma_step), -co.decay);
  s.log_eps_ma = (1 - wt) * s.log_eps_ma + wt * log(eps_next);

  // Trajectory length: the ChEES gradient, acceptance-weighted, through Adam on log T.
  const wave_detail::CheesRows<Real, View> first(w, c0);
  for (int i = 0; i < n; ++i) first.prop_mean[i] = first.init_mean[i] = Real(0);
  for (int c = c0; c < c0 + C; ++c) {
    const wave_detail::CheesRows<Real, View> r(w, c);
    const double a = static_cast<double>(w.accept[c]);
    for (int i = 0; i < n; ++i) {
      if (!w.divergent[c])
        first.prop_mean[i] =
            static_cast<Real>(static_cast<double>(first.prop_mean[i]) + a * static_cast<double>(r.prop_q[i]) / (weight_sum + 1e-20));
      first.init_mean[i] = static_cast<Real>(static_cast<double>(first.init_mean[i]) + static_cast<double>(r.q0[i]) / C);
    }
  }
  const double jitter = halton2(static_cast<std::uint32_t>(it));
  double grad = 0;
  for (int c = c0; c < c0 + C; ++c) {
    const double a = static_cast<double>(w.accept[c]);
    if (w.divergent[c] || !math::is_finite(a)) continue;
    const wave_detail::CheesRows<Real, View> r(w, c);
    double d_prop = 0, d_init = 0, velocity = 0;
    for (int i = 0; i < n; ++i) {
      const double dp = static_cast<double>(r.prop_q[i]) - static_cast<double>(first.prop_mean[i]);
      const double di = static_cast<double>(r.q0[i]) - static_cast<double>(first.init_mean[i]);
      d_prop += dp * dp;
      d_init += di * di;
      velocity += dp * static_cast<double>(w.inv_metric[c * S + i]) * static_cast<double>(r.prop_p[i]);
    }
    const double gi = jitter * s.T * (d_prop - d_init) * velocity;
    if (math::is_finite(gi)) grad += a * gi / (weight_sum + 1e-20);
  }
  ++s.adam_t;
  s.adam_v = co.adam_beta2 * s.adam_v + (1 - co.adam_beta2) * grad * grad;
  const double v_hat = s.adam_v / (1 - pow(co.adam_beta2, s.adam_t));
  double update = co.learning_rate * grad / (sqrt(v_hat) + 1e-8);
  update = update < -0.35 ? -0.35 : (update > 0.35 ? 0.35 : update);
  if (math::is_finite(update)) s.log_T += update;
  s.log_T_ma = (1 - wt) * s.log_T_ma + wt * s.log_T;
  s.eps = eps_next;
  s.T = s.clamp_T(exp(s.log_T_ma), co.max_leapfrog);
  ++s.ma_step;
  if (it == warmup - 1) {
    s.eps = exp(s.log_eps_ma);
    s.T = s.clamp_T(exp(s.log_T_ma), co.max_leapfrog);
  }
  w.chees[m] = s;
  wave_detail::share_step_size(w, m);
}

namespace wave_ops {
struct CheesTransitions {
  WaveWindow win;
  template <class W, class L>
  HERD_HD void operator()(const W& w, int c, const L& lanes) const { wave_chees_transitions(w, c, win, lanes); }
};
struct CheesStart {
  template <class W>
  HERD_HD void operator()(const W& w, int m) const { wave_chees_start(w, m); }
};
struct CheesSearched {
  int window;
  template <class W>
  HERD_HD void operator()(const W& w, int m) const { wave_chees_searched(w, m, window); }
};
struct CheesAdapt {
  WaveWindow win;
  template <class W>
  HERD_HD void operator()(const W& w, int m) const { wave_chees_adapt(w, m, win.last, win.warmup); }
};
}  // namespace wave_ops

}  // namespace herd
