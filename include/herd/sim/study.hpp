#pragma once
// Recovery studies (`herd study`): R replicates of a scenario x model variants (config
// overrides) fitted as one batch, plus non-Bayesian baselines on subchannels (nested
// two-stage regression, spend-share allocation); per method and quantity, how far estimates
// fall from the truth and how often 94% intervals cover it.
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "herd/sim/scenario.hpp"

namespace herd {

/// One model variant: dotted config keys and their values, as TOML text ("\"unpooled\"").
struct StudyVariant {
  std::string name;
  std::vector<std::pair<std::string, std::string>> overrides;
};

/// A baseline that is not a Bayesian fit of the subchannels: it starts from the fit of the
/// scenario's `parent` config (the subchannels summed into one channel).
struct StudyBaseline {
  std::string name;
  std::string method;     // nested_two_stage | spend_share
  std::string parent;     // the parent channel of the parent config (its subchannels come from the scenario)
  std::string transform;  // nested_two_stage: none | adstock_saturation
};

/// A parsed study file (configs/studies/*.toml).
struct StudySpec {
  std::string source, name;
  Scenario scenario;
  std::string config = "model";  // the scenario fit config the variants start from
  int replicates = 20;
  std::uint64_t seed = 1;
  int chains = 4, warmup = 500, draws = 500;
  std::vector<StudyVariant> variants;
  std::vector<StudyBaseline> baselines;
};

/// Reads a study file; errors name file, key and line:column.
StudySpec parse_study(const std::filesystem::path& file);

/// One replicate's estimate of one quantity by one method.
struct StudyEstimate {
  std::string variant, parameter;
  int replicate = 0;
  double truth = 0, estimate = 0, low = 0, high = 0;  // low/high: the 94% interval (NaN without one)
};

/// Per method and quantity over replicates (INTERFACE.md's study CSV row).
struct StudyRow {
  std::string variant, parameter;
  double truth = 0, estimate_mean = 0, pct_diff = 0, coverage = 0, width = 0, rmse = 0;
  int replicates = 0;
};

struct StudyOptions {
  int threads = 0;
  std::string out;  // HDF5 file keeping every fit; "" = none
  bool quiet = false;
};

struct StudyResult {
  std::vector<StudyEstimate> estimates;
  std::vector<StudyRow> rows;
  std::vector<std::string> failed;  // "model: reason"
  std::vector<std::string> warned;  // "model: what failed its checks" (scored in the rows all the same)
  double seconds = 0;
  int fits = 0;
};

class BatchObserver;

/// Simulates, fits and scores the study; observer (optional) hears of each fit.
StudyResult run_study(const StudySpec& spec, const StudyOptions& options, BatchObserver* observer = nullptr);

/// INTERFACE.md's study CSV (summary rows) and a per-replicate CSV beside it, each written aside and renamed.
void write_study_csv(const std::string& path, const std::vector<StudyRow>& rows);
void write_replicates_csv(const std::string& path, const std::vector<StudyEstimate>& estimates);

/// Aggregates estimates over replicates (truth: mean over replicates; pct_diff of the means;
/// coverage: share of replicates whose interval holds their own truth).
std::vector<StudyRow> summarize_study(const std::vector<StudyEstimate>& estimates);

/// Least squares without intercept of y (n) on the columns of x (n x k, column-major): the
/// coefficients and their standard errors. The first stage's regression of nested two-stage.
void least_squares(const std::vector<double>& x, const std::vector<double>& y, int k, std::vector<double>& coef,
                   std::vector<double>& se);

}  // namespace herd
