#pragma once
// Shared by the analysis and optimizer tests: short fits, reported draws and a simulated
// single-geo model whose true curves are known.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "../model/fixtures.hpp"
#include "herd/analysis/analysis.hpp"
#include "herd/config/model_config.hpp"
#include "herd/engine/fit.hpp"
#include "herd/engine/simulate.hpp"
#include "herd/hmc/philox.hpp"
#include "herd/output/model_output.hpp"

namespace herd {
namespace testing_analysis {

inline SamplerOptions quick(const Model& m, int warmup, int draws, std::uint64_t seed = 7) {
  SamplerOptions o = options_from(m.spec());
  o.chains = 4;
  o.warmup = warmup;
  o.draws = draws;
  o.threads = 2;
  o.seed = seed;
  return o;
}

inline FittedModel fit_and_restore(const Model& m, const SamplerOptions& o) {
  const FitResult fit = fit_model(m, o);
  return restore_model(build_output(m, fit, o, false), "<memory>");
}

// Constrained value of a reported quantity in every draw.
inline std::vector<double> reported(const FittedModel& f, const std::string& name) {
  const auto names = output_names(*f.model);
  const auto at = static_cast<size_t>(std::find(names.begin(), names.end(), name) - names.begin());
  EXPECT_LT(at, names.size()) << name;
  std::vector<double> row(names.size()), out;
  for (int i = 0; i < f.n(); ++i) {
    outputs(*f.model, f.draw(i), row.data());
    out.push_back(row[at]);
  }
  return out;
}

inline double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

inline double sd_of(const std::vector<double>& v) {
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

// A simulated single-geo model from TOML text: spends generated here (channel `flat` nearly
// constant when asked, each other channel dark in a `dark` share of weeks), the outcome
// drawn from the model at `truth` (constrained values by name).
struct Simulated {
  std::unique_ptr<Model> model;
  std::vector<double> theta;  // the truth, unconstrained
};

inline Simulated simulate(const std::string& toml, const std::vector<std::pair<std::string, double>>& truth, int T,
                   std::uint64_t seed, double flat_jitter = -1, double dark = 0) {
  ModelSpec spec = parse_model_config_text(toml, "sim.toml", ".");
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u01(0, 1);
  Dataset d;
  d.source = "sim.csv";
  d.T = T;
  d.G = 1;
  d.geos = {""};
  d.channels = spec.media.channels;
  d.C = static_cast<int>(d.channels.size());
  for (int t = 0; t < T; ++t) d.dates.push_back(std::to_string(t + 1));
  for (int c = 0; c < d.C; ++c) {
    const bool flat = d.channels[static_cast<size_t>(c)] == "flat" && flat_jitter >= 0;
    double s = 0;
    for (int t = 0; t < T; ++t) {
      double v = flat ? 100.0 * (1 + flat_jitter * (u01(rng) - 0.5)) : 1000.0 * (c + 1) * (0.2 + 1.6 * u01(rng));
      if (!flat && dark > 0 && u01(rng) < dark) v = 0;  // a dark week (no draw at dark = 0: older seeds keep their data)
      d.media.push_back(v);
      s += v;
    }
    d.media_scale.push_back(s / T);
    d.media_column.push_back(c + 2);
  }
  d.outcome.assign(static_cast<size_t>(T), 1000.0);
  d.outcome_scale = 1000.0;
  for (int t = 0; t < T; ++t) d.line.push_back(t + 2);
  d.outcome_column = 1;
  Model m0(spec, d);
  std::vector<double> values(static_cast<size_t>(m0.dim()), 0.0);
  for (size_t i = 0; i < m0.params().size(); ++i) {
    bool set = false;
    for (const auto& [name, v] : truth)
      if (m0.params()[i].name == name) values[i] = v, set = true;
    EXPECT_TRUE(set) << "no truth for " << m0.params()[i].name;
  }
  Simulated s;
  s.theta = m0.unconstrain(values);
  Philox prng(seed, 0, 0, RngUse::kSimulate);
  s.model = std::make_unique<Model>(with_outcome(m0, simulate_outcome(m0, s.theta, prng)));
  return s;
}


// Three Hill channels with geometric adstock, unpooled, normal likelihood.
inline const char* kHillToml = R"toml(
name = "sim_hill"
[data]
path = "sim.csv"
date = "week"
outcome = "y"
[media]
channels = ["a", "b", "c"]
adstock = { type = "geometric", taps = 4, normalize = false }
saturation = { type = "hill" }
effect_sign = "positive"
pooling = { type = "unpooled" }
[likelihood]
type = "normal"
[priors]
intercept = "normal(1, 0.5)"
beta = "half_normal(1)"
adstock_decay = "beta(2, 2)"
hill_kappa = "gamma(4, 4)"
hill_slope = "gamma(8, 4)"
sigma = "half_normal(0.2)"
)toml";

inline const std::vector<std::pair<std::string, double>> kHillTruth = {
    {"intercept", 1.0},          {"beta[a]", 0.30},          {"beta[b]", 0.20},          {"beta[c]", 0.45},
    {"adstock_decay[a]", 0.5},   {"adstock_decay[b]", 0.3},  {"adstock_decay[c]", 0.6},  {"hill_kappa[a]", 0.8},
    {"hill_kappa[b]", 1.5},      {"hill_kappa[c]", 1.2},     {"hill_slope[a]", 1.5},     {"hill_slope[b]", 2.0},
    {"hill_slope[c]", 1.8},      {"sigma", 0.03}};

}  // namespace testing_analysis
}  // namespace herd
