// Simulation-based calibration (Talts, Betancourt, Simpson, Vehtari, Gelman 2018): draw the
// parameters from the prior, simulate the outcome, fit, and rank the truth among thinned
// posterior draws. With a correct sampler and a correct model, every parameter's ranks are
// uniform. Uniformity: chi-square over 10 bins of ranks 0..99, each parameter's p-value
// above 0.001 / K (Bonferroni over the K parameters: a family-wise level of 0.001).
//
// HERD_SBC_REPLICATIONS sets the replications (default 200); HERD_SBC_OUT names a file for
// the per-parameter table.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/math/special_functions/gamma.hpp>
#include <cstdlib>
#include <fstream>
#include <mutex>

#include "herd/config/model_config.hpp"
#include "herd/engine/fit.hpp"
#include "herd/engine/simulate.hpp"

namespace herd {
namespace {

constexpr int kRanks = 100;  // thinned draws per replicate -> ranks 0..99... plus one
constexpr int kBins = 10;

int replications() {
  const char* v = std::getenv("HERD_SBC_REPLICATIONS");
  return v ? std::atoi(v) : 200;
}

Model example(const std::string& file) {
  ModelSpec spec = parse_model_config(std::string(HERD_SOURCE_DIR) + "/configs/examples/" + file);
  Dataset data = read_dataset(spec);
  return Model(std::move(spec), std::move(data));
}

struct Sbc {
  std::vector<std::vector<int>> ranks;  // [param][replicate]
  int divergent_reps = 0;
};

Sbc run_sbc(const Model& base, int reps, SamplerOptions opt) {
  const int K = base.dim();
  Sbc out;
  out.ranks.assign(static_cast<size_t>(K), std::vector<int>(static_cast<size_t>(reps), 0));
  std::mutex mu;
  const std::uint64_t key = stream_key(opt.seed, model_id(base.spec().name + "/sbc"));
  parallel_for(reps, 0, [&](int r) {
    Philox rng(key, static_cast<std::uint32_t>(r), 0, RngUse::kSimulate);
    const std::vector<double> truth = draw_prior(base, rng);
    const Model m = with_outcome(base, simulate_outcome(base, truth, rng));
    SamplerOptions o = opt;
    o.threads = 1;
    o.seed = opt.seed + 1000003ull * static_cast<std::uint64_t>(r + 1);
    const FitResult fit = fit_model(m, o);
    const int total = static_cast<int>(fit.chains.size()) * fit.draws;
    const int thin = total / (kRanks - 1);
    std::vector<int> rank(static_cast<size_t>(K), 0);
    int kept = 0, divergent = 0;
    for (const auto& c : fit.chains) {
      for (auto d : c.diverging) divergent += d;
      for (int d = 0; d < fit.draws; ++d) {
        const int idx = static_cast<int>(&c - &fit.chains[0]) * fit.draws + d;
        if (idx % thin != 0 || kept >= kRanks - 1) continue;
        ++kept;
        for (int k = 0; k < K; ++k)
          rank[static_cast<size_t>(k)] += fit.chains[static_cast<size_t>(idx / fit.draws)]
                                              .theta[static_cast<size_t>((idx % fit.draws) * fit.dim + k)] <
                                          truth[static_cast<size_t>(k)];
      }
    }
    std::lock_guard<std::mutex> lock(mu);
    for (int k = 0; k < K; ++k) out.ranks[static_cast<size_t>(k)][static_cast<size_t>(r)] = rank[static_cast<size_t>(k)];
    out.divergent_reps += divergent > 0;
  });
  return out;
}

// Chi-square p-value of the ranks (0..kRanks-1) in kBins equal bins.
double uniformity_p(const std::vector<int>& ranks) {
  std::vector<double> count(kBins, 0);
  for (int r : ranks) count[static_cast<size_t>(r * kBins / kRanks)] += 1;
  const double expected = static_cast<double>(ranks.size()) / kBins;
  double chi2 = 0;
  for (double c : count) chi2 += (c - expected) * (c - expected) / expected;
  return boost::math::gamma_q((kBins - 1) / 2.0, chi2 / 2);
}

void check(const Model& base, const SamplerOptions& opt, const std::string& label) {
  const int reps = replications();
  const Sbc s = run_sbc(base, reps, opt);
  const int K = base.dim();
  const double threshold = 0.001 / K;
  std::ofstream table;
  if (const char* out = std::getenv("HERD_SBC_OUT")) {
    table.open(std::string(out) + "." + label + ".csv");
    table << "parameter,p_value,threshold,replications";
    for (int b = 0; b < kBins; ++b) table << ",bin" << b;
    table << "\n";
  }
  double min_p = 1;
  for (int k = 0; k < K; ++k) {
    const double p = uniformity_p(s.ranks[static_cast<size_t>(k)]);
    min_p = std::min(min_p, p);
    EXPECT_GT(p, threshold) << base.params()[k].name << ": ranks not uniform";
    if (table.is_open()) {
      std::vector<int> count(kBins, 0);
      for (int r : s.ranks[static_cast<size_t>(k)]) ++count[static_cast<size_t>(r * kBins / kRanks)];
      table << "\"" << base.params()[k].name << "\"," << p << "," << threshold << "," << reps;
      for (int c : count) table << "," << c;
      table << "\n";
    }
  }
  std::printf("%s: %d replications, %d parameters, min p %.4g (threshold %.2g), %d replications with divergences\n",
              label.c_str(), reps, K, min_p, threshold, s.divergent_reps);
}

SamplerOptions sbc_options() {
  SamplerOptions o;
  o.chains = 2;
  o.warmup = 300;
  o.draws = 300;
  o.seed = 31;
  return o;
}

TEST(Sbc, LogLogNoncentered) { check(example("dtc_paid_social_noncentered.toml"), sbc_options(), "loglog_noncentered"); }

TEST(Sbc, AdstockHill) { check(example("national_media.toml"), sbc_options(), "adstock_hill"); }

}  // namespace
}  // namespace herd
