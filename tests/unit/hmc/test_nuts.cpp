// NUTS: the iterative transition against a literal recursive transcription of Stan's
// base_nuts (same random stream, so the chains must agree bit for bit), Philox known-answer
// vectors, Stan's window schedule and dual averaging.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "herd/engine/sampler.hpp"
#include "herd/hmc/adaptation.hpp"
#include "herd/hmc/nuts.hpp"
#include "herd/hmc/philox.hpp"
#include "herd/hmc/warmup.hpp"

namespace herd {
namespace {

// A correlated, non-isotropic Gaussian target, so trees have varied depths and U-turns.
struct Gauss {
  int n;
  double operator()(const double* q, double* g, double*) const {
    double lp = 0;
    for (int i = 0; i < n; ++i) {
      const double s = 0.3 + i;  // scales 0.3 .. n
      const double prev = i > 0 ? q[i - 1] : 0.0;
      const double r = q[i] - 0.5 * prev;
      lp -= 0.5 * r * r / (s * s);
      g[i] = -r / (s * s);
      if (i > 0) g[i - 1] += 0.5 * r / (s * s);
    }
    // The coupling term's gradient for q[i] also includes contributions from r_{i+1}: done above.
    return lp;
  }
};

// ---- Stan's recursive NUTS, transcribed (modern base_nuts with the extra subtree checks). ----
using Vec = std::vector<double>;
struct Point {
  Vec q, p, g;
  double lp = 0;
};

struct Recursive {
  const Gauss& target;
  int n;
  double eps;
  Vec inv_m;
  Philox& rng;
  double max_dh = 1000;
  int n_leapfrog = 0;
  double sum_metro = 0;
  bool divergent = false;
  Point z;

  double H(const Point& x) const {
    double k = 0;
    for (int i = 0; i < n; ++i) k += inv_m[i] * x.p[i] * x.p[i];
    return 0.5 * k - x.lp;
  }
  bool crit(const Vec& pa, const Vec& pb, const Vec& rho) const {
    double a = 0, b = 0;
    for (int i = 0; i < n; ++i) {
      a += inv_m[i] * pa[i] * rho[i];
      b += inv_m[i] * pb[i] * rho[i];
    }
    return a > 0 && b > 0;
  }
  static Vec add(const Vec& a, const Vec& b) {
    Vec r(a.size());
    for (size_t i = 0; i < a.size(); ++i) r[i] = a[i] + b[i];
    return r;
  }
  void evolve(double e) {
    for (int i = 0; i < n; ++i) z.p[i] += 0.5 * e * z.g[i];
    for (int i = 0; i < n; ++i) z.q[i] += e * inv_m[i] * z.p[i];
    z.lp = target(z.q.data(), z.g.data(), nullptr);
    for (int i = 0; i < n; ++i) z.p[i] += 0.5 * e * z.g[i];
  }
  static double lse(double a, double b) {
    if (a == -INFINITY) return b;
    if (b == -INFINITY) return a;
    return a > b ? a + std::log1p(std::exp(b - a)) : b + std::log1p(std::exp(a - b));
  }

  bool build_tree(int depth, Point& z_propose, Vec& p_beg, Vec& p_end, Vec& rho, double H0, double sign,
                  double& lsw) {
    if (depth == 0) {
      evolve(sign * eps);
      ++n_leapfrog;
      double h = H(z);
      if (std::isnan(h)) h = INFINITY;
      if (h - H0 > max_dh) divergent = true;
      lsw = lse(lsw, H0 - h);
      sum_metro += H0 - h > 0 ? 1 : std::exp(H0 - h);
      z_propose = z;
      rho = add(rho, z.p);
      p_beg = z.p;
      p_end = z.p;
      return !divergent;
    }
    double lsw_init = -INFINITY;
    Vec p_init_end(n), rho_init(n, 0.0);
    if (!build_tree(depth - 1, z_propose, p_beg, p_init_end, rho_init, H0, sign, lsw_init)) return false;
    Point z_propose_final = z;
    double lsw_final = -INFINITY;
    Vec p_final_beg(n), rho_final(n, 0.0);
    if (!build_tree(depth - 1, z_propose_final, p_final_beg, p_end, rho_final, H0, sign, lsw_final)) return false;
    const double lsw_sub = lse(lsw_init, lsw_final);
    lsw = lse(lsw, lsw_sub);
    if (lsw_final > lsw_sub) {
      z_propose = z_propose_final;
    } else if (rng.uniform() < std::exp(lsw_final - lsw_sub)) {
      z_propose = z_propose_final;
    }
    const Vec rho_sub = add(rho_init, rho_final);
    rho = add(rho, rho_sub);
    bool persist = crit(p_beg, p_end, rho_sub);
    persist = persist && crit(p_beg, p_final_beg, add(rho_init, p_final_beg));
    persist = persist && crit(p_init_end, p_end, add(rho_final, p_init_end));
    return persist;
  }

  // Returns depth; z is the new state.
  int transition(int max_depth) {
    for (int i = 0; i < n; ++i) z.p[i] = rng.normal() / std::sqrt(inv_m[i]);
    Point z_fwd = z, z_bck = z, z_sample = z, z_propose = z;
    Vec p_fwd_fwd = z.p, p_fwd_bck = z.p, p_bck_fwd = z.p, p_bck_bck = z.p, rho = z.p;
    double lsw = 0, H0 = H(z);
    int depth = 0;
    while (depth < max_depth) {
      Vec rho_fwd(n, 0.0), rho_bck(n, 0.0);
      double lsw_sub = -INFINITY;
      bool valid;
      if (rng.uniform() > 0.5) {
        z = z_fwd;
        rho_bck = rho;
        p_bck_fwd = p_fwd_fwd;
        valid = build_tree(depth, z_propose, p_fwd_bck, p_fwd_fwd, rho_fwd, H0, 1, lsw_sub);
        z_fwd = z;
      } else {
        z = z_bck;
        rho_fwd = rho;
        p_fwd_bck = p_bck_bck;
        valid = build_tree(depth, z_propose, p_bck_fwd, p_bck_bck, rho_bck, H0, -1, lsw_sub);
        z_bck = z;
      }
      if (!valid) break;
      ++depth;
      if (lsw_sub > lsw) {
        z_sample = z_propose;
      } else if (rng.uniform() < std::exp(lsw_sub - lsw)) {
        z_sample = z_propose;
      }
      lsw = lse(lsw, lsw_sub);
      rho = add(rho_bck, rho_fwd);
      bool persist = crit(p_bck_bck, p_fwd_fwd, rho);
      persist = persist && crit(p_bck_bck, p_fwd_bck, add(rho_bck, p_fwd_bck));
      persist = persist && crit(p_bck_fwd, p_fwd_fwd, add(rho_fwd, p_bck_fwd));
      if (!persist) break;
    }
    z = z_sample;
    return depth;
  }
};

TEST(Nuts, IterativeMatchesStansRecursionBitForBit) {
  const int n = 6;
  const Gauss target{n};
  for (double eps : {0.05, 0.3, 1.1, 2.5}) {  // from deep trees to divergences
    Vec inv_m(n);
    for (int i = 0; i < n; ++i) inv_m[i] = 0.5 + 0.3 * i;
    Vec q(n, 0.4), g(n);
    double lp = target(q.data(), g.data(), nullptr);
    Point rz{q, Vec(n), g, lp};
    std::vector<double> work(static_cast<size_t>(nuts_workspace_size(n, 10)));
    int depths = 0, divergences = 0;
    for (int it = 0; it < 200; ++it) {
      Philox rng_a(stream_key(7, 1), 0, static_cast<std::uint32_t>(it), RngUse::kTransition);
      Philox rng_b(stream_key(7, 1), 0, static_cast<std::uint32_t>(it), RngUse::kTransition);
      const NutsStats<double> st =
          nuts_transition(target, ChainPoint<double>{n, q.data(), g.data(), &lp}, inv_m.data(),
                          NutsSettings<double>{eps, 10, 1000.0}, rng_a, NutsScratch<double>{work.data(), nullptr});
      Recursive rec{target, n, eps, inv_m, rng_b, 1000, 0, 0, false, rz};
      const int depth = rec.transition(10);
      rz = rec.z;
      ASSERT_EQ(st.depth, depth) << "eps " << eps << " iteration " << it;
      ASSERT_EQ(st.n_leapfrog, rec.n_leapfrog) << "eps " << eps << " iteration " << it;
      ASSERT_EQ(st.divergent, rec.divergent);
      ASSERT_EQ(st.accept_prob, rec.sum_metro / rec.n_leapfrog);
      for (int i = 0; i < n; ++i) ASSERT_EQ(q[i], rz.q[i]) << "eps " << eps << " iteration " << it;
      ASSERT_EQ(lp, rz.lp);
      depths += depth;
      divergences += st.divergent;
    }
    // The step sizes span the regimes the test is meant to cover.
    if (eps == 0.05) {
      EXPECT_GT(depths, 200 * 4);
    }
    if (eps == 2.5) {
      EXPECT_GT(divergences, 0);
    }
  }
}

TEST(Philox, KnownAnswerVectors) {
  // Random123's kat_vectors for philox4x32 with 10 rounds.
  auto check = [](std::uint32_t c0, std::uint32_t c1, std::uint32_t c2, std::uint32_t c3, std::uint32_t k0,
                  std::uint32_t k1, std::uint32_t e0, std::uint32_t e1, std::uint32_t e2, std::uint32_t e3) {
    const std::uint32_t ctr[4] = {c0, c1, c2, c3}, key[2] = {k0, k1};
    std::uint32_t out[4];
    philox4x32_10(ctr, key, out);
    EXPECT_EQ(out[0], e0);
    EXPECT_EQ(out[1], e1);
    EXPECT_EQ(out[2], e2);
    EXPECT_EQ(out[3], e3);
  };
  check(0, 0, 0, 0, 0, 0, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u);
  check(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x408f276du, 0x41c83b0eu,
        0xa20bc7c6u, 0x6d5451fdu);
  check(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, 0xd16cfe09u, 0x94fdccebu,
        0x5001e420u, 0x24126ea1u);
}

TEST(Philox, UniformAndNormalMoments) {
  Philox rng(stream_key(1, 2), 0, 0, RngUse::kTransition);
  const int N = 200000;
  double su = 0, sn = 0, sn2 = 0;
  for (int i = 0; i < N; ++i) {
    const double u = rng.uniform();
    ASSERT_GT(u, 0.0);
    ASSERT_LT(u, 1.0);
    su += u;
    const double z = rng.normal();
    sn += z;
    sn2 += z * z;
  }
  // 5 standard errors: uniform mean sd = sqrt(1/12/N), normal mean sd = 1/sqrt(N), var sd = sqrt(2/N).
  EXPECT_NEAR(su / N, 0.5, 5 * std::sqrt(1.0 / 12 / N));
  EXPECT_NEAR(sn / N, 0.0, 5 / std::sqrt(double(N)));
  EXPECT_NEAR(sn2 / N, 1.0, 5 * std::sqrt(2.0 / N));
}

TEST(WindowSchedule, StanDefaults) {
  const WindowSchedule s(1000);
  EXPECT_EQ(s.window_ends(), (std::vector<int>{99, 149, 249, 449, 949}));
  EXPECT_FALSE(s.in_window(74));
  EXPECT_TRUE(s.in_window(75));
  EXPECT_TRUE(s.in_window(949));
  EXPECT_FALSE(s.in_window(950));
}

TEST(WindowSchedule, ShortWarmupIsRescaled) {
  const WindowSchedule s(150);  // 75 + 25 + 50 = 150 fits exactly: no rescaling
  EXPECT_EQ(s.window_ends(), (std::vector<int>{99}));
  const WindowSchedule r(100);  // rescaled: 15 / 75 / 10
  EXPECT_EQ(r.init_buffer(), 15);
  EXPECT_EQ(r.term_buffer(), 10);
  EXPECT_EQ(r.base_window(), 75);
  EXPECT_EQ(r.window_ends(), (std::vector<int>{89}));
  const WindowSchedule none(19);
  EXPECT_FALSE(none.adapts_metric());
  EXPECT_TRUE(none.window_ends().empty());
}

// The steps of a whole run as text, one per line: "I", "S w", "T a-b", "A i", "P i", "D a-b/slot".
std::vector<std::string> steps_of(int warmup, int draws, int chunk, bool chees) {
  WarmupMachine m(warmup, draws, chunk, chees);
  std::vector<std::string> out;
  for (WaveStep s = m.next(); s.kind != WaveStepKind::kDone; s = m.next()) {
    const std::string range = std::to_string(s.win.first) + "-" + std::to_string(s.win.last);
    switch (s.kind) {
      case WaveStepKind::kInitialize: out.push_back("I"); break;
      case WaveStepKind::kSearch: out.push_back("S " + std::to_string(s.window)); break;
      case WaveStepKind::kTransitions: out.push_back("T " + range); break;
      case WaveStepKind::kAdapt: out.push_back("A " + std::to_string(s.win.last)); break;
      case WaveStepKind::kPoolMetric: out.push_back("P " + std::to_string(s.win.last)); break;
      case WaveStepKind::kSample: out.push_back("D " + range + "/" + std::to_string(s.slot)); break;
      case WaveStepKind::kDone: break;
    }
    EXPECT_EQ(s.win.warmup, warmup);
    if (out.size() > 100000) break;  // a machine that never ends fails below, not by hanging
  }
  EXPECT_EQ(m.next().kind, WaveStepKind::kDone);  // and stays done
  return out;
}

TEST(WarmupMachine, NutsRunsWindowToWindowThenChunks) {
  // Stan's 1000-iteration schedule: windows end at 99, 149, 249, 449, 949; a search after each;
  // at most `chunk` (100) iterations a launch, so the long windows run in several.
  EXPECT_EQ(steps_of(1000, 250, 100, false),
            (std::vector<std::string>{"I", "S 0", "T 0-99", "P 99", "S 1", "T 100-149", "P 149", "S 2", "T 150-249",
                                      "P 249", "S 3", "T 250-349", "T 350-449", "P 449", "S 4", "T 450-549",
                                      "T 550-649", "T 650-749", "T 750-849", "T 850-949", "P 949", "S 5",
                                      "T 950-999", "D 1000-1099/0", "D 1100-1199/1", "D 1200-1249/0"}));
  // With chunks longer than every window, a launch per window.
  EXPECT_EQ(steps_of(1000, 10, 1000, false),
            (std::vector<std::string>{"I", "S 0", "T 0-99", "P 99", "S 1", "T 100-149", "P 149", "S 2", "T 150-249",
                                      "P 249", "S 3", "T 250-449", "P 449", "S 4", "T 450-949", "P 949", "S 5",
                                      "T 950-999", "D 1000-1009/0"}));
  // Windows and buffers seen by a launch are the schedule's.
  WarmupMachine m(1000, 10, 10, false);
  m.next();
  m.next();
  const WaveStep t = m.next();
  EXPECT_EQ(t.win.window_lo, 75);
  EXPECT_EQ(t.win.window_hi, 950);
}

TEST(WarmupMachine, ShortAndNoWarmup) {
  // Under 20 iterations: no metric adaptation, one warmup launch.
  EXPECT_EQ(steps_of(10, 5, 100, false), (std::vector<std::string>{"I", "S 0", "T 0-9", "D 10-14/0"}));
  // No warmup: no search either; draws in chunks of 2.
  EXPECT_EQ(steps_of(0, 5, 2, false), (std::vector<std::string>{"I", "D 0-1/0", "D 2-3/1", "D 4-4/0"}));
  // Every warmup iteration is run exactly once, in order, whatever the length.
  for (int w : {1, 19, 20, 21, 37, 150, 151, 333, 2000}) {
    int next = 0;
    for (const std::string& s : steps_of(w, 3, 2, false)) {
      if (s[0] != 'T') continue;
      const size_t dash = s.find('-');
      EXPECT_EQ(std::stoi(s.substr(2, dash - 2)), next) << w;
      next = std::stoi(s.substr(dash + 1)) + 1;
    }
    EXPECT_EQ(next, w);
  }
}

TEST(WarmupMachine, CheesAdaptsAfterEveryWarmupIteration) {
  const std::vector<std::string> s = steps_of(150, 3, 10, true);
  // 150: windows of 75 / 25 / 50, one metric update after iteration 99.
  ASSERT_EQ(s.size(), 2 + 2 * 150 + 2 + 1u);
  EXPECT_EQ(s[0], "I");
  EXPECT_EQ(s[1], "S 0");
  EXPECT_EQ(s[2], "T 0-0");
  EXPECT_EQ(s[3], "A 0");
  EXPECT_EQ(s[2 + 2 * 99], "T 99-99");
  EXPECT_EQ(s[3 + 2 * 99], "A 99");
  EXPECT_EQ(s[4 + 2 * 99], "P 99");
  EXPECT_EQ(s[5 + 2 * 99], "S 1");
  EXPECT_EQ(s[6 + 2 * 99], "T 100-100");
  EXPECT_EQ(s[s.size() - 2], "A 149");
  EXPECT_EQ(s.back(), "D 150-152/0");
}

TEST(DualAveraging, FollowsStansRecurrence) {
  DualAveraging<double> da;
  da.mu = std::log(10 * 0.5);
  double s_bar = 0, x_bar = 0, eps = 0;
  for (int t = 1; t <= 50; ++t) {
    const double stat = 0.5 + 0.4 * std::sin(t);
    eps = da.learn(stat);
    const double eta = 1.0 / (t + 10.0);
    s_bar = (1 - eta) * s_bar + eta * (0.8 - stat);
    const double x = std::log(5.0) - s_bar * std::sqrt(double(t)) / 0.05;
    const double w = std::pow(double(t), -0.75);
    x_bar = (1 - w) * x_bar + w * x;
    ASSERT_NEAR(eps, std::exp(x), 1e-12 * std::exp(x));
  }
  EXPECT_NEAR(da.final_stepsize(), std::exp(x_bar), 1e-12);
}

}  // namespace
}  // namespace herd
