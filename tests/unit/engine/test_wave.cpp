// The wave executor's host logic (windows, metric pooling, chunked double-buffered draws,
// failed models) through the CPU backend: each model of a wave of models of different sizes
// must draw exactly what it draws alone (fit_model: a one-model wave with another chunk
// size), and a host target through fit_target the same again. The transition itself is held
// to a literal transcription of Stan's recursion in test_nuts.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

#include "../model/fixtures.hpp"
#include "herd/core/error.hpp"
#include "herd/engine/fit.hpp"
#include "herd/engine/fit_target.hpp"
#include "herd/engine/wave.hpp"

namespace herd {
namespace {

using testing::make_model;
using testing::Options;

struct Wave3 : testing::OwnedModels {
  std::vector<SamplerOptions> options;
};

// Three models of different dims, chain counts and init radii; one with per-chain metrics.
Wave3 three_models(int warmup, int draws) {
  Wave3 w;
  Options a;
  a.T = 30;
  Options b;
  b.T = 24;
  b.G = 2;
  b.C = 4;
  b.pooling = PoolingType::kCentered;
  Options c;
  c.T = 40;
  c.C = 2;
  c.K = 0;
  c.adstock = AdstockType::kNone;
  c.saturation = SaturationType::kLog;
  c.likelihood = LikelihoodType::kStudentT;
  const Options opts[3] = {a, b, c};
  const int chains[3] = {2, 3, 1};
  for (int i = 0; i < 3; ++i) {
    w.add(make_model(opts[i], 100 + static_cast<std::uint64_t>(i)));
    SamplerOptions o;
    o.chains = chains[i];
    o.warmup = warmup;
    o.draws = draws;
    o.seed = 7 + static_cast<std::uint64_t>(i);
    o.max_depth = 6;
    o.threads = 1;
    o.metric = i != 1 ? MetricKind::kPooled : MetricKind::kPerChain;
    o.init_radius = 2 - 0.5 * i;  // each model's own initialization, honoured in a wave
    w.options.push_back(o);
  }
  return w;
}

// The model alone: a one-model wave with a chunk size no wave below uses.
FitResult alone(const Model& m, const SamplerOptions& o) { return fit_model(m, o, 7); }

void expect_same(const FitResult& a, const FitResult& b, const std::string& what) {
  ASSERT_EQ(a.chains.size(), b.chains.size()) << what;
  for (size_t c = 0; c < a.chains.size(); ++c) {
    const ChainDraws &x = a.chains[c], &y = b.chains[c];
    const std::string at = what + " chain " + std::to_string(c);
    EXPECT_EQ(x.theta, y.theta) << at;
    EXPECT_EQ(x.lp, y.lp) << at;
    EXPECT_EQ(x.accept_prob, y.accept_prob) << at;
    EXPECT_EQ(x.step_size, y.step_size) << at;
    EXPECT_EQ(x.energy, y.energy) << at;
    EXPECT_EQ(x.tree_depth, y.tree_depth) << at;
    EXPECT_EQ(x.n_leapfrog, y.n_leapfrog) << at;
    EXPECT_EQ(x.diverging, y.diverging) << at;
    EXPECT_EQ(x.inv_metric, y.inv_metric) << at;
    EXPECT_EQ(x.final_step_size, y.final_step_size) << at;
    EXPECT_EQ(x.gradient_evals, y.gradient_evals) << at;
  }
}

// Same streams in float: the first draws stay close before rounding differences grow, with
// the same trajectories.
void expect_float32_follows(const WaveLayout& layout) {
  const auto d = run_wave(*make_cpu_wave_backend(layout, false, 1), layout);
  const auto f = run_wave(*make_cpu_wave_backend(layout, true, 1), layout);
  for (size_t i = 0; i < d.size(); ++i) {
    ASSERT_EQ(f[i].error, "");
    const auto& x = d[i].fit.chains[0].theta;
    const auto& y = f[i].fit.chains[0].theta;
    ASSERT_EQ(x.size(), y.size());
    const size_t n = static_cast<size_t>(d[i].fit.dim);  // the first draw
    for (size_t k = 0; k < n; ++k) EXPECT_NEAR(x[k], y[k], 1e-3 * std::max(1.0, std::abs(x[k]))) << i << " " << k;
    EXPECT_EQ(d[i].fit.chains[0].n_leapfrog.front(), f[i].fit.chains[0].n_leapfrog.front()) << i;
  }
}

TEST(Wave, EachModelDrawsAsItDoesAlone) {
  // 150 warmup iterations: rescaled windows with two metric updates; 60 draws in chunks of
  // 25 (two full buffers and a partial one, alternating slots).
  const Wave3 w = three_models(150, 60);
  const WaveLayout layout = make_wave_layout(w.ptrs(), w.options, 25);
  EXPECT_EQ(layout.n_chains, 6);
  EXPECT_EQ(layout.stride, std::max({w.models[0]->dim(), w.models[1]->dim(), w.models[2]->dim()}));
  const auto backend = make_cpu_wave_backend(layout, false, 2);
  const std::vector<WaveOutcome> out = run_wave(*backend, layout);
  ASSERT_EQ(out.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_EQ(out[i].error, "") << i;
    EXPECT_EQ(out[i].fit.dim, w.models[i]->dim());
    EXPECT_EQ(out[i].fit.chains[0].lp.size(), 60u);
    expect_same(out[i].fit, alone(*w.models[i], w.options[i]), "model " + std::to_string(i));
  }
}

TEST(Wave, HostTargetDrawsAsTheModel) {
  // The generic entry (the Gaussian and posteriordb tests' path) is the same driver.
  const Wave3 w = three_models(120, 30);
  for (size_t i = 0; i < 3; ++i) {
    const Model& m = *w.models[i];
    const ModelTarget<double> target{m.view<double>()};
    expect_same(fit_target(target, m.dim(), m.scratch_size(), w.options[i], m.spec().name, 11), alone(m, w.options[i]),
                "model " + std::to_string(i));
  }
  // Its failures are the wave's, as ModelError.
  SamplerOptions bad = w.options[0];
  bad.max_depth = 0;
  const ModelTarget<double> target{w.models[0]->view<double>()};
  EXPECT_THROW(fit_target(target, w.models[0]->dim(), w.models[0]->scratch_size(), bad, "m"), ModelError);
}

TEST(Wave, ChunkSizeDoesNotChangeDraws) {
  const Wave3 w = three_models(40, 30);
  const WaveLayout one = make_wave_layout(w.ptrs(), w.options, 1);
  const WaveLayout all = make_wave_layout(w.ptrs(), w.options, 1000);
  EXPECT_EQ(all.chunk, 30);
  const auto a = run_wave(*make_cpu_wave_backend(one, false, 1), one);
  const auto b = run_wave(*make_cpu_wave_backend(all, false, 2), all);
  for (size_t i = 0; i < 3; ++i) expect_same(a[i].fit, b[i].fit, "model " + std::to_string(i));
}

TEST(Wave, FailedModelLeavesTheOthers) {
  Wave3 w = three_models(60, 20);
  w.options[1].max_depth = 0;
  const WaveLayout layout = make_wave_layout(w.ptrs(), w.options, 8);
  const auto out = run_wave(*make_cpu_wave_backend(layout, false, 2), layout);
  EXPECT_NE(out[1].error.find("max_depth"), std::string::npos) << out[1].error;
  EXPECT_TRUE(out[1].fit.chains[0].theta.empty());
  for (size_t i : {size_t(0), size_t(2)}) {
    ASSERT_EQ(out[i].error, "");
    expect_same(out[i].fit, alone(*w.models[i], w.options[i]), "model " + std::to_string(i));
  }
}

TEST(Wave, MixedWarmupIsRefused) {
  Wave3 w = three_models(60, 20);
  w.options[2].warmup = 61;
  EXPECT_THROW(make_wave_layout(w.ptrs(), w.options, 8), std::invalid_argument);
  Wave3 v = three_models(60, 20);
  v.options[1].algorithm = Algorithm::kChees;
  EXPECT_THROW(make_wave_layout(v.ptrs(), v.options, 8), std::invalid_argument);
}

TEST(Wave, CheesModelsDrawAsTheyDoAlone) {
  // ChEES's cross-chain model function sees only its own model's chains: a model's draws
  // do not depend on the other models of its wave. 150 warmup: one metric update, a restart.
  Wave3 w = three_models(150, 40);
  for (auto& o : w.options) {
    o.algorithm = Algorithm::kChees;
    o.chains += 3;
  }
  const WaveLayout layout = make_wave_layout(w.ptrs(), w.options, 16);
  const auto out = run_wave(*make_cpu_wave_backend(layout, false, 2), layout);
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_EQ(out[i].error, "") << i;
    const FitResult& f = out[i].fit;
    expect_same(f, alone(*w.models[i], w.options[i]), "model " + std::to_string(i));
    // Every chain of a model took the same leapfrog steps, with one step size and metric.
    for (size_t c = 1; c < f.chains.size(); ++c) {
      EXPECT_EQ(f.chains[c].n_leapfrog, f.chains[0].n_leapfrog) << i;
      EXPECT_EQ(f.chains[c].step_size, f.chains[0].step_size) << i;
      EXPECT_EQ(f.chains[c].inv_metric, f.chains[0].inv_metric) << i;
    }
  }
}

TEST(Wave, CheesFloat32FollowsFloat64) {
  Wave3 w = three_models(0, 3);
  for (auto& o : w.options) {
    o.algorithm = Algorithm::kChees;
    o.step_size = 0.05;  // T = eps: one leapfrog of 0.05 per draw
  }
  const WaveLayout layout = make_wave_layout(w.ptrs(), w.options, 3);
  expect_float32_follows(layout);
}

TEST(Wave, Float32FollowsFloat64) {
  const Wave3 w = three_models(0, 3);
  expect_float32_follows(make_wave_layout(w.ptrs(), w.options, 3));
}

TEST(WavePlan, SplitsByBudgetInOrder) {
  const auto waves = plan_waves({5, 5, 5, 12, 1}, 10);
  const std::vector<std::vector<int>> want = {{0, 1}, {2}, {3}, {4}};
  EXPECT_EQ(waves, want);
  EXPECT_EQ(plan_waves({}, 10).size(), 0u);
  EXPECT_EQ(plan_waves({3, 3, 3}, 100).size(), 1u);
}

TEST(WavePlan, BytesGrowWithChainsChunkAndPrecision) {
  const Model m = make_model(Options{}, 3);
  SamplerOptions o;
  o.chains = 4;
  const long long base = wave_model_bytes(m, o, 100, false, m.dim(), m.scratch_size());
  o.chains = 8;
  EXPECT_GT(wave_model_bytes(m, o, 100, false, m.dim(), m.scratch_size()), base);
  o.chains = 4;
  EXPECT_GT(wave_model_bytes(m, o, 200, false, m.dim(), m.scratch_size()), base);
  EXPECT_LT(wave_model_bytes(m, o, 100, true, m.dim(), m.scratch_size()), base);
  EXPECT_GT(wave_model_bytes(m, o, 100, false, 2 * m.dim(), m.scratch_size()), base);
  // At least the workspace and scratch of every chain.
  EXPECT_GE(base, 4LL * 8 * (nuts_workspace_size(m.dim(), o.max_depth) + m.scratch_size()));
}

}  // namespace
}  // namespace herd
