#pragma once
// Progress of a batch on stderr: on a terminal a live line (models done/total, chains
// running, ETA, divergences so far, the last running model's iteration); one line per
// finished model; off a terminal (a log, a pipe), also a line per running model at least
// every `every` seconds (iteration, phase, step size, divergences); nothing with --quiet.
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "herd/engine/batch.hpp"

namespace herd {

class Progress : public BatchObserver {
 public:
  /// `who` starts every line ("herd", or "herd[1/4]" on a rank of an MPI run); `per_model`:
  /// a line per finished model (a single-model fit prints its table instead); `every`: seconds
  /// between a running model's lines off a terminal.
  Progress(int total, bool quiet, std::string who, bool per_model = true, double every = 30);
  ~Progress() override;
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  void started(const BatchItem& item) override;
  void finished(const BatchItem& item, const ModelOutput& output) override;
  void progress(const BatchItem& item, const WaveProgress& where) override;

 private:
  void draw_locked();
  void clear_locked();

  const int total_;
  const std::string who_;
  const bool quiet_, tty_, per_model_;
  const std::chrono::duration<double> every_;
  std::map<std::string, std::chrono::steady_clock::time_point> last_line_;  // running models
  std::string running_;  // the live line's note of the last model heard from
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  int done_ = 0, failed_ = 0, warned_ = 0, chains_running_ = 0;
  long long divergences_ = 0;
  std::thread ticker_;
};

}  // namespace herd
