#pragma once
// Ranking the models of a file (a pooling-strength sweep, variants on the same data) by
// PSIS-LOO from their log_likelihood groups, and by recovery error when the data came from a
// simulator with a truth file.
#include <cmath>
#include <string>
#include <vector>

#include "herd/diagnostics/loo.hpp"

namespace herd {

struct CompareRow {
  std::string model, sweep;  // sweep: the grid point, "" outside sweeps
  std::string status;        // "ok" or "warn: ..." (failed models are not compared)
  int data_group = 1;        // models fitted to the same observations share it; ranks are within a group
  std::string data_source;   // the data file the group's first model was fitted to
  LooResult loo;
  double elpd_diff = 0, se_diff = 0;  // against the best model (0 for it)
  int rank = 0;                       // 1 = highest elpd_loo
  /// Within 2 SE of the best model's elpd_loo: the data cannot tell them apart (the best ties itself).
  bool ties_best() const { return rank == 1 || std::fabs(elpd_diff) < 2 * se_diff; }
  double recovery = 0;  // RMSE over channels of (estimate - truth) / |truth| of total contributions; NaN without truth
  int recovery_rank = 0;
};

/// Every ok model of the file, ranked by elpd_loo within its group of models fitted to the same
/// observations (LOO compares models of the same data); with a truth JSON (herd simulate), also
/// by recovery error.
std::vector<CompareRow> compare_models(const std::string& file, const std::string& truth_json = "");

/// data_group,data,model,sweep,status,rank,elpd_loo,se,elpd_diff,se_diff,ties_best,p_loo,looic,n_bad_k,k_threshold
/// and, with a truth file, recovery_rmse,recovery_rank.
void write_compare_csv(const std::string& path, const std::vector<CompareRow>& rows, bool with_truth);

}  // namespace herd
