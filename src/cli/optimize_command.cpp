// `herd optimize`: a weekly budget split across channels over the posterior, how much to
// spend for a target return, the efficient frontier, and a panel's split geo by geo.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <numeric>
#include <optional>

#include "commands.hpp"
#include "herd/analysis/analysis.hpp"
#include "herd/core/error.hpp"
#include "herd/core/files.hpp"
#include "herd/core/text_table.hpp"
#include "herd/io/hdf5_file.hpp"
#include "herd/io/summary.hpp"

namespace herd {

namespace {

// A bound as given: weekly spend, or "<r>x", r times the channel's current weekly spend.
bool parse_bound(const std::string& text, double current, double& out) {
  if (text.empty()) return false;
  const bool ratio = text.back() == 'x';
  const std::string num = ratio ? text.substr(0, text.size() - 1) : text;
  char* end = nullptr;
  const double v = std::strtod(num.c_str(), &end);
  if (num.empty() || !end || *end != '\0' || !std::isfinite(v)) return false;
  out = ratio ? v * current : v;
  return true;
}

// The box, the budget and the objective of one model, from the flags.
OptimizeOptions options_for(const OptimizeArgs& args, const std::string& name, const ResponseModel& r,
                            const std::vector<std::string>& channels, std::vector<std::string>& used_channels) {
  const size_t C = channels.size();
  const bool wide = args.target_mroi > 0 || args.target_roi > 0 || args.target_cpa > 0 || args.target_mcpa > 0 ||
                    !args.budget_range.empty();
  OptimizeOptions o;
  if (args.budget > 0) o.budget = args.budget;
  o.objective = args.objective;
  o.lower.resize(C);
  o.upper.resize(C);
  for (size_t c = 0; c < C; ++c) {
    // A fixed budget moves money between channels: +-30%. "How much" and the frontier ask
    // what other budgets buy, so each channel may go from 0 to 3x today.
    o.lower[c] = wide ? 0 : r.current()[c] * (1 - o.bound_fraction);
    o.upper[c] = wide ? 3 * r.current()[c] : r.current()[c] * (1 + o.bound_fraction);
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
      throw InputError(located(args.file, 0, 0, "--bounds " + b + ": expected CHANNEL=LO:HI (weekly spend, or "
                                                                  "ratios of current spend: CHANNEL=0.5x:2x)"));
    const size_t c = channel_index(b.substr(0, eq), "--bounds");
    const double now = c < C ? r.current()[c] : 1.0;
    double l = 0, h = 0;
    const bool ok = parse_bound(b.substr(eq + 1, colon - eq - 1), now, l) && parse_bound(b.substr(colon + 1), now, h);
    if (!ok || !(l >= 0) || !(h >= l))
      throw InputError(located(args.file, 0, 0, "--bounds " + b + ": need 0 <= LO <= HI, finite numbers (or ratios 0.5x)"));
    if (c == C) continue;
    o.lower[c] = l;
    o.upper[c] = h;
  }
  for (const auto& ch : args.fixed) {
    const size_t c = channel_index(ch, "--fix");
    if (c == C) continue;
    o.lower[c] = o.upper[c] = r.current()[c];
  }
  return o;
}

// Where each channel's effect comes from, as analyze and summarize say it: a reallocation
// onto a prior-dominated channel moves money on the prior's word.
std::vector<EffectSource> effect_sources(const ModelOutput& mo, const FittedModel& f) {
  Analysis sources;
  sources.channels = f.model->dataset().channels;
  sources.priors = prior_checks(*f.model, f.theta.data(), f.n());
  mark_convergence(sources, report(mo));
  return sources.effect_source;
}

nlohmann::ordered_json per_channel(const std::vector<std::string>& channels, const std::vector<double>& v) {
  nlohmann::ordered_json per = nlohmann::ordered_json::object();
  for (size_t c = 0; c < channels.size(); ++c) per[channels[c]] = v[c];
  return per;
}

// What one model's answers are printed with: its channels, where each effect comes from,
// the units of its returns and the level below which a move is flagged.
struct SplitContext {
  const std::vector<std::string>& channels;
  const std::vector<EffectSource>& sources;
  const std::string& outcome;
  ReturnUnits units;
  double move_level;
  double marginal = 0;  // the split's marginal return under its objective
};

// A return (outcome per unit of spend) in the model's units, "-" where undefined.
std::string fmt_return(const ReturnUnits& u, double roi) {
  const double v = u.show(roi);
  return std::isfinite(v) ? fmt_num(v) : std::string(kDash);
}

// A return for the JSON: its value, or null where undefined.
nlohmann::ordered_json json_number(double v) { return std::isfinite(v) ? nlohmann::ordered_json(v) : nullptr; }

// The returns of a split in the JSON: always per unit of spend, and per conversion too when
// the outcome counts conversions.
void put_returns(nlohmann::ordered_json& j, const ReturnUnits& u, double marginal, double average) {
  j["marginal_roi"] = json_number(marginal);
  j["roi"] = json_number(average);
  if (u.cost()) {
    j["marginal_cpa"] = json_number(u.show(marginal));
    j["cpa"] = json_number(u.show(average));
  }
}

// A split's table (with its flags) on stdout and its JSON keys. A channel's move is judged
// draw by draw against the margin of the expected outcome at the split (whatever the
// objective: a draw has an outcome, not a quantile).
void print_split(const ResponseModel& r, const OptimizeOptions& o, const OptimizeResult& res, const SplitContext& ctx,
                 nlohmann::ordered_json& j) {
  const auto& channels = ctx.channels;
  const size_t C = channels.size();
  OptimizeOptions mean = o;
  mean.objective = "mean";
  const double marginal = o.objective == "mean" ? ctx.marginal : marginal_return(r, mean, res);
  const std::vector<double> sure = move_confidence(r, res, marginal);
  TextTable t({"channel", "current", "recommended", "change", "lower", "upper", "P(move pays)", "note"},
              {true, false, false, false, false, false, false, true});
  bool new_spend = false, on_bound = false, weak = false, unconverged = false, unsure = false;
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
    const EffectSource src = ctx.sources[c];
    if (src == EffectSource::kPrior || src == EffectSource::kGroup) {
      note.push_back(src == EffectSource::kPrior ? "effect from the prior **" : "effect from its group **");
      weak = true;
    } else if (src == EffectSource::kUnconverged) {
      note.push_back("effect did not converge ***");
      unconverged = true;
    }
    if (sure[c] < ctx.move_level) {
      note.push_back("move within its uncertainty +");
      unsure = true;
    }
    std::string joined;
    for (const auto& n : note) joined += (joined.empty() ? "" : "; ") + n;
    t.row({channels[c], fmt_count(res.current[c]), fmt_count(res.recommended[c]), change, fmt_count(res.lower[c]),
           fmt_count(res.upper[c]), std::isfinite(sure[c]) ? fmt_fixed(sure[c], 2) : std::string(kDash), joined});
  }
  if (new_spend) t.note("- change: the channel has no current spend");
  t.note(fmt::format("P(move pays): share of draws in which the channel's move, the others as recommended, gains "
                     "more than the money earns at the expected outcome's margin ({} {}); - : no move",
                     ctx.units.marginal(), fmt_return(ctx.units, marginal)));
  if (on_bound) t.note("* the channel would move further if its bounds allowed: widen them with --bounds CH=LO:HI");
  if (weak)
    t.note("** the data say little about this channel's effect (analyze's effect_source): its move follows the "
           "prior or its group");
  if (unconverged)
    t.note("*** the channel's effect failed its R-hat or ESS check: neither its move nor where its effect comes "
           "from can be trusted yet (fit longer)");
  if (unsure)
    t.note(fmt::format("+ P(move pays) below {} (--move-confidence): the draws do not agree that this move "
                       "beats leaving the channel as it is",
                       fmt_fixed(ctx.move_level, 2)));
  t.print(std::cout);
  std::cout.flush();
  fmt::print("expected {} per week: current {}, recommended {}\n", ctx.outcome, fmt_num(res.outcome_current, 4),
             fmt_num(res.outcome_recommended, 4));
  fmt::print("lift {} [94% HDI {}, {}], P(recommended beats current) = {}\n", fmt_num(res.lift.mean),
             fmt_num(res.lift.low), fmt_num(res.lift.high), fmt_fixed(res.p_better, 3));
  j["budget"] = res.budget;
  j["objective"] = res.objective;
  j["current"] = per_channel(channels, res.current);
  j["recommended"] = per_channel(channels, res.recommended);
  j["lower"] = per_channel(channels, res.lower);
  j["upper"] = per_channel(channels, res.upper);
  nlohmann::ordered_json bound = nlohmann::ordered_json::object(), source = nlohmann::ordered_json::object(),
                         pays = nlohmann::ordered_json::object(), uncertain = nlohmann::ordered_json::object();
  for (size_t c = 0; c < C; ++c) {
    bound[channels[c]] = to_string(res.bound[c]);
    source[channels[c]] = to_string(ctx.sources[c]);
    pays[channels[c]] = json_number(sure[c]);
    uncertain[channels[c]] = sure[c] < ctx.move_level;
  }
  j["bound"] = bound;
  j["effect_source"] = source;
  j["p_move_pays"] = pays;
  j["move_uncertain"] = uncertain;
  j["move_confidence"] = ctx.move_level;
  j["expected_outcome"] = {{"current", res.outcome_current}, {"recommended", res.outcome_recommended}};
  j["lift"] = {{"mean", res.lift.mean}, {"hdi_3%", res.lift.low}, {"hdi_97%", res.lift.high}};
  j["p_better"] = res.p_better;
}

// --budget-range LO:HI as two positive weekly budgets.
std::pair<double, double> budget_range(const OptimizeArgs& args) {
  const std::string& s = args.budget_range;
  const auto colon = s.find(':');
  char* end = nullptr;
  double lo = 0, hi = 0;
  bool ok = colon != std::string::npos;
  if (ok) {
    const std::string a = s.substr(0, colon), b = s.substr(colon + 1);
    lo = std::strtod(a.c_str(), &end);
    ok = !a.empty() && end && *end == '\0';
    hi = std::strtod(b.c_str(), &end);
    ok = ok && !b.empty() && end && *end == '\0' && lo > 0 && hi > lo && std::isfinite(hi);
  }
  if (!ok) throw InputError(located(args.file, 0, 0, "--budget-range " + s + ": expected LO:HI, 0 < LO < HI (weekly)"));
  return {lo, hi};
}

// Each geo's weekly budget from --geo-budget GEO=B / GEO=1.1x and --budget (the geos not
// named share what is left in proportion to their current totals); unset: today's.
std::vector<std::optional<double>> geo_budgets(const OptimizeArgs& args, const std::string& name,
                                               const std::vector<std::string>& geos, const std::vector<double>& now,
                                               std::vector<std::string>& used_geos) {
  std::vector<std::optional<double>> b(geos.size());
  for (const auto& item : args.geo_budgets) {
    const auto eq = item.rfind('=');
    if (eq == std::string::npos)
      throw InputError(located(args.file, 0, 0, "--geo-budget " + item + ": expected GEO=B (weekly) or GEO=1.1x"));
    const std::string geo = item.substr(0, eq);
    const auto it = std::find(geos.begin(), geos.end(), geo);
    if (it == geos.end()) {
      if (args.all) continue;
      std::string known;
      for (const auto& x : geos) known += (known.empty() ? "" : ", ") + x;
      throw InputError(located(args.file, 0, 0, "--geo-budget: model " + name + " has no geo \"" + geo +
                                                    "\" (its geos: " + known + ")"));
    }
    used_geos.push_back(geo);
    const auto g = static_cast<size_t>(it - geos.begin());
    double v = 0;
    if (!parse_bound(item.substr(eq + 1), now[g], v) || !(v > 0))
      throw InputError(located(args.file, 0, 0, "--geo-budget " + item + ": need a positive weekly budget or ratio"));
    if (b[g])
      throw InputError(located(args.file, 0, 0, "--geo-budget: geo \"" + geo + "\" is given twice"));
    b[g] = v;
  }
  if (args.budget > 0) {
    double named = 0, rest_now = 0;
    for (size_t g = 0; g < geos.size(); ++g) (b[g] ? named : rest_now) += b[g] ? *b[g] : now[g];
    const double rest = args.budget - named;
    if (rest_now > 0 && !(rest > 0))
      throw InputError(located(args.file, 0, 0, fmt::format("--budget {}: the geos named by --geo-budget already "
                                                            "take {}, leaving nothing for the others",
                                                            fmt_count(args.budget), fmt_count(named))));
    if (rest_now == 0 && std::abs(rest) > 1e-9 * args.budget)
      throw InputError(located(args.file, 0, 0, fmt::format("--budget {} differs from the sum of every geo's "
                                                            "--geo-budget ({})",
                                                            fmt_count(args.budget), fmt_count(named))));
    for (size_t g = 0; g < geos.size(); ++g)
      if (!b[g]) b[g] = rest * now[g] / rest_now;
  }
  return b;
}

// --per-geo: every geo's split of its own budget (a table each), then the geos side by side
// and the channels' totals. JSON: the total under INTERFACE.md's keys, each geo under "geos".
void optimize_panel(const OptimizeArgs& args, const std::string& name, const ResponseModel& r,
                    const std::vector<std::string>& geos, SplitContext ctx, const std::string& warn,
                    std::vector<std::string>& used_channels, std::vector<std::string>& used_geos,
                    nlohmann::ordered_json& j) {
  for (const auto& b : args.bounds) {
    // A national spend has no meaning in one geo; a ratio of that geo's spend does.
    const auto eq = b.rfind('='), colon = b.find(':', eq == std::string::npos ? 0 : eq);
    if (colon != std::string::npos && (b[colon - 1] != 'x' || b.back() != 'x'))
      throw InputError(located(args.file, 0, 0, "--bounds " + b + " with --per-geo: give ratios of each geo's "
                                                "current spend (CHANNEL=0.5x:2x), not weekly spends"));
  }
  const auto G = static_cast<size_t>(r.geos());
  std::vector<ResponseModel> rg;
  std::vector<double> now(G);
  for (size_t g = 0; g < G; ++g) {
    rg.push_back(r.geo(static_cast<int>(g)));
    now[g] = std::accumulate(rg[g].current().begin(), rg[g].current().end(), 0.0);
  }
  const std::vector<std::optional<double>> budget = geo_budgets(args, name, geos, now, used_geos);
  std::vector<OptimizeOptions> per(G);
  for (size_t g = 0; g < G; ++g) {
    per[g] = options_for(args, name, rg[g], ctx.channels, used_channels);
    per[g].budget = budget[g];
    // Said here, where the geo has a name (optimize would only give the numbers).
    const double lo = std::accumulate(per[g].lower.begin(), per[g].lower.end(), 0.0),
                 hi = std::accumulate(per[g].upper.begin(), per[g].upper.end(), 0.0), want = budget[g].value_or(now[g]);
    if (want < lo * (1 - 1e-12) || want > hi * (1 + 1e-12))
      throw InputError(located(args.file, 0, 0, fmt::format("optimize {}: geo {}'s weekly budget {} lies outside what "
                                                            "its channels' bounds allow [{}, {}] (widen them with "
                                                            "--bounds CH=0.5x:2x, ratios of each geo's spend)",
                                                            name, geos[g], fmt_count(want), fmt_count(lo),
                                                            fmt_count(hi))));
  }
  const PanelResult p = optimize_geos(r, per);
  const OptimizeResult& t = p.total;
  fmt::print("{}: weekly budget {} over {} geos, each geo splitting its own, objective {} ({} draws, {} "
             "evaluations)\n{}",
             name, fmt_count(t.budget), G, t.objective, fmt_count(r.draws()), fmt_count(t.evaluations), warn);
  TextTable by_geo({"geo", "current budget", "budget", "expected " + ctx.outcome, "lift", "94% HDI",
                    ctx.units.marginal()},
                   {true, false, false, false, false, false, false});
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  std::vector<double> marginal(G);
  for (size_t g = 0; g < G; ++g) {
    const OptimizeResult& res = p.geos[g];
    marginal[g] = marginal_return(rg[g], per[g], res);
    ctx.marginal = marginal[g];
    fmt::print("\ngeo {}: weekly budget {} (today {})\n", geos[g], fmt_count(res.budget), fmt_count(now[g]));
    nlohmann::ordered_json e;
    e["geo"] = geos[g];
    print_split(rg[g], per[g], res, ctx, e);
    put_returns(e, ctx.units, marginal[g], average_return(rg[g], res.recommended));
    list.push_back(e);
    by_geo.row({geos[g], fmt_count(now[g]), fmt_count(res.budget), fmt_num(res.outcome_recommended, 4),
                fmt_num(res.lift.mean), fmt_num(res.lift.low) + " .. " + fmt_num(res.lift.high),
                fmt_return(ctx.units, marginal[g])});
  }
  by_geo.note(std::string(ctx.units.marginal()) + ": what the geo's next unit of spend returns at its best split; "
              "geos far apart would gain from moving budget between them (--geo-budget)");
  fmt::print("\n{}: by geo\n", name);
  by_geo.print(std::cout);
  TextTable total({"channel", "current", "recommended", "change"}, {true, false, false, false});
  for (size_t c = 0; c < ctx.channels.size(); ++c)
    total.row({ctx.channels[c], fmt_count(t.current[c]), fmt_count(t.recommended[c]),
               t.current[c] > 0 ? fmt::format("{:+.1f}%", 100 * (t.recommended[c] / t.current[c] - 1))
                                : std::string(kDash)});
  total.note("the sum over geos of each geo's split");
  fmt::print("\n{}: total over geos\n", name);
  total.print(std::cout);
  std::cout.flush();
  fmt::print("expected {} per week: current {}, recommended {}\n", ctx.outcome, fmt_num(t.outcome_current, 4),
             fmt_num(t.outcome_recommended, 4));
  fmt::print("lift {} [94% HDI {}, {}], P(recommended beats current) = {}\n", fmt_num(t.lift.mean),
             fmt_num(t.lift.low), fmt_num(t.lift.high), fmt_fixed(t.p_better, 3));
  j["mode"] = "per_geo";
  j["budget"] = t.budget;
  j["objective"] = t.objective;
  j["current"] = per_channel(ctx.channels, t.current);
  j["recommended"] = per_channel(ctx.channels, t.recommended);
  j["lower"] = per_channel(ctx.channels, t.lower);
  j["upper"] = per_channel(ctx.channels, t.upper);
  j["expected_outcome"] = {{"current", t.outcome_current}, {"recommended", t.outcome_recommended}};
  j["lift"] = {{"mean", t.lift.mean}, {"hdi_3%", t.lift.low}, {"hdi_97%", t.lift.high}};
  j["p_better"] = t.p_better;
  j["geos"] = list;
}

// One model's answer: the table on stdout, its JSON object back. Bounds and fixes name
// channels; under --all a model without one of them is left as it is (the caller checks that
// some model had it).
nlohmann::ordered_json optimize_model(const OptimizeArgs& args, const std::string& name,
                                      std::vector<std::string>& used_channels, std::vector<std::string>& used_geos) {
  const ModelOutput mo = read_for_analysis(args.file, name);
  if (mo.failed())
    throw InputError(located(args.file, 0, 0, "model " + name + " has status \"" + mo.status.text() + "\""));
  const FittedModel f = restore_model(mo, args.file);
  const ResponseModel r(*f.model, f.theta.data(), f.n());
  const auto& channels = f.model->dataset().channels;
  const std::string& outcome = f.model->spec().data.outcome;
  const OptimizeOptions o = options_for(args, name, r, channels, used_channels);
  const std::vector<EffectSource> sources = effect_sources(mo, f);
  const ReturnUnits units{f.model->spec().data.outcome_kind};
  SplitContext ctx{channels, sources, outcome, units, args.move_confidence};
  const std::string warn =
      mo.ok() ? "" : "  status " + mo.status.text() + ": the answer comes from chains that did not pass their checks\n";
  nlohmann::ordered_json j;
  j["model"] = name;
  j["status"] = mo.status.text();
  j["outcome_kind"] = to_string(units.kind);
  try {
    if (args.per_geo || !args.geo_budgets.empty()) {
      const auto& geos = f.model->dataset().geos;
      if (r.geos() > 1) {
        optimize_panel(args, name, r, geos, ctx, warn, used_channels, used_geos, j);
        return j;
      }
      // Under --all a single-geo model answers as usual; named alone, it is a slip.
      if (!args.all)
        throw InputError(located(args.file, 0, 0, "--per-geo: model " + name + " is not a panel (it has one geo)"));
    }
    if (!args.budget_range.empty()) {
      const auto [lo, hi] = budget_range(args);
      const std::vector<FrontierPoint> points = frontier(r, o, lo, hi, args.points);
      fmt::print("{}: efficient frontier, objective {} ({} draws; each channel within its bounds)\n{}", name,
                 o.objective, fmt_count(f.n()), warn);
      TextTable t({"weekly budget", "expected " + outcome, "94% HDI", units.average(), units.marginal()});
      nlohmann::ordered_json list = nlohmann::ordered_json::array();
      for (const auto& p : points) {
        t.row({fmt_count(p.budget), fmt_num(p.outcome.mean, 4), fmt_num(p.outcome.low, 4) + " .. " +
               fmt_num(p.outcome.high, 4), fmt_return(units, p.roi), fmt_return(units, p.marginal_roi)});
        nlohmann::ordered_json e;
        e["budget"] = p.budget;
        e["expected_outcome"] = {{"mean", p.outcome.mean}, {"hdi_3%", p.outcome.low}, {"hdi_97%", p.outcome.high}};
        put_returns(e, units, p.marginal_roi, p.roi);
        e["recommended"] = per_channel(channels, p.split.recommended);
        list.push_back(e);
      }
      t.note(units.cost() ? std::string(units.average()) + ": spend per incremental " + outcome + " of the best split; " +
                                units.marginal() + ": spend per extra " + outcome + " at that budget"
                          : std::string(units.average()) + ": incremental " + outcome + " per unit of spend of the "
                                "best split; " + units.marginal() + ": extra " + outcome + " per extra unit of spend");
      t.print(std::cout);
      std::cout.flush();
      j["mode"] = "frontier";
      j["objective"] = o.objective;
      j["points"] = list;
      return j;
    }
    // The four "how much" questions are one search: a marginal or average return to reach.
    struct Ask {
      const char* flag;
      const char* mode;
      double value;
      TargetKind kind;
      bool cost;
    };
    const Ask asks[] = {{"--target-mroi", "target_mroi", args.target_mroi, TargetKind::kMarginal, false},
                        {"--target-roi", "target_roi", args.target_roi, TargetKind::kAverage, false},
                        {"--target-mcpa", "target_mcpa", args.target_mcpa, TargetKind::kMarginal, true},
                        {"--target-cpa", "target_cpa", args.target_cpa, TargetKind::kAverage, true}};
    for (const Ask& ask : asks) {
      if (!(ask.value > 0)) continue;
      // Revenue per unit of spend and spend per conversion are different questions: asking
      // the other one is a slip the user would want to hear about.
      if (ask.cost && units.kind == OutcomeKind::kRevenue)
        throw InputError(located(args.file, 0, 0, std::string(ask.flag) + ": model " + name + "'s outcome is revenue "
                                 "([data] outcome_kind), so it has no cost per acquisition: ask --target-roi or "
                                 "--target-mroi (ROAS)"));
      if (!ask.cost && units.kind == OutcomeKind::kConversions)
        throw InputError(located(args.file, 0, 0, std::string(ask.flag) + ": model " + name + "'s outcome counts "
                                 "conversions ([data] outcome_kind): ask --target-cpa or --target-mcpa (spend per "
                                 "conversion)"));
      const double roi_target = ask.cost ? 1 / ask.value : ask.value;
      const TargetResult t = target_budget(r, o, ask.kind, roi_target);
      const ReturnUnits shown{ask.cost ? OutcomeKind::kConversions : units.kind};
      const double reached = ask.kind == TargetKind::kMarginal ? t.marginal_roi : t.roi;
      const char* what = ask.kind == TargetKind::kMarginal ? shown.marginal() : shown.average();
      fmt::print("{}: target {} {}: weekly budget {} ({} {}; {} {}), objective {} ({} draws)\n{}", name, what,
                 fmt_num(ask.value), fmt_count(t.split.budget), what, fmt_return(shown, reached),
                 ask.kind == TargetKind::kMarginal ? shown.average() : shown.marginal(),
                 fmt_return(shown, ask.kind == TargetKind::kMarginal ? t.roi : t.marginal_roi), o.objective,
                 fmt_count(f.n()), warn);
      if (t.at_max)
        fmt::print("  every channel at its upper bound still meets the target: the bounds, not the target, set this "
                   "budget (widen them with --bounds CH=LO:HI)\n");
      if (t.at_min)
        fmt::print("  no budget within the bounds meets the target: spend as little as the bounds allow\n");
      ctx.marginal = t.marginal_roi;
      print_split(r, o, t.split, ctx, j);
      j["mode"] = ask.mode;
      j[ask.mode] = ask.value;
      put_returns(j, units, t.marginal_roi, t.roi);
      j["target_reached"] = !t.at_min && !t.at_max;
      return j;
    }
    const OptimizeResult res = optimize(r, o);
    fmt::print("{}: weekly budget {}, objective {} ({} draws, {} evaluations)\n{}", name, fmt_count(res.budget),
               res.objective, fmt_count(f.n()), fmt_count(res.evaluations), warn);
    const double marginal = marginal_return(r, o, res);
    ctx.marginal = marginal;
    print_split(r, o, res, ctx, j);
    j["mode"] = "budget";
    put_returns(j, units, marginal, average_return(r, res.recommended));
    return j;
  } catch (const std::invalid_argument& e) {
    throw InputError(located(args.file, 0, 0, std::string("optimize ") + name + ": " + e.what()));
  }
}

}  // namespace

int run_optimize(const OptimizeArgs& args) {
  const std::vector<std::string> names = select_models(args.file, args.model, args.all);
  std::vector<std::string> used, used_geos;
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  int status = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) fmt::print("\n");
    if (!args.all) {
      all.push_back(optimize_model(args, names[i], used, used_geos));
      continue;
    }
    // --all: a failed model is said and skipped, the rest go on.
    try {
      all.push_back(optimize_model(args, names[i], used, used_geos));
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
  for (const auto& item : args.geo_budgets) {
    const std::string geo = item.substr(0, item.rfind('='));
    if (std::find(used_geos.begin(), used_geos.end(), geo) == used_geos.end())
      throw InputError(located(args.file, 0, 0, "no panel model in this file has geo \"" + geo + "\""));
  }
  // One model: INTERFACE.md's object; --all: an array of them, in the file's order.
  if (!args.json.empty()) write_file_atomically(args.json, (args.all ? all : all.at(0)).dump() + "\n");
  return status;
}

}  // namespace herd
