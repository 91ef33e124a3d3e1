#pragma once
// The CPU side of sampling one model: initialization, Stan's windowed warmup, draws. Chains
// run in parallel between synchronization points (the ends of metric windows), where the
// host pools the chains' Welford sums into the model's metric and every chain searches a
// new step size and restarts dual averaging. All randomness comes from counter-based
// streams, so results do not depend on the thread count.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "herd/core/choices.hpp"
#include "herd/core/error.hpp"
#include "herd/hmc/adaptation.hpp"
#include "herd/hmc/nuts.hpp"
#include "herd/hmc/philox.hpp"

namespace herd {

/// How to sample (the [sampler] table plus run-level settings).
struct SamplerOptions {
  Algorithm algorithm = Algorithm::kNuts;
  int chains = 4;
  int warmup = 1000;
  int draws = 1000;
  double target_accept = 0.8;
  int max_depth = 10;
  double max_delta_h = 1000;
  std::uint64_t seed = 1;
  bool pooled_metric = true;  // metric from all chains of the model (else each chain its own)
  int threads = 0;            // 0: all cores
  double init_radius = 2;     // initial values uniform(-r, r) on the unconstrained scale
  double step_size = 1;       // initial step size (Stan's stepsize); warmup searches from it
  int init_tries = 100;
};

/// One chain's draws and sampler statistics (Stan's names in comments).
struct ChainDraws {
  std::vector<double> theta;  // [draw * dim + i], unconstrained
  std::vector<double> lp;     // lp__
  std::vector<double> accept_prob, step_size, energy;
  std::vector<int> tree_depth, n_leapfrog;
  std::vector<std::uint8_t> diverging;
  std::vector<double> inv_metric;  // the metric it sampled with
  double final_step_size = 0;
  long long gradient_evals = 0;    // warmup and sampling, step-size searches included

  /// Room for `draws` draws of `dim` coordinates.
  void reserve(size_t draws, size_t dim) {
    theta.reserve(draws * dim);
    lp.reserve(draws);
    accept_prob.reserve(draws);
    step_size.reserve(draws);
    energy.reserve(draws);
    tree_depth.reserve(draws);
    n_leapfrog.reserve(draws);
    diverging.reserve(draws);
  }

  /// Appends one NUTS draw: its coordinates q[0..dim) and its statistics.
  void append(const double* q, size_t dim, double lp_, double accept, double step, double energy_, int depth,
              int leapfrogs, bool divergent) {
    theta.insert(theta.end(), q, q + dim);
    lp.push_back(lp_);
    accept_prob.push_back(accept);
    step_size.push_back(step);
    energy.push_back(energy_);
    tree_depth.push_back(depth);
    n_leapfrog.push_back(leapfrogs);
    diverging.push_back(divergent ? 1 : 0);
  }
};

/// What sampling one model produced.
struct FitResult {
  int dim = 0;
  int draws = 0;
  std::vector<ChainDraws> chains;
  double seconds = 0;
  long long gradient_evals() const {
    long long n = 0;
    for (const auto& c : chains) n += c.gradient_evals;
    return n;
  }
};

/// Runs fn(0) .. fn(n-1) on up to `threads` threads (0 = hardware concurrency).
void parallel_for(int n, int threads, const std::function<void(int)>& fn);

/// FNV-1a (64-bit) of n bytes, continuing from h.
std::uint64_t fnv1a(const void* data, size_t n, std::uint64_t h = 1469598103934665603ull);

/// FNV-1a of a model's name: its identity in the random streams, the same alone or in a batch.
std::uint64_t model_id(const std::string& name);

/// Shared pieces of the CPU samplers (NUTS here, ChEES in chees.hpp).
namespace sampler_detail {

/// Stan's regularized variance from n draws' sum of squared deviations m2:
/// n/(n+5) var + 1e-3 * 5/(n+5).
inline std::vector<double> regularized_variance(double n, const std::vector<double>& m2) {
  std::vector<double> var(m2.size());
  for (size_t i = 0; i < m2.size(); ++i) var[i] = (n / (n + 5)) * (m2[i] / (n - 1)) + 1e-3 * (5 / (n + 5));
  return var;
}

/// The metric of a model from all its chains' Welford sums, combined pairwise (Chan et al.)
/// in chain order so the result does not depend on threads. Chain needs welford_n, mean, m2.
template <class Chain>
std::vector<double> pooled_variance(const std::vector<Chain>& chains, size_t n) {
  double N = 0;
  std::vector<double> mean(n, 0), m2(n, 0);
  for (const auto& s : chains) {
    const double nb = s.welford_n;
    if (nb == 0) continue;
    for (size_t i = 0; i < n; ++i) {
      const double delta = s.mean[i] - mean[i];
      mean[i] += delta * nb / (N + nb);
      m2[i] += s.m2[i] + delta * delta * N * nb / (N + nb);
    }
    N += nb;
  }
  return regularized_variance(N, m2);
}

/// Starts a window afresh.
template <class Chain>
void reset_welford(Chain& s) {
  s.welford_n = 0;
  std::fill(s.mean.begin(), s.mean.end(), 0.0);
  std::fill(s.m2.begin(), s.m2.end(), 0.0);
}

/// Draws uniform(-r, r) initial values until the density and gradient are finite; returns
/// an empty string or the reason it gave up. evals counts gradient evaluations.
template <class Target>
std::string initialize(const Target& target, const SamplerOptions& opt, std::uint64_t key, int chain,
                       std::vector<double>& q, std::vector<double>& g, double& lp, std::vector<double>& scratch,
                       long long& evals) {
  for (int attempt = 0; attempt < opt.init_tries; ++attempt) {
    Philox rng(key, static_cast<std::uint32_t>(chain), static_cast<std::uint32_t>(attempt), RngUse::kInit);
    for (auto& v : q) v = opt.init_radius * (2 * rng.uniform() - 1);
    lp = target(q.data(), g.data(), scratch.data());
    ++evals;
    if (std::isfinite(lp) && std::all_of(g.begin(), g.end(), [](double v) { return std::isfinite(v); })) return "";
  }
  return "chain " + std::to_string(chain) + " found no initial point with a finite log density and gradient in " +
         std::to_string(opt.init_tries) + " tries (uniform(-" + std::to_string(opt.init_radius) + ", " +
         std::to_string(opt.init_radius) + ") on the unconstrained scale)";
}

}  // namespace sampler_detail

/// NUTS with Stan's warmup on any Target (see nuts.hpp). target_scratch: Reals the target needs.
/// Throws ModelError when a chain cannot be initialized or the step-size search runs away.
template <class Target>
FitResult run_nuts(const Target& target, int dim, int target_scratch, const SamplerOptions& opt, std::uint64_t model) {
  if (opt.max_depth < 1 || opt.max_depth > kMaxTreeDepth)
    throw std::invalid_argument("max_depth must be in 1.." + std::to_string(kMaxTreeDepth));
  const auto start = std::chrono::steady_clock::now();
  const std::uint64_t key = stream_key(opt.seed, model);
  const int C = opt.chains;
  const size_t n = static_cast<size_t>(dim);

  struct Chain {
    std::vector<double> q, g, inv_metric, mean, m2, work, scratch;
    double lp = 0, eps = 1;
    int welford_n = 0;
    DualAveraging<double> da;
    std::string error;
  };
  std::vector<Chain> ch(static_cast<size_t>(C));
  FitResult out;
  out.dim = dim;
  out.draws = opt.draws;
  out.chains.resize(static_cast<size_t>(C));
  const int work_size = std::max(nuts_workspace_size(dim, opt.max_depth), 3 * dim);

  // Initialization: uniform(-r, r), retried until the density and gradient are finite.
  parallel_for(C, opt.threads, [&](int c) {
    Chain& s = ch[static_cast<size_t>(c)];
    s.q.assign(n, 0);
    s.g.assign(n, 0);
    s.inv_metric.assign(n, 1);
    s.mean.assign(n, 0);
    s.m2.assign(n, 0);
    s.work.assign(static_cast<size_t>(work_size), 0);
    s.scratch.assign(static_cast<size_t>(std::max(target_scratch, 1)), 0);
    s.da.delta = opt.target_accept;
    s.eps = opt.step_size;
    s.error = sampler_detail::initialize(target, opt, key, c, s.q, s.g, s.lp, s.scratch,
                                         out.chains[static_cast<size_t>(c)].gradient_evals);
  });
  auto check_errors = [&]() {
    for (const auto& s : ch)
      if (!s.error.empty()) throw ModelError(s.error);
  };
  check_errors();

  // Step-size search: at the start (window 0) and after each metric update (window k + 1).
  auto search = [&](int c, int window) {
    Chain& s = ch[static_cast<size_t>(c)];
    Philox rng(key, static_cast<std::uint32_t>(c), static_cast<std::uint32_t>(window), RngUse::kStepsizeSearch);
    struct Counting {
      const Target& t;
      long long* evals;
      double operator()(const double* q, double* g, double* sc) const {
        ++*evals;
        return t(q, g, sc);
      }
    } counting{target, &out.chains[static_cast<size_t>(c)].gradient_evals};
    const double eps = find_reasonable_stepsize(counting, dim, s.eps, s.inv_metric.data(), s.q.data(), s.g.data(),
                                                s.lp, rng, s.work.data(), s.scratch.data());
    if (!(eps > 0))
      s.error = "chain " + std::to_string(c) + ": the step-size search ran away (step size beyond 1e7 or 0); "
                "the posterior may be improper";
    s.eps = eps;
    s.da.mu = std::log(10 * eps);
    s.da.restart();
  };

  const WindowSchedule schedule(opt.warmup);
  if (opt.warmup > 0) {
    parallel_for(C, opt.threads, [&](int c) { search(c, 0); });
    check_errors();
  }
  std::vector<int> stops = schedule.window_ends();
  if (opt.warmup > 0) stops.push_back(opt.warmup - 1);
  stops.push_back(opt.warmup + opt.draws - 1);
  std::sort(stops.begin(), stops.end());
  stops.erase(std::unique(stops.begin(), stops.end()), stops.end());

  for (auto& d : out.chains) d.reserve(static_cast<size_t>(opt.draws), n);

  int it = 0, window = 0;
  for (int stop : stops) {
    if (stop < it) continue;
    parallel_for(C, opt.threads, [&](int c) {
      Chain& s = ch[static_cast<size_t>(c)];
      ChainDraws& d = out.chains[static_cast<size_t>(c)];
      for (int i = it; i <= stop; ++i) {
        Philox rng(key, static_cast<std::uint32_t>(c), static_cast<std::uint32_t>(i), RngUse::kTransition);
        const NutsStats<double> st =
            nuts_transition(target, dim, s.eps, s.inv_metric.data(), s.q.data(), s.g.data(), &s.lp, rng,
                            opt.max_depth, opt.max_delta_h, s.work.data(), s.scratch.data());
        d.gradient_evals += st.n_leapfrog;
        if (i < opt.warmup) {
          s.eps = s.da.learn(st.accept_prob);
          if (schedule.in_window(i)) welford_add(s.welford_n, s.mean.data(), s.m2.data(), s.q.data(), dim);
          if (i == opt.warmup - 1) s.eps = s.da.final_stepsize();
          continue;
        }
        d.append(s.q.data(), n, s.lp, st.accept_prob, s.eps, st.energy, st.depth, st.n_leapfrog, st.divergent);
      }
    });
    it = stop + 1;
    // Stan updates the metric at the end of a window; windows end before the terminal buffer,
    // so never at the last warmup iteration.
    if (schedule.ends_window(stop)) {
      if (opt.pooled_metric) {
        const std::vector<double> var = sampler_detail::pooled_variance(ch, n);
        for (auto& s : ch) s.inv_metric = var;
      } else {
        for (auto& s : ch) s.inv_metric = sampler_detail::regularized_variance(s.welford_n, s.m2);
      }
      for (auto& s : ch) {
        if (!std::all_of(s.inv_metric.begin(), s.inv_metric.end(), [](double v) { return std::isfinite(v) && v > 0; }))
          throw ModelError("the adapted metric is not finite and positive (window ending at iteration " +
                           std::to_string(stop) + ")");
        sampler_detail::reset_welford(s);
      }
      ++window;
      parallel_for(C, opt.threads, [&](int c) { search(c, window); });
      check_errors();
    }
  }
  for (size_t c = 0; c < ch.size(); ++c) {
    out.chains[c].inv_metric = ch[c].inv_metric;
    out.chains[c].final_step_size = ch[c].eps;
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace herd
