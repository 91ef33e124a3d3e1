#pragma once
// Where fitted models go. The engine calls write() once per model, from worker threads, as
// soon as the model is done; implementations serialize what needs it.
#include <mutex>
#include <vector>

#include "herd/output/model_output.hpp"

namespace herd {

/// Receives each model of a batch as it finishes (ok or failed).
class SampleSink {
 public:
  virtual ~SampleSink() = default;
  /// Stores one model; may be called concurrently from several threads.
  virtual void write(const ModelOutput& model) = 0;
};

/// Keeps every model in memory (tests, benchmarks, single fits without an output file).
class MemorySink : public SampleSink {
 public:
  void write(const ModelOutput& model) override {
    const std::lock_guard<std::mutex> lock(mutex_);
    models_.push_back(model);
  }
  /// The models in the order they finished.
  const std::vector<ModelOutput>& models() const { return models_; }

 private:
  std::mutex mutex_;
  std::vector<ModelOutput> models_;
};

}  // namespace herd
