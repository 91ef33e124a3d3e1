#pragma once
// ModelView: everything log_density_grad needs about one model, as pointers and sizes.
// Trivially copyable so kernels take it by value; the owning ModelData lives on the host
// (and, for CUDA, mirrors its arrays on the device).
#include <type_traits>

#include "herd/model/distribution.hpp"
#include "herd/model/spec.hpp"

namespace herd {

/// How channel c's effect coordinate is read (DESIGN.md §3, pooling).
enum class EffectKind : int { kUnpooled = 0, kCentered = 1, kNoncentered = 2 };

/// Support of one unconstrained coordinate, in the model's precision.
template <class Real>
struct SupportView {
  SupportKind kind;
  Real lo, hi;
};

/// One calibration term, already in scaled units.
template <class Real>
struct LiftView {
  int channel;
  Real spend_before, spend_after;  // scaled media per week (steady state)
  Real lift, sd;                   // scaled outcome per week
};

template <class Real>
struct ModelView {
  // Sizes. S = 2 * harmonics season terms, L = adstock taps (1 without adstock).
  int T, G, C, K, S, L, n_groups, n_lift, dim;

  // Structure.
  AdstockType adstock;
  bool normalize;
  SaturationType saturation;
  LikelihoodType likelihood;
  bool positive;  // effects on the log scale: beta = exp(...)
  bool panel;     // geo-level effects beta[g,c] around beta_c

  // Data (scaled). Time is contiguous in every array.
  const Real* x;         // [G][C][T] media
  const Real* y;         // [G][T] outcome; log(outcome) for the lognormal likelihood
  const Real* z;         // [G][K][T] controls
  const Real* season;    // [S][T] Fourier basis: sin1, cos1, sin2, ...
  Real y_log_jacobian;   // sum of -log y over observations for lognormal, else 0
  const int* effect_kind;  // [C] EffectKind
  const int* group;        // [C] group index, -1 when ungrouped
  const Real* multiplier;  // [C] pooling multiplier s_c
  const LiftView<Real>* lift;  // [n_lift]
  Real lift_level;             // lognormal: the average scaled outcome, where lifts are taken
  // [C] an extra prior factor on a pooled channel's effect (beta[ch] set in the config);
  // Family::kNone for all others.
  const PriorView<Real>* effect_prior;

  // Parameter layout: offsets into theta, -1 where a block is absent.
  int o_intercept;  // G
  int o_trend;      // 1
  int o_season;     // S
  int o_control;    // K
  int o_effect;     // C: beta (unpooled), beta or log beta (centered), z (noncentered)
  int o_beta_mu;    // n_groups
  int o_beta_sigma; // n_groups
  int o_tau;        // C   (panel)
  int o_geo_z;      // G*C (panel), [g * C + c]
  int o_decay;      // C
  int o_peak;       // C   (delayed adstock)
  int o_sat1;       // C   hill kappa | logistic lambda
  int o_sat2;       // C   hill slope
  int o_sigma;      // 1
  int o_nu;         // 1   (student_t)

  const SupportView<Real>* support;  // [dim]
  const PriorView<Real>* prior;      // [dim]; Family::kNone where a hierarchy supplies the density
};

static_assert(std::is_trivially_copyable_v<ModelView<double>>);
static_assert(std::is_trivially_copyable_v<ModelView<float>>);

/// Calls f(pointer, length) for every array a ModelView points at, in one fixed order: the
/// one list that packing a model into its arena and rebasing its view onto a copy both use.
template <class Real, class F>
void for_each_array(ModelView<Real>& m, F&& f) {
  const auto n = [](long long a) { return static_cast<size_t>(a); };
  f(m.x, n(1LL * m.G * m.C * m.T));
  f(m.y, n(1LL * m.G * m.T));
  f(m.z, n(1LL * m.G * m.K * m.T));
  f(m.season, n(1LL * m.S * m.T));
  f(m.effect_kind, n(m.C));
  f(m.group, n(m.C));
  f(m.multiplier, n(m.C));
  f(m.lift, n(m.n_lift));
  f(m.effect_prior, n(m.C));
  f(m.support, n(m.dim));
  f(m.prior, n(m.dim));
}

/// Scratch (in Reals) that log_density_grad needs for this model; callers own it, so the
/// evaluation itself never allocates.
template <class Real>
HERD_HD_INLINE int scratch_size(const ModelView<Real>& m) {
  return 2 * m.dim + m.T + 3 * m.C * m.L + 7 * m.C * m.T + 5 * m.C;
}

}  // namespace herd
