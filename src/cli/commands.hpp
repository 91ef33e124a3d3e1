#pragma once
// Subcommands that live in their own files.
#include <string>

namespace herd {

/// `herd fit` options (INTERFACE.md), as parsed.
struct FitArgs {
  std::string config, out, draws_csv, device, precision, algorithm;
  int threads = -1, chains = 0, warmup = -1, draws = 0;
  long long seed = -1;
  bool quiet = false, resume = false, no_contributions = false;
};

/// Fits a model config or a run file, in this process or over the ranks of an MPI job.
/// Returns the exit status; throws InputError for bad input.
int run_fit(const FitArgs& args);

}  // namespace herd
