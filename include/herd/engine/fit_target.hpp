#pragma once
// NUTS with Stan's warmup on any host target, through the one driver: the target becomes the
// view of a one-model wave on the host backend, so the Gaussian and posteriordb tests run
// exactly the code (run_wave and the HERD_HD chain functions) a CUDA batch runs.
#include <string>
#include <utility>
#include <vector>

#include "herd/core/error.hpp"
#include "herd/engine/host_wave_backend.hpp"
#include "herd/engine/wave.hpp"

namespace herd {

/// A host functor lp = f(q, g, scratch) (gradient into g) as a wave's model view.
template <class F>
struct HostTarget {
  int dim = 0;
  const F* f = nullptr;
};

/// The wave's entry to a host target; host targets run on SerialLanes only.
template <class F>
double log_density_grad(const HostTarget<F>& t, const double* q, double* g, double* scratch, const SerialLanes&) {
  return (*t.f)(q, g, scratch);
}

/// Fits target f (dimension dim, scratch Reals it needs) as model `name` (its random-stream
/// identity) with options o on o.threads threads. Throws ModelError when the fit fails
/// (no finite initial point, a runaway step-size search, a metric that is not finite).
template <class F>
FitResult fit_target(const F& f, int dim, int scratch, const SamplerOptions& o, const std::string& name,
                     int chunk = 100) {
  const WaveLayout layout = make_wave_layout(std::vector<WaveShape>{{name, dim, scratch}}, {o}, chunk);
  HostWaveBackend<double, ThreadPoolRunner, HostTarget<F>> backend(layout, ThreadPoolRunner{o.threads},
                                                                   {HostTarget<F>{dim, &f}});
  std::vector<WaveOutcome> out = run_wave(backend, layout);
  if (!out[0].error.empty()) throw ModelError(out[0].error);
  return std::move(out[0].fit);
}

}  // namespace herd
