#pragma once
// What the sampler driver (run_wave, wave.hpp) and its callers share: the options, one
// chain's draws, a fit's result, the thread pool, model identities, the failure messages.
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
#include "herd/model/spec.hpp"

namespace herd {

/// How to sample (the [sampler] table plus run-level settings).
struct SamplerOptions : SamplerSpec {
  // Beyond the config's [sampler] (SamplerSpec: algorithm, chains, warmup, draws, target
  // acceptance, tree depth, seed, metric), what a run sets from flags or code:
  double max_delta_h = 1000;
  int threads = 0;            // 0: all cores
  double init_radius = 2;     // initial values uniform(-r, r) on the unconstrained scale
  double step_size = 1;       // initial step size (Stan's stepsize); warmup searches from it
  int init_tries = 100;

  SamplerOptions() = default;
  /// A model config's [sampler], the rest at their defaults.
  explicit SamplerOptions(const SamplerSpec& s) : SamplerSpec(s) {}
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

/// Why chain `chain` failed to start: no finite initial point in `tries` draws of uniform(-r, r).
inline std::string init_failed_message(int chain, int tries, double radius) {
  return "chain " + std::to_string(chain) + " found no initial point with a finite log density and gradient in " +
         std::to_string(tries) + " tries (uniform(-" + std::to_string(radius) + ", " + std::to_string(radius) +
         ") on the unconstrained scale)";
}

/// Why chain `chain` failed in its step-size search.
inline std::string search_failed_message(int chain) {
  return "chain " + std::to_string(chain) +
         ": the step-size search ran away (step size beyond 1e7 or 0); the posterior may be improper";
}

/// Where one model of a running wave is: what a person following a long fit wants to see.
struct WaveProgress {
  int iteration = 0, total = 0;  // iterations done, warmup + draws
  bool sampling = false;         // past warmup
  double step_size = 0;          // median over the model's running chains
  int divergences = 0;           // post-warmup divergent transitions so far
};

/// Told about each model of a wave (by index) at most once a second, between launches.
using WaveProgressFn = std::function<void(size_t model, const WaveProgress&)>;

}  // namespace herd
