#pragma once
// Which chain and model functions each step of the warmup machine runs, written once for
// every backend (the host runs them on threads, the CUDA backend as kernels).
#include "herd/engine/wave.hpp"
#include "herd/engine/wave_chees.hpp"

namespace herd {

/// Runs `step` through a backend's two launchers: chains(op) calls op(view, chain, lanes) on
/// every chain, models(op) calls op(view, model) on every model (serially).
template <class Chains, class Models>
void launch_step(const WaveStep& step, bool chees, Chains&& chains, Models&& models) {
  switch (step.kind) {
    case WaveStepKind::kInitialize:
      chains(wave_ops::Initialize{});
      if (chees) models(wave_ops::CheesStart{});
      return;
    case WaveStepKind::kSearch:
      chains(wave_ops::Search{step.window});
      if (chees) models(wave_ops::CheesSearched{step.window});
      return;
    case WaveStepKind::kTransitions:
    case WaveStepKind::kSample:
      if (chees)
        chains(wave_ops::CheesTransitions{step.win});
      else
        chains(wave_ops::Transitions{step.win});
      return;
    case WaveStepKind::kAdapt:
      if (chees) models(wave_ops::CheesAdapt{step.win});
      return;
    case WaveStepKind::kPoolMetric:
      models(wave_ops::PoolMetric{});
      return;
    case WaveStepKind::kDone:
      return;
  }
}

}  // namespace herd
