#pragma once
// Fitting one MMM on the CPU: the model as a sampler Target and its named outputs on the
// user's scale.
#include <string>
#include <vector>

#include "herd/engine/sampler.hpp"
#include "herd/model/log_density.hpp"
#include "herd/model/model.hpp"

namespace herd {

/// The MMM log density as a sampler target.
template <class Real>
struct ModelTarget {
  ModelView<Real> m;
  HERD_HD Real operator()(const Real* q, Real* g, Real* scratch) const { return log_density_grad(m, q, g, scratch); }
};

/// Samples one model in double precision on CPU threads: NUTS as a one-model wave (the
/// driver of every backend), ChEES on its host driver. Throws ModelError when it fails.
FitResult fit_model(const Model& model, const SamplerOptions& options, int chunk = 100,
                    const WaveProgressFn& progress = {});

/// Sampler options from the model's [sampler] table.
SamplerOptions options_from(const ModelSpec& spec);

/// Names of the reported quantities: every coordinate on the constrained scale, plus beta[c]
/// for channels whose effect is derived (pooled channels).
std::vector<std::string> output_names(const Model& model);

/// Where each reported quantity lives: its posterior variable and one label per dimension
/// (output_names order). Writers lay coordinates from these lists, never from the names.
struct OutputLabel {
  std::string stem;
  std::vector<std::string> parts;
};
std::vector<OutputLabel> output_labels(const Model& model);

/// The reported quantities of one draw, in output_names order.
void outputs(const Model& model, const double* theta, double* out);

/// Per-model sampler health: divergences, max tree depth hits, E-BFMI per chain.
struct SamplerHealth {
  int divergences = 0;
  int max_depth_hits = 0;
  std::vector<double> ebfmi;
};
SamplerHealth health(const FitResult& fit, int max_depth);

}  // namespace herd
