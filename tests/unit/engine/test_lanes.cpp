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

// One chain through the wave functions with `lanes` lanes, as run_wave drives them (one
// metric window at most); returns its draws [k][stride] and leapfrog counts.
struct LaneChain {
  std::vector<double> theta;
  std::vector<int> leapfrog;
  long long evals = 0;
  double eps = 0;
  int stride = 0;
};

LaneChain lane_chain(const Model& model, const SamplerOptions& so, int lanes) {
  const WaveLayout L = make_wave_layout({&model}, {so}, so.draws);
  const int S = L.stride, D = so.draws;
  LaneChain out;
  out.stride = S;
  std::vector<double> q(static_cast<size_t>(S)), g(static_cast<size_t>(S)), im(static_cast<size_t>(S)),
      mean(static_cast<size_t>(S)), m2(static_cast<size_t>(S)), work(static_cast<size_t>(L.work_reals)),
      scratch(static_cast<size_t>(L.scratch_reals)), stats(static_cast<size_t>(D * kNumFloatStats));
  out.theta.assign(static_cast<size_t>(D * S), 0);
  std::vector<int> ints(static_cast<size_t>(D * kNumIntStats));
  double lp = 0, eps = 0;
  DualAveraging<double> da;
  int wn = 0, status = 0, cm = 0, ci = 0, md = so.max_depth;
  const ModelView<double> mv = model.view<double>();
  const std::uint64_t key = stream_key(so.seed, model_id(model.spec().name));
  const double acc = so.target_accept, dh = so.max_delta_h, ss = so.step_size;
  WaveView<double> w;
  w.n_chains = 1;
  w.stride = S;
  w.chunk = D;
  w.models = &mv;
  w.chain_model = &cm;
  w.chain_index = &ci;
  w.key = &key;
  w.target_accept = &acc;
  w.max_depth = &md;
  w.max_delta_h = &dh;
  w.step_size = &ss;
  w.q = q.data();
  w.g = g.data();
  w.inv_metric = im.data();
  w.mean = mean.data();
  w.m2 = m2.data();
  w.lp = &lp;
  w.eps = &eps;
  w.da = &da;
  w.welford_n = &wn;
  w.status = &status;
  w.evals = &out.evals;
  w.work = work.data();
  w.scratch = scratch.data();
  w.work_stride = L.work_reals;
  w.scratch_stride = L.scratch_reals;
  w.draw_theta = out.theta.data();
  w.draw_stats = stats.data();
  w.draw_ints = ints.data();
  const int W = so.warmup;
  const WindowSchedule sched(W);
  EXPECT_LE(sched.window_ends().size(), 1u);
  const int end = sched.window_ends().empty() ? -1 : sched.window_ends()[0];
  const int lo = sched.adapts_metric() ? sched.init_buffer() : 0, hi = sched.adapts_metric() ? W - sched.term_buffer() : 0;
  run_lanes(lanes, [&](const ThreadLanes& ln) {
    wave_initialize(w, 0, so.init_radius, so.init_tries, ln);
    if (W > 0) wave_search(w, 0, 0, ln);
    if (end >= 0) wave_transitions(w, 0, WaveWindow{0, end, W, lo, hi, 0}, ln);
  });
  if (end >= 0) {
    // The host's metric update for one chain, as run_wave does it.
    const int n = model.dim();
    const std::vector<double> var =
        sampler_detail::regularized_variance(wn, std::vector<double>(m2.begin(), m2.begin() + n));
    for (int i = 0; i < n; ++i) {
      im[static_cast<size_t>(i)] = var[static_cast<size_t>(i)];
      mean[static_cast<size_t>(i)] = m2[static_cast<size_t>(i)] = 0;
    }
    wn = 0;
  }
  run_lanes(lanes, [&](const ThreadLanes& ln) {
    if (end >= 0) wave_search(w, 0, 1, ln);
    if (W > 0) wave_transitions(w, 0, WaveWindow{end + 1, W - 1, W, lo, hi, 0}, ln);
    wave_transitions(w, 0, WaveWindow{W, W + D - 1, W, lo, hi, W}, ln);
  });
  EXPECT_EQ(status, kWaveOk);
  for (int k = 0; k < D; ++k) out.leapfrog.push_back(ints[static_cast<size_t>(k * kNumIntStats + kStatLeapfrog)]);
  out.eps = eps;
  return out;
}

// Lanes sum in another order than the serial loop, so draws agree to rounding that grows
// along the chain: same trajectories (leapfrog counts), draws within `tol`.
void expect_lane_chain(const Model& model, const SamplerOptions& so, int lanes, double tol) {
  const WaveLayout L = make_wave_layout({&model}, {so}, so.draws);
  const auto serial = run_wave(*make_cpu_wave_backend(L, false, 1), L);
  ASSERT_EQ(serial[0].error, "");
  const LaneChain c = lane_chain(model, so, lanes);
  const ChainDraws& d = serial[0].fit.chains[0];
  const int n = model.dim();
  double worst = 0;
  for (int k = 0; k < so.draws; ++k) {
    for (int i = 0; i < n; ++i) {
      const double x = d.theta[static_cast<size_t>(k * n + i)], y = c.theta[static_cast<size_t>(k * c.stride + i)];
      worst = std::max(worst, std::abs(x - y) / std::max(1.0, std::abs(x)));
    }
    EXPECT_EQ(c.leapfrog[static_cast<size_t>(k)], d.n_leapfrog[static_cast<size_t>(k)]) << "draw " << k;
  }
  EXPECT_LE(worst, tol) << lanes << " lanes, warmup " << so.warmup;
  EXPECT_EQ(c.evals, d.gradient_evals);
  EXPECT_NEAR(c.eps, d.final_step_size, tol * d.final_step_size);
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
  expect_lane_chain(make_model(cases()[0], 9), so, 7, 1e-10);
}

TEST(Lanes, WarmupAndDrawsMatchSerial) {
  // Initialization, step-size searches, dual averaging, a metric window, then draws.
  SamplerOptions so;
  so.chains = 1;
  so.warmup = 30;
  so.draws = 10;
  so.max_depth = 6;
  expect_lane_chain(make_model(cases()[1], 5), so, 5, 1e-6);
}

}  // namespace
}  // namespace herd
