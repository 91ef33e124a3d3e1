// The log density against a deliberately naive re-implementation: plain loops in double,
// straight from DESIGN.md §3, reading the raw Dataset and named parameter values. It shares
// no code with log_density_grad beyond the parameter names.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

#include "fixtures.hpp"
#include "herd/model/log_density.hpp"

namespace herd {
namespace {

constexpr double kPi = 3.14159265358979323846;

double normal_lpdf(double x, double mu, double sd) {
  return -0.5 * std::log(2 * kPi) - std::log(sd) - 0.5 * std::pow((x - mu) / sd, 2);
}

double prior_lpdf(const Distribution& d, double x) {
  switch (d.family) {
    case Family::kNone:
    case Family::kFlat: return 0;
    case Family::kNormal: return normal_lpdf(x, d.a, d.b);
    case Family::kHalfNormal: return std::log(2.0) + normal_lpdf(x, 0, d.a);
    case Family::kLognormal: return normal_lpdf(std::log(x), d.a, d.b) - std::log(x);
    case Family::kGamma:
      return d.a * std::log(d.b) - std::lgamma(d.a) + (d.a - 1) * std::log(x) - d.b * x;
    case Family::kBeta:
      return std::lgamma(d.a + d.b) - std::lgamma(d.a) - std::lgamma(d.b) + (d.a - 1) * std::log(x) +
             (d.b - 1) * std::log(1 - x);
    case Family::kExponential: return std::log(d.a) - d.a * x;
    case Family::kStudentT: {
      const double z = (x - d.b) / d.c;
      return std::lgamma((d.a + 1) / 2) - std::lgamma(d.a / 2) - 0.5 * std::log(d.a * kPi) - std::log(d.c) -
             (d.a + 1) / 2 * std::log(1 + z * z / d.a);
    }
    case Family::kHalfStudentT: {
      const double z = x / d.b;
      return std::log(2.0) + std::lgamma((d.a + 1) / 2) - std::lgamma(d.a / 2) - 0.5 * std::log(d.a * kPi) -
             std::log(d.b) - (d.a + 1) / 2 * std::log(1 + z * z / d.a);
    }
  }
  return std::nan("");
}

double naive_log_density(const Model& model, const std::vector<double>& theta) {
  const ModelSpec& s = model.spec();
  const Dataset& d = model.dataset();
  const auto& params = model.params();
  std::map<std::string, double> v;
  double lp = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    const double u = theta[i];
    double x = u, logjac = 0;
    if (params[i].support.kind == SupportKind::kPositive) {
      x = std::exp(u);
      logjac = u;
    } else if (params[i].support.kind == SupportKind::kInterval) {
      const double p = 1 / (1 + std::exp(-u)), w = params[i].support.hi - params[i].support.lo;
      x = params[i].support.lo + w * p;
      logjac = std::log(w * p * (1 - p));
    }
    v[params[i].name] = x;
    lp += logjac + prior_lpdf(params[i].prior, x);
  }
  auto at = [&](const std::string& name) {
    auto it = v.find(name);
    if (it == v.end()) throw std::runtime_error("naive: no parameter " + name);
    return it->second;
  };
  auto has = [&](const std::string& name) { return v.count(name) > 0; };
  const bool positive = s.media.effect_sign == EffectSign::kPositive;
  const bool panel = d.G > 1 || !s.data.panel.empty();
  const int L = s.media.adstock.type == AdstockType::kNone ? 1 : s.media.adstock.taps;

  // Channel effects on their base scale.
  std::vector<double> base(d.C);
  for (int c = 0; c < d.C; ++c) {
    const std::string ch = d.channels[c];
    std::string group;
    for (const auto& [g, members] : s.media.groups)
      for (const auto& mname : members)
        if (mname == ch) group = g;
    const double mult = s.media.pooling.multipliers.count(ch) ? s.media.pooling.multipliers.at(ch) : 1.0;
    if (has("beta_z[" + ch + "]")) {
      base[c] = at("beta_mu[" + group + "]") + at("beta_sigma[" + group + "]") * mult * at("beta_z[" + ch + "]");
    } else if (has("log_beta[" + ch + "]") || (has("beta[" + ch + "]") && !group.empty() &&
                                              s.media.pooling.type == PoolingType::kCentered)) {
      const double b = has("log_beta[" + ch + "]") ? at("log_beta[" + ch + "]") : at("beta[" + ch + "]");
      lp += normal_lpdf(b, at("beta_mu[" + group + "]"), at("beta_sigma[" + group + "]") * mult);
      base[c] = b;
    } else {
      base[c] = positive ? std::log(at("beta[" + ch + "]")) : at("beta[" + ch + "]");
      continue;
    }
    // A pooled channel's own prior is an extra factor on its effect.
    if (s.priors.overrides.count("beta[" + ch + "]"))
      lp += prior_lpdf(s.priors.overrides.at("beta[" + ch + "]"), positive ? std::exp(base[c]) : base[c]);
  }
  auto weight = [&](int c, int l) {
    const std::string ch = d.channels[c];
    if (s.media.adstock.type == AdstockType::kNone) return 1.0;
    const double decay = at("adstock_decay[" + ch + "]");
    if (s.media.adstock.type == AdstockType::kGeometric) return std::pow(decay, l);
    const double peak = at("adstock_peak[" + ch + "]");
    return std::pow(decay, (l - peak) * (l - peak));
  };
  auto sat = [&](int c, double a) {
    const std::string ch = d.channels[c];
    switch (s.media.saturation) {
      case SaturationType::kLinear: return a;
      case SaturationType::kLog: return std::log(a);
      case SaturationType::kHill: {
        const double k = at("hill_kappa[" + ch + "]"), sl = at("hill_slope[" + ch + "]");
        return std::pow(a, sl) / (std::pow(a, sl) + std::pow(k, sl));
      }
      case SaturationType::kLogistic: {
        const double lam = at("logistic_lambda[" + ch + "]");
        return (1 - std::exp(-lam * a)) / (1 + std::exp(-lam * a));
      }
    }
    return std::nan("");
  };
  auto divisor = [&](int c) {
    double W = 0;
    for (int l = 0; l < L; ++l) W += weight(c, l);
    return s.media.adstock.normalize ? W : 1.0;
  };

  // controls.scale = "std": centred on the mean and divided by the sd over every row.
  auto control = [&](int k, int g, int t) {
    const double x = d.control[(g * d.K + k) * d.T + t];
    if (s.control_scale == ControlScale::kNone) return x;
    double sum = 0, ss = 0;
    const int n = d.G * d.T;
    for (int h = 0; h < d.G; ++h)
      for (int u = 0; u < d.T; ++u) sum += d.control[(h * d.K + k) * d.T + u];
    for (int h = 0; h < d.G; ++h)
      for (int u = 0; u < d.T; ++u) ss += std::pow(d.control[(h * d.K + k) * d.T + u] - sum / n, 2);
    return (x - sum / n) / std::sqrt(ss / (n - 1));
  };
  const double sigma = at("sigma");
  for (int g = 0; g < d.G; ++g) {
    for (int t = 0; t < d.T; ++t) {
      double mu = at(panel ? "intercept[" + d.geos[g] + "]" : "intercept");
      if (s.trend == TrendType::kLinear) mu += at("trend") * (t + 1.0) / d.T;
      for (int h = 1; h <= s.season_harmonics; ++h) {
        mu += at("season[sin" + std::to_string(h) + "]") * std::sin(2 * kPi * h * (t + 1) / s.season_period);
        mu += at("season[cos" + std::to_string(h) + "]") * std::cos(2 * kPi * h * (t + 1) / s.season_period);
      }
      for (int k = 0; k < d.K; ++k) mu += at("gamma[" + d.controls[k] + "]") * control(k, g, t);
      for (int c = 0; c < d.C; ++c) {
        double a = 0;
        for (int l = 0; l < L; ++l)
          if (t - l >= 0) a += weight(c, l) * d.media[(g * d.C + c) * d.T + t - l] / d.media_scale[c];
        a /= divisor(c);
        double eta = base[c];
        if (panel) eta += at("beta_tau[" + d.channels[c] + "]") * at("beta_geo_z[" + d.geos[g] + "," + d.channels[c] + "]");
        const double eff = positive ? std::exp(eta) : eta;
        mu += eff * sat(c, a);
      }
      const double y = d.outcome[g * d.T + t] / d.outcome_scale;
      switch (s.likelihood) {
        case LikelihoodType::kNormal: lp += normal_lpdf(y, mu, sigma); break;
        case LikelihoodType::kLognormal: lp += normal_lpdf(std::log(y), mu, sigma) - std::log(y); break;
        case LikelihoodType::kStudentT:
          lp += prior_lpdf(Distribution{Family::kStudentT, at("nu"), mu, sigma}, y);
          break;
      }
    }
  }
  for (const auto& lt : s.lift_tests) {
    int c = 0;
    while (d.channels[c] != lt.channel) ++c;
    double gain = 1;
    if (!s.media.adstock.normalize) {
      gain = 0;
      for (int l = 0; l < L; ++l) gain += weight(c, l);
    }
    const double beta = positive ? std::exp(base[c]) : base[c];
    double pred = beta * (sat(c, lt.spend_after / d.media_scale[c] * gain) -
                          sat(c, lt.spend_before / d.media_scale[c] * gain));
    if (s.likelihood == LikelihoodType::kLognormal) {
      double level = 0;
      for (double y : d.outcome) level += y / d.outcome_scale / static_cast<double>(d.outcome.size());
      pred = level * (std::exp(pred) - 1);
    }
    lp += normal_lpdf(lt.lift / d.outcome_scale, pred, lt.lift_sd / d.outcome_scale);
  }
  return lp;
}

TEST(NaiveModel, LogDensityMatchesOnRandomConfigs) {
  std::mt19937_64 rng(2024);
  std::uniform_int_distribution<int> pick(0, 1000);
  int compared = 0;
  for (int rep = 0; rep < 300; ++rep) {
    testing::Options o;
    o.adstock = static_cast<AdstockType>(pick(rng) % 3);
    o.normalize = pick(rng) % 2;
    o.saturation = static_cast<SaturationType>(pick(rng) % 4);
    o.pooling = static_cast<PoolingType>(pick(rng) % 3);
    o.likelihood = static_cast<LikelihoodType>(pick(rng) % 3);
    o.sign = static_cast<EffectSign>(pick(rng) % 2);
    o.G = 1 + pick(rng) % 3;
    o.C = 1 + pick(rng) % 4;
    o.K = pick(rng) % 3;
    o.harmonics = pick(rng) % 3;
    o.trend = pick(rng) % 2;
    o.taps = 2 + pick(rng) % 6;
    o.T = 10 + pick(rng) % 30;
    o.lift_tests = pick(rng) % 3;
    o.control_scale = static_cast<ControlScale>(pick(rng) % 2);
    o.control_offset = pick(rng) % 2 ? 0.0 : 50.0;
    o.control_spread = o.control_scale == ControlScale::kStd ? 20.0 : 1.0;
    const Model m = testing::make_model(o, 500 + static_cast<std::uint64_t>(rep));
    std::uniform_real_distribution<double> u(-1.5, 1.5);
    std::vector<double> theta(static_cast<size_t>(m.dim())), grad(theta.size());
    for (auto& t : theta) t = u(rng);
    const double fast = m.log_density_grad(theta.data(), grad.data());
    const double naive = naive_log_density(m, theta);
    if (!std::isfinite(naive)) {
      // exp() of an exponentiated effect can overflow; then both must say so.
      EXPECT_EQ(fast, -INFINITY) << "rep " << rep;
      continue;
    }
    EXPECT_NEAR(fast, naive, 1e-10 * std::abs(naive)) << "rep " << rep << "\n" << m.describe();
    ++compared;
  }
  EXPECT_GE(compared, 290);
}

}  // namespace
}  // namespace herd

namespace herd {
namespace {

// Contributions against a plain recomputation: beta * S(A(x)) in outcome units, and for the
// lognormal likelihood exp(mu) - exp(mu - term), what removing the channel takes away.
TEST(NaiveModel, ContributionsInOutcomeUnits) {
  for (LikelihoodType lik : {LikelihoodType::kNormal, LikelihoodType::kLognormal}) {
    testing::Options o;
    o.likelihood = lik;
    o.adstock = AdstockType::kGeometric;
    o.normalize = true;
    o.saturation = SaturationType::kLogistic;
    o.pooling = PoolingType::kUnpooled;
    o.G = 2;
    o.lift_tests = 0;
    const Model m = testing::make_model(o, 99);
    std::mt19937_64 rng(4);
    std::uniform_real_distribution<double> u(-1, 1);
    std::vector<double> theta(static_cast<size_t>(m.dim()));
    for (auto& t : theta) t = u(rng);
    const std::vector<double> contrib = m.contributions(theta.data());
    const Dataset& d = m.dataset();
    std::map<std::string, double> v;
    const std::vector<double> c = m.constrain(theta.data());
    for (int i = 0; i < m.dim(); ++i) v[m.params()[i].name] = c[static_cast<size_t>(i)];
    std::vector<double> mu(static_cast<size_t>(d.G * d.T)), scratch(static_cast<size_t>(m.scratch_size()));
    mean_function(m.view<double>(), theta.data(), mu.data(), static_cast<double*>(nullptr), scratch.data());
    for (int g = 0; g < d.G; ++g)
      for (int ch = 0; ch < d.C; ++ch) {
        const std::string name = d.channels[static_cast<size_t>(ch)];
        const double decay = v["adstock_decay[" + name + "]"], lam = v["logistic_lambda[" + name + "]"];
        const double beta = v["beta[" + name + "]"] *
                            std::exp(v["beta_tau[" + name + "]"] * v["beta_geo_z[" + d.geos[static_cast<size_t>(g)] + "," + name + "]"]);
        double W = 0;
        for (int l = 0; l < o.taps; ++l) W += std::pow(decay, l);
        for (int t = 0; t < d.T; ++t) {
          double a = 0;
          for (int l = 0; l < o.taps && l <= t; ++l)
            a += std::pow(decay, l) * d.media[static_cast<size_t>((g * d.C + ch) * d.T + t - l)] / d.media_scale[static_cast<size_t>(ch)];
          a /= W;
          const double term = beta * (1 - std::exp(-lam * a)) / (1 + std::exp(-lam * a));
          const double full = mu[static_cast<size_t>(g * d.T + t)];
          const double expect = d.outcome_scale * (lik == LikelihoodType::kLognormal ? std::exp(full) - std::exp(full - term) : term);
          EXPECT_NEAR(contrib[static_cast<size_t>((g * d.C + ch) * d.T + t)], expect, 1e-9 * std::max(1.0, std::abs(expect)))
              << to_string(lik) << " g" << g << " " << name << " t" << t;
        }
      }
  }
}

}  // namespace
}  // namespace herd
