#pragma once
// The convergence checks a fit must pass to be reported `ok` rather than `warn`.
#include <string>

namespace herd {

/// What a fit must show to be `ok` (defaults after Vehtari et al. 2021 and Stan's guidance);
/// set in a run file's [run] and by `herd fit` flags, stored with each model.
struct ConvergenceChecks {
  double max_rhat = 1.01;   // every parameter's R-hat below this
  double min_ess = 400;     // every parameter's bulk and tail ESS above this
  int max_divergences = 0;  // post-warmup divergent transitions over all chains, at most
  double min_ebfmi = 0.3;   // every chain's E-BFMI above this
  /// "max R-hat < 1.01, bulk and tail ESS > 400, 0 divergences, E-BFMI > 0.3": the table footers.
  std::string describe() const;
};

}  // namespace herd
