// Gradient evaluations per second on one thread, float and double, for the two reference
// shapes: (a) log-log, T=104, 10 channels, noncentered pooling (the seed example) and
// (b) adstock + Hill, T=156, 8 channels, 8 taps, 2 controls, 2 harmonics (national_media).
//   build/cpu/bench/bench_gradient --benchmark_out=bench/results/gradient-cpu.json --benchmark_out_format=json
#include <benchmark/benchmark.h>

#include <random>

#include "herd/config/model_config.hpp"
#include "herd/data/dataset.hpp"
#include "herd/model/log_density.hpp"
#include "herd/model/model.hpp"

namespace {

const herd::Model& model(const char* config) {
  static std::map<std::string, std::unique_ptr<herd::Model>> cache;
  auto& m = cache[config];
  if (!m) {
    herd::ModelSpec spec = herd::parse_model_config(std::string(HERD_SOURCE_DIR) + "/configs/examples/" + config);
    herd::Dataset data = herd::read_dataset(spec);
    m = std::make_unique<herd::Model>(std::move(spec), std::move(data));
  }
  return *m;
}

template <class Real>
void BM_Gradient(benchmark::State& state, const char* config) {
  const herd::Model& m = model(config);
  const herd::ModelView<Real> v = m.view<Real>();
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<Real> theta(static_cast<size_t>(m.dim())), grad(theta.size());
  for (auto& t : theta) t = static_cast<Real>(u(rng));
  std::vector<Real> scratch(static_cast<size_t>(herd::scratch_size(v)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(herd::log_density_grad(v, theta.data(), grad.data(), scratch.data()));
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["dim"] = m.dim();
  state.counters["T"] = v.T;
  state.counters["C"] = v.C;
}

void BM_GradientF64(benchmark::State& state, const char* config) { BM_Gradient<double>(state, config); }
void BM_GradientF32(benchmark::State& state, const char* config) { BM_Gradient<float>(state, config); }

BENCHMARK_CAPTURE(BM_GradientF64, loglog_T104_C10_noncentered, "dtc_paid_social_noncentered.toml");
BENCHMARK_CAPTURE(BM_GradientF32, loglog_T104_C10_noncentered, "dtc_paid_social_noncentered.toml");
BENCHMARK_CAPTURE(BM_GradientF64, adstock_hill_T156_C8_L8, "national_media.toml");
BENCHMARK_CAPTURE(BM_GradientF32, adstock_hill_T156_C8_L8, "national_media.toml");

}  // namespace

BENCHMARK_MAIN();
