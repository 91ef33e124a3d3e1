#pragma once
// The small per-chain and per-model tables of a wave, built once on the host and uploaded
// into the wave's state (wave_state.hpp) by both backends.
#include <cstdint>
#include <vector>

#include "herd/engine/wave.hpp"

namespace herd {

/// chain -> model and chain number; model -> its chains, stream key, initialization and
/// sampler settings.
struct WaveTables {
  std::vector<int> chain_model, chain_index, max_depth, init_tries, model_chain0, model_chains, pooled;
  std::vector<std::uint64_t> key;
  std::vector<double> target_accept, max_delta_h, step_size, init_radius;

  explicit WaveTables(const WaveLayout& L) {
    for (size_t m = 0; m < L.options.size(); ++m) {
      const SamplerOptions& o = L.options[m];
      model_chain0.push_back(static_cast<int>(chain_model.size()));
      model_chains.push_back(o.chains);
      // ChEES's chains share one step size, so they share one metric too.
      pooled.push_back(o.metric == MetricKind::kPooled || o.algorithm == Algorithm::kChees ? 1 : 0);
      for (int k = 0; k < o.chains; ++k) {
        chain_model.push_back(static_cast<int>(m));
        chain_index.push_back(k);
      }
      key.push_back(stream_key(o.seed, model_id(L.model_names[m])));
      max_depth.push_back(clamped_depth(o));
      target_accept.push_back(o.target_accept);
      max_delta_h.push_back(o.max_delta_h);
      step_size.push_back(o.step_size);
      init_radius.push_back(o.init_radius);
      init_tries.push_back(o.init_tries);
    }
  }

  /// target_accept, max_delta_h and step_size in the wave's precision.
  template <class Real>
  void fill_precision(std::vector<Real>& accept, std::vector<Real>& delta_h, std::vector<Real>& step) const {
    accept.assign(target_accept.begin(), target_accept.end());
    delta_h.assign(max_delta_h.begin(), max_delta_h.end());
    step.assign(step_size.begin(), step_size.end());
  }
};

}  // namespace herd
