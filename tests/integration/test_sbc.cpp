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
#include <cstdlib>
#include <fstream>

#include "herd/config/model_config.hpp"
#include "herd/engine/fit.hpp"
#include "herd/engine/simulate.hpp"
#include "herd/model/distribution.hpp"
#include "herd/sim/sbc.hpp"

namespace herd {
namespace {

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

SbcResult check(const Model& sim, const Model& fit_with, const SamplerOptions& opt, const std::string& label,
                int reps, bool expect_pass = true) {
  SbcOptions o;
  o.replications = reps;
  o.bins = kBins;
  o.sampler = opt;
  const SbcResult s = run_sbc(sim, fit_with, o);
  if (const char* out = std::getenv("HERD_SBC_OUT")) {
    std::ofstream table(std::string(out) + "." + label + ".csv");
    table << "parameter,p_value,threshold,replications";
    for (int b = 0; b < kBins; ++b) table << ",bin" << b;
    table << "\n";
    for (size_t k = 0; k < s.parameters.size(); ++k) {
      std::vector<int> count(kBins, 0);
      for (int r : s.ranks[k]) ++count[static_cast<size_t>(r * kBins / (s.max_rank + 1))];
      table << "\"" << s.parameters[k] << "\"," << s.p_values[k] << "," << s.threshold << "," << reps;
      for (int c : count) table << "," << c;
      table << "\n";
    }
  }
  double min_p = 1;
  for (size_t k = 0; k < s.parameters.size(); ++k) {
    min_p = std::min(min_p, s.p_values[k]);
    if (expect_pass) {
      EXPECT_GT(s.p_values[k], s.threshold) << s.parameters[k] << ": ranks not uniform";
    }
  }
  std::printf("%s: %d replications, %zu parameters, min p %.4g (threshold %.2g), %d replications with divergences\n",
              label.c_str(), reps, s.parameters.size(), min_p, s.threshold, s.divergent_replications);
  return s;
}

void check(const Model& base, const SamplerOptions& opt, const std::string& label) {
  check(base, base, opt, label, replications());
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

namespace herd {
namespace {

// A planted bug: the fit drops the log-Jacobian of beta_sigma's log transform. For a
// gamma(2, 20) prior that is exactly fitting with gamma(1, 20) (p(s) / s), so the bug is
// planted through the config. SBC must see it in beta_sigma's ranks; the same model on both
// sides must pass (the control, same replications and seeds).
Model with_sigma_prior(const char* prior) {
  ModelSpec spec = parse_model_config(std::string(HERD_SOURCE_DIR) + "/configs/examples/dtc_paid_social_noncentered.toml");
  spec.priors.family["beta_sigma"] = parse_distribution(prior);
  Dataset data = read_dataset(spec);
  return Model(std::move(spec), std::move(data));
}

TEST(Sbc, PlantedJacobianBugFailsUniformity) {
  const Model truth = with_sigma_prior("gamma(2, 20)"), bugged = with_sigma_prior("gamma(1, 20)");
  const SbcResult ok = check(truth, truth, sbc_options(), "control_gamma_prior", 200);
  EXPECT_TRUE(ok.passed());
  const SbcResult bad = check(truth, bugged, sbc_options(), "planted_jacobian_bug", 200, false);
  EXPECT_FALSE(bad.passed());
  const auto at = std::find(bad.parameters.begin(), bad.parameters.end(), "beta_sigma[paid_social]") - bad.parameters.begin();
  ASSERT_LT(static_cast<size_t>(at), bad.parameters.size());
  EXPECT_LT(bad.p_values[static_cast<size_t>(at)], bad.threshold) << "beta_sigma's ranks should show the bug";
}

}  // namespace
}  // namespace herd
