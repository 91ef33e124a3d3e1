#pragma once
// The host wave backend, templated on how chains run and on the models' target view: the CPU
// backend (make_cpu_wave_backend) is HostWaveBackend<Real, ThreadPoolRunner> over the MMM's
// ModelView; fit_target runs any host target through it; tests plug in other runners.
#include <stdexcept>
#include <utility>
#include <vector>

#include "herd/engine/wave.hpp"
#include "herd/engine/wave_launch.hpp"
#include "herd/engine/wave_state.hpp"
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

/// A wave on the host: its state in host memory (WaveState<Real, HostMemory>), every chain
/// function run through `Runner`, which calls f(chain, lanes) for each chain
/// (ThreadPoolRunner: the CPU backend; the tests run each chain's lanes as threads).
template <class Real, class Runner, class View = ModelView<Real>>
class HostWaveBackend : public WaveBackend {
 public:
  /// Over the layout's MMMs.
  HostWaveBackend(const WaveLayout& L, Runner runner) : HostWaveBackend(L, runner, model_views(L)) {}
  /// Over one target view per model of the layout.
  HostWaveBackend(const WaveLayout& L, Runner runner, std::vector<View> views)
      : L_(L), runner_(runner), views_(checked(std::move(views), L)), state_(L, views_.data()) {}

  void run(const WaveStep& step) override {
    const WaveView<Real, View> v = state_.ref(step.slot);
    launch_step(
        step, L_.options[0].algorithm == Algorithm::kChees,
        [&](const auto& op) { runner_(L_.n_chains, [&](int c, const auto& lanes) { op(v, c, lanes); }); },
        [&](const auto& op) {
          for (int m = 0; m < static_cast<int>(L_.options.size()); ++m) op(v, m);
        });
  }
  void fetch(int slot, int count, const double** theta, const double** stats, const int** ints) override {
    const WaveView<Real, View> v = state_.ref(slot);
    const size_t rows = static_cast<size_t>(count) * static_cast<size_t>(L_.n_chains);
    *theta = as_host_doubles(v.draw_theta, rows * static_cast<size_t>(L_.stride), conv_theta_);
    *stats = as_host_doubles(v.draw_stats, rows * kNumFloatStats, conv_stats_);
    *ints = v.draw_ints;
  }
  void read_state(State& s) override { state_.read(s); }
  void write_status(const std::vector<int>& status) override { state_.write_status(status); }
  std::string name() const override { return "cpu"; }

 private:
  static std::vector<View> model_views(const WaveLayout& L) {
    std::vector<View> views;
    for (const Model* m : L.models) views.push_back(m->view<Real>());
    return views;
  }
  static std::vector<View> checked(std::vector<View> views, const WaveLayout& L) {
    if (views.size() != L.options.size()) throw std::invalid_argument("a host wave needs a view per model");
    return views;
  }
  const WaveLayout& L_;
  Runner runner_;
  std::vector<View> views_;
  WaveState<Real, HostMemory, View> state_;
  std::vector<double> conv_theta_, conv_stats_;
};

}  // namespace herd
