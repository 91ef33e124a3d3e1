#pragma once
// A fitted model's diagnostics (az.summary per parameter, the sampler's health) and the
// convergence checks that decide whether a fit is `ok` or `warn`. Computed from a
// ModelOutput, fresh from the engine (which judges its status by them) or read from a file.
#include <limits>
#include <string>
#include <vector>

#include "herd/diagnostics/convergence_checks.hpp"
#include "herd/diagnostics/diagnostics.hpp"
#include "herd/output/model_output.hpp"

namespace herd {

/// One scalar parameter's az.summary row, named by label ("beta[meta]").
struct ParamRow {
  std::string parameter;
  Summary s;
  double contraction = std::numeric_limits<double>::quiet_NaN();  // 1 - var_post / var_prior, when checked
  bool constant = false;  // every draw the same (a fixed quantity): no R-hat, nothing to check
  bool converged = true;  // its R-hat and ESS pass the checks: only then does its contraction mean anything
  /// The answer is mostly the prior read back: contraction < 0.1 from converged draws.
  bool prior_dominated() const { return converged && contraction < 0.1; }
  /// A contraction from draws that did not converge: not evidence either way.
  bool contraction_unreliable() const { return !converged && contraction == contraction; }
};

/// What `herd summarize` reports of one model. Undefined diagnostics (too few draws) are NaN.
struct ModelReport {
  std::string name;
  FitStatus status;
  ConvergenceChecks checks;  // those its status was judged by
  std::vector<ParamRow> params;
  int chains = 0, draws = 0;
  int divergences = 0, max_depth_hits = 0, max_depth = 0;
  std::vector<double> ebfmi;  // per chain
  double seconds = 0;
  double max_rhat = std::numeric_limits<double>::quiet_NaN();
  double min_ess_bulk = std::numeric_limits<double>::quiet_NaN();
  double min_ess_tail = std::numeric_limits<double>::quiet_NaN();
  bool prior_checked = false;  // contraction filled in (prior drawn from the model's config)
  int low_ebfmi() const;       // chains below checks.min_ebfmi (or undefined)
};

/// A posterior parameter flattened to one scalar: its label ("beta[tv]") and draws [chain * D + d].
struct ScalarDraws {
  std::string label;
  std::vector<double> draws;
};

/// Every scalar of the posterior's parameters (derived variables left out), in variable order.
std::vector<ScalarDraws> posterior_scalars(const DataGroup& posterior, int chains, int draws);

/// Posterior variables that are not parameters and are left out of summaries.
const std::vector<std::string>& derived_variables();

/// Diagnoses every scalar of the posterior (derived variables excluded) and the sampler stats,
/// against the checks stored with the model (the defaults for files that store none; a file
/// written before `warn` existed has its `ok` fits judged by them).
ModelReport report(const ModelOutput& model);

/// What fails `checks`, "; "-separated ("r_hat 5.39 > 1.01; 32 divergences"), or "" when all
/// pass. An undefined diagnostic (NaN: too few draws) fails.
std::string failed_checks(const ModelReport& r, const ConvergenceChecks& checks);

/// Judges a fit that has draws: `warn` with what failed, else `ok`; records the checks in the
/// model's attributes. A failed fit is left as it is.
void judge(ModelOutput& model, const ConvergenceChecks& checks);

}  // namespace herd
