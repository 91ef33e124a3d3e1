#pragma once
// Static-length HMC with a Metropolis correction: the per-chain half of ChEES-HMC (Hoffman,
// Radul & Sountsov 2021). Every chain of a model takes the same number of leapfrog steps,
// which keeps GPU lanes in step; the cross-chain adaptation lives in engine/wave_chees.hpp.
#include <cmath>
#include <cstdint>

#include "herd/core/hd.hpp"
#include "herd/core/math.hpp"
#include "herd/hmc/nuts.hpp"
#include "herd/hmc/philox.hpp"

namespace herd {

/// Reals of workspace for hmc_step.
HERD_HD_INLINE int hmc_workspace_size(int dim) { return 4 * dim; }

/// What one HMC step reports. The proposal (q', p') is what ChEES adapts on, accepted or not.
template <class Real>
struct HmcStats {
  Real accept_prob;  // min(1, exp(H0 - H1)), 0 when the proposal is not finite
  bool divergent;    // energy error above max_delta_h or not finite
  bool accepted;
  Real energy;       // Hamiltonian at the returned state
};

/// One step of n_steps leapfrogs from (q, g, lp). Leaves the proposal's position and
/// momentum in prop_q / prop_p (for ChEES), and the new state in q, g, lp. With several
/// lanes each lane owns its coordinates; every lane returns the same statistics.
template <class Real, class Target, class Lanes = SerialLanes>
HERD_HD HmcStats<Real> hmc_step(const Target& target, int n, Real eps, int n_steps, const Real* inv_metric, Real* q,
                                Real* g, Real* lp, Philox& rng, Real max_delta_h, Real* work, Real* prop_q,
                                Real* prop_p, Real* target_scratch, const Lanes& L = Lanes()) {
  using namespace nuts_detail;
  using std::exp;
  PhasePoint<Real> z{work, work + n, work + 2 * n, *lp};
  copy(z.q, q, n, L);
  copy(z.g, g, n, L);
  draw_momentum(z.p, inv_metric, n, rng, L);
  Real* p0 = work + 3 * n;
  copy(p0, z.p, n, L);
  const Real H0 = hamiltonian(z, inv_metric, n, L);
  for (int s = 0; s < n_steps; ++s) leapfrog(target, z, eps, inv_metric, n, target_scratch, L);
  Real H1 = hamiltonian(z, inv_metric, n, L);
  if (H1 != H1) H1 = math::inf<Real>();
  copy(prop_q, z.q, n, L);
  copy(prop_p, z.p, n, L);
  HmcStats<Real> st;
  st.divergent = H1 - H0 > max_delta_h;
  st.accept_prob = H0 - H1 >= Real(0) ? Real(1) : exp(H0 - H1);
  if (!(st.accept_prob == st.accept_prob)) st.accept_prob = Real(0);
  st.accepted = rng.uniform() < static_cast<double>(st.accept_prob);
  if (st.accepted) {
    copy(q, z.q, n, L);
    copy(g, z.g, n, L);
    *lp = z.lp;
    st.energy = H1;
  } else {
    st.energy = H0;
  }
  return st;
}

/// Van der Corput sequence in base 2 (the first Halton dimension) over 10 bits, as TFP uses to
/// jitter trajectory lengths evenly: 0.5, 0.25, 0.75, 0.125, ...
HERD_HD_INLINE double halton2(std::uint32_t index) {
  std::uint32_t i = (index % 1023u) + 1u;
  double f = 0.5, r = 0;
  while (i > 0) {
    r += f * static_cast<double>(i & 1u);
    i >>= 1;
    f *= 0.5;
  }
  return r;
}

}  // namespace herd
