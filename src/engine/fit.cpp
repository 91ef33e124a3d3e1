#include "herd/engine/fit.hpp"

#include <cmath>
#include <memory>

#include "herd/core/error.hpp"
#include "herd/diagnostics/diagnostics.hpp"
#include "herd/engine/wave.hpp"

namespace herd {

SamplerOptions options_from(const ModelSpec& spec) { return SamplerOptions(spec.sampler); }

FitResult fit_model(const Model& model, const SamplerOptions& options, int chunk, const WaveProgressFn& progress) {
  // A one-model wave on the host: the driver the GPU runs is the one every CPU fit runs.
  const WaveLayout layout = make_wave_layout({&model}, {options}, chunk);
  const std::unique_ptr<WaveBackend> backend = make_cpu_wave_backend(layout, false, options.threads);
  std::vector<WaveOutcome> out = run_wave(*backend, layout, progress);
  if (!out[0].error.empty()) throw ModelError(out[0].error);
  return std::move(out[0].fit);
}

namespace {

// Channels whose effect is not itself a coordinate (pooled: beta_z or log_beta).
std::vector<int> derived_beta_channels(const Model& model) {
  std::vector<int> out;
  const auto& ch = model.dataset().channels;
  for (int c = 0; c < static_cast<int>(ch.size()); ++c) {
    bool direct = false;
    for (const auto& p : model.params()) direct = direct || p.name == "beta[" + ch[static_cast<size_t>(c)] + "]";
    if (!direct) out.push_back(c);
  }
  return out;
}

// Under [controls] scale = "std", gamma is per sd of the control; gamma_per_unit[k] is what
// gamma would be with scale = "none": the effect of one unit of the control as the user gave it.
bool per_unit_controls(const Model& model) {
  return model.spec().control_scale == ControlScale::kStd && model.dataset().K > 0;
}

}  // namespace

std::vector<std::string> output_names(const Model& model) {
  std::vector<std::string> names;
  for (const auto& p : model.params()) names.push_back(p.name);
  for (int c : derived_beta_channels(model)) names.push_back("beta[" + model.dataset().channels[static_cast<size_t>(c)] + "]");
  if (per_unit_controls(model))
    for (const auto& k : model.dataset().controls) names.push_back("gamma_per_unit[" + k + "]");
  return names;
}

std::vector<OutputLabel> output_labels(const Model& model) {
  std::vector<OutputLabel> out;
  for (const auto& p : model.params()) out.push_back({p.stem, p.parts});
  for (int c : derived_beta_channels(model)) out.push_back({"beta", {model.dataset().channels[static_cast<size_t>(c)]}});
  if (per_unit_controls(model))
    for (const auto& k : model.dataset().controls) out.push_back({"gamma_per_unit", {k}});
  return out;
}

void outputs(const Model& model, const double* theta, double* out) {
  const std::vector<double> v = model.constrain(theta);
  std::copy(v.begin(), v.end(), out);
  size_t k = v.size();
  const auto derived = derived_beta_channels(model);
  if (!derived.empty()) {
    // beta of a pooled channel = its base effect (exp of it for positive effects).
    const ModelView<double> m = model.view<double>();
    std::vector<double> scratch(static_cast<size_t>(model.scratch_size()));
    const ForwardPass<double> pass(m, theta, scratch.data());
    for (int c : derived) out[k++] = m.positive ? std::exp(pass.base_effect(c)) : pass.base_effect(c);
  }
  if (per_unit_controls(model)) {
    const auto o = static_cast<size_t>(model.view<double>().o_control);  // gamma[0..K) sit there
    const std::vector<double>& scale = model.dataset().control_scale;
    for (size_t c = 0; c < scale.size(); ++c) out[k++] = v[o + c] / scale[c];
  }
}

SamplerHealth health(const FitResult& fit, int max_depth) {
  SamplerHealth h;
  for (const auto& c : fit.chains) {
    for (auto d : c.diverging) h.divergences += d;
    for (int t : c.tree_depth) h.max_depth_hits += t >= max_depth;
    h.ebfmi.push_back(ebfmi(c.energy.data(), static_cast<int>(c.energy.size())));
  }
  return h;
}

}  // namespace herd
