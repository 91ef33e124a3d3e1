#pragma once
// A model's whole run as a small pure state machine (after Stan's windowed_adaptation):
// initialize, search for a step size, warm up window by window (pooling the metric and
// searching again at each window's end), then sample in chunks. The host steps it between
// launches today (run_wave); being trivially copyable and HERD_HD, a kernel can step the same
// machine for each model of a wave. The chain and model functions each step names are in
// engine/wave.hpp and engine/wave_chees.hpp.
#include "herd/core/hd.hpp"
#include "herd/hmc/adaptation.hpp"

namespace herd {

/// What a wave does next.
enum class WaveStepKind : int {
  kInitialize,   // initial values on every chain
  kSearch,       // the step-size search (window numbers its stream); ChEES then takes the median
  kTransitions,  // warmup transitions first..last, adapting
  kAdapt,        // ChEES: the cross-chain step-size and trajectory update after iteration `last`
  kPoolMetric,   // the window ending at `last` becomes each chain's metric
  kSample,       // sampling iterations first..last into draws buffer `slot`
  kDone,
};

/// Which iterations a transitions launch runs and which join the metric's window.
struct WaveWindow {
  int first = 0, last = 0;           // iterations first..last (inclusive)
  int warmup = 0;                    // iterations < warmup adapt
  int window_lo = 0, window_hi = 0;  // Welford sums take lo <= i < hi
  int chunk_first = 0;               // draws buffer slot k holds iteration chunk_first + k
};

/// One step of the machine.
struct WaveStep {
  WaveStepKind kind = WaveStepKind::kDone;
  WaveWindow win;   // iterations (kTransitions, kAdapt, kPoolMetric, kSample)
  int window = 0;   // kSearch: the search's stream
  int slot = 0;     // kSample: draws buffer
};

/// The sequence of steps for `warmup` warmup and `draws` sampling iterations, sampling
/// `chunk` iterations per draws buffer and at most `chunk` warmup iterations a launch. NUTS
/// adapts inside each chain, so its warmup runs window to window; ChEES
/// (`adapt_each_iteration`) adapts across chains after every warmup iteration, so its warmup
/// runs an iteration at a time, each followed by kAdapt.
class WarmupMachine {
 public:
  HERD_HD WarmupMachine(int warmup, int draws, int chunk, bool adapt_each_iteration)
      : schedule_(warmup), warmup_(warmup), draws_(draws), chunk_(chunk < 1 ? 1 : chunk),
        each_(adapt_each_iteration) {}

  /// The next step; kDone once every iteration has run.
  HERD_HD WaveStep next() {
    WaveStep s;
    s.win.warmup = warmup_;
    s.win.window_lo = schedule_.window_lo();
    s.win.window_hi = schedule_.window_hi();
    switch (stage_) {
      case Stage::kStart:
        stage_ = warmup_ > 0 ? Stage::kFirstSearch : Stage::kSampling;
        s.kind = WaveStepKind::kInitialize;
        return s;
      case Stage::kFirstSearch:
        stage_ = Stage::kWarmup;
        s.kind = WaveStepKind::kSearch;
        s.window = 0;
        return s;
      case Stage::kWarmup: {
        // Runs up to the next window end (NUTS) or one iteration (ChEES), at most `chunk`
        // iterations a launch, so the host hears from the chains (progress, interrupts) as
        // often in warmup as in sampling. A window split over launches is the same window:
        // every iteration reads its own place in the schedule.
        const int end = schedule_.next_end(it_ - 1);
        const int window_stop = end >= 0 ? end : warmup_ - 1;
        const int stop = each_ ? it_ : (window_stop < it_ + chunk_ - 1 ? window_stop : it_ + chunk_ - 1);
        s.kind = WaveStepKind::kTransitions;
        s.win.first = it_;
        s.win.last = stop;
        it_ = stop + 1;
        stage_ = each_ ? Stage::kAdapt : after_warmup_run(stop);
        return s;
      }
      case Stage::kAdapt:
        s.kind = WaveStepKind::kAdapt;
        s.win.first = s.win.last = it_ - 1;
        stage_ = after_warmup_run(it_ - 1);
        return s;
      case Stage::kPool:
        s.kind = WaveStepKind::kPoolMetric;
        s.win.first = s.win.last = it_ - 1;
        stage_ = Stage::kSearch;
        return s;
      case Stage::kSearch:
        s.kind = WaveStepKind::kSearch;
        s.window = ++window_;
        stage_ = it_ < warmup_ ? Stage::kWarmup : Stage::kSampling;
        return s;
      case Stage::kSampling: {
        if (it_ >= warmup_ + draws_) break;
        const int last = (it_ + chunk_ < warmup_ + draws_ ? it_ + chunk_ : warmup_ + draws_) - 1;
        s.kind = WaveStepKind::kSample;
        s.win.first = s.win.chunk_first = it_;
        s.win.last = last;
        s.slot = chunk_index_ % 2;
        ++chunk_index_;
        it_ = last + 1;
        return s;
      }
      case Stage::kDone:
        break;
    }
    stage_ = Stage::kDone;
    s.kind = WaveStepKind::kDone;
    return s;
  }

  HERD_HD const WindowSchedule& schedule() const { return schedule_; }

 private:
  enum class Stage : int { kStart, kFirstSearch, kWarmup, kAdapt, kPool, kSearch, kSampling, kDone };

  // After warmup iterations ..stop: a window's end pools the metric; else on, or to sampling.
  HERD_HD Stage after_warmup_run(int stop) const {
    if (schedule_.ends_window(stop)) return Stage::kPool;
    return stop + 1 < warmup_ ? Stage::kWarmup : Stage::kSampling;
  }

  WindowSchedule schedule_;
  int warmup_, draws_, chunk_;
  bool each_;
  Stage stage_ = Stage::kStart;
  int it_ = 0, window_ = 0, chunk_index_ = 0;
};

}  // namespace herd
