#pragma once
// Device-safe scalar math used by the model and samplers. Overloads for float and double
// resolve to the CUDA intrinsics in device code and to <cmath> on the host.
#include <cmath>
#include <limits>

#include "herd/core/hd.hpp"

namespace herd::math {

template <class Real>
HERD_HD_INLINE Real inf() { return std::numeric_limits<Real>::infinity(); }

template <class Real>
HERD_HD_INLINE Real neg_inf() { return -std::numeric_limits<Real>::infinity(); }

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
