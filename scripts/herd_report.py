#!/usr/bin/python3
"""One-page HTML report for a model analysed with `herd analyze --out DIR`.

  python3 scripts/herd_report.py MODEL_DIR [--compare OTHER_MODEL_DIR ...]

Reads meta.json and the CSV files that `herd analyze` writes into MODEL_DIR and writes
MODEL_DIR/report.html (self-contained: figures embedded as base64 PNG) plus each figure as
MODEL_DIR/plots/*.png. --compare adds other models' posterior channel effects to the forest
plot (e.g. unpooled vs pooled variants); those directories need meta.json and channels.csv.

Needs Debian's python3 with python3-matplotlib (Agg backend); nothing else beyond the
standard library and the numpy that matplotlib depends on.
"""
import argparse
import base64
import csv
import datetime
import html
import io
import json
import math
import os
import sys

try:
    import matplotlib
    matplotlib.use("Agg")  # no display on build machines
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MaxNLocator
except ImportError:
    sys.exit("herd_report: matplotlib is missing (apt-get install python3-matplotlib; "
             "run with /usr/bin/python3 if another python3 comes first on PATH)")

DPI = 110
REQUIRED = {
    "channels.csv": ["channel", "current_spend", "beta_mean", "beta_hdi_3%", "beta_hdi_97%",
                     "beta_prior_hdi_3%", "beta_prior_hdi_97%", "prior_dominated"],
    "contributions.csv": ["week", "series", "mean", "hdi_3%", "hdi_97%"],
    "response_curves.csv": ["channel", "spend", "mean", "hdi_3%", "hdi_97%"],
    "adstock.csv": ["channel", "lag", "mean", "hdi_3%", "hdi_97%"],
    "priors.csv": ["parameter", "prior_mean", "prior_sd", "posterior_mean", "posterior_sd",
                   "contraction", "shift", "prior_dominated"],
    "diagnostics.csv": ["parameter", "mean", "sd", "hdi_3%", "hdi_97%", "ess_bulk", "ess_tail", "r_hat"],
}
COMPARE_FILES = ("meta.json", "channels.csv")  # the forest plot is all a compared model feeds


def fail(msg):
    sys.exit("herd_report: " + msg)


def num(s):
    """Parses herd's numbers; anything unparseable (empty, 'nan', '-') becomes nan."""
    try:
        return float(s)
    except (TypeError, ValueError):
        return math.nan


def read_csv(path, columns):
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        header = reader.fieldnames or []
    missing = [c for c in columns if c not in header]
    if missing:
        fail(f"{path} lacks column(s) {', '.join(missing)}")
    return rows


def load(d, files):
    for name in files:
        if not os.path.isfile(os.path.join(d, name)):
            fail(f"missing input file {os.path.join(d, name)}")
    try:
        with open(os.path.join(d, "meta.json")) as f:
            m = {"meta": json.load(f), "dir": d}
    except ValueError as e:
        fail(f"{os.path.join(d, 'meta.json')} is not valid JSON: {e}")
    for name in files:
        if name.endswith(".csv"):
            m[name[:-4]] = read_csv(os.path.join(d, name), REQUIRED[name])
    return m


def fmt(x, pct=False):
    """3 significant figures, thousands separators, '—' for nan/inf."""
    x = num(x) if not isinstance(x, float) else x
    if not math.isfinite(x):
        return "—"
    if pct:
        return fmt(100 * x) + "%"
    r = float(f"{x:.3g}")  # round first so 999.7 becomes 1,000 rather than 1e+03
    return f"{r:,.0f}" if abs(r) >= 1000 else f"{r:g}"


def fmt_iv(mean, lo, hi, pct=False):
    if not math.isfinite(num(lo)) and not math.isfinite(num(hi)):
        return fmt(num(mean), pct)
    return f"{fmt(num(mean), pct)} [{fmt(num(lo), pct)}, {fmt(num(hi), pct)}]"


def short(x, _pos=None):
    """Compact tick labels (12k, 3.4M) so spend axes do not collide in small panels."""
    for div, suf in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.3g}{suf}"
    return f"{x:.3g}"


def colours(names):
    cmap = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    return {n: cmap(i % cmap.N) for i, n in enumerate(names)}


class Figures:
    """Saves each figure to plots/ and keeps its base64 for the page."""

    def __init__(self, out_dir):
        self.dir = os.path.join(out_dir, "plots")
        os.makedirs(self.dir, exist_ok=True)
        for old in ("forest", "response_curves", "contributions", "roi", "adstock"):  # no stale figures
            if os.path.exists(os.path.join(self.dir, old + ".png")):
                os.remove(os.path.join(self.dir, old + ".png"))

    def save(self, fig, name):
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")  # keeps outside legends
        plt.close(fig)
        data = buf.getvalue()
        with open(os.path.join(self.dir, name + ".png"), "wb") as f:
            f.write(data)
        return base64.b64encode(data).decode("ascii")


def forest(models, fig_store):
    primary = models[0]
    chans = [r["channel"] for r in primary["channels"]]
    by_model = [{r["channel"]: r for r in m["channels"]} for m in models]
    mcol = plt.get_cmap("tab10")
    rows, labels, values = [], [], []
    y = 0.0
    for ch in chans:
        present = [(k, bm[ch]) for k, bm in enumerate(by_model) if ch in bm]
        n = len(present)
        flagged = any(num(r["prior_dominated"]) == 1 for _, r in present)
        labels.append((y + (n - 1) * 0.3 / 2, ch + (" (prior-dominated)" if flagged else "")))
        for j, (k, r) in enumerate(present):
            v = [num(r[c]) for c in ("beta_prior_hdi_3%", "beta_prior_hdi_97%", "beta_mean",
                                     "beta_hdi_3%", "beta_hdi_97%")]
            rows.append((y + j * 0.3, k, v, num(r["prior_dominated"]) == 1))
            values += [x for x in v if math.isfinite(x)]
        y += max(n, 1) * 0.3 + 0.6
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.32 * len(rows) + 0.25 * len(chans)))
    for yy, k, (plo, phi, mean, lo, hi), pd in rows:
        c = mcol(k % 10)
        if math.isfinite(plo) and math.isfinite(phi):
            ax.plot([plo, phi], [yy, yy], color="#cccccc", lw=7, solid_capstyle="butt", zorder=1)
        if math.isfinite(lo) and math.isfinite(hi):
            ax.plot([lo, hi], [yy, yy], color=c, lw=2, zorder=2)
        if math.isfinite(mean):
            ax.plot([mean], [yy], "o", color=c, mfc="white" if pd else c, ms=6, zorder=3)
    ax.set_yticks([p for p, _ in labels], [lab for _, lab in labels])
    ax.invert_yaxis()
    if values and min(values) > 0 and max(values) / min(values) > 100:
        ax.set_xscale("log")
    ax.set_xlabel("channel effect (beta)")
    ax.grid(axis="x", alpha=0.3)
    handles = [plt.Line2D([], [], color="#cccccc", lw=7, label="prior 94%")]
    for k, m in enumerate(models):
        handles.append(plt.Line2D([], [], color=mcol(k % 10), marker="o", lw=2,
                                  label=f"{m['label']} posterior 94%"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    return fig_store.save(fig, "forest")


def response_curves(m, col, fig_store):
    curves = {}
    for r in m["response_curves"]:
        curves.setdefault(r["channel"], []).append([num(r[c]) for c in ("spend", "mean", "hdi_3%", "hdi_97%")])
    info = {r["channel"]: r for r in m["channels"]}
    chans = [c for c in info if c in curves] + [c for c in curves if c not in info]
    if not chans:
        return None
    ncol = min(3, len(chans))
    nrow = math.ceil(len(chans) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.6 * ncol, 2.7 * nrow + 0.4), squeeze=False)
    for ax in axes.flat[len(chans):]:
        ax.set_visible(False)
    for ax, ch in zip(axes.flat, chans):
        pts = sorted(p for p in curves[ch] if math.isfinite(p[0]))
        xs = [p[0] for p in pts]
        ax.fill_between(xs, [p[2] for p in pts], [p[3] for p in pts], color=col.get(ch, "C0"), alpha=0.2, lw=0)
        ax.plot(xs, [p[1] for p in pts], color=col.get(ch, "C0"), lw=1.8)
        r = info.get(ch, {})
        cur, dim = num(r.get("current_spend")), num(r.get("diminishing_point_mean"))
        if math.isfinite(cur):
            ax.axvline(cur, color="k", ls="--", lw=1)
        if xs and math.isfinite(dim) and xs[0] <= dim <= xs[-1]:
            ax.axvline(dim, color="firebrick", ls=":", lw=1.5)
        ax.set_title(ch, fontsize=10)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.xaxis.set_major_formatter(FuncFormatter(short))
        ax.yaxis.set_major_formatter(FuncFormatter(short))
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    fig.supxlabel("weekly spend")
    fig.supylabel(f"incremental {m['meta'].get('outcome', 'outcome')} per week")
    fig.legend(handles=[plt.Line2D([], [], color="k", ls="--", label="current weekly spend"),
                        plt.Line2D([], [], color="firebrick", ls=":", label="marginal ROI falls below 1")],
               loc="upper center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False, fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))
    return fig_store.save(fig, "response_curves")


def parse_week(w):
    try:
        return datetime.date.fromisoformat(w)
    except ValueError:
        return None


def contributions(m, col, fig_store):
    series, weeks = {}, []
    for r in m["contributions"]:
        if r["week"] not in weeks:
            weeks.append(r["week"])
        series.setdefault(r["series"], {})[r["week"]] = num(r["mean"])
    if not weeks:
        return None
    dates = [parse_week(w) for w in weeks]
    x = dates if all(dates) else [num(w) for w in weeks]
    names = (["baseline"] if "baseline" in series else []) + [s for s in series if s != "baseline"]
    ys = [[v if math.isfinite(v) else 0.0 for v in (series[s].get(w, 0.0) for w in weeks)] for s in names]
    cs = ["#b0b0b0" if s == "baseline" else col.get(s, "C0") for s in names]
    fig, ax = plt.subplots(figsize=(10, 4.2))
    ax.stackplot(x, *ys, labels=names, colors=cs, alpha=0.9, lw=0)
    if all(dates):
        loc = mdates.AutoDateLocator(maxticks=10)
        ax.xaxis.set_major_locator(loc)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
    else:
        ax.set_xlabel("week")
    ax.yaxis.set_major_formatter(FuncFormatter(short))
    ax.set_ylabel(f"{m['meta'].get('outcome', 'outcome')} per week")
    ax.margins(x=0)
    ax.grid(alpha=0.3)
    h, lab = ax.get_legend_handles_labels()  # reversed so the legend reads top-down like the stack
    ax.legend(h[::-1], lab[::-1], loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False,
              fontsize=9, ncol=1 if len(names) <= 16 else 2)
    return fig_store.save(fig, "contributions")


def return_units(m):
    """How the model's returns are shown ([data] outcome_kind): (average stem, marginal stem,
    average title, marginal title, column label, marginal column label, cost?)."""
    kind = m["meta"].get("outcome_kind", "other")
    if kind == "conversions":
        return ("cost_per_outcome", "marginal_cost_per_outcome", "CPA (spend / incremental conversion)",
                "marginal CPA at current spend", "CPA [94%]", "marginal CPA [94%]", True)
    if kind == "revenue":
        return ("roi", "marginal_roi", "ROAS (incremental revenue / spend)", "marginal ROAS at current spend",
                "ROAS [94%]", "marginal ROAS [94%]", False)
    return ("roi", "marginal_roi", "ROI (contribution / spend)", "marginal ROI at current spend",
            "ROI [94%]", "marginal ROI [94%]", False)


def roi(m, col, fig_store):
    avg, marg, avg_title, marg_title, _, _, cost = return_units(m)
    rows = [r for r in m["channels"] if avg + "_mean" in r]
    if not rows:
        return None
    key = lambda r: num(r[avg + "_mean"]) if math.isfinite(num(r[avg + "_mean"])) else -math.inf
    # Ascending, so the best channel ends up at the top of a barh chart (the cheapest, for costs).
    rows.sort(key=key, reverse=cost)
    fig, (a1, a2) = plt.subplots(1, 2, sharey=True, figsize=(10, 1.2 + 0.38 * len(rows)),
                                 gridspec_kw={"width_ratios": [2, 1]})
    ys = range(len(rows))
    for ax, stem, title in ((a1, avg, avg_title), (a2, marg, marg_title)):
        for yy, r in zip(ys, rows):
            mean, lo, hi = (num(r.get(stem + s)) for s in ("_mean", "_hdi_3%", "_hdi_97%"))
            if not math.isfinite(mean):
                ax.text(0, yy, " —", va="center", fontsize=9)
                continue
            err = None
            if math.isfinite(lo) and math.isfinite(hi):
                err = [[max(mean - lo, 0)], [max(hi - mean, 0)]]
            ax.barh(yy, mean, color=col.get(r["channel"], "C0"), alpha=0.8, xerr=err,
                    error_kw={"ecolor": "k", "capsize": 3, "lw": 1})
        # Break-even (1) matters when the outcome is revenue; for conversions per dollar it
        # would squash every bar against zero, so draw it only when the bars reach near it.
        highs = [num(r.get(stem + "_hdi_97%")) for r in rows] + [num(r.get(stem + "_mean")) for r in rows]
        highs = [h for h in highs if math.isfinite(h)]
        if highs and max(highs) >= 0.3 and not cost:
            ax.axvline(1, color="firebrick", ls="--", lw=1)
        ax.set_title(title, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    a1.set_yticks(list(ys), [r["channel"] for r in rows])
    fig.tight_layout()
    return fig_store.save(fig, "roi")


def adstock(m, col, fig_store):
    curves = {}
    for r in m["adstock"]:
        curves.setdefault(r["channel"], []).append([num(r[c]) for c in ("lag", "mean", "hdi_3%", "hdi_97%")])
    if not curves:
        return None
    fig, ax = plt.subplots(figsize=(9, 4))
    for ch, pts in curves.items():
        pts = sorted(p for p in pts if math.isfinite(p[0]))
        xs = [p[0] for p in pts]
        c = col.get(ch, None)
        ax.fill_between(xs, [p[2] for p in pts], [p[3] for p in pts], color=c, alpha=0.12, lw=0)
        ax.plot(xs, [p[1] for p in pts], marker="o", ms=3, color=c, label=ch)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("weeks after spend (lag)")
    ax.set_ylabel("share of the effect")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=9)
    return fig_store.save(fig, "adstock")


def table(headers, rows, flags=None):
    """rows hold display strings; flags[i] True marks row i."""
    out = ["<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers) + "</tr>"]
    for i, r in enumerate(rows):
        cls = ' class="flag"' if flags and flags[i] else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>")
    return "\n".join(out) + "</table>"


def channel_table(m):
    avg, marg, _, _, avg_label, marg_label, _ = return_units(m)
    rows, flags = [], []
    for r in m["channels"]:
        g = lambda k: r.get(k, "")
        dim = fmt(num(g("diminishing_point_mean")))
        pb = num(g("p_beyond"))
        if math.isfinite(pb) and pb > 0:
            dim += f" ({fmt(pb, pct=True)} of draws never reach it)"
        pd = num(g("prior_dominated")) == 1
        # The same verdict as `herd summarize`: a pooled channel whose own deviation (beta_z)
        # is prior-dominated takes its answer from the group (files before effect_source: data/prior).
        source = g("effect_source") or ("prior" if pd else "data")
        said = {"prior": "the prior (prior-dominated)",
                "group": "its group (own deviation prior-dominated)",
                "unconverged": "unknown (did not converge)"}.get(source, "data")
        rows.append([r["channel"], fmt(num(g("current_spend"))),
                     fmt_iv(g("contribution_mean"), g("contribution_hdi_3%"), g("contribution_hdi_97%")),
                     fmt_iv(g("share_mean"), g("share_hdi_3%"), g("share_hdi_97%"), pct=True),
                     fmt_iv(g(avg + "_mean"), g(avg + "_hdi_3%"), g(avg + "_hdi_97%")),
                     fmt_iv(g(marg + "_mean"), g(marg + "_hdi_3%"), g(marg + "_hdi_97%")),
                     dim, fmt(num(g("saturation_mean")), pct=True), fmt(num(g("beta_contraction"))),
                     said])
        flags.append(source != "data")
    return table(["channel", "current weekly spend", "contribution [94%]", "share [94%]", avg_label,
                  marg_label, "diminishing point", "saturation", "contraction",
                  "effect from"], rows, flags)


def diag_flag(r):
    return num(r["r_hat"]) > 1.01 or num(r["ess_bulk"]) < 400


def header(m):
    meta = m["meta"]
    rhat_bad = [r["parameter"] for r in m["diagnostics"] if num(r["r_hat"]) > 1.01]
    warn = []
    if num(meta.get("divergences")) > 0:
        warn.append(f"{meta['divergences']} divergent transitions: the posterior may be biased; "
                    "consider reparameterising or tighter priors.")
    if rhat_bad:
        warn.append(f"r_hat > 1.01 for {len(rhat_bad)} parameter(s) ({', '.join(rhat_bad[:5])}"
                    f"{', …' if len(rhat_bad) > 5 else ''}): chains disagree, results are not reliable.")
    ebfmi = [num(e) for e in meta.get("ebfmi", []) or []]
    if any(math.isfinite(e) and e < 0.3 for e in ebfmi):
        warn.append("E-BFMI below 0.3 in some chain: the sampler explored the posterior poorly.")
    e = html.escape
    struct = " · ".join(f"{k}: {meta.get(k, '—')}" for k in ("likelihood", "adstock", "saturation", "pooling"))
    health = (f"{meta.get('chains', '—')} chains × {meta.get('draws', '—')} draws · divergences: "
              f"{meta.get('divergences', '—')} · max tree depth hits: {meta.get('max_depth_hits', '—')} · "
              f"E-BFMI: {', '.join(fmt(x) for x in ebfmi) or '—'} · {fmt(num(meta.get('seconds')))} s")
    out = [f"<h1>{e(str(meta.get('model', 'model')))}</h1>",
           f"<p><b>Status:</b> {e(str(meta.get('status', '—')))} · <b>Outcome:</b> "
           f"{e(str(meta.get('outcome', '—')))} · <b>Data:</b> {e(str(meta.get('source_file', '—')))}</p>",
           f"<p><b>Model:</b> {e(struct)}</p>", f"<p><b>Sampler:</b> {e(health)}</p>"]
    out += [f'<p class="warn">⚠ {e(w)}</p>' for w in warn]
    return "\n".join(out)


CSS = """body{font-family:system-ui,sans-serif;max-width:1150px;margin:2em auto;padding:0 1em;color:#222}
h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
img{max-width:100%;display:block;margin:.5em 0}
.note{color:#555;font-size:.92em;margin-top:0}
.warn{background:#fdecea;border-left:4px solid #c62828;padding:.5em .8em;color:#8e0000;font-weight:600}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
td,th{border:1px solid #ddd;padding:3px 7px;text-align:right}
td:first-child,th:first-child{text-align:left}
th{background:#f3f3f3}
tr.flag td{background:#fff3cd}"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model_dir", help="directory written by `herd analyze --out DIR`")
    ap.add_argument("--compare", nargs="+", action="extend", default=[], metavar="DIR",
                    help="other analysed models whose channel effects join the forest plot")
    args = ap.parse_args()
    if not os.path.isdir(args.model_dir):
        fail(f"{args.model_dir} is not a directory")
    m = load(args.model_dir, ["meta.json"] + list(REQUIRED))
    models = [m] + [load(d, COMPARE_FILES) for d in args.compare]
    seen = set()
    for x in models:  # legend labels must tell variants apart even if they share a name
        label = str(x["meta"].get("model", "")) or os.path.basename(os.path.normpath(x["dir"]))
        if label in seen:
            label += f" ({os.path.basename(os.path.normpath(x['dir']))})"
        seen.add(label)
        x["label"] = label
    col = colours([r["channel"] for r in m["channels"]])
    store = Figures(args.model_dir)
    outcome = str(m["meta"].get("outcome", "outcome"))
    figs = [
        ("Channel effects: prior vs posterior", forest(models, store),
         "Each row is a channel's effect (beta). The thick grey bar is the 94% range the prior allowed; "
         "the coloured line and dot are the 94% range and mean after seeing the data. A coloured line much "
         "narrower than the grey bar means the data pinned the effect down; a hollow dot and the "
         "\"(prior-dominated)\" label mean the data barely changed the prior, so treat that channel's "
         "numbers as assumptions. With compared models, each model gets its own colour."),
        ("Response curves", response_curves(m, col, store),
         f"How much extra {outcome} each channel brings per week at a steady weekly spend (line: mean, "
         "band: 94% interval). The dashed line is today's average weekly spend; the dotted red line is "
         "where one more unit of spend returns less than one unit of outcome. A flat curve at the dashed "
         "line means more spend there buys little."),
        ("Contributions over time", contributions(m, col, store),
         f"Weekly {outcome} split into the baseline (grey: what would happen with no media) and the mean "
         "contribution of each channel stacked on top."),
        ("Return on investment", roi(m, col, store),
         "Left: total contribution per unit spent, best channel at the top, with the 94% interval. Right: "
         "what the next unit of spend returns at today's spend. The dashed line at 1 is break-even: bars "
         "to its right pay back more than they cost."),
        ("Carry-over (adstock)", adstock(m, col, store),
         "Share of a channel's effect that lands in each week after the spend (lag 0 = the same week), "
         "with 94% bands. Slowly falling lines mean the effect lingers for weeks."),
    ]
    body = [header(m)]
    for title, b64, note in figs:
        if b64:
            body.append(f"<h2>{html.escape(title)}</h2><img alt=\"{html.escape(title)}\" "
                        f"src=\"data:image/png;base64,{b64}\"><p class=\"note\">{html.escape(note)}</p>")
    body.append("<h2>Channels</h2>" + channel_table(m) + '<p class="note">Intervals are 94% highest-density '
                "intervals. Shaded rows are prior-dominated channels. Saturation is how close today's spend "
                "is to the channel's maximum effect (— for curves without a ceiling).</p>")
    pri = m["priors"]
    body.append("<h2>Priors vs posteriors</h2>" + table(
        ["parameter", "prior mean", "prior sd", "posterior mean", "posterior sd", "contraction", "shift",
         "prior-dominated"],
        [[r["parameter"]] + [fmt(num(r[k])) for k in ("prior_mean", "prior_sd", "posterior_mean",
                                                        "posterior_sd", "contraction", "shift")]
         + ["yes" if num(r["prior_dominated"]) == 1 else
            "unreliable (did not converge)" if r.get("converged") == "0" else "no"] for r in pri],
        [num(r["prior_dominated"]) == 1 for r in pri]) +
        '<p class="note">Contraction near 1: the data narrowed the prior a lot; near 0 (shaded rows): the '
        "result mostly repeats the prior. Shift is how far the mean moved, in prior standard deviations.</p>")
    dg = m["diagnostics"]
    nbad = sum(diag_flag(r) for r in dg)
    cols = ["mean", "sd", "hdi_3%", "hdi_97%", "mcse_mean", "mcse_sd", "ess_bulk", "ess_tail", "r_hat"]
    cols = [c for c in cols if dg and c in dg[0]]
    body.append(f"<h2>Sampler diagnostics</h2><details{' open' if len(dg) <= 40 or nbad else ''}>"
                f"<summary>{len(dg)} parameters, {nbad} flagged</summary>" +
                table(["parameter"] + cols, [[r["parameter"]] + [fmt(num(r[c])) for c in cols] for r in dg],
                      [diag_flag(r) for r in dg]) +
                '</details><p class="note">Shaded rows have r_hat above 1.01 (chains disagree) or a bulk '
                "effective sample size under 400 (too few independent draws for stable estimates).</p>")
    page = (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>"
            f"{html.escape(str(m['meta'].get('model', 'herd')))} report</title><style>{CSS}</style></head>"
            f"<body>\n" + "\n".join(body) + "\n</body></html>\n")
    path = os.path.join(args.model_dir, "report.html")
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
    print(path)


if __name__ == "__main__":
    main()
