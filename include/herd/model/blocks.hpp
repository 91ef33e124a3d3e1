#pragma once
// The MMM building blocks as small HERD_HD functions: parameter transforms, adstock
// weights, saturation curves. Each returns its value and the partial derivatives the
// adjoint pass needs, so log_density_grad composes them without storing a tape.
#include <cmath>

#include "herd/core/hd.hpp"
#include "herd/core/math.hpp"
#include "herd/model/model_view.hpp"

namespace herd {

/// Unconstrained u -> constrained value, its log-Jacobian, and the two derivatives the
/// chain rule needs: dvalue/du and dlogJ/du.
template <class Real>
struct Constrained {
  Real value, log_jac, dvalue_du, dlogjac_du;
};

template <class Real>
HERD_HD_INLINE Constrained<Real> constrain(const SupportView<Real>& s, Real u) {
  using std::exp;
  switch (s.kind) {
    case SupportKind::kPositive: {
      const Real v = exp(u);
      return {v, u, v, Real(1)};
    }
    case SupportKind::kInterval: {
      const Real p = math::inv_logit(u);
      const Real w = s.hi - s.lo;
      // log p + log(1-p) written with log1p_exp so it stays finite for |u| large.
      const Real lj = std::log(w) - math::log1p_exp(-u) - math::log1p_exp(u);
      return {s.lo + w * p, lj, w * p * (Real(1) - p), Real(1) - Real(2) * p};
    }
    case SupportKind::kReal:
    default: return {u, Real(0), Real(1), Real(0)};
  }
}

/// Inverse of constrain (host side: initial values, tests).
template <class Real>
inline Real unconstrain(const SupportView<Real>& s, Real v) {
  switch (s.kind) {
    case SupportKind::kPositive: return std::log(v);
    case SupportKind::kInterval: {
      const Real p = (v - s.lo) / (s.hi - s.lo);
      return std::log(p) - std::log1p(-p);
    }
    case SupportKind::kReal:
    default: return v;
  }
}

/// Adstock lag weights w_l (l = 0..L-1) and their derivatives in decay and peak, plus the
/// divisor W (the full sum when normalizing, else 1) and its derivatives. Geometric:
/// w_l = d^l; delayed: w_l = d^((l - peak)^2).
template <class Real>
struct AdstockWeights {
  Real W, dW_dd, dW_dp;
};

template <class Real>
HERD_HD_INLINE AdstockWeights<Real> adstock_weights(AdstockType type, bool normalize, int L, Real decay,
                                                    Real peak, Real* w, Real* dw_dd, Real* dw_dp) {
  using std::exp;
  using std::log;
  Real sum = 0, dsum_d = 0, dsum_p = 0;
  if (type == AdstockType::kNone) {
    w[0] = Real(1);
    dw_dd[0] = dw_dp[0] = Real(0);
    return {Real(1), Real(0), Real(0)};
  }
  if (type == AdstockType::kGeometric) {
    // d/dd d^l = l d^(l-1), carried as a running power so d -> 0 never divides by d.
    Real pw = Real(1), pw_prev = Real(0);
    for (int l = 0; l < L; ++l) {
      w[l] = pw;
      dw_dd[l] = Real(l) * pw_prev;
      dw_dp[l] = Real(0);
      sum += w[l];
      dsum_d += dw_dd[l];
      pw_prev = pw;
      pw *= decay;
    }
  } else {  // delayed
    const Real ld = log(decay);
    for (int l = 0; l < L; ++l) {
      const Real e = (Real(l) - peak) * (Real(l) - peak);
      w[l] = exp(e * ld);
      dw_dd[l] = e * w[l] / decay;
      dw_dp[l] = w[l] * ld * Real(-2) * (Real(l) - peak);
      sum += w[l];
      dsum_d += dw_dd[l];
      dsum_p += dw_dp[l];
    }
  }
  if (!normalize) return {Real(1), Real(0), Real(0)};
  return {sum, dsum_d, dsum_p};
}

/// Sum of the lag weights over the taps: the steady-state gain of an unnormalized adstock
/// (a constant weekly spend x settles at x * gain), with its derivatives.
template <class Real>
HERD_HD_INLINE AdstockWeights<Real> adstock_gain(int L, const Real* w, const Real* dw_dd, const Real* dw_dp) {
  AdstockWeights<Real> g{Real(0), Real(0), Real(0)};
  for (int l = 0; l < L; ++l) {
    g.W += w[l];
    g.dW_dd += dw_dd[l];
    g.dW_dp += dw_dp[l];
  }
  return g;
}

/// Saturation S(a) with dS/da and the derivatives in its (up to two) parameters.
template <class Real>
struct Saturated {
  Real value, d_a, d_p1, d_p2;
};

/// linear: a; log: log a (a > 0, else -inf); hill(kappa=p1, slope=p2): a^s / (a^s + k^s);
/// logistic(lambda=p1): (1 - e^(-lambda a)) / (1 + e^(-lambda a)) = tanh(lambda a / 2).
/// log_p1 = log(p1), hoisted by callers that evaluate one channel over many weeks.
template <class Real>
HERD_HD_INLINE Saturated<Real> saturate(SaturationType type, Real a, Real p1, Real p2, Real log_p1) {
  using std::log;
  using std::tanh;
  switch (type) {
    case SaturationType::kLog:
      if (!(a > Real(0))) return {math::neg_inf<Real>(), Real(0), Real(0), Real(0)};
      return {log(a), Real(1) / a, Real(0), Real(0)};
    case SaturationType::kHill: {
      if (!(a > Real(0))) return {Real(0), Real(0), Real(0), Real(0)};
      // In log space: S = inv_logit(s (log a - log k)), stable for tiny and huge ratios.
      const Real q = log(a) - log_p1;
      const Real s = math::inv_logit(p2 * q);
      const Real ds = s * (Real(1) - s);
      return {s, ds * p2 / a, -ds * p2 / p1, ds * q};
    }
    case SaturationType::kLogistic: {
      const Real s = tanh(Real(0.5) * p1 * a);
      const Real h = Real(0.5) * (Real(1) - s * s);
      return {s, h * p1, h * a, Real(0)};
    }
    case SaturationType::kLinear:
    default: return {a, Real(1), Real(0), Real(0)};
  }
}

template <class Real>
HERD_HD_INLINE Saturated<Real> saturate(SaturationType type, Real a, Real p1, Real p2) {
  using std::log;
  return saturate(type, a, p1, p2, type == SaturationType::kHill ? log(p1) : Real(0));
}

}  // namespace herd
