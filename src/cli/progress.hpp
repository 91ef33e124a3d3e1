#pragma once
// Progress of a batch on stderr: on a terminal a live line (models done/total, chains
// running, ETA, divergences so far); one line per finished model; nothing with --quiet.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "herd/engine/batch.hpp"

namespace herd {

class Progress : public BatchObserver {
 public:
  /// `who` starts every line ("herd", or "herd[1/4]" on a rank of an MPI run).
  Progress(int total, bool quiet, std::string who);
  ~Progress() override;
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  void started(const BatchItem& item) override;
  void finished(const BatchItem& item, const ModelOutput& output) override;

 private:
  void draw_locked();
  void clear_locked();

  const int total_;
  const std::string who_;
  const bool quiet_, tty_;
  const std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  int done_ = 0, failed_ = 0, warned_ = 0, chains_running_ = 0;
  long long divergences_ = 0;
  std::thread ticker_;
};

}  // namespace herd
