#pragma once
// What every sampler driver shares: the options, one chain's draws, a fit's result, the
// thread pool, model identities, and the metric pooling the host does between windows
// (the wave, wave.hpp, is the NUTS driver; ChEES's host driver is chees.hpp).
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

/// o.max_depth within 1..kMaxTreeDepth: what workspaces are sized for. A model whose
/// max_depth is outside that range is refused, in one place (run_wave); configs cannot set one.
inline int clamped_depth(const SamplerOptions& o) {
  return o.max_depth < 1 ? 1 : (o.max_depth > kMaxTreeDepth ? kMaxTreeDepth : o.max_depth);
}

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

/// Shared pieces of the host drivers (the wave's run_wave and ChEES's run_chees).
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

}  // namespace herd
