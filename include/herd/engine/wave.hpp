#pragma once
// A wave: many models' chains sampled together, the way the CUDA executor runs a batch.
// The per-chain work (initialization, step-size search, NUTS transitions with dual averaging
// and Welford sums) and the per-model work (pooling a window into the metric) are HERD_HD
// code over flat arrays, run by a CPU backend (threads) or a CUDA backend (a warp of 32
// lanes per chain by default). The host side (run_wave) is the same for both: it steps the
// warmup machine (hmc/warmup.hpp), launches each step on the backend, reads back only the
// chains' status, and during sampling collects draws chunk by chunk from double buffers.
// run_wave is herd's one sampler driver: a single CPU fit is a one-model wave, any host
// target runs through it (fit_target.hpp), and ChEES's chain and model functions are in
// wave_chees.hpp.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "herd/core/hd.hpp"
#include "herd/core/lanes.hpp"
#include "herd/core/math.hpp"
#include "herd/engine/sampler.hpp"
#include "herd/hmc/adaptation.hpp"
#include "herd/hmc/hmc.hpp"
#include "herd/hmc/warmup.hpp"
#include "herd/hmc/nuts.hpp"
#include "herd/hmc/philox.hpp"
#include "herd/model/log_density.hpp"

namespace herd {

class Model;

/// Chain status in a wave; anything but kOk stops the chain and fails its model.
enum WaveStatus : int { kWaveOk = 0, kWaveInitFailed = 1, kWaveSearchFailed = 2, kWaveStopped = 3, kWaveMetricFailed = 4 };

/// Settings of ChEES's own adaptation (defaults from the paper and TFP).
struct CheesOptions {
  double target_accept = 0.651;
  double learning_rate = 0.025;
  double adam_beta2 = 0.95;
  double decay = 0.5;  // moving-average weight n^-decay
  int max_leapfrog = 1000;
};

/// A model's ChEES adaptation between iterations (shared by its chains): the step size by
/// dual averaging, the trajectory length T by Adam on log T, and their moving averages.
struct CheesState {
  double eps = 1, T = 1, log_eps_ma = 0, log_T = 0, log_T_ma = 0, adam_v = 0;
  int ma_step = 1, adam_t = 0;
  DualAveraging<double> da;

  /// Adaptation from step size e, with T = e (the first search, or no warmup).
  HERD_HD void start(double e, double target_accept) {
    using std::log;
    eps = T = e;
    da = DualAveraging<double>();
    da.delta = target_accept;
    da.start(e);
    log_eps_ma = log(e);
    log_T = log_T_ma = log(T);
    adam_v = 0;
    ma_step = 1;
    adam_t = 0;
  }
  /// A fresh step size e after a metric update; T keeps its adaptation, within [e, max e].
  HERD_HD void restart(double e, int max_leapfrog) {
    using std::log;
    eps = e;
    da.start(e);
    log_eps_ma = log(e);
    ma_step = 1;
    T = clamp_T(T, max_leapfrog);
  }
  /// t within [eps, max_leapfrog eps].
  HERD_HD double clamp_T(double t, int max_leapfrog) const {
    const double hi = max_leapfrog * eps;
    return t < eps ? eps : (t > hi ? hi : t);
  }
  /// Leapfrog steps of iteration `it` (every chain of the model the same): ceil(h_it T / eps).
  HERD_HD int steps(int it, int max_leapfrog) const {
    using std::ceil;
    const int n = static_cast<int>(ceil(halton2(static_cast<std::uint32_t>(it)) * T / eps));
    return n < 1 ? 1 : (n > max_leapfrog ? max_leapfrog : n);
  }
};

/// Per-draw floating-point statistics kept in the draws buffer.
enum WaveStat : int { kStatLp = 0, kStatAccept, kStatStep, kStatEnergy, kNumFloatStats };
/// Per-draw integer statistics.
enum WaveIntStat : int { kStatDepth = 0, kStatLeapfrog, kStatDivergent, kNumIntStats };

/// Every array of a wave's chains (device or host pointers), passed to kernels by value.
/// Chain rows have `stride` Reals (the largest dim); model arrays are indexed by model.
/// View is a model's target: a `dim` member and log_density_grad(view, q, g, scratch, lanes)
/// found by argument-dependent lookup (the MMM's ModelView, or a host target in tests).
template <class Real, class View = ModelView<Real>>
struct WaveView {
  int n_chains = 0, stride = 0, chunk = 0;
  const View* models = nullptr;
  const int* chain_model = nullptr;   // [chain] model of the wave
  const int* chain_index = nullptr;   // [chain] chain number within its model
  const std::uint64_t* key = nullptr; // [model] random stream key
  const Real* target_accept = nullptr;  // [model]
  const int* max_depth = nullptr;       // [model]
  const Real* max_delta_h = nullptr;    // [model]
  const Real* step_size = nullptr;      // [model] initial step size
  const double* init_radius = nullptr;  // [model] initial values uniform(-r, r)
  const int* init_tries = nullptr;      // [model]
  const int* model_chain0 = nullptr;    // [model] first chain
  const int* model_chains = nullptr;    // [model] number of chains
  const int* pooled = nullptr;          // [model] 1: one metric from all its chains
  CheesOptions chees_options;
  CheesState* chees = nullptr;          // [model] ChEES's adaptation (ChEES waves)
  Real* accept = nullptr;               // [chain] last ChEES acceptance probability
  int* divergent = nullptr;             // [chain] last ChEES step divergent
  Real *q = nullptr, *g = nullptr, *inv_metric = nullptr, *mean = nullptr, *m2 = nullptr;  // [chain][stride]
  Real *lp = nullptr, *eps = nullptr;                                                      // [chain]
  DualAveraging<Real>* da = nullptr;                                                       // [chain]
  int* welford_n = nullptr;                                                                // [chain]
  int* status = nullptr;                                                                   // [chain]
  long long* evals = nullptr;                                                              // [chain]
  Real* work = nullptr;  // [chain][work_stride]
  Real* scratch = nullptr;  // [chain][scratch_stride]
  long long work_stride = 0, scratch_stride = 0;
  // One chunk of draws, [k][chain][stride], [k][chain][kNumFloatStats], [k][chain][kNumIntStats].
  Real* draw_theta = nullptr;
  Real* draw_stats = nullptr;
  int* draw_ints = nullptr;
};

namespace wave_detail {

template <class Real, class Lanes, class View>
struct Target {
  View m;
  Lanes lanes;
  HERD_HD Real operator()(const Real* q, Real* g, Real* scratch) const {
    return log_density_grad(m, q, g, scratch, lanes);
  }
};

// Counts into a per-lane local (every lane counts the same), written back by the leader.
template <class Real, class Lanes, class View>
struct CountingTarget {
  View m;
  Lanes lanes;
  long long* evals;
  HERD_HD Real operator()(const Real* q, Real* g, Real* scratch) const {
    ++*evals;
    return log_density_grad(m, q, g, scratch, lanes);
  }
};

// True while every chain of model m is running (a failed model's chains are stopped).
template <class Real, class View>
HERD_HD bool model_running(const WaveView<Real, View>& w, int m) {
  for (int c = w.model_chain0[m]; c < w.model_chain0[m] + w.model_chains[m]; ++c)
    if (w.status[c] != kWaveOk) return false;
  return true;
}

// Chain c's draw (coordinates q[0..n) and its statistics) into slot k of the chunk buffer.
template <class Real, class View, class Lanes>
HERD_HD void write_draw(const WaveView<Real, View>& w, int c, int k, const Real* q, int n, Real lp, Real accept,
                        Real eps, Real energy, int depth, int leapfrogs, bool divergent, const Lanes& lanes) {
  const long long slot = static_cast<long long>(k) * w.n_chains + c;
  Real* theta = w.draw_theta + slot * w.stride;
  for (int i = lanes.lane(); i < n; i += lanes.count()) theta[i] = q[i];
  if (!lanes.leader()) return;
  Real* fs = w.draw_stats + slot * kNumFloatStats;
  fs[kStatLp] = lp;
  fs[kStatAccept] = accept;
  fs[kStatStep] = eps;
  fs[kStatEnergy] = energy;
  int* is = w.draw_ints + slot * kNumIntStats;
  is[kStatDepth] = depth;
  is[kStatLeapfrog] = leapfrogs;
  is[kStatDivergent] = divergent ? 1 : 0;
}

}  // namespace wave_detail

/// Draws uniform(-r, r) initial values (r and the number of tries are the model's) until the
/// density and gradient are finite (as sampler_detail::initialize), and resets the chain's
/// adaptation state.
template <class Real, class View, class Lanes = SerialLanes>
HERD_HD void wave_initialize(const WaveView<Real, View>& w, int c, const Lanes& lanes = Lanes()) {
  if (w.status[c] != kWaveOk) return;
  const int i0 = lanes.lane(), di = lanes.count();
  const bool lead = lanes.leader();
  const int mi = w.chain_model[c];
  const View m = w.models[mi];
  const int n = m.dim;
  const double radius = w.init_radius[mi];
  const int tries = w.init_tries[mi];
  const long long row = static_cast<long long>(c) * w.stride;
  Real* q = w.q + row;
  Real* g = w.g + row;
  Real* scratch = w.scratch + c * w.scratch_stride;
  const wave_detail::Target<Real, Lanes, View> target{m, lanes};
  for (int i = i0; i < n; i += di) {
    w.inv_metric[row + i] = Real(1);
    w.mean[row + i] = Real(0);
    w.m2[row + i] = Real(0);
  }
  if (lead) {
    w.welford_n[c] = 0;
    w.eps[c] = w.step_size[mi];
    DualAveraging<Real> da;
    da.delta = w.target_accept[mi];
    w.da[c] = da;
  }
  long long evals = 0;
  int status = kWaveInitFailed;
  for (int attempt = 0; attempt < tries; ++attempt) {
    Philox rng(w.key[mi], static_cast<std::uint32_t>(w.chain_index[c]), static_cast<std::uint32_t>(attempt),
               RngUse::kInit);
    for (int i = 0, own = i0; i < n; ++i) {
      const double u = rng.uniform();
      if (i == own) {
        q[i] = static_cast<Real>(radius * (2 * u - 1));
        own += di;
      }
    }
    const Real lp = target(q, g, scratch);
    ++evals;
    bool finite = true;
    for (int i = i0; i < n && finite; i += di) finite = math::is_finite(g[i]);
    finite = lanes.all(finite) && math::is_finite(lp);
    if (finite) {
      if (lead) w.lp[c] = lp;
      status = kWaveOk;
      break;
    }
  }
  if (lead) {
    w.evals[c] += evals;
    w.status[c] = status;
  }
  lanes.sync();
}

/// Stan's step-size search from the chain's current step size, then a fresh dual averaging
/// around 10x the result (`window` numbers the search's random stream).
template <class Real, class View, class Lanes = SerialLanes>
HERD_HD void wave_search(const WaveView<Real, View>& w, int c, int window, const Lanes& lanes = Lanes()) {
  if (w.status[c] != kWaveOk) return;
  const int mi = w.chain_model[c];
  const View m = w.models[mi];
  const long long row = static_cast<long long>(c) * w.stride;
  Philox rng(w.key[mi], static_cast<std::uint32_t>(w.chain_index[c]), static_cast<std::uint32_t>(window),
             RngUse::kStepsizeSearch);
  long long evals = 0;
  const wave_detail::CountingTarget<Real, Lanes, View> target{m, lanes, &evals};
  const Real eps = find_reasonable_stepsize(target, m.dim, w.eps[c], w.inv_metric + row, w.q + row, w.g + row,
                                            w.lp[c], rng, w.work + c * w.work_stride, w.scratch + c * w.scratch_stride,
                                            lanes);
  if (lanes.leader()) {
    w.evals[c] += evals;
    if (!(eps > Real(0))) w.status[c] = kWaveSearchFailed;
    w.eps[c] = eps;
    w.da[c].start(eps);
  }
  lanes.sync();
}

/// NUTS transitions win.first..win.last of chain c: dual averaging and Welford sums during
/// warmup, draws into the chunk buffer after it.
template <class Real, class View, class Lanes = SerialLanes>
HERD_HD void wave_transitions(const WaveView<Real, View>& w, int c, const WaveWindow& win, const Lanes& lanes = Lanes()) {
  if (w.status[c] != kWaveOk) return;
  const int mi = w.chain_model[c];
  const View m = w.models[mi];
  const int n = m.dim;
  const long long row = static_cast<long long>(c) * w.stride;
  const wave_detail::Target<Real, Lanes, View> target{m, lanes};
  Real* q = w.q + row;
  Real* g = w.g + row;
  Real* work = w.work + c * w.work_stride;
  Real* scratch = w.scratch + c * w.scratch_stride;
  const Real* inv_metric = w.inv_metric + row;
  Real eps = w.eps[c];
  Real lp = w.lp[c];
  DualAveraging<Real> da = w.da[c];
  int welford_n = w.welford_n[c];
  long long evals = 0;
  for (int i = win.first; i <= win.last; ++i) {
    Philox rng(w.key[mi], static_cast<std::uint32_t>(w.chain_index[c]), static_cast<std::uint32_t>(i),
               RngUse::kTransition);
    const NutsStats<Real> st =
        nuts_transition(target, ChainPoint<Real>{n, q, g, &lp}, inv_metric,
                        NutsSettings<Real>{eps, w.max_depth[mi], w.max_delta_h[mi]}, rng, NutsScratch<Real>{work, scratch},
                        lanes);
    evals += st.n_leapfrog;
    if (i < win.warmup) {
      eps = da.learn(st.accept_prob);
      if (i >= win.window_lo && i < win.window_hi) welford_add(welford_n, w.mean + row, w.m2 + row, q, n, lanes);
      if (i == win.warmup - 1) eps = da.final_stepsize();
      continue;
    }
    wave_detail::write_draw(w, c, i - win.chunk_first, q, n, lp, st.accept_prob, eps, st.energy, st.depth,
                            st.n_leapfrog, st.divergent, lanes);
  }
  if (lanes.leader()) {
    w.eps[c] = eps;
    w.lp[c] = lp;
    w.da[c] = da;
    w.welford_n[c] = welford_n;
    w.evals[c] += evals;
  }
  lanes.sync();
}

/// The window's Welford sums of model m's chains become their metric: Stan's regularized
/// variance, pooled over the chains (combined pairwise in chain order, Chan et al., so the
/// result does not depend on threads) or each chain's own; then the sums restart. Sums are
/// combined in double whatever the wave's precision. A variance that is not finite and
/// positive stops the model's chains with kWaveMetricFailed. Serial: one thread per model.
template <class Real, class View>
HERD_HD void wave_pool_metric(const WaveView<Real, View>& w, int m) {
  if (!wave_detail::model_running(w, m)) return;
  const int c0 = w.model_chain0[m], C = w.model_chains[m];
  const int n = w.models[m].dim;
  const long long S = w.stride;
  bool ok = true;
  for (int i = 0; i < n; ++i) {
    double N = 0, mean = 0, m2 = 0;
    for (int c = c0; c < c0 + C; ++c) {
      const double nb = w.welford_n[c];
      const double cm = static_cast<double>(w.mean[c * S + i]), cm2 = static_cast<double>(w.m2[c * S + i]);
      if (!w.pooled[m]) {
        const double var = regularized_variance(nb, cm2);
        ok = ok && math::is_finite(var) && var > 0;
        w.inv_metric[c * S + i] = static_cast<Real>(var);
        continue;
      }
      if (nb == 0) continue;
      const double delta = cm - mean;
      mean += delta * nb / (N + nb);
      m2 += cm2 + delta * delta * N * nb / (N + nb);
      N += nb;
    }
    if (!w.pooled[m]) continue;
    const double var = regularized_variance(N, m2);
    ok = ok && math::is_finite(var) && var > 0;
    for (int c = c0; c < c0 + C; ++c) w.inv_metric[c * S + i] = static_cast<Real>(var);
  }
  for (int c = c0; c < c0 + C; ++c) {
    for (int i = 0; i < n; ++i) w.mean[c * S + i] = w.m2[c * S + i] = Real(0);
    w.welford_n[c] = 0;
    if (!ok) w.status[c] = kWaveMetricFailed;
  }
}

/// The chain and model functions as functors (HERD_HD, so a kernel template takes them):
/// chain ops are called (view, chain, lanes), model ops (view, model).
namespace wave_ops {
struct Initialize {
  template <class W, class L>
  HERD_HD void operator()(const W& w, int c, const L& lanes) const { wave_initialize(w, c, lanes); }
};
struct Search {
  int window;
  template <class W, class L>
  HERD_HD void operator()(const W& w, int c, const L& lanes) const { wave_search(w, c, window, lanes); }
};
struct Transitions {
  WaveWindow win;
  template <class W, class L>
  HERD_HD void operator()(const W& w, int c, const L& lanes) const { wave_transitions(w, c, win, lanes); }
};
struct PoolMetric {
  template <class W>
  HERD_HD void operator()(const W& w, int m) const { wave_pool_metric(w, m); }
};
}  // namespace wave_ops

/// Where a wave's chains run. Calls may return before the work is done (a CUDA stream);
/// read_state and fetch wait for it.
class WaveBackend {
 public:
  virtual ~WaveBackend() = default;
  /// Runs one step of the warmup machine on every chain and model (wave_launch.hpp names the
  /// functions of each step, launch_step); kSample's draws go to buffer step.slot.
  virtual void run(const WaveStep& step) = 0;
  /// Host copies of buffer `slot`'s first `count` iterations, laid out as WaveView's draws.
  virtual void fetch(int slot, int count, const double** theta, const double** stats, const int** ints) = 0;
  /// Status, step sizes, metrics and evaluation counts (as double).
  struct State {
    std::vector<int> status;
    std::vector<double> eps, inv_metric;
    std::vector<long long> evals;
  };
  virtual void read_state(State& s) = 0;
  /// Stops chains (kWaveStopped) whose model failed.
  virtual void write_status(const std::vector<int>& status) = 0;
  virtual std::string name() const = 0;
};

/// What a wave needs to know of a model's target: its random-stream identity (the model
/// name), its dimension and the scratch Reals its log density needs.
struct WaveShape {
  std::string name;
  int dim = 0;
  int scratch = 0;
};

/// The models of one wave and their sampler options (warmup and draws shared by all).
struct WaveLayout {
  std::vector<const Model*> models;      // the MMMs (empty for host targets)
  std::vector<std::string> model_names;  // their random-stream identities
  std::vector<int> dims;
  std::vector<SamplerOptions> options;
  int stride = 0;                  // largest dim
  int n_chains = 0;
  std::vector<int> chain_offset;   // first chain of each model
  int chunk = 100;                 // sampling iterations per draws buffer
  int work_reals = 0, scratch_reals = 0;  // per chain
  CheesOptions chees;              // ChEES's adaptation settings (ChEES waves)
};

/// Lays out models (all with the same warmup and draws) for a wave.
WaveLayout make_wave_layout(const std::vector<const Model*>& models, const std::vector<SamplerOptions>& options,
                            int chunk);
/// The same for targets known only by their shapes (host targets).
WaveLayout make_wave_layout(const std::vector<WaveShape>& shapes, const std::vector<SamplerOptions>& options,
                            int chunk);

/// What a wave produced per model: the fit, or why the model failed.
struct WaveOutcome {
  FitResult fit;
  std::string error;
};

/// Runs a wave to the end (Stan's windowed warmup, then sampling in chunks), NUTS or ChEES
/// (the models of a wave share their algorithm); `progress`, when set, hears how far it got.
std::vector<WaveOutcome> run_wave(WaveBackend& backend, const WaveLayout& layout, const WaveProgressFn& progress = {});

/// The CPU backend: the HERD_HD chain functions on `threads` threads (0: all cores).
std::unique_ptr<WaveBackend> make_cpu_wave_backend(const WaveLayout& layout, bool single_precision, int threads);

/// The CUDA backend on the current device, `lanes` threads per chain (32: a warp shares each
/// gradient's loops over weeks; 1: a thread per chain). Throws std::runtime_error without
/// CUDA or a GPU.
std::unique_ptr<WaveBackend> make_cuda_wave_backend(const WaveLayout& layout, bool single_precision, int lanes = 32);

/// Bytes of device memory a model's chains need in a wave whose rows have `stride` Reals
/// (the wave's largest dim): data, chain state, workspace, scratch and both draws buffers.
long long wave_model_bytes(const Model& model, const SamplerOptions& options, int chunk, bool single_precision,
                           int stride, int scratch_reals);

/// Splits models (in order) into waves whose summed bytes fit `budget`; a model larger than
/// the budget alone gets its own wave (and its failure to allocate is reported for it).
std::vector<std::vector<int>> plan_waves(const std::vector<long long>& bytes, long long budget);

}  // namespace herd
