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
#include "herd/core/text_table.hpp"
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
    Analysis a = analyze(f, name);
    // summarize's convergence per parameter: a contraction from unconverged draws flags nothing.
    ModelReport conv = report(mo);
    std::vector<std::string> converged;
    for (const auto& p : conv.params)
      if (p.converged) converged.push_back(p.parameter);
    mark_convergence(a, converged);
    fmt::print("{} ({} draws{})\n{}\n", name, f.n(), mo.ok() ? "" : "; " + mo.status.text(), channel_table(a));
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

namespace {

// One model's allocation: the table on stdout, its JSON object back. Bounds and fixes name
// channels; under --all a model without one of them is left as it is (the caller checks that
// some model had it).
nlohmann::ordered_json optimize_model(const OptimizeArgs& args, const std::string& name,
                                      std::vector<std::string>& used_channels) {
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
  // The channel's index, or C when an --all model lacks it.
  auto channel_index = [&](const std::string& ch, const std::string& flag) {
    const auto it = std::find(channels.begin(), channels.end(), ch);
    if (it != channels.end()) {
      used_channels.push_back(ch);
      return static_cast<size_t>(it - channels.begin());
    }
    if (args.all) return C;
    throw InputError(located(args.file, 0, 0, flag + ": model " + name + " has no channel \"" + ch + "\""));
  };
  for (const auto& b : args.bounds) {
    // Channel names may hold commas, so only a second "=" shows several bounds in one flag.
    const auto eq = b.rfind('='), colon = b.find(':', eq == std::string::npos ? 0 : eq);
    if (eq != std::string::npos && b.find('=') != eq)
      throw InputError(located(args.file, 0, 0, "--bounds " + b + ": one CHANNEL=LO:HI per flag (--bounds a=0:1 "
                                                                  "--bounds b=0:2), not several joined by commas"));
    if (eq == std::string::npos || colon == std::string::npos)
      throw InputError(located(args.file, 0, 0, "--bounds " + b + ": expected CHANNEL=LO:HI (weekly spend)"));
    char* end = nullptr;
    const std::string lo = b.substr(eq + 1, colon - eq - 1), hi = b.substr(colon + 1);
    const double l = std::strtod(lo.c_str(), &end);
    const bool lo_ok = end && *end == '\0' && !lo.empty();
    const double h = std::strtod(hi.c_str(), &end);
    const bool hi_ok = end && *end == '\0' && !hi.empty();
    if (!lo_ok || !hi_ok || !(l >= 0) || !(h >= l) || !std::isfinite(h))
      throw InputError(located(args.file, 0, 0, "--bounds " + b + ": need 0 <= LO <= HI, finite numbers"));
    const size_t c = channel_index(b.substr(0, eq), "--bounds");
    if (c == C) continue;
    o.lower[c] = l;
    o.upper[c] = h;
  }
  for (const auto& ch : args.fixed) {
    const size_t c = channel_index(ch, "--fix");
    if (c == C) continue;
    o.lower[c] = o.upper[c] = r.current()[c];
  }
  OptimizeResult res;
  try {
    res = optimize(r, o);
  } catch (const std::invalid_argument& e) {
    throw InputError(located(args.file, 0, 0, std::string("optimize ") + name + ": " + e.what()));
  }
  // Where each channel's effect comes from, as analyze and summarize say it: a reallocation
  // onto a prior-dominated channel moves money on the prior's word.
  Analysis sources;
  sources.channels = channels;
  sources.priors = prior_checks(*f.model, f.theta.data(), f.n());
  std::vector<std::string> converged;
  for (const auto& p : report(mo).params)
    if (p.converged) converged.push_back(p.parameter);
  mark_convergence(sources, converged);
  fmt::print("{}: weekly budget {}, objective {} ({} draws, {} evaluations)\n", name, fmt_count(res.budget),
             res.objective, fmt_count(f.n()), fmt_count(res.evaluations));
  if (!mo.ok())
    fmt::print("  status {}: the allocation comes from chains that did not pass their checks\n", mo.status.text());
  TextTable t({"channel", "current", "recommended", "change", "lower", "upper", "note"},
              {true, false, false, false, false, false, true});
  bool new_spend = false, on_bound = false, weak = false, unconverged = false;
  for (size_t c = 0; c < C; ++c) {
    // A channel with no current spend has no percentage change: "-" and a footnote.
    std::string change = kDash;
    if (res.current[c] > 0) {
      change = fmt::format("{:+.1f}%", 100 * (res.recommended[c] / res.current[c] - 1));
    } else {
      new_spend = new_spend || res.recommended[c] > 0;
    }
    std::vector<std::string> note;
    const BoundState b = res.bound[c];
    if (b == BoundState::kUpper || b == BoundState::kLower) {
      note.push_back(b == BoundState::kUpper ? "at upper bound *" : "at lower bound *");
      on_bound = true;
    }
    if (b == BoundState::kFixed) note.push_back("fixed");
    const EffectSource src = sources.effect_source[c];
    if (src == EffectSource::kPrior || src == EffectSource::kGroup) {
      note.push_back(src == EffectSource::kPrior ? "effect from the prior **" : "effect from its group **");
      weak = true;
    } else if (src == EffectSource::kUnconverged) {
      note.push_back("effect did not converge ***");
      unconverged = true;
    }
    std::string joined;
    for (const auto& n : note) joined += (joined.empty() ? "" : "; ") + n;
    t.row({channels[c], fmt_count(res.current[c]), fmt_count(res.recommended[c]), change, fmt_count(res.lower[c]),
           fmt_count(res.upper[c]), joined});
  }
  if (new_spend) t.note("- change: the channel has no current spend");
  if (on_bound) t.note("* the channel would move further if its bounds allowed: widen them with --bounds CH=LO:HI");
  if (weak)
    t.note("** the data say little about this channel's effect (analyze's effect_source): its move follows the "
           "prior or its group");
  if (unconverged)
    t.note("*** the channel's effect failed its R-hat or ESS check: neither its move nor where its effect comes "
           "from can be trusted yet (fit longer)");
  t.print(std::cout);
  std::cout.flush();
  fmt::print("expected {} per week: current {}, recommended {}\n", f.model->spec().data.outcome,
             fmt_num(res.outcome_current, 4), fmt_num(res.outcome_recommended, 4));
  fmt::print("lift {} [94% HDI {}, {}], P(recommended beats current) = {}\n", fmt_num(res.lift.mean),
             fmt_num(res.lift.low), fmt_num(res.lift.high), fmt_fixed(res.p_better, 3));
  auto alloc = [&](const std::vector<double>& v) {
    nlohmann::ordered_json per = nlohmann::ordered_json::object();
    for (size_t c = 0; c < C; ++c) per[channels[c]] = v[c];
    return per;
  };
  nlohmann::ordered_json j;
  j["model"] = name;
  j["status"] = mo.status.text();
  j["budget"] = res.budget;
  j["objective"] = res.objective;
  j["current"] = alloc(res.current);
  j["recommended"] = alloc(res.recommended);
  j["lower"] = alloc(res.lower);
  j["upper"] = alloc(res.upper);
  nlohmann::ordered_json bound = nlohmann::ordered_json::object(), source = nlohmann::ordered_json::object();
  for (size_t c = 0; c < C; ++c) {
    bound[channels[c]] = to_string(res.bound[c]);
    source[channels[c]] = to_string(sources.effect_source[c]);
  }
  j["bound"] = bound;
  j["effect_source"] = source;
  j["expected_outcome"] = {{"current", res.outcome_current}, {"recommended", res.outcome_recommended}};
  j["lift"] = {{"mean", res.lift.mean}, {"hdi_3%", res.lift.low}, {"hdi_97%", res.lift.high}};
  j["p_better"] = res.p_better;
  return j;
}

}  // namespace

int run_optimize(const OptimizeArgs& args) {
  const std::vector<std::string> names = select_models(args.file, args.model, args.all);
  std::vector<std::string> used;
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  int status = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) fmt::print("\n");
    if (!args.all) {
      all.push_back(optimize_model(args, names[i], used));
      continue;
    }
    // --all: a failed model is said and skipped, the rest go on.
    try {
      all.push_back(optimize_model(args, names[i], used));
    } catch (const InputError& e) {
      fmt::print(stderr, "herd: error: {}\n", e.what());
      status = 1;
    }
  }
  for (const auto* list : {&args.bounds, &args.fixed})
    for (const auto& item : *list) {
      const std::string ch = list == &args.fixed ? item : item.substr(0, item.rfind('='));
      if (std::find(used.begin(), used.end(), ch) == used.end())
        throw InputError(located(args.file, 0, 0, "no model in this file has channel \"" + ch + "\""));
    }
  // One model: INTERFACE.md's object; --all: an array of them, in the file's order.
  if (!args.json.empty()) write_file_atomically(args.json, (args.all ? all : all.at(0)).dump() + "\n");
  return status;
}

}  // namespace herd
