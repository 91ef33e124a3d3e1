#pragma once
// Decision outputs from a fitted model (DESIGN.md analysis/): contributions, ROI, response
// curves, marginal ROI, adstock curves, prior-vs-posterior contraction and the budget
// optimizer, all in the user's units and over the posterior draws.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "herd/analysis/response.hpp"
#include "herd/model/model.hpp"
#include "herd/output/model_output.hpp"
#include "herd/output/model_report.hpp"

namespace herd {

/// A fitted model rebuilt from its output: the Model (config attribute plus observed and
/// constant data, so the CSV need not exist any more) and its draws, unconstrained.
struct FittedModel {
  std::unique_ptr<Model> model;
  int chains = 0, draws = 0;
  std::vector<double> theta;  // [(chain * draws + draw) * dim + i]
  int n() const { return chains * draws; }
  const double* draw(int i) const { return theta.data() + static_cast<size_t>(i) * static_cast<size_t>(model->dim()); }
};

/// Rebuilds a model from a ModelOutput read back from `file` (named in errors).
FittedModel restore_model(const ModelOutput& out, const std::string& file);

/// The Model alone (no draws needed: prior checks, simulation).
std::unique_ptr<Model> restore_model_only(const ModelOutput& out, const std::string& file);

/// Expected weekly outcome at steady spend, per posterior draw.
///
/// For channel spends x (national, per week, user units), with the week's other terms at
/// their average: Y(x) = outcome_scale * sum_g H_g(sum_c beta_gc S_c(gain_c x_c share_gc / scale_c)),
/// H_g(u) = b_g + u for normal and student-t likelihoods (b_g the mean of mu minus media over
/// weeks), H_g(u) = B_g e^u for lognormal (B_g the mean of exp(mu minus media)). share_gc is
/// geo g's share of the channel's observed spend (1 without a panel).
class ResponseModel {
 public:
  ResponseModel(const Model& model, const double* theta, int n);
  int draws() const { return n_; }
  int channels() const { return C_; }
  /// Average weekly spend per channel over the data (summed over geos).
  const std::vector<double>& current() const { return current_; }
  /// The spend a channel's increments are measured from: 0, or for log saturation (no zero
  /// point) the lowest positive weekly spend in the data.
  double reference(int c) const { return reference_[static_cast<size_t>(c)]; }
  /// Geo g's share of channel c's observed spend.
  double share(int g, int c) const { return share_[static_cast<size_t>(g * C_ + c)]; }
  /// Y(x) for draw i; grad (C values, optional) gets dY/dx.
  double outcome(int i, const double* x, double* grad) const;
  /// The mean of Y(x) over draws; grad (C values, optional) gets its gradient. Equal to the
  /// mean of outcome(i, ...) but a channel at a time over all draws (the optimizer's inner
  /// loop: a Hill curve's log of the spend is taken once, not once per draw).
  double mean_outcome(const double* x, double* grad) const;
  /// Y(x) of every draw into y (draws() values).
  void outcomes(const double* x, double* y) const;
  /// Y and dY/dx_c for draw i along spends xs[0..k) of channel c, the others at `x`: the
  /// other channels' terms are summed once, so a whole curve costs k terms, not k * C.
  void sweep(int i, int c, const double* x, const double* xs, int k, double* y, double* dy) const;
  /// The draw's curve of channel c in geo g.
  const ChannelCurve<double>& curve(int i, int g, int c) const;
  SaturationType saturation() const { return sat_; }
  int geos() const { return G_; }
  /// Geo g on its own: its spends are the channel's spends in that geo (current: the geo's
  /// average weekly spend; reference: its lowest positive one under log saturation), and its
  /// outcome is the geo's. The geos' outcomes sum to the whole model's.
  ResponseModel geo(int g) const;

 private:
  ResponseModel() = default;
  int n_ = 0, G_ = 1, C_ = 0;
  bool multiplicative_ = false;
  double outcome_scale_ = 1;
  SaturationType sat_ = SaturationType::kLinear;
  std::vector<double> current_, reference_, share_;  // share_[g * C + c]
  std::vector<double> geo_current_, geo_reference_;  // [g * C + c], for geo()
  std::vector<double> base_;                         // [i * G + g]
  std::vector<ChannelCurve<double>> curves_;         // [(i * G + g) * C + c]
  // Hill curves by channel, draws innermost: S = inv_logit(slope (log x + offset)) with
  // offset = log(gain / (scale kappa)), so that a spend's log is shared by every draw.
  struct HillColumn {
    double beta, slope, offset;
  };
  std::vector<HillColumn> hill_;  // [(g * C + c) * n + i]
  // u[i] += the term of channel c in geo g at spend xs for every draw; d (optional) gets
  // d term / d xs per draw.
  void add_terms(int g, int c, double xs, double* u, double* d) const;
  // The sum over geos of H_g(u) per draw (y, optional) and its mean; grad (optional) gets
  // the mean's gradient.
  double accumulate(const double* x, double* y, double* grad) const;
};

/// One draw's weekly contributions relative to each channel's reference spend, summed over
/// geos, contrib[t * C + c], and the baseline[t] (optional: the outcome with every channel at
/// its reference), in outcome units; adstock (optional) gets each channel's adstock weights
/// [c * L + l]. scratch holds model.scratch_size() doubles. For lognormal:
/// exp(mu) - exp(mu - term + term_ref).
void draw_contributions(const Model& model, const ResponseModel& resp, int i, const double* theta, double* contrib,
                        double* baseline, double* scratch, double* adstock = nullptr);

/// Mean and 94% HDI of one quantity over draws (non-finite draws left out; n_finite says how many remain).
struct Interval {
  double mean = 0, low = 0, high = 0;
  int n_finite = 0;
};
Interval interval(const std::vector<double>& draws, double prob = 0.94);

/// How returns are shown for an outcome kind ([data] outcome_kind): revenue per unit of spend
/// is ROAS, spend per conversion is CPA (its reciprocal), anything else is outcome per unit
/// of spend, ROI.
struct ReturnUnits {
  OutcomeKind kind = OutcomeKind::kOther;
  /// Spend per outcome (CPA) rather than outcome per spend.
  bool cost() const { return kind == OutcomeKind::kConversions; }
  /// "ROAS", "CPA" or "ROI".
  const char* average() const;
  /// "mROAS", "mCPA" or "mROI".
  const char* marginal() const;
  /// A return, outcome per unit of spend, in these units: itself or spend per outcome.
  double show(double roi) const { return cost() ? 1 / roi : roi; }
};

/// Prior against posterior for one reported scalar (output_names order).
struct PriorCheck {
  std::string parameter;
  double prior_mean = 0, prior_sd = 0, post_mean = 0, post_sd = 0;
  double contraction = 0;  // 1 - var_post / var_prior; NaN where the prior cannot be drawn
  double shift = 0;        // (post_mean - prior_mean) / prior_sd
  bool converged = true;   // its R-hat and ESS pass the fit's checks (mark_convergence)
  /// Contraction < 0.1 from converged draws: the answer is mostly the prior read back.
  bool prior_dominated() const { return converged && contraction == contraction && contraction < 0.1; }
  /// A contraction from draws that did not converge: not evidence either way.
  bool contraction_unreliable() const { return !converged && contraction == contraction; }
};

/// Contraction and shift of every reported scalar, the prior taken from `prior_draws` exact
/// draws of the model's prior (fixed seed). Empty where the prior is improper (flat()).
/// prior_rows (optional) receives the prior draws of every reported scalar, [draw * k + j].
std::vector<PriorCheck> prior_checks(const Model& model, const double* theta, int n, int prior_draws = 4000,
                                     std::vector<double>* prior_rows = nullptr);

/// Everything `herd analyze` computes for one model.
/// Where a channel's effect comes from: its own data, its group (a pooled channel whose own
/// deviation, beta_z, is prior-dominated: its beta is the group's answer), or the prior (its
/// beta is prior-dominated).
/// kUnconverged: beta (or, pooled, beta_z) did not converge, so its contraction says nothing.
enum class EffectSource { kData, kGroup, kPrior, kUnconverged };

/// "data", "group", "prior", "unconverged": the channels.csv `effect_source` column.
const char* to_string(EffectSource s);

struct Analysis {
  std::string model;
  OutcomeKind outcome_kind = OutcomeKind::kOther;  // how its returns are shown (ReturnUnits)
  std::vector<std::string> channels;
  std::vector<long long> weeks;  // as the week coordinate holds them
  std::string week_units;
  std::vector<double> current_spend, total_spend, reference_spend;
  double total_outcome = 0;
  // Over draws, per channel unless said otherwise.
  std::vector<Interval> contribution_total, contribution_share, roi, cost_per_outcome;
  std::vector<Interval> marginal_roi, diminishing_point, saturation;
  std::vector<Interval> marginal_cost;  // spend per extra unit of outcome at current spend, 1 / marginal ROI per draw
  std::vector<double> p_beyond;  // share of draws whose marginal ROI stays >= 1 up to the curve's end
  std::vector<std::vector<Interval>> contribution;  // [t][c], summed over geos
  std::vector<Interval> baseline;                   // [t]
  std::vector<std::vector<double>> curve_spend;     // [c][p]
  std::vector<std::vector<Interval>> curve;         // [c][p]: incremental outcome per week
  std::vector<std::vector<Interval>> adstock;       // [c][lag]: share of the effect at each lag
  std::vector<Interval> beta_prior, beta_posterior; // [c]
  std::vector<PriorCheck> priors;
  std::vector<EffectSource> effect_source;  // [c]; kData where the prior cannot be drawn
  // Per draw (draw = chain * draws + d), for users' own summaries: ROI and marginal ROI
  // [draw * C + c], the response curves [(draw * C + c) * P + p].
  int chains = 0, draws = 0;
  std::vector<double> roi_draws, marginal_roi_draws, response_draws;
  /// The contraction of beta[channel], NaN where it was not checked.
  double beta_contraction(size_t c) const;
};

/// Marks the prior checks of parameters whose R-hat or ESS failed in summarize's report of
/// the fit as unconverged and derives each channel's effect_source again, so that analyze,
/// optimize and summarize agree on what is prior-dominated.
void mark_convergence(Analysis& a, const ModelReport& fit);

struct AnalysisOptions {
  int curve_points = 61;
  double curve_max = 3.0;  // response curves run to this multiple of the average weekly spend
  int prior_draws = 4000;
};

Analysis analyze(const FittedModel& fit, const std::string& name, const AnalysisOptions& options = {});

/// The analysis as a DataGroup named "analysis" (stat dimension: mean, hdi_3%, hdi_97%).
DataGroup analysis_group(const Analysis& a);

/// CSV files under dir: channels.csv, contributions.csv, response_curves.csv, adstock.csv,
/// priors.csv, each written aside and renamed.
void write_analysis_csv(const std::string& dir, const Analysis& a);

/// The channel table `herd analyze` prints.
std::string channel_table(const Analysis& a);

/// `herd optimize`: the allocation of a weekly budget across channels.
struct OptimizeOptions {
  std::optional<double> budget;              // unset: the current total
  std::vector<double> lower, upper;          // per channel; empty: +-30% of current
  std::string objective = "mean";            // mean | q10 | cvar10
  double bound_fraction = 0.3;
  /// A split to start from instead of the three usual starts (a neighbouring budget's
  /// answer, rescaled to this budget); empty: the usual starts.
  std::vector<double> start;
};

/// Where a channel's recommended spend sits in its box: a channel on a bound would have
/// moved further if allowed, so its answer is the bound's, not the optimum's.
enum class BoundState { kInside, kLower, kUpper, kFixed };

/// "inside", "lower_bound", "upper_bound", "fixed": the JSON's words.
const char* to_string(BoundState s);

struct OptimizeResult {
  std::vector<double> current, recommended, lower, upper;
  std::vector<BoundState> bound;  // per channel
  double budget = 0;
  double outcome_current = 0, outcome_recommended = 0;  // posterior means, per week
  Interval lift;                                         // recommended - current, per draw
  double p_better = 0;
  std::string objective;
  int evaluations = 0;
};

/// Maximizes the objective over the box and sum(x) = budget with NLopt's SLSQP and analytic
/// gradients. Throws InputError-style std::invalid_argument for an infeasible budget.
OptimizeResult optimize(const ResponseModel& r, const OptimizeOptions& options);

/// The marginal return of the best split at its budget: d objective / d budget, the KKT
/// multiplier (the mean gradient over channels clear of their bounds), or a central
/// difference of the optimum's value where every channel sits on a bound. Outcome units per
/// spend unit: marginal ROI.
double marginal_return(const ResponseModel& r, const OptimizeOptions& options, const OptimizeResult& at);

/// Per channel, how sure the posterior is that the split's move of that channel pays: the
/// share of draws in which the recommended spend beats the current one, the other channels
/// at their recommended spends and the money's difference valued at the split's marginal
/// return: Y_i(recommended) - Y_i(recommended with c at current) > marginal *
/// (recommended_c - current_c). (Judged where the split lands, so that the rate is the one
/// measured there: under a lognormal likelihood every channel's return scales with the
/// others.) NaN for a channel that does not move. A move the draws do not agree on (a low
/// share) is smaller than its uncertainty.
std::vector<double> move_confidence(const ResponseModel& r, const OptimizeResult& split, double marginal);

/// The expected return of a split, outcome per unit of spend: the posterior mean of
/// Y(x) - Y(reference) over sum(x) - sum(reference); NaN where the split spends no more than
/// the reference.
double average_return(const ResponseModel& r, const std::vector<double>& x);

/// What a budget search aims at: the best split's marginal return (--target-mroi, and
/// --target-mcpa as its reciprocal) or its average return (--target-roi, --target-cpa).
enum class TargetKind { kMarginal, kAverage };

/// "How much should we spend": the largest total weekly budget within the bounds whose best
/// split still returns >= target (marginal or average, outcome per unit of spend; a scan
/// down from the top of the bounds, as S-shaped curves return less at first, then
/// bisection). At the bounds' minimum (at_min) when no budget returns the target; at their
/// maximum (at_max) when the top still does.
struct TargetResult {
  OptimizeResult split;       // the best split at the budget found
  double marginal_roi = 0;    // of that split
  double roi = 0;             // of that split (average_return)
  int optimizations = 0;      // optimize() calls the search made
  bool at_min = false, at_max = false;  // the target lies outside what the bounds allow
};
TargetResult target_budget(const ResponseModel& r, OptimizeOptions options, TargetKind kind, double target);

/// One point of the efficient frontier: the best split of `budget` and its expected weekly
/// outcome over draws (mean and 94% HDI).
struct FrontierPoint {
  double budget = 0, marginal_roi = 0, roi = 0;
  Interval outcome;
  OptimizeResult split;
};
/// The frontier at `points` budgets evenly spaced from lo to hi (each within the bounds).
std::vector<FrontierPoint> frontier(const ResponseModel& r, OptimizeOptions options, double lo, double hi, int points);

/// A panel's allocation with a budget per geo: each geo's best split of its own budget
/// (geos[g], in that geo's spends, ResponseModel::geo(g)) and the total over geos (spends,
/// bounds and expected outcomes summed; lift and P(better) per draw of the summed outcome;
/// a channel's bound state is the geos' when they all agree, else inside).
struct PanelResult {
  std::vector<OptimizeResult> geos;
  OptimizeResult total;
};
/// per_geo[g]: geo g's budget (unset: its current total), box and objective.
PanelResult optimize_geos(const ResponseModel& r, const std::vector<OptimizeOptions>& per_geo);

/// The objective value and gradient at x (exposed for tests).
double objective_value(const ResponseModel& r, const std::string& objective, const double* x, double* grad);

}  // namespace herd
