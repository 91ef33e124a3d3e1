// `herd analyze` and `herd optimize`: decision outputs from a finished output file, and the
// prior-contraction columns of `herd summarize`.
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
#include "herd/io/hdf5_file.hpp"
#include "herd/io/output_guard.hpp"
#include "herd/io/summary.hpp"

namespace herd {
namespace {

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

std::string meta_json(const ModelOutput& out, const ModelReport& r, const Model& m) {
  const ModelSpec& s = m.spec();
  const auto src = out.text_attrs.find("config_source");
  nlohmann::ordered_json j;  // non-finite numbers are written as null
  j["model"] = out.name;
  j["outcome"] = s.data.outcome;
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
    const Analysis a = analyze(f, name);
    fmt::print("{} ({} draws)\n{}\n", name, f.n(), channel_table(a));
    groups.emplace_back(name, analysis_group(a));
    if (!out_dir.empty()) {
      const fs::path dir = fs::path(out_dir) / name;
      write_analysis_csv(dir.string(), a);
      ModelReport r = report(mo);
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

int run_optimize(const OptimizeArgs& args) {
  const std::string name = select_models(args.file, args.model, false).front();
  const ModelOutput mo = read_for_analysis(args.file, name);
  if (mo.failed())
    throw InputError(located(args.file, 0, 0, "model " + name + " has status \"" + mo.status.text() + "\""));
  const FittedModel f = restore_model(mo, args.file);
  const ResponseModel r(*f.model, f.theta.data(), f.n());
  const auto& channels = f.model->dataset().channels;
  const size_t C = channels.size();
  OptimizeOptions o;
  o.budget = args.budget;
  o.objective = args.objective;
  o.lower.resize(C);
  o.upper.resize(C);
  for (size_t c = 0; c < C; ++c) {
    o.lower[c] = r.current()[c] * (1 - o.bound_fraction);
    o.upper[c] = r.current()[c] * (1 + o.bound_fraction);
  }
  auto channel_index = [&](const std::string& ch, const std::string& flag) {
    const auto it = std::find(channels.begin(), channels.end(), ch);
    if (it == channels.end())
      throw InputError(located(args.file, 0, 0, flag + ": model " + name + " has no channel \"" + ch + "\""));
    return static_cast<size_t>(it - channels.begin());
  };
  for (const auto& b : args.bounds) {
    // Channel names may hold commas, so only a second "=" shows several bounds in one flag.
    const auto eq = b.rfind('='), colon = b.find(':', eq == std::string::npos ? 0 : eq);
    if (eq != std::string::npos && b.find('=') != eq)
      throw InputError(located(args.file, 0, 0, "--bounds " + b + ": one CHANNEL=LO:HI per flag (--bounds a=0:1 "
                                                                  "--bounds b=0:2), not several joined by commas"));
    if (eq == std::string::npos || colon == std::string::npos)
      throw InputError(located(args.file, 0, 0, "--bounds " + b + ": expected CHANNEL=LO:HI (weekly spend)"));
    const size_t c = channel_index(b.substr(0, eq), "--bounds");
    char* end = nullptr;
    const std::string lo = b.substr(eq + 1, colon - eq - 1), hi = b.substr(colon + 1);
    const double l = std::strtod(lo.c_str(), &end);
    const bool lo_ok = end && *end == '\0' && !lo.empty();
    const double h = std::strtod(hi.c_str(), &end);
    const bool hi_ok = end && *end == '\0' && !hi.empty();
    if (!lo_ok || !hi_ok || !(l >= 0) || !(h >= l) || !std::isfinite(h))
      throw InputError(located(args.file, 0, 0, "--bounds " + b + ": need 0 <= LO <= HI, finite numbers"));
    o.lower[c] = l;
    o.upper[c] = h;
  }
  for (const auto& ch : args.fixed) {
    const size_t c = channel_index(ch, "--fix");
    o.lower[c] = o.upper[c] = r.current()[c];
  }
  OptimizeResult res;
  try {
    res = optimize(r, o);
  } catch (const std::invalid_argument& e) {
    throw InputError(located(args.file, 0, 0, std::string("optimize ") + name + ": " + e.what()));
  }
  fmt::print("{}: weekly budget {:.6g}, objective {} ({} draws, {} evaluations)\n", name, res.budget, res.objective,
             f.n(), res.evaluations);
  fmt::print("{:<24} {:>12} {:>12} {:>8} {:>12} {:>12}\n", "channel", "current", "recommended", "change", "lower",
             "upper");
  for (size_t c = 0; c < C; ++c)
    fmt::print("{:<24} {:>12.6g} {:>12.6g} {:>7.1f}% {:>12.6g} {:>12.6g}\n", channels[c], res.current[c],
               res.recommended[c], res.current[c] > 0 ? 100 * (res.recommended[c] / res.current[c] - 1) : 0.0,
               res.lower[c], res.upper[c]);
  fmt::print("expected {} per week: current {:.6g}, recommended {:.6g}\n", f.model->spec().data.outcome,
             res.outcome_current, res.outcome_recommended);
  fmt::print("lift {:.6g} [94% HDI {:.6g}, {:.6g}], P(recommended beats current) = {:.3f}\n", res.lift.mean,
             res.lift.low, res.lift.high, res.p_better);
  if (!args.json.empty()) {
    auto alloc = [&](const std::vector<double>& v) {
      nlohmann::ordered_json per = nlohmann::ordered_json::object();
      for (size_t c = 0; c < C; ++c) per[channels[c]] = v[c];
      return per;
    };
    nlohmann::ordered_json j;
    j["model"] = name;
    j["budget"] = res.budget;
    j["objective"] = res.objective;
    j["current"] = alloc(res.current);
    j["recommended"] = alloc(res.recommended);
    j["lower"] = alloc(res.lower);
    j["upper"] = alloc(res.upper);
    j["expected_outcome"] = {{"current", res.outcome_current}, {"recommended", res.outcome_recommended}};
    j["lift"] = {{"mean", res.lift.mean}, {"hdi_3%", res.lift.low}, {"hdi_97%", res.lift.high}};
    j["p_better"] = res.p_better;
    const std::string text = j.dump() + "\n";
    write_file_atomically(args.json, text);
  }
  return 0;
}

}  // namespace herd
