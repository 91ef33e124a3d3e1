// PSIS-LOO rankings of a file's models, and recovery against a simulator's truth.
#include "herd/sim/compare.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>

#include "herd/analysis/analysis.hpp"
#include "herd/core/csv_writer.hpp"
#include "herd/core/error.hpp"
#include "herd/core/files.hpp"
#include "herd/io/hdf5_file.hpp"
#include "herd/io/summary.hpp"

namespace herd {

std::vector<CompareRow> compare_models(const std::string& file, const std::string& truth_json) {
  nlohmann::json truth;
  if (!truth_json.empty()) {
    std::ifstream in(truth_json);
    if (!in) throw InputError(located(truth_json, 0, 0, "cannot read"));
    try {
      truth = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
      throw InputError(located(truth_json, 0, 0, std::string("not JSON: ") + e.what()));
    }
    if (!truth.contains("contribution_total"))
      throw InputError(located(truth_json, 0, 0, "no contribution_total: not a herd simulate truth file"));
  }
  std::vector<CompareRow> rows;
  std::vector<std::vector<double>> datasets;  // distinct observed outcomes, in order of appearance
  std::vector<std::string> sources;           // the data file of each
  ReadOptions ro;
  ro.skip = derived_variables();
  for (const auto& name : list_models(file)) {
    const ModelOutput mo = read_model(file, name, ro);
    if (mo.failed()) continue;
    const DataGroup* ll = mo.group("log_likelihood");
    const DataGroup* obs = mo.group("observed_data");
    if (!ll || !ll->var("y") || !obs) throw InputError(located(file, 0, 0, name + ": no log_likelihood group"));
    const Variable& v = *ll->var("y");
    const int S = static_cast<int>(ll->coord("chain")->size() * ll->coord("draw")->size());
    const int n = static_cast<int>(v.values.size() / static_cast<size_t>(S));
    const std::vector<double>& y = obs->var("y")->values;
    CompareRow r;
    r.model = name;
    r.status = mo.status.text();
    const auto seen = std::find(datasets.begin(), datasets.end(), y);
    r.data_group = static_cast<int>(seen - datasets.begin()) + 1;
    if (seen == datasets.end()) {
      datasets.push_back(y);
      const auto src = mo.text_attrs.find("data_source");
      sources.push_back(src == mo.text_attrs.end() ? "" : src->second);
    }
    r.data_source = sources[static_cast<size_t>(r.data_group - 1)];
    const auto sw = mo.text_attrs.find("sweep");
    if (sw != mo.text_attrs.end()) r.sweep = sw->second;
    r.loo = psis_loo(v.values.data(), S, n);
    r.recovery = std::numeric_limits<double>::quiet_NaN();
    if (!truth.is_null()) {
      const FittedModel f = restore_model(mo, file);
      const Model& m = *f.model;
      const Dataset& d = m.dataset();
      const auto C = static_cast<size_t>(d.C), T = static_cast<size_t>(d.T);
      const ResponseModel resp(m, f.theta.data(), f.n());
      std::vector<double> wk(T * C), scratch(static_cast<size_t>(m.scratch_size())), mean(C, 0.0);
      for (int i = 0; i < f.n(); ++i) {
        draw_contributions(m, resp, i, f.draw(i), wk.data(), nullptr, scratch.data());
        for (size_t t = 0; t < T; ++t)
          for (size_t c = 0; c < C; ++c) mean[c] += wk[t * C + c] / f.n();
      }
      double s2 = 0;
      int k = 0;
      for (size_t c = 0; c < C; ++c) {
        const auto& tc = truth["contribution_total"];
        if (!tc.contains(d.channels[c])) continue;
        const double tv = tc[d.channels[c]].get<double>();
        if (tv == 0) continue;
        s2 += (mean[c] - tv) * (mean[c] - tv) / (tv * tv);
        ++k;
      }
      if (k == 0) throw InputError(located(truth_json, 0, 0, "no channel of model " + name + " in the truth file"));
      r.recovery = std::sqrt(s2 / k);
    }
    rows.push_back(std::move(r));
  }
  if (rows.empty()) throw InputError(located(file, 0, 0, "no fitted model to compare"));
  // LOO compares models of the same data only: rank within each group of models fitted to
  // the same observations.
  std::stable_sort(rows.begin(), rows.end(), [](const CompareRow& a, const CompareRow& b) {
    return a.data_group != b.data_group ? a.data_group < b.data_group : a.loo.elpd_loo > b.loo.elpd_loo;
  });
  for (size_t i = 0, start = 0; i < rows.size(); ++i) {
    if (rows[i].data_group != rows[start].data_group) start = i;
    rows[i].rank = static_cast<int>(i - start + 1);
    if (i == start) continue;
    const LooDiff d = loo_compare(rows[start].loo, rows[i].loo);
    rows[i].elpd_diff = d.elpd_diff;
    rows[i].se_diff = d.se;
  }
  if (!truth.is_null()) {
    std::vector<size_t> order(rows.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return rows[a].data_group != rows[b].data_group ? rows[a].data_group < rows[b].data_group
                                                      : rows[a].recovery < rows[b].recovery;
    });
    for (size_t i = 0, start = 0; i < order.size(); ++i) {
      if (rows[order[i]].data_group != rows[order[start]].data_group) start = i;
      rows[order[i]].recovery_rank = static_cast<int>(i - start + 1);
    }
  }
  return rows;
}

void write_compare_csv(const std::string& path, const std::vector<CompareRow>& rows, bool with_truth) {
  std::vector<std::string> h{"data_group", "data",  "model", "sweep", "status",  "rank",        "elpd_loo", "se",
                             "elpd_diff",  "se_diff", "ties_best", "p_loo", "looic", "n_bad_k", "k_threshold"};
  if (with_truth) h.insert(h.end(), {"recovery_rmse", "recovery_rank"});
  CsvWriter w(h);
  for (const auto& r : rows) {
    w.cell(r.data_group).cell(r.data_source).cell(r.model).cell(r.sweep).cell(r.status).cell(r.rank);
    w.cell(r.loo.elpd_loo).cell(r.loo.se).cell(r.elpd_diff).cell(r.se_diff).cell(r.ties_best() ? 1 : 0);
    w.cell(r.loo.p_loo).cell(r.loo.looic).cell(r.loo.n_bad_k).cell(r.loo.k_threshold);
    if (with_truth) w.cell(r.recovery).cell(r.recovery_rank);
    w.end_row();
  }
  w.write(path);
}

}  // namespace herd
