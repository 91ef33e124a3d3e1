// The lane-parallel paths of the shared HERD_HD code, checked on the CPU: ThreadLanes runs
// the lanes of one chain as threads with a barrier for sync(), so the striding, the leader's
// parts and the reductions that a CUDA warp runs are exercised here against the serial code.
#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdio>
#include <functional>
#include <mutex>
#include <thread>

#include "../model/fixtures.hpp"
#include "herd/engine/host_wave_backend.hpp"
#include "herd/engine/wave.hpp"
#include "herd/hmc/nuts.hpp"
#include "herd/model/log_density.hpp"

namespace herd {
namespace {

using testing::make_model;
using testing::Options;

// What the lanes of one chain share: a reusable barrier and one slot per lane.
struct LaneShared {
  explicit LaneShared(int lanes) : n(lanes), slot(static_cast<size_t>(lanes)) {}
  void wait() {
    std::unique_lock<std::mutex> lock(m);
    const long gen = generation;
    if (++arrived == n) {
      arrived = 0;
      ++generation;
      cv.notify_all();
    } else {
      cv.wait(lock, [&] { return generation != gen; });
    }
  }
  int n;
  std::vector<double> slot;
  std::mutex m;
  std::condition_variable cv;
  int arrived = 0;
  long generation = 0;
};

struct ThreadLanes {
  static constexpr bool kSerial = false;
  int id = 0;
  LaneShared* sh = nullptr;
  int lane() const { return id; }
  int count() const { return sh->n; }
  bool leader() const { return id == 0; }
  void sync() const { sh->wait(); }
  template <class R>
  R sum(R x) const {
    sh->slot[static_cast<size_t>(id)] = static_cast<double>(x);
    sync();
    R t = 0;
    for (int i = 0; i < sh->n; ++i) t += static_cast<R>(sh->slot[static_cast<size_t>(i)]);
    sync();
    return t;
  }
  template <class R>
  R broadcast(R x) const {
    if (leader()) sh->slot[0] = static_cast<double>(x);
    sync();
    const R v = static_cast<R>(sh->slot[0]);
    sync();
    return v;
  }
  bool all(bool b) const { return sum(b ? 1.0 : 0.0) == static_cast<double>(sh->n); }
};

// Runs fn(lanes) on n threads, one per lane.
void run_lanes(int n, const std::function<void(const ThreadLanes&)>& fn) {
  LaneShared sh(n);
  std::vector<std::thread> pool;
  for (int i = 0; i < n; ++i)
    pool.emplace_back([&, i] {
      const ThreadLanes lanes{i, &sh};
      fn(lanes);
    });
  for (auto& t : pool) t.join();
}

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

TEST(Lanes, LogDensityMatchesSerial) {
  for (const Options& o : cases()) {
    const Model m = make_model(o, 31);
    const ModelView<double> v = m.view<double>();
    const int n = m.dim();
    std::vector<double> theta(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) theta[static_cast<size_t>(i)] = 0.3 * std::sin(1.7 * i + 0.4);
    std::vector<double> g0(static_cast<size_t>(n)), scratch(static_cast<size_t>(m.scratch_size()));
    const double lp0 = log_density_grad(v, theta.data(), g0.data(), scratch.data());
    double scale = 1;
    for (double x : g0) scale = std::max(scale, std::abs(x));
    for (int lanes : {2, 3, 7, 32}) {
      std::vector<double> g(static_cast<size_t>(n), 0), shared(static_cast<size_t>(m.scratch_size()));
      std::vector<double> lp(static_cast<size_t>(lanes));
      run_lanes(lanes, [&](const ThreadLanes& L) {
        lp[static_cast<size_t>(L.lane())] = log_density_grad(v, theta.data(), g.data(), shared.data(), L);
      });
      for (int l = 0; l < lanes; ++l) EXPECT_EQ(lp[static_cast<size_t>(l)], lp[0]) << "lanes disagree";
      EXPECT_NEAR(lp[0], lp0, 1e-12 * std::max(1.0, std::abs(lp0))) << lanes << " lanes, G=" << o.G;
      for (int i = 0; i < n; ++i)
        EXPECT_NEAR(g[static_cast<size_t>(i)], g0[static_cast<size_t>(i)], 1e-12 * scale)
            << lanes << " lanes, " << m.params()[static_cast<size_t>(i)].name;
    }
  }
}

// Runs each chain's functions with `lanes` ThreadLanes, chain after chain.
struct LaneRunner {
  int lanes = 1;
  template <class F>
  void operator()(int n_chains, F&& f) const {
    for (int c = 0; c < n_chains; ++c) run_lanes(lanes, [&](const ThreadLanes& L) { f(c, L); });
  }
};

// The same wave (run_wave's windows, metric updates, searches, chunks) with lanes and serially.
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
  EXPECT_LE(worst, tol) << lanes << " lanes, warmup " << so.warmup;
  std::printf("%d lanes, warmup %d, %d draws: largest relative difference %.3g\n", lanes, so.warmup, so.draws, worst);
}

TEST(Lanes, FirstTransitionsMatchSerial) {
  // The GPU test's setting: 20 transitions at a fixed step size from initialization.
  SamplerOptions so;
  so.chains = 1;
  so.warmup = 0;
  so.draws = 20;
  so.step_size = 0.005;
  so.init_radius = 0;  // from the origin, where a fixed small step makes real trajectories
  so.max_depth = 8;
  expect_lane_wave(make_model(cases()[0], 9), so, 7, 1e-10);
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

}  // namespace
}  // namespace herd
