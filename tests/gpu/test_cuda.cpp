// GPU against CPU (label gpu). Each test skips where herd was built without CUDA or no
// device is visible, so CI (nvcc, no GPU) lists them as skipped. Tolerances per operation:
// gradients 1e-12 (double) and 1e-4 (float) relative to the gradient's scale; the first
// transitions of a chain 1e-8; whole fits within 4 Monte Carlo standard errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>

#include "../unit/model/fixtures.hpp"
#include "herd/config/run_config.hpp"
#include "herd/data/dataset.hpp"
#include "herd/diagnostics/diagnostics.hpp"
#include "herd/engine/device.hpp"
#include "herd/engine/fit.hpp"
#include "herd/engine/wave.hpp"

namespace herd {
namespace {

using testing::make_model;
using testing::Options;

class Gpu : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_built()) GTEST_SKIP() << "built without CUDA";
    if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  }
};

// Both kernel layouts: a warp per chain (32 lanes) and a thread per chain (1).
class GpuLanes : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    if (!cuda_built()) GTEST_SKIP() << "built without CUDA";
    if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  }
};

using testing::BlockCase;

// Every block alone and all together, as the CPU gradient tests enumerate them.
std::vector<BlockCase> block_cases() {
  std::vector<BlockCase> cases = testing::each_block_alone();
  Options o;
  cases.push_back({"everything", Options{}});
  o.G = 3; o.pooling = PoolingType::kCentered; o.adstock = AdstockType::kDelayed;
  cases.push_back({"panel centered delayed", o});
  return cases;
}

template <class Real>
void compare_gradients(double tol, int lanes) {
  const int points = 16;
  for (const BlockCase& c : block_cases()) {
    const Model m = make_model(c.o, 21);
    const int n = m.dim();
    std::mt19937_64 rng(5);
    std::normal_distribution<double> z(0, 1);
    std::vector<double> theta(static_cast<size_t>(points * n));
    for (auto& v : theta) v = 0.7 * z(rng);
    const CudaGradient gpu = cuda_log_density_grad({&m}, sizeof(Real) == 4, points, theta, 0, lanes);
    const ModelView<Real> view = m.view<Real>();
    std::vector<Real> q(static_cast<size_t>(n)), g(static_cast<size_t>(n)),
        scratch(static_cast<size_t>(m.scratch_size()));
    for (int p = 0; p < points; ++p) {
      for (int i = 0; i < n; ++i) q[static_cast<size_t>(i)] = static_cast<Real>(theta[static_cast<size_t>(p * n + i)]);
      const double lp = static_cast<double>(log_density_grad(view, q.data(), g.data(), scratch.data()));
      double scale = 1;
      for (Real v : g) scale = std::max(scale, std::abs(static_cast<double>(v)));
      EXPECT_NEAR(gpu.lp[static_cast<size_t>(p)], lp, tol * std::max(1.0, std::abs(lp))) << c.name << " point " << p;
      for (int i = 0; i < n; ++i)
        EXPECT_NEAR(gpu.grad[static_cast<size_t>(p * n + i)], static_cast<double>(g[static_cast<size_t>(i)]), tol * scale)
            << c.name << " point " << p << " coordinate " << m.params()[static_cast<size_t>(i)].name;
    }
  }
}

TEST_P(GpuLanes, GradientMatchesCpuDouble) { compare_gradients<double>(1e-12, GetParam()); }
TEST_P(GpuLanes, GradientMatchesCpuFloat) { compare_gradients<float>(1e-4, GetParam()); }

TEST_P(GpuLanes, GradientOfManyModelsAtOnce) {
  // Models of different sizes in one launch: each point is its own model's.
  testing::OwnedModels models;
  int stride = 0;
  for (const BlockCase& c : block_cases()) {
    models.add(make_model(c.o, 3));
    stride = std::max(stride, models.models.back()->dim());
  }
  const std::vector<const Model*> ptrs = models.ptrs();
  const int points = 3;
  std::vector<double> theta(ptrs.size() * points * static_cast<size_t>(stride), 0.1);
  const CudaGradient gpu = cuda_log_density_grad(ptrs, false, points, theta, 0, GetParam());
  std::vector<double> g(static_cast<size_t>(stride));
  for (size_t k = 0; k < ptrs.size(); ++k)
    for (int p = 0; p < points; ++p) {
      const size_t row = (k * points + static_cast<size_t>(p)) * static_cast<size_t>(stride);
      const double lp = ptrs[k]->log_density_grad(theta.data() + row, g.data());
      EXPECT_NEAR(gpu.lp[k * points + static_cast<size_t>(p)], lp, 1e-12 * std::max(1.0, std::abs(lp))) << k;
    }
}

struct Wave : testing::OwnedModels {
  std::vector<SamplerOptions> options;
};

TEST_P(GpuLanes, First20TransitionsMatchCpu) {
  // The first 20 transitions at a fixed step size (no warmup), from the same seed on both
  // backends; every chain of a two-model wave. Trajectories run to the depth limit (255
  // leapfrog steps), so rounding has room to grow.
  Wave w;
  Options a;
  Options b;
  b.G = 2;
  b.adstock = AdstockType::kDelayed;
  for (const Options& o : {a, b}) {
    w.add(make_model(o, 9));
    SamplerOptions so;
    so.chains = 4;
    so.warmup = 0;
    so.draws = 20;
    so.step_size = 0.005;
    so.init_radius = 0;  // from the origin, where a fixed small step makes real trajectories
    so.max_depth = 8;
    so.seed = 3 + w.options.size();
    w.options.push_back(so);
  }
  const WaveLayout L = make_wave_layout(w.ptrs(), w.options, 8);
  const auto cpu = run_wave(*make_cpu_wave_backend(L, false, 0), L);
  const auto gpu = run_wave(*make_cuda_wave_backend(L, false, GetParam()), L);
  for (size_t m = 0; m < 2; ++m) {
    ASSERT_EQ(gpu[m].error, "");
    for (size_t c = 0; c < 4; ++c) {
      const ChainDraws &x = cpu[m].fit.chains[c], &y = gpu[m].fit.chains[c];
      ASSERT_EQ(x.theta.size(), y.theta.size());
      for (size_t i = 0; i < x.theta.size(); ++i)
        ASSERT_NEAR(y.theta[i], x.theta[i], 1e-8 * std::max(1.0, std::abs(x.theta[i])))
            << "model " << m << " chain " << c << " draw " << i / static_cast<size_t>(cpu[m].fit.dim);
      EXPECT_EQ(x.n_leapfrog, y.n_leapfrog);
      EXPECT_GT(*std::max_element(x.n_leapfrog.begin(), x.n_leapfrog.end()), 3);  // real trajectories
    }
  }
}

TEST_P(GpuLanes, CheesWarmupAndDrawsMatchCpu) {
  // ChEES through the same steps on both backends: its chain kernel (HMC with warp lanes),
  // its model kernels (median search, cross-chain adaptation, pooled metric), a short warmup
  // with one metric window, then draws. Tolerance as the emulator's (test_lanes): 1e-6.
  Wave w;
  Options a;
  Options b;
  b.G = 2;
  for (const Options& o : {a, b}) {
    w.add(make_model(o, 11));
    SamplerOptions so;
    so.algorithm = Algorithm::kChees;
    so.chains = 8;
    so.warmup = 40;
    so.draws = 10;
    so.seed = 5 + w.options.size();
    w.options.push_back(so);
  }
  const WaveLayout L = make_wave_layout(w.ptrs(), w.options, 4);
  const auto cpu = run_wave(*make_cpu_wave_backend(L, false, 0), L);
  const auto gpu = run_wave(*make_cuda_wave_backend(L, false, GetParam()), L);
  for (size_t m = 0; m < 2; ++m) {
    ASSERT_EQ(gpu[m].error, "");
    for (size_t c = 0; c < 8; ++c) {
      const ChainDraws &x = cpu[m].fit.chains[c], &y = gpu[m].fit.chains[c];
      ASSERT_EQ(x.theta.size(), y.theta.size());
      EXPECT_EQ(x.n_leapfrog, y.n_leapfrog) << "model " << m << " chain " << c;
      for (size_t i = 0; i < x.theta.size(); ++i)
        ASSERT_NEAR(y.theta[i], x.theta[i], 1e-6 * std::max(1.0, std::abs(x.theta[i])))
            << "model " << m << " chain " << c << " draw " << i / static_cast<size_t>(cpu[m].fit.dim);
    }
  }
}

// Posterior means of every reported quantity agree within 4 MCSE (both fits' MCSE combined).
void expect_same_posterior(const Model& model, const FitResult& a, const FitResult& b, const std::string& what) {
  const std::vector<std::string> names = output_names(model);
  const size_t k = names.size();
  auto table = [&](const FitResult& f) {
    const int C = static_cast<int>(f.chains.size()), D = f.draws;
    std::vector<std::vector<double>> v(k, std::vector<double>(static_cast<size_t>(C * D)));
    std::vector<double> row(k);
    for (int c = 0; c < C; ++c)
      for (int d = 0; d < D; ++d) {
        outputs(model, f.chains[static_cast<size_t>(c)].theta.data() + static_cast<size_t>(d * f.dim), row.data());
        for (size_t j = 0; j < k; ++j) v[j][static_cast<size_t>(c * D + d)] = row[j];
      }
    return v;
  };
  const auto ta = table(a), tb = table(b);
  const int C = static_cast<int>(a.chains.size());
  for (size_t j = 0; j < k; ++j) {
    double ma = 0, mb = 0;
    for (double v : ta[j]) ma += v;
    for (double v : tb[j]) mb += v;
    ma /= static_cast<double>(ta[j].size());
    mb /= static_cast<double>(tb[j].size());
    const double se = std::hypot(mcse_mean(ta[j].data(), C, a.draws), mcse_mean(tb[j].data(), C, b.draws));
    EXPECT_LE(std::abs(ma - mb), 4 * se) << what << " " << names[j] << ": " << ma << " vs " << mb;
  }
}

TEST_F(Gpu, ExampleBatchMatchesCpuWithinMcse) {
  // The example batch (configs/examples/example.toml, six models) at 4 chains x (300 + 300):
  // one wave on the GPU against the same wave on the CPU backend.
  const RunSpec run = parse_run(std::string(HERD_SOURCE_DIR) + "/configs/examples/example.toml");
  Wave w;
  for (const RunModel& rm : run.models) {
    w.add(Model(rm.spec, read_dataset(rm.spec)));
    SamplerOptions o = options_from(rm.spec);
    o.chains = 4;
    o.warmup = 300;
    o.draws = 300;
    w.options.push_back(o);
  }
  const WaveLayout L = make_wave_layout(w.ptrs(), w.options, 100);
  const auto gpu = run_wave(*make_cuda_wave_backend(L, false), L);
  // The CPU side with other seeds: agreement of posteriors, not of streams.
  for (auto& o : w.options) o.seed += 1000;
  const WaveLayout L2 = make_wave_layout(w.ptrs(), w.options, 100);
  const auto cpu = run_wave(*make_cpu_wave_backend(L2, false, 0), L2);
  for (size_t m = 0; m < w.models.size(); ++m) {
    ASSERT_EQ(gpu[m].error, "") << w.models[m]->spec().name;
    expect_same_posterior(*w.models[m], gpu[m].fit, cpu[m].fit, w.models[m]->spec().name);
  }
}

TEST_F(Gpu, Float32FitMatchesFloat64) {
  // A float32 wave on the GPU samples the same posterior as float64 (4 MCSE).
  Wave w;
  Options o;
  o.T = 60;
  w.add(make_model(o, 17));
  SamplerOptions so;
  so.warmup = 300;
  so.draws = 400;
  w.options.push_back(so);
  const WaveLayout L = make_wave_layout(w.ptrs(), w.options, 100);
  const auto f = run_wave(*make_cuda_wave_backend(L, true), L);
  w.options[0].seed = 99;
  const WaveLayout L2 = make_wave_layout(w.ptrs(), w.options, 100);
  const auto d = run_wave(*make_cuda_wave_backend(L2, false), L2);
  ASSERT_EQ(f[0].error, "");
  expect_same_posterior(*w.models[0], f[0].fit, d[0].fit, "float32 vs float64");
}

INSTANTIATE_TEST_SUITE_P(Layouts, GpuLanes, ::testing::Values(32, 1),
                         [](const ::testing::TestParamInfo<int>& i) { return i.param == 32 ? std::string("warp") : std::string("thread"); });

}  // namespace
}  // namespace herd
