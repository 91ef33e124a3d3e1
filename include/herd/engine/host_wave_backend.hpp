#pragma once
// The host wave backend, templated on how chains run and on the models' target view: the CPU
// backend (make_cpu_wave_backend) is HostWaveBackend<Real, ThreadPoolRunner> over the MMM's
// ModelView; fit_target runs any host target through it; tests plug in other runners.
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "herd/engine/wave.hpp"
#include "herd/engine/wave_tables.hpp"
#include "herd/model/model.hpp"

namespace herd {

/// Runs a chain function on every chain of a wave with SerialLanes, on a pool of threads.
struct ThreadPoolRunner {
  int threads = 0;  // 0: all cores
  template <class F>
  void operator()(int n_chains, F&& f) const {
    parallel_for(n_chains, threads, [&](int c) { f(c, SerialLanes()); });
  }
};

/// A wave on the host: state in std::vectors, every chain function run through `Runner`,
/// which calls f(chain, lanes) for each chain (ThreadPoolRunner: the CPU backend; a test runs
/// the lanes of each chain as threads).
template <class Real, class Runner, class View = ModelView<Real>>
class HostWaveBackend : public WaveBackend {
 public:
  /// Over the layout's MMMs.
  HostWaveBackend(const WaveLayout& L, Runner runner) : HostWaveBackend(L, runner, model_views(L)) {}
  /// Over one target view per model of the layout.
  HostWaveBackend(const WaveLayout& L, Runner runner, std::vector<View> views)
      : L_(L), t_(L), runner_(runner), views_(std::move(views)) {
    if (views_.size() != L.options.size()) throw std::invalid_argument("a host wave needs a view per model");
    t_.fill_precision(target_accept_, max_delta_h_, step_size_);
    const size_t C = static_cast<size_t>(L.n_chains), S = static_cast<size_t>(L.stride);
    q_.assign(C * S, 0);
    g_.assign(C * S, 0);
    inv_metric_.assign(C * S, 1);
    mean_.assign(C * S, 0);
    m2_.assign(C * S, 0);
    lp_.assign(C, 0);
    eps_.assign(C, 1);
    da_.assign(C, DualAveraging<Real>{});
    welford_n_.assign(C, 0);
    status_.assign(C, kWaveOk);
    evals_.assign(C, 0);
    work_.assign(C * static_cast<size_t>(L.work_reals), 0);
    scratch_.assign(C * static_cast<size_t>(L.scratch_reals), 0);
    const size_t K = static_cast<size_t>(L.chunk);
    for (int b = 0; b < 2; ++b) {
      theta_[b].assign(K * C * S, 0);
      stats_[b].assign(K * C * kNumFloatStats, 0);
      ints_[b].assign(K * C * kNumIntStats, 0);
    }
  }

  void initialize(double radius, int tries) override {
    const WaveView<Real, View> v = view(0);
    runner_(L_.n_chains, [&](int c, const auto& lanes) { wave_initialize(v, c, radius, tries, lanes); });
  }
  void search(int window) override {
    const WaveView<Real, View> v = view(0);
    runner_(L_.n_chains, [&](int c, const auto& lanes) { wave_search(v, c, window, lanes); });
  }
  void transitions(const WaveWindow& win, int slot) override {
    const WaveView<Real, View> v = view(slot);
    runner_(L_.n_chains, [&](int c, const auto& lanes) { wave_transitions(v, c, win, lanes); });
  }
  void fetch(int slot, int count, const double** theta, const double** stats, const int** ints) override {
    const size_t rows = static_cast<size_t>(count) * static_cast<size_t>(L_.n_chains);
    *theta = as_double(theta_[slot], rows * static_cast<size_t>(L_.stride), conv_theta_);
    *stats = as_double(stats_[slot], rows * kNumFloatStats, conv_stats_);
    *ints = ints_[slot].data();
  }
  void read_state(State& s) override {
    s.status = status_;
    s.welford_n = welford_n_;
    s.mean.assign(mean_.begin(), mean_.end());
    s.m2.assign(m2_.begin(), m2_.end());
    s.eps.assign(eps_.begin(), eps_.end());
    s.inv_metric.assign(inv_metric_.begin(), inv_metric_.end());
    s.evals = evals_;
  }
  void write_metric(const std::vector<double>& inv_metric) override {
    for (size_t i = 0; i < inv_metric_.size(); ++i) inv_metric_[i] = static_cast<Real>(inv_metric[i]);
    std::fill(mean_.begin(), mean_.end(), Real(0));
    std::fill(m2_.begin(), m2_.end(), Real(0));
    std::fill(welford_n_.begin(), welford_n_.end(), 0);
  }
  void write_status(const std::vector<int>& status) override { status_ = status; }
  std::string name() const override { return "cpu"; }

 private:
  static const double* as_double(const std::vector<Real>& v, size_t n, std::vector<double>& conv) {
    if constexpr (std::is_same_v<Real, double>) {
      (void)n;
      (void)conv;
      return v.data();
    } else {
      conv.assign(v.begin(), v.begin() + static_cast<long>(n));
      return conv.data();
    }
  }
  static std::vector<View> model_views(const WaveLayout& L) {
    std::vector<View> views;
    for (const Model* m : L.models) views.push_back(m->view<Real>());
    return views;
  }
  WaveView<Real, View> view(int slot) {
    WaveView<Real, View> v;
    v.n_chains = L_.n_chains;
    v.stride = L_.stride;
    v.chunk = L_.chunk;
    v.models = views_.data();
    v.chain_model = t_.chain_model.data();
    v.chain_index = t_.chain_index.data();
    v.key = t_.key.data();
    v.target_accept = target_accept_.data();
    v.max_depth = t_.max_depth.data();
    v.max_delta_h = max_delta_h_.data();
    v.step_size = step_size_.data();
    v.q = q_.data();
    v.g = g_.data();
    v.inv_metric = inv_metric_.data();
    v.mean = mean_.data();
    v.m2 = m2_.data();
    v.lp = lp_.data();
    v.eps = eps_.data();
    v.da = da_.data();
    v.welford_n = welford_n_.data();
    v.status = status_.data();
    v.evals = evals_.data();
    v.work = work_.data();
    v.scratch = scratch_.data();
    v.work_stride = L_.work_reals;
    v.scratch_stride = L_.scratch_reals;
    v.draw_theta = theta_[slot].data();
    v.draw_stats = stats_[slot].data();
    v.draw_ints = ints_[slot].data();
    return v;
  }

  const WaveLayout& L_;
  WaveTables t_;
  Runner runner_;
  std::vector<View> views_;
  std::vector<Real> target_accept_, max_delta_h_, step_size_;
  std::vector<Real> q_, g_, inv_metric_, mean_, m2_, lp_, eps_, work_, scratch_;
  std::vector<DualAveraging<Real>> da_;
  std::vector<int> welford_n_, status_;
  std::vector<long long> evals_;
  std::vector<Real> theta_[2], stats_[2];
  std::vector<int> ints_[2];
  std::vector<double> conv_theta_, conv_stats_;
};

}  // namespace herd
