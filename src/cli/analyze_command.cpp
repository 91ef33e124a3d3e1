// `herd analyze`: decision outputs from a finished output file, and the prior-contraction
// columns of `herd summarize`.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unistd.h>

#include "commands.hpp"
#include "herd/analysis/analysis.hpp"
#include "herd/core/error.hpp"
#include "herd/core/files.hpp"
#include "herd/core/text_table.hpp"
#include "herd/io/hdf5_file.hpp"
#include "herd/io/output_guard.hpp"
#include "herd/io/summary.hpp"

namespace herd {

namespace fs = std::filesystem;

std::vector<std::string> select_models(const std::string& file, const std::string& model, bool all) {
  if (!fs::exists(file)) throw InputError(located(file, 0, 0, "no such file"));
  std::vector<std::string> names;
  try {
    names = list_models(file);
  } catch (const std::exception& e) {
    throw InputError(located(file, 0, 0, std::string("not a readable herd output: ") + e.what()));
  }
  if (all) return names;
  if (model.empty()) throw InputError(located(file, 0, 0, "say which model: --model NAME or --all"));
  if (std::find(names.begin(), names.end(), model) == names.end())
    throw InputError(located(file, 0, 0, "no model \"" + model + "\" in this file"));
  return {model};
}

ModelOutput read_for_analysis(const std::string& file, const std::string& name) {
  ReadOptions o;
  o.skip = derived_variables();
  return read_model(file, name, o);
}

namespace {

std::string meta_json(const ModelOutput& out, const ModelReport& r, const Model& m) {
  const ModelSpec& s = m.spec();
  const auto src = out.text_attrs.find("config_source");
  nlohmann::ordered_json j;  // non-finite numbers are written as null
  j["model"] = out.name;
  j["outcome"] = s.data.outcome;
  j["outcome_kind"] = to_string(s.data.outcome_kind);
  j["status"] = r.status.text();
  j["chains"] = r.chains;
  j["draws"] = r.draws;
  j["divergences"] = r.divergences;
  j["max_depth_hits"] = r.max_depth_hits;
  j["ebfmi"] = r.ebfmi;
  j["seconds"] = r.seconds;
  j["likelihood"] = to_string(s.likelihood);
  j["adstock"] = to_string(s.media.adstock.type);
  j["saturation"] = to_string(s.media.saturation);
  j["pooling"] = to_string(s.media.pooling.type);
  j["source_file"] = src != out.text_attrs.end() ? src->second : "";
  return j.dump() + "\n";
}

void add_checks(ModelReport& r, const std::vector<PriorCheck>& checks) {
  if (checks.empty()) return;
  r.prior_checked = true;
  for (auto& p : r.params)
    for (const auto& c : checks)
      if (c.parameter == p.parameter) p.contraction = c.contraction;
}

}  // namespace

std::string script_path(const std::string& name) {
  if (const char* env = std::getenv("HERD_SCRIPT_DIR")) return std::string(env) + "/" + name;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path installed = exe.parent_path().parent_path() / "share" / "herd" / name;
    if (fs::exists(installed)) return installed.string();
  }
  return std::string(HERD_SOURCE_DIR) + "/scripts/" + name;
}

std::vector<ModelReport> reports_with_priors(const std::string& file, const std::string& model) {
  std::vector<ModelReport> out;
  for (const auto& name : select_models(file, model, model.empty())) {
    const ModelOutput mo = read_for_analysis(file, name);
    ModelReport r = report(mo);
    if (!mo.failed()) {
      try {
        const FittedModel f = restore_model(mo, file);
        add_checks(r, prior_checks(*f.model, f.theta.data(), f.n()));
      } catch (const std::exception& e) {
        fmt::print(stderr, "herd: warning: {}: no prior contraction ({})\n", name, e.what());
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

int run_analyze(const std::string& file, const std::string& model, bool all, const std::string& out_dir) {
  const std::vector<std::string> names = select_models(file, model, all);
  // The analysis group is written into the file: never while a fit is writing it.
  const OutputLock lock(file, "herd analyze");
  struct Done {
    std::string name, channels_key, dir;
  };
  std::vector<Done> done;
  std::vector<std::pair<std::string, DataGroup>> groups;
  int failed = 0;
  for (const auto& name : names) {
    const ModelOutput mo = read_for_analysis(file, name);
    if (mo.failed()) {
      fmt::print(stderr, "herd: {}: skipped ({})\n", name, mo.status.text());
      ++failed;
      continue;
    }
    const FittedModel f = restore_model(mo, file);
    Analysis a = analyze(f, name);
    // summarize's convergence per parameter: a contraction from unconverged draws flags nothing.
    ModelReport r = report(mo);
    mark_convergence(a, r);
    fmt::print("{} ({} draws{})\n{}\n", name, f.n(), mo.ok() ? "" : "; " + mo.status.text(), channel_table(a));
    groups.emplace_back(name, analysis_group(a));
    if (!out_dir.empty()) {
      const fs::path dir = fs::path(out_dir) / name;
      write_analysis_csv(dir.string(), a);
      add_checks(r, a.priors);
      write_summary_csv((dir / "diagnostics.csv").string(), {r});
      write_file_atomically((dir / "meta.json").string(), meta_json(mo, r, *f.model));
      std::string key;
      for (const auto& c : a.channels) key += c + ",";
      done.push_back({name, key + "|" + f.model->dataset().source, dir.string()});
    }
  }
  if (!groups.empty()) {
    if (is_index_file(file)) {
      fmt::print(stderr, "herd: note: {} is an index of an unfinished or MPI run; the analysis group is not added "
                         "to it{}\n", file, out_dir.empty() ? "" : " (the CSV files and report are written)");
    } else {
      add_groups(file, groups);
      fmt::print(stderr, "herd: wrote the analysis group of {} model(s) into {}\n", groups.size(), file);
    }
  }
  int status = failed > 0 ? 1 : 0;
  for (const auto& d : done) {
    // Variants of the same data and channels (unpooled vs pooled) share the forest plot.
    // Debian's python3 (with python3-matplotlib) rather than whatever python3 PATH finds first.
    const std::string python = fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
    std::string cmd = python + " '" + script_path("herd_report.py") + "' '" + d.dir + "'";
    for (const auto& o : done)
      if (o.name != d.name && o.channels_key == d.channels_key) cmd += " --compare '" + o.dir + "'";
    cmd += " >/dev/null";
    if (std::system(cmd.c_str()) != 0) {
      fmt::print(stderr, "herd: error: the HTML report of {} failed (python3 with matplotlib is needed: "
                         "scripts/setup.sh installs it); its CSV files are in {}\n", d.name, d.dir);
      status = 1;
    } else {
      fmt::print(stderr, "herd: report {}/report.html\n", d.dir);
    }
  }
  return status;
}

}  // namespace herd
