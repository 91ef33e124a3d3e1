#pragma once
// The MMM log density and its gradient, written once for host and device (DESIGN.md §2.1).
// Reverse mode by hand: a forward pass per geo caches adstocked media and its partials,
// the likelihood turns mu into d lp / d mu, and a backward pass pushes that into every
// parameter. No heap, no exceptions: a domain problem makes the result -inf.
#include <cmath>

#include "herd/core/hd.hpp"
#include "herd/core/lanes.hpp"
#include "herd/core/math.hpp"
#include "herd/model/blocks.hpp"
#include "herd/model/model_view.hpp"

namespace herd {
namespace detail {

/// Views into the caller's scratch; the layout matches scratch_size().
template <class Real>
struct Workspace {
  Real* c;    // [dim] constrained parameter values
  Real* gc;   // [dim] d lp / d constrained
  Real* mu;   // [T]   mean of one geo, then d lp / d mu
  Real* w;    // [C*L] adstock weights
  Real* dwd;  // [C*L]
  Real* dwp;  // [C*L]
  Real* a;    // [C*T] adstocked media of one geo
  Real* dad;  // [C*T] d a / d decay
  Real* dap;  // [C*T] d a / d peak
  Real* sv;   // [C*T] S(a), then its derivatives in a, p1, p2 (cached for the backward pass)
  Real* sda;  // [C*T]
  Real* sd1;  // [C*T]
  Real* sd2;  // [C*T]
  Real* lb;   // [C]   channel effect on the linear (free) or log (positive) scale
  Real* glb;  // [C]
  Real* W;    // [C]   adstock divisor and its derivatives
  Real* dWd;  // [C]
  Real* dWp;  // [C]
};

template <class Real>
HERD_HD_INLINE Workspace<Real> carve(const ModelView<Real>& m, Real* s) {
  Workspace<Real> ws;
  ws.c = s;
  ws.gc = ws.c + m.dim;
  ws.mu = ws.gc + m.dim;
  ws.w = ws.mu + m.T;
  ws.dwd = ws.w + m.C * m.L;
  ws.dwp = ws.dwd + m.C * m.L;
  ws.a = ws.dwp + m.C * m.L;
  ws.dad = ws.a + m.C * m.T;
  ws.dap = ws.dad + m.C * m.T;
  ws.sv = ws.dap + m.C * m.T;
  ws.sda = ws.sv + m.C * m.T;
  ws.sd1 = ws.sda + m.C * m.T;
  ws.sd2 = ws.sd1 + m.C * m.T;
  ws.lb = ws.sd2 + m.C * m.T;
  ws.glb = ws.lb + m.C;
  ws.W = ws.glb + m.C;
  ws.dWd = ws.W + m.C;
  ws.dWp = ws.dWd + m.C;
  return ws;
}

template <class Real>
HERD_HD_INLINE Real param(const Workspace<Real>& ws, int offset, int i, Real fallback) {
  return offset >= 0 ? ws.c[offset + i] : fallback;
}

template <class Real>
HERD_HD_INLINE void add_grad(const Workspace<Real>& ws, int offset, int i, Real g) {
  if (offset >= 0) ws.gc[offset + i] += g;
}

/// Constrains theta into ws.c, adds log-Jacobians and priors; ws.gc gets the prior gradients.
template <class Real>
HERD_HD Real transform_and_priors(const ModelView<Real>& m, const Real* theta, const Workspace<Real>& ws) {
  Real lp = 0;
  for (int i = 0; i < m.dim; ++i) {
    const Constrained<Real> k = constrain(m.support[i], theta[i]);
    ws.c[i] = k.value;
    ws.gc[i] = Real(0);
    lp += k.log_jac + prior_lpdf(m.prior[i], k.value, &ws.gc[i]);
  }
  return lp;
}

/// Channel effects on their base scale (lb) and the density of centered hierarchies.
template <class Real>
HERD_HD Real effects_forward(const ModelView<Real>& m, const Workspace<Real>& ws) {
  using std::exp;
  using std::log;
  Real lp = 0;
  for (int ch = 0; ch < m.C; ++ch) {
    const Real v = ws.c[m.o_effect + ch];
    const int g = m.group[ch];
    ws.glb[ch] = Real(0);
    switch (static_cast<EffectKind>(m.effect_kind[ch])) {
      case EffectKind::kUnpooled: ws.lb[ch] = m.positive ? log(v) : v; break;
      case EffectKind::kCentered: {
        const Real mu = ws.c[m.o_beta_mu + g];
        const Real sd = ws.c[m.o_beta_sigma + g] * m.multiplier[ch];
        const Real dz = (v - mu) / sd;
        lp += -math::log_sqrt_2pi<Real>() - log(sd) - Real(0.5) * dz * dz;
        ws.gc[m.o_effect + ch] += -dz / sd;
        ws.gc[m.o_beta_mu + g] += dz / sd;
        ws.gc[m.o_beta_sigma + g] += (dz * dz - Real(1)) / sd * m.multiplier[ch];
        ws.lb[ch] = v;
        break;
      }
      case EffectKind::kNoncentered:
        ws.lb[ch] = ws.c[m.o_beta_mu + g] + ws.c[m.o_beta_sigma + g] * m.multiplier[ch] * v;
        break;
    }
    if (m.effect_prior[ch].family != Family::kNone) {
      // A pooled channel's own prior multiplies the hierarchy's density: a soft constraint
      // on the effect itself, so it acts on beta, not on its log.
      const Real beta = m.positive ? exp(ws.lb[ch]) : ws.lb[ch];
      Real g_beta = 0;
      lp += prior_lpdf(m.effect_prior[ch], beta, &g_beta);
      ws.glb[ch] += m.positive ? g_beta * beta : g_beta;
    }
  }
  return lp;
}

/// Pushes d lp / d lb back into the effect coordinates and the group parameters.
template <class Real>
HERD_HD void effects_backward(const ModelView<Real>& m, const Workspace<Real>& ws) {
  for (int ch = 0; ch < m.C; ++ch) {
    const Real v = ws.c[m.o_effect + ch];
    const Real g_lb = ws.glb[ch];
    const int g = m.group[ch];
    switch (static_cast<EffectKind>(m.effect_kind[ch])) {
      case EffectKind::kUnpooled: ws.gc[m.o_effect + ch] += m.positive ? g_lb / v : g_lb; break;
      case EffectKind::kCentered: ws.gc[m.o_effect + ch] += g_lb; break;
      case EffectKind::kNoncentered: {
        const Real sg = ws.c[m.o_beta_sigma + g];
        ws.gc[m.o_beta_mu + g] += g_lb;
        ws.gc[m.o_beta_sigma + g] += g_lb * m.multiplier[ch] * v;
        ws.gc[m.o_effect + ch] += g_lb * sg * m.multiplier[ch];
        break;
      }
    }
  }
}

template <class Real>
HERD_HD void adstock_setup(const ModelView<Real>& m, const Workspace<Real>& ws) {
  for (int ch = 0; ch < m.C; ++ch) {
    const Real decay = param(ws, m.o_decay, ch, Real(0));
    const Real peak = param(ws, m.o_peak, ch, Real(0));
    const AdstockWeights<Real> aw = adstock_weights(m.adstock, m.normalize, m.L, decay, peak, ws.w + ch * m.L,
                                                    ws.dwd + ch * m.L, ws.dwp + ch * m.L);
    ws.W[ch] = aw.W;
    ws.dWd[ch] = aw.dW_dd;
    ws.dWp[ch] = aw.dW_dp;
  }
}

/// Effect of channel ch in geo g (user scale after exp for positive effects).
template <class Real>
HERD_HD_INLINE Real geo_effect(const ModelView<Real>& m, const Workspace<Real>& ws, int g, int ch) {
  using std::exp;
  Real eta = ws.lb[ch];
  if (m.panel) eta += ws.c[m.o_tau + ch] * ws.c[m.o_geo_z + g * m.C + ch];
  return m.positive ? exp(eta) : eta;
}

/// No adstock and a linear media term (also the log-log model, whose log(spend) is taken once
/// in the data): the term is eff * x, with nothing to cache for the backward pass.
template <class Real>
HERD_HD_INLINE bool plain_media(const ModelView<Real>& m) {
  return m.adstock == AdstockType::kNone && m.saturation == SaturationType::kLinear;
}

/// mu for geo g into ws.mu; caches adstocked media (and its partials) in ws.a/dad/dap.
/// media_out (optional) receives each channel's term eff * S(a) as [C][T].
template <class Real, class Lanes = SerialLanes>
HERD_HD void forward_geo(const ModelView<Real>& m, const Workspace<Real>& ws, int g, Real* media_out,
                         const Lanes& lanes = Lanes()) {
  // Every loop over weeks is strided by lane: week t belongs to lane t % count().
  const int T = m.T, L = m.L, t0 = lanes.lane(), dt = lanes.count();
  Real* mu = ws.mu;
  const Real alpha = ws.c[m.o_intercept + g];
  if (m.o_trend >= 0) {
    const Real trend = ws.c[m.o_trend];
    for (int t = t0; t < T; t += dt) mu[t] = alpha + trend * Real(t + 1) / Real(T);
  } else {
    for (int t = t0; t < T; t += dt) mu[t] = alpha;
  }
  for (int s = 0; s < m.S; ++s) {
    const Real coef = ws.c[m.o_season + s];
    const Real* basis = m.season + s * T;
    for (int t = t0; t < T; t += dt) mu[t] += coef * basis[t];
  }
  for (int k = 0; k < m.K; ++k) {
    const Real coef = ws.c[m.o_control + k];
    const Real* zk = m.z + (g * m.K + k) * T;
    for (int t = t0; t < T; t += dt) mu[t] += coef * zk[t];
  }
  const bool plain = plain_media(m);
  for (int ch = 0; ch < m.C; ++ch) {
    const Real* x = m.x + (g * m.C + ch) * T;
    if (plain) {
      // The general path's a = (1 * x) / 1 and S(a) = a, without the caches.
      const Real eff = geo_effect(m, ws, g, ch);
      for (int t = t0; t < T; t += dt) mu[t] += eff * x[t];
      if (media_out)
        for (int t = t0; t < T; t += dt) media_out[ch * T + t] = eff * x[t];
      continue;
    }
    const Real* w = ws.w + ch * L;
    const Real* dwd = ws.dwd + ch * L;
    const Real* dwp = ws.dwp + ch * L;
    Real* a = ws.a + ch * T;
    Real* dad = ws.dad + ch * T;
    Real* dap = ws.dap + ch * T;
    const Real W = ws.W[ch], dWd = ws.dWd[ch], dWp = ws.dWp[ch];
    const Real eff = geo_effect(m, ws, g, ch);
    const Real p1 = param(ws, m.o_sat1, ch, Real(0));
    const Real p2 = param(ws, m.o_sat2, ch, Real(0));
    const Real log_p1 = m.saturation == SaturationType::kHill ? std::log(p1) : Real(0);
    Real* sv = ws.sv + ch * T;
    Real* sda = ws.sda + ch * T;
    Real* sd1 = ws.sd1 + ch * T;
    Real* sd2 = ws.sd2 + ch * T;
    const bool delayed = m.adstock == AdstockType::kDelayed;
    for (int t = t0; t < T; t += dt) {
      // Weeks before the data count as zero spend, so the lag sum stops at t.
      Real raw = 0, rd = 0, rp = 0;
      const int lmax = t < L - 1 ? t : L - 1;
      for (int l = 0; l <= lmax; ++l) {
        const Real xv = x[t - l];
        raw += w[l] * xv;
        rd += dwd[l] * xv;
        if (delayed) rp += dwp[l] * xv;
      }
      const Real av = raw / W;
      a[t] = av;
      dad[t] = (rd - av * dWd) / W;
      dap[t] = delayed ? (rp - av * dWp) / W : Real(0);
      const Saturated<Real> st = saturate(m.saturation, av, p1, p2, log_p1);
      sv[t] = st.value;
      sda[t] = st.d_a;
      sd1[t] = st.d_p1;
      sd2[t] = st.d_p2;
      const Real term = eff * st.value;
      mu[t] += term;
      if (media_out) media_out[ch * T + t] = term;
    }
  }
}

/// Likelihood of geo g given ws.mu; overwrites ws.mu with d lp / d mu. Returns the log
/// likelihood without the terms that are the same for every observation (added once).
template <class Real, class Lanes = SerialLanes>
HERD_HD Real likelihood_geo(const ModelView<Real>& m, const Workspace<Real>& ws, int g, Real* g_sigma, Real* g_nu,
                            Real* pointwise, const Lanes& lanes = Lanes()) {
  const int t0 = lanes.lane(), dt = lanes.count();
  using std::log;
  const Real* y = m.y + g * m.T;
  const Real sigma = ws.c[m.o_sigma];
  const Real s2 = sigma * sigma;
  // Serial: accumulate onto the caller's sums in order (the bits the CPU always had); lanes:
  // partial sums per lane, reduced once.
  Real lp = 0, gs = Lanes::kSerial ? *g_sigma : Real(0), gn = Lanes::kSerial ? *g_nu : Real(0);
  if (m.likelihood == LikelihoodType::kStudentT) {
    const Real nu = ws.c[m.o_nu];
    for (int t = t0; t < m.T; t += dt) {
      const Real r = y[t] - ws.mu[t];
      const Real q = Real(1) + r * r / (nu * s2);
      const Real lq = log(q);
      const Real term = -Real(0.5) * (nu + Real(1)) * lq;
      lp += term;
      if (pointwise) pointwise[t] = term;
      ws.mu[t] = (nu + Real(1)) * r / (nu * s2 * q);
      gs += (nu + Real(1)) * r * r / (nu * s2 * sigma * q);
      gn += Real(-0.5) * lq + (nu + Real(1)) * r * r / (Real(2) * nu * nu * s2 * q);
    }
  } else {
    for (int t = t0; t < m.T; t += dt) {
      const Real r = y[t] - ws.mu[t];
      const Real term = Real(-0.5) * r * r / s2;
      lp += term;
      if (pointwise) pointwise[t] = term;
      ws.mu[t] = r / s2;
      gs += r * r / (s2 * sigma);
    }
  }
  if constexpr (Lanes::kSerial) {
    *g_sigma = gs;
    *g_nu = gn;
    return lp;
  } else {
    *g_sigma += lanes.sum(gs);
    *g_nu += lanes.sum(gn);
    return lanes.sum(lp);
  }
}

/// Terms of the likelihood shared by every observation (normalizing constants), per observation,
/// with their derivatives in sigma and nu.
template <class Real>
HERD_HD Real likelihood_constant(const ModelView<Real>& m, const Workspace<Real>& ws, Real* dsigma, Real* dnu) {
  using std::log;
  const Real sigma = ws.c[m.o_sigma];
  *dsigma = Real(-1) / sigma;
  *dnu = Real(0);
  Real c = -log(sigma);
  if (m.likelihood == LikelihoodType::kStudentT) {
    const Real nu = ws.c[m.o_nu];
    const Real h = Real(0.5) * (nu + Real(1));
    c += math::lgamma(h) - math::lgamma(Real(0.5) * nu) - Real(0.5) * log(nu * Real(3.14159265358979323846));
    *dnu = Real(0.5) * (math::digamma(h) - math::digamma(Real(0.5) * nu) - Real(1) / nu);
  } else {
    c -= math::log_sqrt_2pi<Real>();
  }
  return c;
}

/// Backward pass for geo g: ws.mu holds d lp / d mu. Sums over weeks are reduced over lanes;
/// the leader adds them into ws.gc and ws.glb.
template <class Real, class Lanes = SerialLanes>
HERD_HD void backward_geo(const ModelView<Real>& m, const Workspace<Real>& ws, int g, const Lanes& lanes = Lanes()) {
  const int T = m.T, t0 = lanes.lane(), dt = lanes.count();
  const bool lead = lanes.leader();
  const Real* gmu = ws.mu;
  Real g_alpha = 0;
  for (int t = t0; t < T; t += dt) g_alpha += gmu[t];
  g_alpha = lanes.sum(g_alpha);
  if (lead) ws.gc[m.o_intercept + g] += g_alpha;
  if (m.o_trend >= 0) {
    Real g_trend = 0;
    for (int t = t0; t < T; t += dt) g_trend += gmu[t] * Real(t + 1) / Real(T);
    g_trend = lanes.sum(g_trend);
    if (lead) ws.gc[m.o_trend] += g_trend;
  }
  for (int s = 0; s < m.S; ++s) {
    const Real* basis = m.season + s * T;
    Real acc = 0;
    for (int t = t0; t < T; t += dt) acc += gmu[t] * basis[t];
    acc = lanes.sum(acc);
    if (lead) ws.gc[m.o_season + s] += acc;
  }
  for (int k = 0; k < m.K; ++k) {
    const Real* zk = m.z + (g * m.K + k) * T;
    Real acc = 0;
    for (int t = t0; t < T; t += dt) acc += gmu[t] * zk[t];
    acc = lanes.sum(acc);
    if (lead) ws.gc[m.o_control + k] += acc;
  }
  const bool plain = plain_media(m);
  if (plain) {
    Real* acc = ws.sv;
    const Real* x = m.x + g * m.C * T;
    if constexpr (Lanes::kSerial) {
      // Weeks outer, channels inner: each channel's sum still adds its weeks in order (the same
      // bits as a loop per channel), but the C sums interleave instead of each waiting on its
      // last addition. ws.sv is free in the plain path.
      for (int ch = 0; ch < m.C; ++ch) acc[ch] = Real(0);
      for (int t = 0; t < T; ++t) {
        const Real gt = gmu[t];
        for (int ch = 0; ch < m.C; ++ch) acc[ch] += gt * x[ch * T + t];
      }
    } else {
      for (int ch = 0; ch < m.C; ++ch) {
        Real a = 0;
        for (int t = t0; t < T; t += dt) a += gmu[t] * x[ch * T + t];
        a = lanes.sum(a);
        if (lead) acc[ch] = a;
      }
      lanes.sync();
    }
  }
  for (int ch = 0; ch < m.C; ++ch) {
    const Real eff = geo_effect(m, ws, g, ch);
    Real g_eff = 0;
    if (plain) {
      g_eff = ws.sv[ch];
    } else {
      const Real* dad = ws.dad + ch * T;
      const Real* dap = ws.dap + ch * T;
      const Real* sv = ws.sv + ch * T;
      const Real* sda = ws.sda + ch * T;
      const Real* sd1 = ws.sd1 + ch * T;
      const Real* sd2 = ws.sd2 + ch * T;
      Real g_p1 = 0, g_p2 = 0, g_decay = 0, g_peak = 0;
      for (int t = t0; t < T; t += dt) {
        g_eff += gmu[t] * sv[t];
        const Real gs = gmu[t] * eff;
        g_p1 += gs * sd1[t];
        g_p2 += gs * sd2[t];
        const Real ga = gs * sda[t];
        g_decay += ga * dad[t];
        g_peak += ga * dap[t];
      }
      g_eff = lanes.sum(g_eff);
      g_p1 = lanes.sum(g_p1);
      g_p2 = lanes.sum(g_p2);
      g_decay = lanes.sum(g_decay);
      g_peak = lanes.sum(g_peak);
      if (lead) {
        add_grad(ws, m.o_sat1, ch, g_p1);
        add_grad(ws, m.o_sat2, ch, g_p2);
        add_grad(ws, m.o_decay, ch, g_decay);
        add_grad(ws, m.o_peak, ch, g_peak);
      }
    }
    if (!lead) continue;
    const Real g_eta = m.positive ? g_eff * eff : g_eff;
    ws.glb[ch] += g_eta;
    if (m.panel) {
      const int iz = m.o_geo_z + g * m.C + ch;
      ws.gc[m.o_tau + ch] += g_eta * ws.c[iz];
      ws.gc[iz] += g_eta * ws.c[m.o_tau + ch];
    }
  }
}

/// Lift-test calibration terms: lift ~ Normal(beta_c (S(ss(x1)) - S(ss(x0))), sd), with ss
/// the steady-state adstock of a constant weekly spend.
template <class Real>
HERD_HD Real lift_terms(const ModelView<Real>& m, const Workspace<Real>& ws) {
  using std::exp;
  using std::log;
  Real lp = 0;
  for (int j = 0; j < m.n_lift; ++j) {
    const LiftView<Real> lt = m.lift[j];
    const int ch = lt.channel;
    const Real beta = m.positive ? exp(ws.lb[ch]) : ws.lb[ch];
    AdstockWeights<Real> gain{Real(1), Real(0), Real(0)};
    if (!m.normalize)
      gain = adstock_gain(m.L, ws.w + ch * m.L, ws.dwd + ch * m.L, ws.dwp + ch * m.L);
    const Real p1 = param(ws, m.o_sat1, ch, Real(0));
    const Real p2 = param(ws, m.o_sat2, ch, Real(0));
    const Saturated<Real> s1 = saturate(m.saturation, lt.spend_after * gain.W, p1, p2);
    const Saturated<Real> s0 = saturate(m.saturation, lt.spend_before * gain.W, p1, p2);
    // The channel's term moves mu by delta; on the lognormal (log) scale that multiplies the
    // outcome, so the lift is taken at the average week: level * (exp(delta) - 1).
    const Real delta = beta * (s1.value - s0.value);
    const bool multiplicative = m.likelihood == LikelihoodType::kLognormal;
    const Real grow = multiplicative ? m.lift_level * exp(delta) : Real(1);
    const Real pred = multiplicative ? grow - m.lift_level : delta;
    const Real r = (lt.lift - pred) / lt.sd;
    lp += -math::log_sqrt_2pi<Real>() - log(lt.sd) - Real(0.5) * r * r;
    const Real g_delta = r / lt.sd * grow;
    const Real g_beta = g_delta * (s1.value - s0.value);
    ws.glb[ch] += m.positive ? g_beta * beta : g_beta;
    const Real g1 = g_delta * beta, g0 = -g_delta * beta;
    add_grad(ws, m.o_sat1, ch, g1 * s1.d_p1 + g0 * s0.d_p1);
    add_grad(ws, m.o_sat2, ch, g1 * s1.d_p2 + g0 * s0.d_p2);
    const Real g_gain = g1 * s1.d_a * lt.spend_after + g0 * s0.d_a * lt.spend_before;
    add_grad(ws, m.o_decay, ch, g_gain * gain.dW_dd);
    add_grad(ws, m.o_peak, ch, g_gain * gain.dW_dp);
  }
  return lp;
}

}  // namespace detail

/// The model's forward pass at unconstrained theta, in the caller's scratch (scratch_size(m)
/// Reals): transforms, priors, channel effects and adstock weights when constructed, then the
/// mean of one geo at a time. The one forward sequence the gradient, the mean, the pointwise
/// log likelihood, the reported outputs and the analysis all run. m must outlive it.
template <class Real>
class ForwardPass {
 public:
  /// The per-parameter part; with several lanes only the leader runs it (and holds
  /// log_prior()), every lane waits for it.
  template <class Lanes = SerialLanes>
  HERD_HD ForwardPass(const ModelView<Real>& m, const Real* theta, Real* scratch, const Lanes& lanes = Lanes())
      : m_(&m), ws_(detail::carve(m, scratch)) {
    if (lanes.leader()) {
      lp_ = detail::transform_and_priors(m, theta, ws_);
      lp_ += detail::effects_forward(m, ws_);
      detail::adstock_setup(m, ws_);
    }
    lanes.sync();
  }
  /// Log prior density and Jacobians of the per-parameter part.
  HERD_HD Real log_prior() const { return lp_; }
  /// Geo g's mean into mu(); media (optional) receives each channel's term [c * T + t].
  template <class Lanes = SerialLanes>
  HERD_HD void geo(int g, Real* media = nullptr, const Lanes& lanes = Lanes()) const {
    detail::forward_geo(*m_, ws_, g, media, lanes);
  }
  /// The mean of the last geo() [T] (log scale for lognormal), in scaled units.
  HERD_HD const Real* mu() const { return ws_.mu; }
  /// Channel c's base effect (linear, or log scale for positive effects).
  HERD_HD Real base_effect(int c) const { return ws_.lb[c]; }
  /// Channel c's effect in geo g, on the user scale.
  HERD_HD Real effect(int g, int c) const { return detail::geo_effect(*m_, ws_, g, c); }
  /// Channel c's first and second saturation parameters (fallback where there is none).
  HERD_HD Real saturation1(int c, Real fallback) const { return detail::param(ws_, m_->o_sat1, c, fallback); }
  HERD_HD Real saturation2(int c, Real fallback) const { return detail::param(ws_, m_->o_sat2, c, fallback); }
  /// Channel c's adstock weights [L], and their sum's gain (what a unit of steady spend becomes).
  HERD_HD const Real* adstock_weights(int c) const { return ws_.w + c * m_->L; }
  HERD_HD Real adstock_gain(int c) const {
    return herd::adstock_gain(m_->L, ws_.w + c * m_->L, ws_.dwd + c * m_->L, ws_.dwp + c * m_->L).W;
  }
  /// The pass's intermediate arrays, for the gradient's backward pass.
  HERD_HD const detail::Workspace<Real>& workspace() const { return ws_; }

 private:
  const ModelView<Real>* m_;
  detail::Workspace<Real> ws_;
  Real lp_ = 0;
};

/// log p(theta | data) up to nothing (all normalizing constants of priors and likelihood
/// included), on the unconstrained scale with Jacobians; grad gets d/dtheta. scratch must
/// hold scratch_size(m) Reals. Returns -inf where the density is not finite.
template <class Real, class Lanes = SerialLanes>
HERD_HD Real log_density_grad(const ModelView<Real>& m, const Real* theta, Real* grad, Real* scratch,
                              const Lanes& lanes = Lanes()) {
  // Lanes: the leader runs the per-parameter parts (transforms, priors, hierarchies, lifts);
  // all lanes share the loops over weeks. theta may have been written by every lane.
  lanes.sync();
  const ForwardPass<Real> pass(m, theta, scratch, lanes);
  const detail::Workspace<Real>& ws = pass.workspace();
  Real lp = pass.log_prior();
  Real g_sigma = 0, g_nu = 0;
  for (int g = 0; g < m.G; ++g) {
    pass.geo(g, static_cast<Real*>(nullptr), lanes);
    lp += detail::likelihood_geo(m, ws, g, &g_sigma, &g_nu, static_cast<Real*>(nullptr), lanes);
    detail::backward_geo(m, ws, g, lanes);
  }
  if (lanes.leader()) {
    Real dsigma = 0, dnu = 0;
    const Real n_obs = Real(m.G) * Real(m.T);
    lp += n_obs * detail::likelihood_constant(m, ws, &dsigma, &dnu) + m.y_log_jacobian;
    ws.gc[m.o_sigma] += g_sigma + n_obs * dsigma;
    if (m.o_nu >= 0) ws.gc[m.o_nu] += g_nu + n_obs * dnu;
    lp += detail::lift_terms(m, ws);
    detail::effects_backward(m, ws);
  }
  lanes.sync();
  for (int i = lanes.lane(); i < m.dim; i += lanes.count()) {
    const Constrained<Real> k = constrain(m.support[i], theta[i]);
    grad[i] = ws.gc[i] * k.dvalue_du + k.dlogjac_du;
  }
  lp = lanes.broadcast(lp);
  return math::is_finite(lp) ? lp : math::neg_inf<Real>();
}

/// The mean of the likelihood, mu[g * T + t] (log scale for lognormal), and optionally each
/// channel's term media[(g * C + c) * T + t], all in scaled units, at unconstrained theta.
template <class Real>
HERD_HD void mean_function(const ModelView<Real>& m, const Real* theta, Real* mu, Real* media, Real* scratch) {
  const ForwardPass<Real> pass(m, theta, scratch);
  for (int g = 0; g < m.G; ++g) {
    pass.geo(g, media ? media + g * m.C * m.T : static_cast<Real*>(nullptr));
    for (int t = 0; t < m.T; ++t) mu[g * m.T + t] = pass.mu()[t];
  }
}

/// Pointwise log likelihood ll[g * T + t] (for LOO), every constant included.
template <class Real>
HERD_HD void log_likelihood_pointwise(const ModelView<Real>& m, const Real* theta, Real* ll, Real* scratch) {
  const ForwardPass<Real> pass(m, theta, scratch);
  const detail::Workspace<Real>& ws = pass.workspace();
  Real dsigma = 0, dnu = 0, g_sigma = 0, g_nu = 0;
  const Real c = detail::likelihood_constant(m, ws, &dsigma, &dnu);
  for (int g = 0; g < m.G; ++g) {
    pass.geo(g, static_cast<Real*>(nullptr));
    detail::likelihood_geo(m, ws, g, &g_sigma, &g_nu, ll + g * m.T);
    for (int t = 0; t < m.T; ++t) {
      ll[g * m.T + t] += c;
      // lognormal: density of y itself, so the -log y Jacobian belongs to each observation.
      if (m.likelihood == LikelihoodType::kLognormal) ll[g * m.T + t] -= m.y[g * m.T + t];
    }
  }
}

}  // namespace herd
