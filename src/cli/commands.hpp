#pragma once
// Subcommands that live in their own files.
#include <string>
#include <vector>

namespace herd {

struct ModelReport;

/// `herd fit` options (INTERFACE.md), as parsed.
struct FitArgs {
  std::string config, out, draws_csv, device, precision, algorithm;
  int threads = -1, chains = 0, warmup = -1, draws = 0;
  long long seed = -1;
  bool quiet = false, resume = false, no_contributions = false, prior = false;
};

/// Fits a model config or a run file, in this process or over the ranks of an MPI job.
/// Returns the exit status; throws InputError for bad input.
int run_fit(const FitArgs& args);

/// `herd analyze FILE (--model NAME | --all) [--out DIR]`.
int run_analyze(const std::string& file, const std::string& model, bool all, const std::string& out_dir);

/// `herd optimize FILE --model NAME [--budget B] [--bounds CH=LO:HI ...] [--fix CH ...] [--objective ...] [--json OUT]`.
struct OptimizeArgs {
  std::string file, model, objective = "mean", json;
  double budget = 0;
  std::vector<std::string> bounds, fixed;
};
int run_optimize(const OptimizeArgs& args);

/// Summary reports of a file's models, each with its prior contraction filled in.
std::vector<ModelReport> reports_with_priors(const std::string& file, const std::string& model);

}  // namespace herd
