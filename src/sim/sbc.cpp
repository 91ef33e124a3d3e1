// SBC: each replication runs single-threaded, replications in parallel. Streams are keyed by
// the seed and the model's name, so a replication is the same whatever the thread count.
#include "herd/sim/sbc.hpp"

#include <boost/math/special_functions/gamma.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>

#include "herd/core/csv_writer.hpp"
#include "herd/core/error.hpp"
#include "herd/core/files.hpp"
#include "herd/engine/fit.hpp"
#include "herd/engine/simulate.hpp"
#include "herd/hmc/philox.hpp"

namespace herd {

bool SbcResult::passed() const {
  for (double p : p_values)
    if (!(p > threshold)) return false;
  return true;
}

double rank_uniformity_p(const std::vector<int>& ranks, int max_rank, int bins) {
  std::vector<double> count(static_cast<size_t>(bins), 0);
  const int n_ranks = max_rank + 1;
  for (int r : ranks) count[static_cast<size_t>(r * bins / n_ranks)] += 1;
  // Bins hold floor-divided rank ranges; with n_ranks a multiple of bins they are equal.
  double chi2 = 0;
  for (int b = 0; b < bins; ++b) {
    const int lo = (b * n_ranks + bins - 1) / bins, hi = ((b + 1) * n_ranks + bins - 1) / bins;
    const double expected = static_cast<double>(ranks.size()) * (hi - lo) / n_ranks;
    chi2 += (count[static_cast<size_t>(b)] - expected) * (count[static_cast<size_t>(b)] - expected) / expected;
  }
  return boost::math::gamma_q((bins - 1) / 2.0, chi2 / 2);
}

SbcResult run_sbc(const Model& sim, const Model& fit_with, const SbcOptions& o) {
  if (sim.dim() != fit_with.dim()) throw std::invalid_argument("run_sbc: the two models have different layouts");
  const int K = fit_with.dim(), reps = o.replications;
  SbcResult out;
  for (const auto& p : fit_with.params()) out.parameters.push_back(p.name);
  out.ranks.assign(static_cast<size_t>(K), std::vector<int>(static_cast<size_t>(reps), 0));
  out.max_rank = o.ranks - 1;
  std::mutex mu;
  const std::uint64_t key = stream_key(o.sampler.seed, model_id(fit_with.spec().name + "/sbc"));
  parallel_for(reps, o.threads, [&](int r) {
    Philox rng(key, static_cast<std::uint32_t>(r), 0, RngUse::kSimulate);
    const std::vector<double> truth = draw_prior(sim, rng);
    const Model m = with_outcome(fit_with, simulate_outcome(sim, truth, rng));
    SamplerOptions so = o.sampler;
    so.threads = 1;
    so.seed = o.sampler.seed + 1000003ull * static_cast<std::uint64_t>(r + 1);
    const FitResult fit = fit_model(m, so);
    const int total = static_cast<int>(fit.chains.size()) * fit.draws;
    const int thin = std::max(1, total / (o.ranks - 1));
    std::vector<int> rank(static_cast<size_t>(K), 0);
    int kept = 0, divergent = 0;
    for (size_t c = 0; c < fit.chains.size(); ++c) {
      for (auto d : fit.chains[c].diverging) divergent += d;
      for (int d = 0; d < fit.draws; ++d) {
        const int idx = static_cast<int>(c) * fit.draws + d;
        if (idx % thin != 0 || kept >= o.ranks - 1) continue;
        ++kept;
        for (int k = 0; k < K; ++k)
          rank[static_cast<size_t>(k)] +=
              fit.chains[c].theta[static_cast<size_t>(d * fit.dim + k)] < truth[static_cast<size_t>(k)];
      }
    }
    std::lock_guard<std::mutex> lock(mu);
    for (int k = 0; k < K; ++k) out.ranks[static_cast<size_t>(k)][static_cast<size_t>(r)] = rank[static_cast<size_t>(k)];
    out.divergent_replications += divergent > 0;
  });
  out.threshold = 0.001 / K;
  for (const auto& rk : out.ranks) out.p_values.push_back(rank_uniformity_p(rk, out.max_rank, o.bins));
  return out;
}

void write_sbc(const std::string& dir, const SbcResult& r, int bins) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  CsvWriter ranks({"replication", "parameter", "rank", "max_rank"});
  const size_t reps = r.ranks.empty() ? 0 : r.ranks[0].size();
  for (size_t i = 0; i < reps; ++i)
    for (size_t k = 0; k < r.parameters.size(); ++k) ranks.row(i + 1, r.parameters[k], r.ranks[k][i], r.max_rank);
  ranks.write((fs::path(dir) / "ranks.csv").string());
  std::vector<std::string> header = {"parameter", "p_value", "threshold", "replications"};
  for (int b = 0; b < bins; ++b) header.push_back(fmt::format("bin{}", b));
  CsvWriter sbc(header);
  for (size_t k = 0; k < r.parameters.size(); ++k) {
    std::vector<int> count(static_cast<size_t>(bins), 0);
    for (int x : r.ranks[k]) ++count[static_cast<size_t>(x * bins / (r.max_rank + 1))];
    sbc.cell(r.parameters[k]).cell(r.p_values[k]).cell(r.threshold).cell(reps);
    for (int c : count) sbc.cell(c);
    sbc.end_row();
  }
  sbc.write((fs::path(dir) / "sbc.csv").string());
}

}  // namespace herd
