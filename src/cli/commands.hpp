#pragma once
// Subcommands that live in their own files.
#include <string>
#include <vector>

namespace herd {

struct ModelReport;
struct ModelOutput;

/// The models `--model NAME` or `--all` select in FILE (InputError naming the file otherwise).
std::vector<std::string> select_models(const std::string& file, const std::string& model, bool all);
/// One model of FILE without the arrays analysis recomputes (contributions).
ModelOutput read_for_analysis(const std::string& file, const std::string& name);

/// `herd fit` options (INTERFACE.md), as parsed.
struct FitArgs {
  std::string config, out, draws_csv, device, precision, algorithm;
  int chunk = 100;  // --chunk: sampling iterations per draws buffer (waves)
  int threads = -1, chains = 0, warmup = -1, draws = 0;
  long long seed = -1;
  bool quiet = false, resume = false, overwrite = false, no_contributions = false, prior = false;
  // Convergence checks (override [run]); unset below zero.
  double max_rhat = -1, min_ess = -1, min_ebfmi = -1;
  int max_divergences = -1;
  bool strict = false;  // exit 3 when a model is `warn` and none failed
  double progress_every = 30;  // seconds between a running model's lines off a terminal
};

/// Fits a model config or a run file, in this process or over the ranks of an MPI job.
/// Returns the exit status; throws InputError for bad input.
int run_fit(const FitArgs& args);

/// `herd analyze FILE (--model NAME | --all) [--out DIR]`.
int run_analyze(const std::string& file, const std::string& model, bool all, const std::string& out_dir);

/// `herd optimize FILE (--model NAME | --all) [--target-mroi R | --target-roi R | --target-cpa C | --target-mcpa C | --budget-range LO:HI [--points N]] [--budget B] [--per-geo] [--geo-budget GEO=B ...] [--bounds CH=LO:HI ...] [--fix CH ...] [--objective ...] [--move-confidence P] [--json OUT]`.
struct OptimizeArgs {
  std::string file, model, objective = "mean", json;
  bool all = false;  // every model that did not fail (--all)
  // How much to spend (0: not asked): a target marginal or average return (outcome per unit
  // of spend), or for conversions a target marginal or average cost per acquisition.
  double target_mroi = 0, target_roi = 0, target_cpa = 0, target_mcpa = 0;
  double move_confidence = 0.9;  // --move-confidence: a channel's move below it is flagged
  std::string budget_range;  // --budget-range LO:HI: the efficient frontier
  int points = 11;           // --points: frontier budgets
  double budget = 0;
  std::vector<std::string> bounds, fixed;
  // Panels: each geo splits its own budget (--per-geo; --geo-budget GEO=B or GEO=1.1x sets
  // one, and implies it).
  bool per_geo = false;
  std::vector<std::string> geo_budgets;
};
int run_optimize(const OptimizeArgs& args);

/// `herd simulate (SCENARIO.toml | --from-prior CONFIG) --out DIR [--seed S] [--replicates R]`.
struct SimulateArgs {
  std::string scenario, from_prior, out;
  long long seed = -1;
  int replicates = 1;
};
int run_simulate(const SimulateArgs& args);

/// `herd study STUDY.toml [--replicates R] [--seed S] [--out FILE.h5] [--csv OUT.csv]`.
struct StudyArgs {
  std::string study, out, csv;
  int replicates = 0, threads = 0;
  long long seed = -1;
  bool quiet = false, overwrite = false;
};
int run_study(const StudyArgs& args);

/// `herd sbc CONFIG.toml [--replicates N] [--out DIR]` (--replications: the old spelling).
struct SbcArgs {
  std::string config, out;
  int replications = 100, threads = 0, chains = 0, warmup = -1, draws = 0;
  long long seed = -1;
};
int run_sbc(const SbcArgs& args);

/// `herd compare FILE.h5 [--truth TRUTH.json] [--csv OUT.csv]`: PSIS-LOO ranking.
struct CompareArgs {
  std::string file, truth, csv;
};
int run_compare(const CompareArgs& args);

/// A script shipped with herd (share/herd beside the binary, else the source tree's scripts/).
std::string script_path(const std::string& name);

/// Summary reports of a file's models, each with its prior contraction filled in.
std::vector<ModelReport> reports_with_priors(const std::string& file, const std::string& model);

}  // namespace herd
