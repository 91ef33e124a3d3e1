#pragma once
// Simulation-based calibration (Talts, Betancourt, Simpson, Vehtari, Gelman 2018): draw the
// parameters from the prior, simulate the outcome, fit, thin to near-independent draws and
// rank the truth among them. With a correct sampler and a correct model every parameter's
// ranks are uniform; `herd sbc` tests that per parameter.
#include <cstdint>
#include <string>
#include <vector>

#include "herd/engine/sampler.hpp"
#include "herd/model/model.hpp"

namespace herd {

struct SbcOptions {
  int replications = 100;
  int ranks = 100;  // thinned draws per replication + 1: ranks run 0..ranks-1
  int bins = 10;    // of the chi-square uniformity test
  int threads = 0;
  SamplerOptions sampler;  // chains, warmup, draws, seed (threads ignored: one per replication)
};

struct SbcResult {
  std::vector<std::string> parameters;  // the unconstrained coordinates' names
  std::vector<std::vector<int>> ranks;  // [parameter][replication]
  std::vector<double> p_values;         // chi-square uniformity over `bins` bins
  double threshold = 0;                 // 0.001 / parameters (Bonferroni: family-wise 0.001)
  int divergent_replications = 0;
  int max_rank = 0;
  bool passed() const;
};

/// SBC of `fit_with` on data simulated from `simulate_from`'s prior (the same model for a
/// real check; a different one plants a bug, e.g. a prior missing its Jacobian).
SbcResult run_sbc(const Model& simulate_from, const Model& fit_with, const SbcOptions& options);

/// Chi-square p-value of ranks 0..max_rank in `bins` equal bins.
double rank_uniformity_p(const std::vector<int>& ranks, int max_rank, int bins);

/// DIR/ranks.csv (replication,parameter,rank,max_rank) and DIR/sbc.csv
/// (parameter,p_value,threshold,replications,bin0..), written aside and renamed.
void write_sbc(const std::string& dir, const SbcResult& r, int bins);

}  // namespace herd
