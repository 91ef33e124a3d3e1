#pragma once
// Device-safe scalar math used by the model and samplers. Overloads for float and double
// resolve to the CUDA intrinsics in device code and to <cmath> on the host.
#include <cmath>

#include "herd/core/hd.hpp"

namespace herd::math {

// HUGE_VAL rather than numeric_limits<>::infinity(): the latter is a host-only constexpr
// function that device code may not call.
template <class Real>
HERD_HD_INLINE Real inf() { return static_cast<Real>(HUGE_VAL); }

template <class Real>
HERD_HD_INLINE Real neg_inf() { return -static_cast<Real>(HUGE_VAL); }

template <class Real>
HERD_HD_INLINE Real log_sqrt_2pi() { return Real(0.91893853320467274178); }

template <class Real>
HERD_HD_INLINE Real ln2() { return Real(0.69314718055994530942); }

template <class Real>
HERD_HD_INLINE Real square(Real x) { return x * x; }

template <class Real>
HERD_HD_INLINE bool is_finite(Real x) {
  return x == x && x != inf<Real>() && x != neg_inf<Real>();
}

/// 1 / (1 + exp(-x)) without overflow for large |x|.
template <class Real>
HERD_HD_INLINE Real inv_logit(Real x) {
  using std::exp;
  if (x >= Real(0)) return Real(1) / (Real(1) + exp(-x));
  const Real e = exp(x);
  return e / (Real(1) + e);
}

/// log(1 + exp(x)) without overflow; the log-Jacobian of the logit transform is built on it.
template <class Real>
HERD_HD_INLINE Real log1p_exp(Real x) {
  using std::exp;
  using std::log1p;
  if (x > Real(0)) return x + log1p(exp(-x));
  return log1p(exp(x));
}

}  // namespace herd::math

namespace herd::math {

/// log Gamma(x) for x > 0 (host: <cmath>; device: CUDA's lgamma/lgammaf).
HERD_HD_INLINE double lgamma(double x) { return ::lgamma(x); }
HERD_HD_INLINE float lgamma(float x) { return ::lgammaf(x); }

/// digamma(x) for x > 0: recurrence up to 6, then the asymptotic series (error < 1e-13).
template <class Real>
HERD_HD Real digamma(Real x) {
  using std::log;
  Real acc = Real(0);
  while (x < Real(6)) {
    acc -= Real(1) / x;
    x += Real(1);
  }
  const Real r = Real(1) / x, r2 = r * r;
  // Bernoulli terms: 1/12, 1/120, 1/252, 1/240, 1/132
  const Real series =
      r2 * (Real(1.0 / 12) - r2 * (Real(1.0 / 120) - r2 * (Real(1.0 / 252) - r2 * (Real(1.0 / 240) - r2 * Real(1.0 / 132)))));
  return acc + log(x) - Real(0.5) * r - series;
}

}  // namespace herd::math
