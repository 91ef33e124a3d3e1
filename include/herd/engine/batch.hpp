#pragma once
// The CPU executor of a batch: every model of a run, fitted on a pool of threads and handed
// to a sink as soon as it finishes. A model that fails is recorded as failed and the batch
// goes on. Draws depend only on each model's name, config and seed, never on the thread
// count or on what else is in the batch (counter-based random streams).
#include <map>
#include <string>
#include <vector>

#include "herd/engine/sampler.hpp"
#include "herd/engine/sink.hpp"
#include "herd/model/model.hpp"
#include "herd/output/model_report.hpp"

namespace herd {

/// Attributes a run adds to a model's output (the sweep point, the data hash, ...).
struct ExtraAttrs {
  std::map<std::string, std::string> text;
  std::map<std::string, double> real;
  std::map<std::string, long long> integer;
};

/// One model to fit.
struct BatchItem {
  const Model* model = nullptr;
  SamplerOptions options;  // options.threads is set by the executor
  ExtraAttrs attrs;
};

/// Told about models as they start and finish (progress display); called from worker threads.
class BatchObserver {
 public:
  virtual ~BatchObserver() = default;
  virtual void started(const BatchItem& item) = 0;
  virtual void finished(const BatchItem& item, const ModelOutput& output) = 0;
  /// How far a running model got (at most once a second per wave, between launches).
  virtual void progress(const BatchItem& /*item*/, const WaveProgress& /*where*/) {}
};

/// Executor settings.
struct BatchOptions {
  int threads = 0;                 // 0 = all cores
  bool with_contributions = true;  // the posterior's `contribution` (chain, draw, week, channel)
  bool with_prior = false;         // `prior` and `prior_predictive` groups (herd fit --prior)
  Device device = Device::kCpu;    // kCuda runs the batch as waves on the GPU
  bool single_precision = false;   // float32 sampling (as waves, on either device)
  int chunk = 100;                 // sampling iterations per draws buffer of a wave
  int lanes = 32;                  // cuda: threads per chain (32: a warp per chain; 1: a thread)
  long long wave_bytes = 0;        // memory for one wave; 0: 80% of the GPU's free memory
  ConvergenceChecks checks;        // a fit that fails them is recorded as warn, not ok
};

/// What a batch did.
struct BatchResult {
  int ok = 0, warn = 0, failed = 0;
  double seconds = 0;
  double sink_seconds = 0;  // summed over the threads that wrote
};

/// An estimate of a model's work, proportional to its sampling time (data size x media
/// taps x chains x iterations): the scheduling order of a batch, the split of a run over ranks.
double estimated_cost(const BatchItem& item);

/// Costs refined by models already fitted (a resumed run): an item shaped like a measured one
/// (same data sizes, structure, chains and iterations) costs its measured seconds; others
/// their estimate times the median measured/estimated ratio.
std::vector<double> refined_costs(const std::vector<BatchItem>& items,
                                  const std::vector<std::pair<BatchItem, double>>& measured);

/// Fits every item; models run in parallel (one thread each while there are more models
/// than threads, the chains of a model in parallel otherwise). Errors of the sink (I/O)
/// stop the batch and are rethrown; errors of a model are recorded in its output.
BatchResult run_batch(const std::vector<BatchItem>& items, const BatchOptions& options, SampleSink& sink,
                      BatchObserver* observer = nullptr);

}  // namespace herd
