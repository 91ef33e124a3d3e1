// Values published outside the project: Meridian's adstock test values, PyMC-Marketing's
// saturation values, and the PyMC-Marketing example data set under its known generator.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <numeric>

#include "herd/data/dataset.hpp"
#include "herd/model/blocks.hpp"
#include "herd/model/log_density.hpp"
#include "herd/model/model.hpp"

namespace herd {
namespace {

// Sets the named constrained values (everything else 0 on the unconstrained scale).
std::vector<double> theta_from(const Model& m, const std::map<std::string, double>& values) {
  std::vector<double> constrained = m.constrain(std::vector<double>(static_cast<size_t>(m.dim()), 0.0).data());
  for (const auto& [name, v] : values) {
    bool found = false;
    for (int i = 0; i < m.dim(); ++i)
      if (m.params()[i].name == name) constrained[i] = v, found = true;
    EXPECT_TRUE(found) << name;
  }
  return m.unconstrain(constrained);
}

TEST(ReferenceValues, MeridianGeometricAdstock) {
  // Normalized geometric adstock, 5 taps, three weekly series; last-week values from
  // Meridian's adstock tests: 0.751, 0.435, 0.572 for decay 0.1, 0.5, 0.9.
  Dataset d;
  d.source = "meridian";
  d.T = 5;
  d.C = 3;
  d.K = 0;
  d.channels = {"x1", "x2", "x3"};
  d.geos = {""};
  for (int t = 0; t < 5; ++t) d.dates.push_back(std::to_string(t));
  d.media = {.12, .34, .91, .45, .78, .55, .71, .08, .82, .29, .89, .23, .67, .11, .95};
  d.outcome = {1, 2, 3, 4, 5};
  d.line = {2, 3, 4, 5, 6};
  d.media_column = {2, 3, 4};
  d.media_scale = {1, 1, 1};
  d.outcome_scale = 1;
  ModelSpec s;
  s.source = "meridian.toml";
  s.media.channels = d.channels;
  s.media.adstock = {AdstockType::kGeometric, 5, true};
  s.media.saturation = SaturationType::kLinear;
  s.media.effect_sign = EffectSign::kPositive;
  fill_default_priors(s);
  const Model m(s, d);
  const auto theta = theta_from(m, {{"beta[x1]", 1}, {"beta[x2]", 1}, {"beta[x3]", 1}, {"adstock_decay[x1]", 0.1},
                                    {"adstock_decay[x2]", 0.5}, {"adstock_decay[x3]", 0.9}});
  std::vector<double> mu(5), media(15), scratch(static_cast<size_t>(m.scratch_size()));
  mean_function(m.view<double>(), theta.data(), mu.data(), media.data(), scratch.data());
  // Published to three decimals.
  EXPECT_NEAR(media[0 * 5 + 4], 0.751, 5e-4);
  EXPECT_NEAR(media[1 * 5 + 4], 0.435, 5e-4);
  EXPECT_NEAR(media[2 * 5 + 4], 0.572, 5e-4);
}

TEST(ReferenceValues, PymcMarketingSaturation) {
  // logistic_saturation(1, lam=1) = 0.46211716 in PyMC-Marketing's tests.
  EXPECT_NEAR(saturate<double>(SaturationType::kLogistic, 1.0, 1.0, 0).value, 0.46211716, 1e-8);
  // Hill at x = kappa is one half, whatever the slope.
  for (double kappa : {0.01, 0.5, 3.0, 250.0})
    for (double slope : {0.3, 1.0, 4.0}) EXPECT_NEAR(saturate<double>(SaturationType::kHill, kappa, kappa, slope).value, 0.5, 1e-14);
}

TEST(ReferenceValues, PymcMarketingExampleResidualSd) {
  // mmm_example.csv was generated as y = 1000 (2 + trend + season + 1.5 e1 + 2.5 e2
  //   + 3 L(A(x1; 0.4); 4) + 2 L(A(x2; 0.2); 3) + eps); with those values the residual
  // y/1000 - mu has sd 0.2425 over the 179 weeks (../shared/refdata/README.md). Trend and
  // season are not in the model family, so they enter as controls with coefficient 1.
  ModelSpec s;
  s.source = "mmm_example.toml";
  s.data.path = std::string(HERD_REFDATA_DIR) + "/mmm/pymc_marketing/mmm_example.csv";
  // ../shared/refdata sits beside every checkout this project makes (CI included); a lone
  // clone without it skips rather than fails.
  if (!std::filesystem::exists(s.data.path)) GTEST_SKIP() << "no reference data at " << s.data.path;
  s.data.date = "date_week";
  s.data.outcome = "y";
  s.data.media_scale = ScaleType::kNone;
  s.data.outcome_scale = ScaleType::kNone;
  s.media.channels = {"x1", "x2"};
  s.media.adstock = {AdstockType::kGeometric, 8, true};
  s.media.saturation = SaturationType::kLogistic;
  s.media.effect_sign = EffectSign::kPositive;
  s.controls = {"event_1", "event_2", "t", "dayofyear"};
  fill_default_priors(s);
  Dataset d = read_dataset(s);
  ASSERT_EQ(d.T, 179);
  d.outcome_scale = 1000;
  const int n = d.T;
  for (int t = 0; t < n; ++t) {
    const double i = d.control[2 * n + t], doy = d.control[3 * n + t];
    d.control[2 * n + t] = std::pow(50 * i / (n - 1) + 10, 0.25) - 1;
    d.control[3 * n + t] = 0.5 * (-std::sin(4 * M_PI * doy / 365.5) + std::cos(2 * M_PI * doy / 365.5));
  }
  const Model m(s, d);
  const auto theta = theta_from(m, {{"intercept", 2}, {"gamma[event_1]", 1.5}, {"gamma[event_2]", 2.5},
                                    {"gamma[t]", 1}, {"gamma[dayofyear]", 1}, {"beta[x1]", 3}, {"beta[x2]", 2},
                                    {"adstock_decay[x1]", 0.4}, {"adstock_decay[x2]", 0.2},
                                    {"logistic_lambda[x1]", 4}, {"logistic_lambda[x2]", 3}});
  std::vector<double> mu(static_cast<size_t>(n)), scratch(static_cast<size_t>(m.scratch_size()));
  mean_function(m.view<double>(), theta.data(), mu.data(), static_cast<double*>(nullptr), scratch.data());
  std::vector<double> r(static_cast<size_t>(n));
  for (int t = 0; t < n; ++t) r[t] = d.outcome[t] / 1000 - mu[t];
  const double mean = std::accumulate(r.begin(), r.end(), 0.0) / n;
  double ss = 0;
  for (double v : r) ss += (v - mean) * (v - mean);
  EXPECT_NEAR(std::sqrt(ss / (n - 1)), 0.2425, 5e-5);
}

}  // namespace
}  // namespace herd
