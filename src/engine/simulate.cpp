#include "herd/engine/simulate.hpp"

#include <cmath>
#include <stdexcept>

#include "herd/model/log_density.hpp"

namespace herd {
namespace {

// Marsaglia & Tsang (2000) for shape >= 1; boosted by U^(1/shape) below 1.
double gamma_draw(double shape, Philox& rng) {
  if (shape < 1) return gamma_draw(shape + 1, rng) * std::pow(rng.uniform(), 1 / shape);
  const double d = shape - 1.0 / 3, c = 1 / std::sqrt(9 * d);
  for (;;) {
    double x, v;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const double u = rng.uniform();
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
  }
}

double unrestricted(const Distribution& d, Philox& rng) {
  switch (d.family) {
    case Family::kNormal: return d.a + d.b * rng.normal();
    case Family::kHalfNormal: return std::abs(d.a * rng.normal());
    case Family::kLognormal: return std::exp(d.a + d.b * rng.normal());
    case Family::kGamma: return gamma_draw(d.a, rng) / d.b;
    case Family::kBeta: {
      const double x = gamma_draw(d.a, rng), y = gamma_draw(d.b, rng);
      return x / (x + y);
    }
    case Family::kExponential: return -std::log(rng.uniform()) / d.a;
    case Family::kStudentT: return d.b + d.c * rng.normal() / std::sqrt(gamma_draw(d.a / 2, rng) * 2 / d.a);
    case Family::kHalfStudentT: return std::abs(d.b * rng.normal() / std::sqrt(gamma_draw(d.a / 2, rng) * 2 / d.a));
    case Family::kFlat:
    case Family::kNone: break;
  }
  throw std::invalid_argument("cannot draw from " + to_string(d) + ": the prior is improper");
}

bool inside(double x, const Support& s) {
  switch (s.kind) {
    case SupportKind::kReal: return std::isfinite(x);
    case SupportKind::kPositive: return x > 0 && std::isfinite(x);
    case SupportKind::kInterval: return x > s.lo && x < s.hi;
  }
  return false;
}

}  // namespace

double sample_prior(const Distribution& d, const Support& s, Philox& rng) {
  if (d.family == Family::kFlat)
    throw std::invalid_argument("flat() is improper: simulation needs proper priors on every parameter");
  for (int tries = 0; tries < 100000; ++tries) {
    const double x = unrestricted(d, rng);
    if (inside(x, s)) return x;
  }
  throw std::invalid_argument("the prior " + to_string(d) + " puts almost no mass on the parameter's support");
}

std::vector<double> draw_prior(const Model& model, Philox& rng) {
  const ModelView<double> m = model.view<double>();
  for (int c = 0; c < m.C; ++c)
    if (m.effect_prior[c].family != Family::kNone)
      throw std::invalid_argument("a pooled channel with its own beta prior has no generative prior to draw from");
  const auto& params = model.params();
  std::vector<double> value(params.size());
  // Every coordinate with its own prior first; centered effects then need their group's draw.
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i].prior.family != Family::kNone) value[i] = sample_prior(params[i].prior, params[i].support, rng);
  for (int c = 0; c < m.C; ++c) {
    if (static_cast<EffectKind>(m.effect_kind[c]) != EffectKind::kCentered) continue;
    const int g = m.group[c];
    const double mu = value[static_cast<size_t>(m.o_beta_mu + g)];
    const double sd = value[static_cast<size_t>(m.o_beta_sigma + g)] * m.multiplier[c];
    value[static_cast<size_t>(m.o_effect + c)] = mu + sd * rng.normal();
  }
  return model.unconstrain(value);
}

std::vector<double> simulate_outcome(const Model& model, const std::vector<double>& theta, Philox& rng,
                                     SimulatedNoise* noise) {
  const ModelView<double> m = model.view<double>();
  std::vector<double> mu(static_cast<size_t>(m.G * m.T)), scratch(static_cast<size_t>(model.scratch_size()));
  mean_function(m, theta.data(), mu.data(), static_cast<double*>(nullptr), scratch.data());
  const std::vector<double> c = model.constrain(theta.data());
  const double sigma = c[static_cast<size_t>(m.o_sigma)];
  const double scale = model.dataset().outcome_scale;
  std::vector<double> y(mu.size());
  for (size_t i = 0; i < mu.size(); ++i) {
    double eps = rng.normal();
    if (m.likelihood == LikelihoodType::kStudentT) {
      const double nu = c[static_cast<size_t>(m.o_nu)];
      eps /= std::sqrt(gamma_draw(nu / 2, rng) * 2 / nu);
    }
    const double v = mu[i] + sigma * eps;
    y[i] = scale * (m.likelihood == LikelihoodType::kLognormal ? std::exp(v) : v);
  }
  if (noise) {
    noise->mu = mu;
    noise->sigma = sigma;
    noise->eps.resize(mu.size());
    // Recovered from y as written, so that y = scale * h(mu + sigma * eps) holds for the values stored.
    for (size_t i = 0; i < mu.size(); ++i) {
      const double v = m.likelihood == LikelihoodType::kLognormal ? std::log(y[i] / scale) : y[i] / scale;
      noise->eps[i] = (v - mu[i]) / sigma;
    }
  }
  return y;
}

Model with_outcome(const Model& model, const std::vector<double>& outcome) {
  Dataset d = model.dataset();
  d.outcome = outcome;
  return Model(model.spec(), std::move(d));
}

}  // namespace herd
