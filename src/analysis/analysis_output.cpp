// An analysis written out: its HDF5 group, its CSV files and the printed channel table.
#include "herd/analysis/analysis.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "herd/config/model_config.hpp"
#include "herd/core/csv_writer.hpp"
#include "herd/core/text_table.hpp"
#include "herd/core/error.hpp"
#include "herd/core/files.hpp"
#include "herd/diagnostics/diagnostics.hpp"
#include "herd/engine/fit.hpp"
#include "herd/engine/sampler.hpp"
#include "herd/engine/simulate.hpp"
#include "herd/hmc/philox.hpp"
#include "herd/model/log_density.hpp"

namespace herd {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

namespace {

Coord text_coord(const std::string& name, std::vector<std::string> labels) {
  Coord c;
  c.name = name;
  c.labels = std::move(labels);
  return c;
}

Coord int_coord(const std::string& name, size_t n) {
  Coord c;
  c.name = name;
  for (size_t i = 0; i < n; ++i) c.ints.push_back(static_cast<long long>(i));
  return c;
}

void push_stats(std::vector<double>& v, const Interval& i) {
  v.push_back(i.mean);
  v.push_back(i.low);
  v.push_back(i.high);
}

Variable stat_var(const std::string& name, std::vector<std::string> dims, const std::string& long_name) {
  Variable v;
  v.name = name;
  v.dims = std::move(dims);
  v.dims.push_back("stat");
  v.attrs["long_name"] = long_name;
  return v;
}


}  // namespace

DataGroup analysis_group(const Analysis& a) {
  DataGroup g;
  g.name = "analysis";
  g.coords.push_back(text_coord("channel", a.channels));
  Coord week;
  week.name = "week";
  week.ints = a.weeks;
  week.units = a.week_units;
  g.coords.push_back(week);
  g.coords.push_back(text_coord("stat", {"mean", "hdi_3%", "hdi_97%"}));
  const size_t P = a.curve_spend.empty() ? 0 : a.curve_spend[0].size();
  const size_t L = a.adstock.empty() ? 0 : a.adstock[0].size();
  g.coords.push_back(int_coord("point", P));
  g.coords.push_back(int_coord("lag", L));
  auto per_channel = [&](const std::string& name, const std::vector<Interval>& v, const std::string& what) {
    Variable x = stat_var(name, {"channel"}, what);
    for (const auto& i : v) push_stats(x.values, i);
    g.vars.push_back(std::move(x));
  };
  auto plain = [&](const std::string& name, std::vector<std::string> dims, std::vector<double> values,
                   const std::string& what) {
    Variable x;
    x.name = name;
    x.dims = std::move(dims);
    x.values = std::move(values);
    x.attrs["long_name"] = what;
    g.vars.push_back(std::move(x));
  };
  plain("current_spend", {"channel"}, a.current_spend, "average weekly spend in the data");
  plain("total_spend", {"channel"}, a.total_spend, "spend over the data");
  plain("reference_spend", {"channel"}, a.reference_spend,
        "weekly spend increments are measured from (0; the lowest weekly spend for log saturation)");
  per_channel("contribution_total", a.contribution_total, "contribution over the data, outcome units");
  per_channel("contribution_share", a.contribution_share, "contribution / total observed outcome");
  per_channel("roi", a.roi, "contribution / spend");
  per_channel("cost_per_outcome", a.cost_per_outcome, "spend / contribution");
  per_channel("marginal_roi", a.marginal_roi, "d expected weekly outcome / d weekly spend at current spend");
  per_channel("marginal_cost_per_outcome", a.marginal_cost,
              "d weekly spend / d expected weekly outcome at current spend (1 / marginal_roi per draw)");
  per_channel("diminishing_point", a.diminishing_point,
              "weekly spend where marginal ROI falls below 1 (draws where it does)");
  plain("p_beyond", {"channel"}, a.p_beyond, "share of draws whose marginal ROI stays >= 1 over the curve");
  per_channel("saturation", a.saturation, "fraction of the curve's ceiling reached at current spend");
  per_channel("beta_prior", a.beta_prior, "channel effect under the prior");
  per_channel("beta_posterior", a.beta_posterior, "channel effect under the posterior");
  {
    Variable x = stat_var("contribution", {"week", "channel"}, "weekly contribution, outcome units");
    for (const auto& row : a.contribution)
      for (const auto& i : row) push_stats(x.values, i);
    g.vars.push_back(std::move(x));
    Variable b = stat_var("baseline", {"week"}, "weekly outcome with every channel at its reference spend");
    for (const auto& i : a.baseline) push_stats(b.values, i);
    g.vars.push_back(std::move(b));
  }
  {
    std::vector<double> spend;
    for (const auto& row : a.curve_spend) spend.insert(spend.end(), row.begin(), row.end());
    plain("curve_spend", {"channel", "point"}, spend, "weekly spend along the response curve");
    Variable x = stat_var("response", {"channel", "point"}, "incremental expected outcome per week, steady state");
    for (const auto& row : a.curve)
      for (const auto& i : row) push_stats(x.values, i);
    g.vars.push_back(std::move(x));
    Variable ad = stat_var("adstock", {"channel", "lag"}, "share of the effect at each weekly lag");
    for (const auto& row : a.adstock)
      for (const auto& i : row) push_stats(ad.values, i);
    g.vars.push_back(std::move(ad));
  }
  if (a.chains > 0 && !a.roi_draws.empty()) {
    // Per draw, in the posterior's chain and draw layout, for summaries of one's own. The
    // curves are the bulk (draws x channels x points): float32, 7 significant digits.
    g.coords.push_back(int_coord("chain", static_cast<size_t>(a.chains)));
    g.coords.push_back(int_coord("draw", static_cast<size_t>(a.draws)));
    plain("roi_draws", {"chain", "draw", "channel"}, a.roi_draws, "contribution / spend, per draw");
    plain("marginal_roi_draws", {"chain", "draw", "channel"}, a.marginal_roi_draws,
          "d expected weekly outcome / d weekly spend at current spend, per draw");
    plain("response_draws", {"chain", "draw", "channel", "point"}, a.response_draws,
          "incremental expected outcome per week along curve_spend, per draw");
    g.vars.back().type = VarType::kFloat32;
  }
  if (!a.priors.empty()) {
    std::vector<std::string> names;
    std::vector<double> con, shift, converged;
    for (const auto& p : a.priors) {
      names.push_back(p.parameter);
      con.push_back(p.contraction);
      shift.push_back(p.shift);
      converged.push_back(p.converged ? 1 : 0);
    }
    g.coords.push_back(text_coord("parameter", names));
    plain("contraction", {"parameter"}, con, "1 - posterior variance / prior variance");
    plain("converged", {"parameter"}, converged, "1 where R-hat and ESS passed: only then does contraction mean anything");
    plain("prior_shift", {"parameter"}, shift, "(posterior mean - prior mean) / prior sd");
  }
  return g;
}

void write_analysis_csv(const std::string& dir, const Analysis& a) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  const size_t C = a.channels.size();
  const auto interval = [](CsvWriter& w, const Interval& i) { w.cell(i.mean).cell(i.low).cell(i.high); };
  const auto interval_header = [](std::vector<std::string>& h, const std::string& q) {
    for (const char* s : {"_mean", "_hdi_3%", "_hdi_97%"}) h.push_back(q + s);
  };
  {
    std::vector<std::string> h = {"channel", "current_spend", "total_spend", "reference_spend"};
    for (const char* q : {"contribution", "share", "roi", "cost_per_outcome", "marginal_roi", "marginal_cost_per_outcome",
                          "diminishing_point"})
      interval_header(h, q);
    h.push_back("p_beyond");
    for (const char* q : {"saturation", "beta_prior", "beta"}) interval_header(h, q);
    h.push_back("beta_contraction");
    h.push_back("prior_dominated");
    h.push_back("effect_source");
    CsvWriter w(h);
    for (size_t c = 0; c < C; ++c) {
      const double con = a.beta_contraction(c);
      w.cell(a.channels[c]).cell(a.current_spend[c]).cell(a.total_spend[c]).cell(a.reference_spend[c]);
      for (const auto* q : {&a.contribution_total, &a.contribution_share, &a.roi, &a.cost_per_outcome, &a.marginal_roi,
                            &a.marginal_cost, &a.diminishing_point})
        interval(w, (*q)[c]);
      w.cell(a.p_beyond[c]);
      for (const auto* q : {&a.saturation, &a.beta_prior, &a.beta_posterior}) interval(w, (*q)[c]);
      w.cell(con).cell(a.effect_source[c] == EffectSource::kPrior ? 1 : 0).cell(to_string(a.effect_source[c]));
      w.end_row();
    }
    w.write((fs::path(dir) / "channels.csv").string());
  }
  {
    CsvWriter w({"week", "series", "mean", "hdi_3%", "hdi_97%"});
    for (size_t t = 0; t < a.weeks.size(); ++t) {
      const std::string week = a.week_units.empty() ? std::to_string(a.weeks[t]) : iso_date(a.weeks[t]);
      w.cell(week).cell("baseline");
      interval(w, a.baseline[t]);
      w.end_row();
      for (size_t c = 0; c < C; ++c) {
        w.cell(week).cell(a.channels[c]);
        interval(w, a.contribution[t][c]);
        w.end_row();
      }
    }
    w.write((fs::path(dir) / "contributions.csv").string());
  }
  {
    CsvWriter w({"channel", "spend", "mean", "hdi_3%", "hdi_97%"});
    for (size_t c = 0; c < C; ++c)
      for (size_t p = 0; p < a.curve_spend[c].size(); ++p) {
        w.cell(a.channels[c]).cell(a.curve_spend[c][p]);
        interval(w, a.curve[c][p]);
        w.end_row();
      }
    w.write((fs::path(dir) / "response_curves.csv").string());
  }
  {
    CsvWriter w({"channel", "lag", "mean", "hdi_3%", "hdi_97%"});
    for (size_t c = 0; c < C; ++c)
      for (size_t l = 0; l < a.adstock[c].size(); ++l) {
        w.cell(a.channels[c]).cell(l);
        interval(w, a.adstock[c][l]);
        w.end_row();
      }
    w.write((fs::path(dir) / "adstock.csv").string());
  }
  {
    CsvWriter w({"parameter", "prior_mean", "prior_sd", "posterior_mean", "posterior_sd", "contraction", "shift",
                 "prior_dominated", "converged"});
    for (const auto& p : a.priors)
      w.row(p.parameter, p.prior_mean, p.prior_sd, p.post_mean, p.post_sd, p.contraction, p.shift,
            p.prior_dominated() ? 1 : 0, p.converged ? 1 : 0);
    w.write((fs::path(dir) / "priors.csv").string());
  }
}

std::string channel_table(const Analysis& a) {
  // Revenue shows ROAS, conversions their cost (CPA: spend per conversion, per draw), anything
  // else outcome per unit of spend.
  const ReturnUnits u{a.outcome_kind};
  const std::vector<Interval>& avg = u.cost() ? a.cost_per_outcome : a.roi;
  const std::vector<Interval>& marginal = u.cost() ? a.marginal_cost : a.marginal_roi;
  TextTable t({"channel", "spend/wk", "contribution", "94% HDI", u.average(), "94% HDI", u.marginal(), "dim. point",
               "sat.", "effect from"},
              {true, false, false, false, false, false, false, false, false, true});
  bool beyond = false, unbounded = false;
  for (size_t c = 0; c < a.channels.size(); ++c) {
    const Interval& ct = a.contribution_total[c];
    // A cost per conversion whose contribution may be 0 or below has no upper end: its mean
    // and interval over draws would be noise from near-zero divisors.
    const bool open_avg = u.cost() && !(ct.low > 0), open_marginal = u.cost() && !(a.marginal_roi[c].low > 0);
    unbounded |= open_avg || open_marginal;
    // Marginal ROI 1 is break-even only when the outcome is money: for conversions no point.
    const bool far = !u.cost() && a.p_beyond[c] > 0.5;
    beyond |= far;
    const EffectSource src = a.effect_source.empty() ? EffectSource::kData : a.effect_source[c];
    t.row({a.channels[c], fmt_num(a.current_spend[c]), fmt_num(ct.mean), fmt_num(ct.low) + " .. " + fmt_num(ct.high),
           open_avg ? std::string(kDash) : fmt_num(avg[c].mean),
           open_avg ? std::string("unbounded +") : fmt_num(avg[c].low) + " .. " + fmt_num(avg[c].high),
           open_marginal ? std::string("unbounded +") : fmt_num(marginal[c].mean),
           u.cost() ? std::string(kDash) : far ? "> 3x *" : fmt_num(a.diminishing_point[c].mean),
           fmt_num(a.saturation[c].mean, 2),
           src == EffectSource::kData          ? "data"
           : src == EffectSource::kGroup       ? "its group (own deviation prior-dominated)"
           : src == EffectSource::kUnconverged ? "unknown (did not converge)"
                                               : "the prior (prior-dominated)"});
  }
  if (beyond) t.note("* marginal ROI stays >= 1 up to 3x the current spend in most draws: no diminishing point in range");
  if (unbounded)
    t.note("+ the 94% HDI of the channel's contribution (or of its marginal return) reaches 0: its cost per "
           "conversion has no upper end");
  if (u.cost())
    t.note(std::string("CPA: spend per incremental conversion; mCPA: spend per extra conversion at current spend; ") +
           "- : does not apply or undefined (dim. point: where the marginal return falls to 1, break-even only "
           "for revenue)");
  else
    t.note("- : does not apply or undefined; dim. point: weekly spend where marginal ROI falls to 1");
  std::ostringstream o;
  t.print(o);
  return o.str();
}

}  // namespace herd
