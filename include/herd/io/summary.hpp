#pragma once
// Summary tables of fitted models (INTERFACE.md `herd summarize`), computed from a
// ModelOutput whether it comes fresh from the engine or back from a file.
#include <iosfwd>
#include <string>
#include <vector>

#include "herd/output/model_report.hpp"

namespace herd {

/// Reports of every model of an output file (its derived variables left unread).
std::vector<ModelReport> read_reports(const std::string& path);

/// The per-parameter table and the model's sampler health.
void print_model_table(std::ostream& out, const ModelReport& r);

/// One row per model (status, diagnostics, prior-dominated parameters) and a last line: how
/// many are ok, warn and failed, and the checks they were judged by.
void print_batch_table(std::ostream& out, const std::vector<ModelReport>& reports);

/// INTERFACE.md's CSV: model,parameter,mean,sd,hdi_3%,hdi_97%,mcse_mean,mcse_sd,ess_bulk,ess_tail,r_hat,
/// extended by contraction,prior_dominated (empty where not checked).
/// Written aside and renamed into place.
void write_summary_csv(const std::string& path, const std::vector<ModelReport>& reports);

/// Every draw as CSV: chain, draw, Stan's sampler columns, then every parameter by label.
void write_draws_csv(const std::string& path, const ModelOutput& model);

}  // namespace herd
