// The lane-parallel paths of the shared HERD_HD code, checked on the CPU against the serial
// code: ThreadLanes (2, 3, 7 lanes as threads with a barrier) and the lockstep emulator of a
// 32-lane warp (lane_emulators.hpp), which runs herd's Warp policy, the one the CUDA kernels
// instantiate, with its butterfly shuffles; broken shuffles must fail the same comparisons.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>

#include "../model/fixtures.hpp"
#include "lane_emulators.hpp"
#include "herd/engine/host_wave_backend.hpp"
#include "herd/engine/wave.hpp"
#include "herd/hmc/nuts.hpp"
#include "herd/model/log_density.hpp"

namespace herd {
namespace {

using testing::make_model;
using testing::Options;

using testing::EmulatedWarp;
using testing::run_lanes;
using testing::run_warp;
using testing::ShuffleMutation;
using testing::ThreadLanes;

std::vector<Options> cases() {
  std::vector<Options> out;
  Options o;
  out.push_back(o);  // geometric adstock + Hill, noncentered, lift test, controls, season, trend
  o.G = 3;
  o.pooling = PoolingType::kCentered;
  o.adstock = AdstockType::kDelayed;
  o.likelihood = LikelihoodType::kStudentT;
  out.push_back(o);
  o = Options{};
  o.adstock = AdstockType::kNone;
  o.saturation = SaturationType::kLinear;  // the plain media path
  o.G = 2;
  o.likelihood = LikelihoodType::kLognormal;
  out.push_back(o);
  o = Options{};
  o.saturation = SaturationType::kLogistic;
  o.pooling = PoolingType::kUnpooled;
  out.push_back(o);
  return out;
}

// The log density and gradient at a fixed point, serially and through `run` (which calls
// its argument once on every lane of some policy).
struct LaneErrors {
  double lp = 0, g = 0;     // relative to |lp| and to the largest gradient
  bool lanes_agree = true;  // every lane returned the same log density, bit for bit
};

template <class Run>
LaneErrors lane_errors(const Model& m, Run run) {
  const ModelView<double> v = m.view<double>();
  const int n = m.dim();
  std::vector<double> theta(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) theta[static_cast<size_t>(i)] = 0.3 * std::sin(1.7 * i + 0.4);
  std::vector<double> g0(static_cast<size_t>(n)), scratch(static_cast<size_t>(m.scratch_size()));
  const double lp0 = log_density_grad(v, theta.data(), g0.data(), scratch.data());
  double scale = 1;
  for (double x : g0) scale = std::max(scale, std::abs(x));
  std::vector<double> g(static_cast<size_t>(n), 0), shared(static_cast<size_t>(m.scratch_size()));
  std::vector<double> lp(32, std::nan(""));
  run([&](const auto& L) { lp[static_cast<size_t>(L.lane())] = log_density_grad(v, theta.data(), g.data(), shared.data(), L); });
  LaneErrors e;
  e.lp = std::abs(lp[0] - lp0) / std::max(1.0, std::abs(lp0));
  for (double x : lp) e.lanes_agree = e.lanes_agree && (std::isnan(x) || x == lp[0]);
  for (int i = 0; i < n; ++i) e.g = std::max(e.g, std::abs(g[static_cast<size_t>(i)] - g0[static_cast<size_t>(i)]) / scale);
  return e;
}

TEST(Lanes, LogDensityMatchesSerial) {
  for (const Options& o : cases()) {
    const Model m = make_model(o, 31);
    for (int lanes : {2, 3, 7}) {
      const LaneErrors e =
          lane_errors(m, [&](const auto& f) { run_lanes(lanes, [&](const ThreadLanes& L) { f(L); }); });
      EXPECT_TRUE(e.lanes_agree) << lanes << " lanes, G=" << o.G;
      EXPECT_LE(e.lp, 1e-12) << lanes << " lanes, G=" << o.G;
      EXPECT_LE(e.g, 1e-12) << lanes << " lanes, G=" << o.G;
    }
  }
}

TEST(WarpEmulator, SumIsTheWarpsButterflyOnEveryLane) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> z(0, 1);
  std::vector<double> x(32);
  for (auto& v : x) v = std::ldexp(z(rng), static_cast<int>(rng() % 40) - 20);  // magnitudes far apart
  // lane 0 of a shuffle-down tree: y[i] += y[i + o] for o = 16, 8, 4, 2, 1
  std::vector<double> y = x;
  for (int o = 16; o > 0; o >>= 1)
    for (int i = 0; i < o; ++i) y[static_cast<size_t>(i)] += y[static_cast<size_t>(i + o)];
  std::vector<double> got(32);
  std::vector<float> got_f(32);
  std::vector<int> all_true(32), all_false(32);
  run_warp([&](const EmulatedWarp<>& L) {
    const size_t l = static_cast<size_t>(L.lane());
    got[l] = L.sum(x[l]);
    got_f[l] = L.sum(static_cast<float>(x[l]));
    all_true[l] = L.all(true);
    all_false[l] = L.all(l != 17);
  });
  for (size_t l = 0; l < 32; ++l) {
    EXPECT_EQ(got[l], y[0]) << "lane " << l;  // bit for bit, on every lane
    EXPECT_EQ(got_f[l], got_f[0]) << "lane " << l;
    EXPECT_EQ(all_true[l], 1);
    EXPECT_EQ(all_false[l], 0);
  }
}

TEST(WarpEmulator, LogDensityMatchesSerial) {
  for (const Options& o : cases()) {
    const Model m = make_model(o, 31);
    const LaneErrors e = lane_errors(m, [&](const auto& f) { run_warp([&](const EmulatedWarp<>& L) { f(L); }); });
    EXPECT_TRUE(e.lanes_agree) << "G=" << o.G;
    EXPECT_LE(e.lp, 1e-12) << "G=" << o.G;
    EXPECT_LE(e.g, 1e-12) << "G=" << o.G;
  }
}

TEST(WarpEmulator, BrokenShufflesFailTheComparison) {
  // The comparison above must be able to fail: a wrong xor mask (lanes 16..31 never join the
  // sum) and a lane dropped from the butterfly each move the gradient far beyond 1e-12.
  const Model m = make_model(cases()[0], 31);
  const LaneErrors wrong_mask = lane_errors(m, [&](const auto& f) {
    run_warp<ShuffleMutation::kWrongXorMask>([&](const EmulatedWarp<ShuffleMutation::kWrongXorMask>& L) { f(L); });
  });
  EXPECT_GT(wrong_mask.g, 1e-6);
  EXPECT_GT(wrong_mask.lp, 1e-6);
  const LaneErrors dropped = lane_errors(m, [&](const auto& f) {
    run_warp<ShuffleMutation::kDroppedLane>([&](const EmulatedWarp<ShuffleMutation::kDroppedLane>& L) { f(L); });
  });
  EXPECT_GT(dropped.g, 1e-6);
}

// Runs each chain's functions with `lanes` ThreadLanes (0: an emulated warp), chain after chain.
struct LaneRunner {
  int lanes = 1;
  template <class F>
  void operator()(int n_chains, F&& f) const {
    for (int c = 0; c < n_chains; ++c) {
      if (lanes == 0)
        run_warp([&](const EmulatedWarp<>& L) { f(c, L); });
      else
        run_lanes(lanes, [&](const ThreadLanes& L) { f(c, L); });
    }
  }
};

// The same wave (run_wave's windows, metric updates, searches, chunks) with lanes (0: the
// emulated warp) and serially.
// Lanes sum in another order than the serial loop, so draws agree to rounding that grows
// along the chain: the same trajectories (leapfrog counts), draws within `tol`.
void expect_lane_wave(const Model& model, const SamplerOptions& so, int lanes, double tol) {
  const WaveLayout L = make_wave_layout({&model}, {so}, 7);
  const auto serial = run_wave(*make_cpu_wave_backend(L, false, 1), L);
  HostWaveBackend<double, LaneRunner> backend(L, LaneRunner{lanes});
  const auto laned = run_wave(backend, L);
  ASSERT_EQ(serial[0].error, "");
  ASSERT_EQ(laned[0].error, "");
  const int n = model.dim();
  double worst = 0;
  for (int c = 0; c < so.chains; ++c) {
    const ChainDraws& d = serial[0].fit.chains[static_cast<size_t>(c)];
    const ChainDraws& e = laned[0].fit.chains[static_cast<size_t>(c)];
    ASSERT_EQ(d.theta.size(), e.theta.size());
    for (size_t i = 0; i < d.theta.size(); ++i)
      worst = std::max(worst, std::abs(d.theta[i] - e.theta[i]) / std::max(1.0, std::abs(d.theta[i])));
    EXPECT_EQ(d.n_leapfrog, e.n_leapfrog) << "chain " << c;
    EXPECT_EQ(d.gradient_evals, e.gradient_evals) << "chain " << c;
    EXPECT_NEAR(d.final_step_size, e.final_step_size, tol * d.final_step_size) << "chain " << c;
    for (int i = 0; i < n; ++i)
      EXPECT_NEAR(d.inv_metric[static_cast<size_t>(i)], e.inv_metric[static_cast<size_t>(i)],
                  tol * d.inv_metric[static_cast<size_t>(i)]);
  }
  const std::string what = lanes == 0 ? std::string("emulated warp") : std::to_string(lanes) + " lanes";
  EXPECT_LE(worst, tol) << what << ", warmup " << so.warmup;
  std::printf("%s, warmup %d, %d draws: largest relative difference %.3g\n", what.c_str(), so.warmup, so.draws, worst);
}

// The GPU test's setting: 20 transitions at a fixed step size from initialization (at the
// origin, where a fixed small step makes real trajectories), trees up to max_depth.
SamplerOptions first_transitions(int max_depth) {
  SamplerOptions so;
  so.chains = 1;
  so.warmup = 0;
  so.draws = 20;
  so.step_size = 0.005;
  so.init_radius = 0;
  so.max_depth = max_depth;
  return so;
}

TEST(Lanes, FirstTransitionsMatchSerial) {
  expect_lane_wave(make_model(cases()[0], 9), first_transitions(6), 7, 1e-10);
}

TEST(Lanes, WarmupAndDrawsMatchSerial) {
  // Initialization, step-size searches, dual averaging, a metric window, then draws.
  SamplerOptions so;
  so.chains = 1;
  so.warmup = 30;
  so.draws = 10;
  so.max_depth = 6;
  expect_lane_wave(make_model(cases()[1], 5), so, 5, 1e-6);
}

TEST(Lanes, CheesMatchesSerial) {
  // ChEES's HMC steps with lanes, its model functions (median search, adaptation, pooled
  // metric) between them: the same leapfrog counts, draws to rounding.
  SamplerOptions so;
  so.algorithm = Algorithm::kChees;
  so.chains = 3;
  so.warmup = 30;
  so.draws = 10;
  expect_lane_wave(make_model(cases()[1], 5), so, 5, 1e-6);
}

TEST(WarpEmulator, CheesMatchesSerial) {
  SamplerOptions so;
  so.algorithm = Algorithm::kChees;
  so.chains = 2;
  so.warmup = 25;
  so.draws = 5;
  expect_lane_wave(make_model(cases()[0], 9), so, 0, 1e-8);
}

TEST(WarpEmulator, FirstTransitionsMatchSerial) {
  // Through the Warp policy the kernels run; trees of at most 15 leapfrogs (32 lockstep
  // threads per chain on a CPU are slow).
  expect_lane_wave(make_model(cases()[0], 9), first_transitions(4), 0, 1e-8);
}

}  // namespace
}  // namespace herd
