#pragma once
// Summary tables of fitted models (INTERFACE.md `herd summarize`), computed from a
// ModelOutput whether it comes fresh from the engine or back from a file.
#include <iosfwd>
#include <limits>
#include <string>
#include <vector>

#include "herd/diagnostics/diagnostics.hpp"
#include "herd/output/model_output.hpp"

namespace herd {

/// One scalar parameter's az.summary row, named by label ("beta[meta]").
struct ParamRow {
  std::string parameter;
  Summary s;
  double contraction = std::numeric_limits<double>::quiet_NaN();  // 1 - var_post / var_prior, when checked
  /// The answer is mostly the prior read back: contraction < 0.1.
  bool prior_dominated() const { return contraction < 0.1; }
};

/// What `herd summarize` reports of one model.
struct ModelReport {
  std::string name, status;
  std::vector<ParamRow> params;
  int chains = 0, draws = 0;
  int divergences = 0, max_depth_hits = 0, max_depth = 0;
  std::vector<double> ebfmi;  // per chain
  double seconds = 0;
  double max_rhat = 0, min_ess_bulk = 0, min_ess_tail = 0;
  bool prior_checked = false;  // contraction filled in (prior drawn from the model's config)
  /// R-hat < 1.01, bulk and tail ESS > 400 and no divergences.
  bool passed() const;
  int low_ebfmi() const;  // chains with E-BFMI < 0.3
};

/// Posterior variables that are not parameters and are left out of summaries.
const std::vector<std::string>& derived_variables();

/// Diagnoses every scalar of the posterior (derived variables excluded) and the sampler stats.
ModelReport report(const ModelOutput& model);

/// Reports of every model of an output file (its derived variables left unread).
std::vector<ModelReport> read_reports(const std::string& path);

/// The per-parameter table and the model's sampler health.
void print_model_table(std::ostream& out, const ModelReport& r);

/// One row per model and a last line: how many passed R-hat < 1.01, ESS > 400, no divergences.
void print_batch_table(std::ostream& out, const std::vector<ModelReport>& reports);

/// INTERFACE.md's CSV: model,parameter,mean,sd,hdi_3%,hdi_97%,mcse_mean,mcse_sd,ess_bulk,ess_tail,r_hat,
/// extended by contraction,prior_dominated (empty where not checked).
/// Written aside and renamed into place.
void write_summary_csv(const std::string& path, const std::vector<ModelReport>& reports);

/// Every draw as CSV: chain, draw, Stan's sampler columns, then every parameter by label.
void write_draws_csv(const std::string& path, const ModelOutput& model);

}  // namespace herd
