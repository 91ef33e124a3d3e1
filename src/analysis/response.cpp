// The response model (expected weekly outcome at constant spends, per draw, with its
// gradient) and one draw's weekly contributions, both from the model's forward pass.
#include "herd/analysis/analysis.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

#include "herd/config/model_config.hpp"
#include "herd/core/error.hpp"
#include "herd/core/files.hpp"
#include "herd/diagnostics/diagnostics.hpp"
#include "herd/engine/fit.hpp"
#include "herd/engine/sampler.hpp"
#include "herd/engine/simulate.hpp"
#include "herd/hmc/philox.hpp"
#include "herd/model/log_density.hpp"

namespace herd {

ResponseModel::ResponseModel(const Model& model, const double* theta, int n)
    : n_(n), G_(model.dataset().G), C_(model.dataset().C) {
  const Dataset& d = model.dataset();
  const ModelView<double> m = model.view<double>();
  multiplicative_ = m.likelihood == LikelihoodType::kLognormal;
  outcome_scale_ = d.outcome_scale;
  sat_ = model.spec().media.saturation;
  const auto G = static_cast<size_t>(G_), C = static_cast<size_t>(C_), T = static_cast<size_t>(d.T);
  current_.assign(C, 0);
  reference_.assign(C, 0);
  share_.assign(G * C, 0);
  geo_current_.assign(G * C, 0);
  geo_reference_.assign(G * C, 0);
  const double inf = std::numeric_limits<double>::infinity();
  for (size_t c = 0; c < C; ++c) {
    double total = 0, low = inf;
    for (size_t t = 0; t < T; ++t) {
      double week = 0;
      for (size_t g = 0; g < G; ++g) week += d.media[(g * C + c) * T + t];
      total += week;
      if (week > 0) low = std::min(low, week);
    }
    current_[c] = total / static_cast<double>(T);
    if (sat_ == SaturationType::kLog) reference_[c] = low;
    for (size_t g = 0; g < G; ++g) {
      double s = 0, geo_low = inf;
      for (size_t t = 0; t < T; ++t) {
        const double v = d.media[(g * C + c) * T + t];
        s += v;
        if (v > 0) geo_low = std::min(geo_low, v);
      }
      share_[g * C + c] = total > 0 ? s / total : 1.0 / static_cast<double>(G);
      geo_current_[g * C + c] = s / static_cast<double>(T);
      // A geo that never spent on the channel measures from 0 (log saturation's term there
      // is 0 at no spend).
      if (sat_ == SaturationType::kLog && geo_low < inf) geo_reference_[g * C + c] = geo_low;
    }
  }
  base_.resize(static_cast<size_t>(n) * G);
  curves_.resize(static_cast<size_t>(n) * G * C);
  std::vector<double> scratch(static_cast<size_t>(model.scratch_size())), media(C * T);
  const int dim = model.dim();
  for (int i = 0; i < n; ++i) {
    const double* th = theta + static_cast<size_t>(i) * static_cast<size_t>(dim);
    const ForwardPass<double> pass(m, th, scratch.data());
    for (int g = 0; g < G_; ++g) {
      pass.geo(g, media.data());
      double b = 0;
      for (size_t t = 0; t < T; ++t) {
        double rest = pass.mu()[t];
        for (size_t c = 0; c < C; ++c) rest -= media[c * T + t];
        b += multiplicative_ ? std::exp(rest) : rest;
      }
      base_[static_cast<size_t>(i) * G + static_cast<size_t>(g)] = b / static_cast<double>(T);
      for (int c = 0; c < C_; ++c) {
        ChannelCurve<double> k{};
        k.beta = pass.effect(g, c);
        k.gain = m.normalize ? 1.0 : pass.adstock_gain(c);
        k.inv_scale = 1.0 / d.media_scale[static_cast<size_t>(c)];
        k.p1 = pass.saturation1(c, 0.0);
        k.p2 = pass.saturation2(c, 0.0);
        k.log_p1 = sat_ == SaturationType::kHill ? std::log(k.p1) : 0.0;
        curves_[(static_cast<size_t>(i) * G + static_cast<size_t>(g)) * C + static_cast<size_t>(c)] = k;
      }
    }
  }
  if (sat_ == SaturationType::kHill) {
    const auto N = static_cast<size_t>(n);
    hill_.resize(G * C * N);
    for (size_t i = 0; i < N; ++i)
      for (size_t g = 0; g < G; ++g)
        for (size_t c = 0; c < C; ++c) {
          const ChannelCurve<double>& k = curves_[(i * G + g) * C + c];
          hill_[(g * C + c) * N + i] = {k.beta, k.p2, std::log(k.gain * k.inv_scale) - k.log_p1};
        }
  }
}

ResponseModel ResponseModel::geo(int g) const {
  if (g < 0 || g >= G_) throw std::out_of_range("ResponseModel::geo: no geo " + std::to_string(g));
  const auto G = static_cast<size_t>(G_), C = static_cast<size_t>(C_), N = static_cast<size_t>(n_),
             k = static_cast<size_t>(g);
  ResponseModel r;
  r.n_ = n_;
  r.G_ = 1;
  r.C_ = C_;
  r.multiplicative_ = multiplicative_;
  r.outcome_scale_ = outcome_scale_;
  r.sat_ = sat_;
  r.current_.assign(geo_current_.begin() + static_cast<std::ptrdiff_t>(k * C),
                    geo_current_.begin() + static_cast<std::ptrdiff_t>((k + 1) * C));
  r.reference_.assign(geo_reference_.begin() + static_cast<std::ptrdiff_t>(k * C),
                      geo_reference_.begin() + static_cast<std::ptrdiff_t>((k + 1) * C));
  r.share_.assign(C, 1.0);
  r.geo_current_ = r.current_;
  r.geo_reference_ = r.reference_;
  r.base_.resize(N);
  r.curves_.resize(N * C);
  for (size_t i = 0; i < N; ++i) {
    r.base_[i] = base_[i * G + k];
    for (size_t c = 0; c < C; ++c) r.curves_[i * C + c] = curves_[(i * G + k) * C + c];
  }
  if (!hill_.empty())
    r.hill_.assign(hill_.begin() + static_cast<std::ptrdiff_t>(k * C * N),
                   hill_.begin() + static_cast<std::ptrdiff_t>((k + 1) * C * N));
  return r;
}

const ChannelCurve<double>& ResponseModel::curve(int i, int g, int c) const {
  return curves_[(static_cast<size_t>(i) * static_cast<size_t>(G_) + static_cast<size_t>(g)) * static_cast<size_t>(C_) +
                 static_cast<size_t>(c)];
}

double ResponseModel::outcome(int i, const double* x, double* grad) const {
  if (grad) std::fill(grad, grad + C_, 0.0);
  double y = 0;
  for (int g = 0; g < G_; ++g) {
    double u = 0;
    double du[64];
    std::vector<double> du_big;
    double* dterm = du;
    if (C_ > 64) {
      du_big.resize(static_cast<size_t>(C_));
      dterm = du_big.data();
    }
    for (int c = 0; c < C_; ++c) {
      const double s = share_[static_cast<size_t>(g * C_ + c)];
      double dx = 0;
      u += steady_term(sat_, curve(i, g, c), x[c] * s, &dx);
      dterm[c] = dx * s;
    }
    const double b = base_[static_cast<size_t>(i) * static_cast<size_t>(G_) + static_cast<size_t>(g)];
    const double h = multiplicative_ ? b * std::exp(u) : b + u;
    const double dh = multiplicative_ ? h : 1.0;
    y += h;
    if (grad)
      for (int c = 0; c < C_; ++c) grad[c] += outcome_scale_ * dh * dterm[c];
  }
  return outcome_scale_ * y;
}

void ResponseModel::add_terms(int g, int c, double xs, double* u, double* d) const {
  const auto N = static_cast<size_t>(n_);
  if (sat_ == SaturationType::kHill) {
    // steady_term's Hill branch with log(gain xs / scale) - log kappa = log xs + offset.
    if (!(xs > 0)) {
      if (d) std::fill(d, d + N, 0.0);
      return;
    }
    const HillColumn* h = hill_.data() + static_cast<size_t>(g * C_ + c) * N;
    const double lx = std::log(xs), inv_x = 1 / xs;
    for (size_t i = 0; i < N; ++i) {
      const double s = math::inv_logit(h[i].slope * (lx + h[i].offset));
      u[i] += h[i].beta * s;
      if (d) d[i] = h[i].beta * s * (1 - s) * h[i].slope * inv_x;
    }
    return;
  }
  for (size_t i = 0; i < N; ++i) {
    double di = 0;
    u[i] += steady_term(sat_, curve(static_cast<int>(i), g, c), xs, d ? &di : nullptr);
    if (d) d[i] = di;
  }
}

double ResponseModel::accumulate(const double* x, double* y, double* grad) const {
  const auto N = static_cast<size_t>(n_), C = static_cast<size_t>(C_);
  std::vector<double> u(N), d(grad ? N * C : 0), geo_share(C);
  if (y) std::fill(y, y + N, 0.0);
  if (grad) std::fill(grad, grad + C, 0.0);
  double total = 0;
  for (int g = 0; g < G_; ++g) {
    std::fill(u.begin(), u.end(), 0.0);
    for (size_t c = 0; c < C; ++c) {
      geo_share[c] = share(g, static_cast<int>(c));
      add_terms(g, static_cast<int>(c), x[c] * geo_share[c], u.data(), grad ? d.data() + c * N : nullptr);
    }
    for (size_t i = 0; i < N; ++i) {
      const double b = base_[i * static_cast<size_t>(G_) + static_cast<size_t>(g)];
      const double h = multiplicative_ ? b * std::exp(u[i]) : b + u[i];
      total += h;
      if (y) y[i] += outcome_scale_ * h;
      // dY/dx_c = scale * H'(u) * d term / d xs * share, H' = h for lognormal, 1 otherwise.
      if (grad) {
        const double dh = multiplicative_ ? h : 1.0;
        for (size_t c = 0; c < C; ++c) grad[c] += dh * d[c * N + i] * geo_share[c];
      }
    }
  }
  if (grad)
    for (size_t c = 0; c < C; ++c) grad[c] *= outcome_scale_ / static_cast<double>(n_);
  return outcome_scale_ * total / static_cast<double>(n_);
}

double ResponseModel::mean_outcome(const double* x, double* grad) const { return accumulate(x, nullptr, grad); }

void ResponseModel::outcomes(const double* x, double* y) const { accumulate(x, y, nullptr); }

void ResponseModel::sweep(int i, int c, const double* x, const double* xs, int k, double* y, double* dy) const {
  std::fill(y, y + k, 0.0);
  if (dy) std::fill(dy, dy + k, 0.0);
  for (int g = 0; g < G_; ++g) {
    double rest = 0;
    for (int j = 0; j < C_; ++j)
      if (j != c) rest += steady_term(sat_, curve(i, g, j), x[j] * share(g, j), static_cast<double*>(nullptr));
    const double b = base_[static_cast<size_t>(i) * static_cast<size_t>(G_) + static_cast<size_t>(g)];
    const double s = share(g, c);
    const ChannelCurve<double>& k_gc = curve(i, g, c);
    for (int q = 0; q < k; ++q) {
      double d = 0;
      const double u = rest + steady_term(sat_, k_gc, xs[q] * s, &d);
      const double h = multiplicative_ ? b * std::exp(u) : b + u;
      y[q] += outcome_scale_ * h;
      if (dy) dy[q] += outcome_scale_ * (multiplicative_ ? h : 1.0) * d * s;
    }
  }
}

void draw_contributions(const Model& model, const ResponseModel& resp, int i, const double* theta, double* contrib,
                        double* baseline, double* scratch, double* adstock) {
  const Dataset& d = model.dataset();
  const ModelView<double> m = model.view<double>();
  const auto G = static_cast<size_t>(d.G), C = static_cast<size_t>(d.C), T = static_cast<size_t>(d.T);
  const bool mult = m.likelihood == LikelihoodType::kLognormal;
  const double os = d.outcome_scale;
  const SaturationType sat = model.spec().media.saturation;
  const ForwardPass<double> pass(m, theta, scratch);
  if (adstock)
    for (size_t c = 0; c < C; ++c)
      std::copy(pass.adstock_weights(static_cast<int>(c)), pass.adstock_weights(static_cast<int>(c)) + m.L,
                adstock + c * static_cast<size_t>(m.L));
  std::fill(contrib, contrib + T * C, 0.0);
  if (baseline) std::fill(baseline, baseline + T, 0.0);
  std::vector<double> media(C * T), ref_term(C);
  for (size_t g = 0; g < G; ++g) {
    // The media terms [c * T + t] of geo g, and its mean.
    pass.geo(static_cast<int>(g), media.data());
    for (size_t c = 0; c < C; ++c) {
      const double ref = resp.reference(static_cast<int>(c));
      ref_term[c] = ref > 0 ? steady_term(sat, resp.curve(i, static_cast<int>(g), static_cast<int>(c)),
                                          ref * resp.share(static_cast<int>(g), static_cast<int>(c)),
                                          static_cast<double*>(nullptr))
                            : 0.0;
    }
    for (size_t t = 0; t < T; ++t) {
      const double mu = pass.mu()[t];
      double all_ref = mu;
      for (size_t c = 0; c < C; ++c) {
        const double delta = media[c * T + t] - ref_term[c];
        all_ref -= delta;
        contrib[t * C + c] += os * (mult ? std::exp(mu) - std::exp(mu - delta) : delta);
      }
      if (baseline) baseline[t] += os * (mult ? std::exp(all_ref) : all_ref);
    }
  }
}

}  // namespace herd
