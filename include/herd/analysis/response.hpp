#pragma once
// Steady-state response of one channel: the media term a constant weekly spend settles at,
// written once for host and device like the log density it mirrors.
#include "herd/core/hd.hpp"
#include "herd/model/blocks.hpp"

namespace herd {

/// One draw's curve for one channel (in one geo): everything the media term needs.
template <class Real>
struct ChannelCurve {
  Real beta;       // effect on mu's scale (scaled outcome, or its log), exp already taken for positive effects
  Real gain;       // steady-state adstock gain: a constant spend x settles at gain * x (1 when normalized)
  Real inv_scale;  // 1 / the channel's media scale
  Real p1, p2;     // saturation parameters (hill kappa and slope, logistic lambda)
  Real log_p1;     // log p1 for hill, hoisted
};

/// The media term beta * S(gain * x / scale) of a constant weekly spend x (user units), with
/// d term / dx in *d_dx when given.
template <class Real>
HERD_HD_INLINE Real steady_term(SaturationType sat, const ChannelCurve<Real>& k, Real x, Real* d_dx) {
  const Real a = k.gain * x * k.inv_scale;
  const Saturated<Real> s = saturate(sat, a, k.p1, k.p2, k.log_p1);
  if (d_dx) *d_dx = k.beta * s.d_a * k.gain * k.inv_scale;
  return k.beta * s.value;
}

}  // namespace herd
