#!/usr/bin/python3
"""Parameter-recovery figure and markdown table for a `herd study` run.

  herd_study_plot.py SUMMARY.csv REPLICATES.csv OUT.png [--title TEXT]

SUMMARY.csv (one row per variant and parameter) and REPLICATES.csv (one row per variant,
parameter and replicate) are written by `herd study`. OUT.png shows, for each parameter
family present (contribution, roi, beta), one panel per parameter: every variant's replicate
estimates as relative error to the truth in percent (box + jittered dots + mean marker), with
the truth at 0 and each variant's 94% interval coverage printed above its strip. Baselines
(nested_*, spend_share*) are drawn in grey. Errors beyond +-300% sit on the panel edge as
triangles with the mean printed. At most 12 parameters per family (largest |truth|) are
plotted. OUT.md (same stem) holds the whole summary (any family) as markdown tables.

Needs Debian's python3 with python3-matplotlib (Agg backend) and numpy.
"""
import argparse
import csv
import math
import os
import sys

try:
    import matplotlib
    matplotlib.use("Agg")  # no display on build machines
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    import numpy as np
except ImportError:
    sys.exit("herd_study_plot: matplotlib/numpy missing (apt-get install python3-matplotlib; "
             "run with /usr/bin/python3 if another python3 comes first on PATH)")

DPI = 110
FAMILIES = ["contribution", "roi", "beta"]  # plotted, in this row order
MAX_PER_FAMILY = 12
NCOLS = 6
CLIP = 300.0  # % error shown on the axis; larger errors are drawn on the edge
SUMMARY_COLS = ["variant", "parameter", "truth", "estimate_mean", "pct_diff", "coverage_94",
                "width_mean", "rmse", "replicates"]
REPLICATE_COLS = ["variant", "parameter", "replicate", "truth", "estimate", "hdi_low", "hdi_high"]


def fail(msg):
    sys.stderr.write("herd_study_plot: %s\n" % msg)
    sys.exit(1)


def read_csv(path, required):
    if not os.path.isfile(path):
        fail("missing input file: " + path)
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        for col in required:
            if col not in header:
                fail("%s: missing column '%s' (has: %s)" % (path, col, ",".join(header)))
        rows = list(reader)
    if not rows:
        fail("%s: no data rows" % path)
    return rows


def num(text):
    # The C++ writer spells missing values as nan; tolerate empty cells too.
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def split_param(name):
    """'roi[tv]' -> ('roi', 'tv'); a bare name is its own family."""
    if "[" in name and name.endswith("]"):
        fam, rest = name.split("[", 1)
        return fam, rest[:-1]
    return name, name


def is_baseline(variant):
    return variant.startswith(("nested_", "spend_share"))


def variant_colours(variants):
    # Bayesian variants get saturated colours, baselines grey shades, so the eye separates
    # "the model" from "the reference methods" before reading any label.
    palette = [c for i, c in enumerate(plt.get_cmap("tab10").colors) if i != 7]  # 7 is grey
    greys = ["#4d4d4d", "#808080", "#a6a6a6", "#333333", "#999999"]
    models = [v for v in variants if not is_baseline(v)]
    bases = [v for v in variants if is_baseline(v)]
    out = {v: palette[i % len(palette)] for i, v in enumerate(models)}
    out.update({v: greys[i % len(greys)] for i, v in enumerate(bases)})
    return out


def sig3(x, percent=False):
    if not math.isfinite(x):
        return "–"
    return "%.3g%s" % (x, "%" if percent else "")


def write_markdown(path, summary, variants, coverage_scale):
    by_family = {}
    for r in summary:
        by_family.setdefault(split_param(r["parameter"])[0], []).append(r)
    # Known families first so the markdown follows the figure's row order.
    lines = []
    for fam in sorted(by_family, key=lambda f: FAMILIES.index(f) if f in FAMILIES else 99):
        rows = by_family[fam]
        params = list(dict.fromkeys(r["parameter"] for r in rows))
        rows.sort(key=lambda r: (params.index(r["parameter"]), variants.index(r["variant"])))
        lines += ["## %s" % fam, "", "| Parameter | Model | point estimate (mean) | true value "
                  "| % diff | 94% coverage | mean width | RMSE |", "|---|---|" + "---:|" * 6]
        for r in rows:
            cells = [split_param(r["parameter"])[1], r["variant"]] + [
                sig3(num(r[c]) * scale, pct) for c, scale, pct in (
                    ("estimate_mean", 1, False), ("truth", 1, False), ("pct_diff", 1, True),
                    ("coverage_94", coverage_scale, True), ("width_mean", 1, False),
                    ("rmse", 1, False))]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    with open(path, "w") as f:
        f.write("\n".join(lines))


def pick_params(summary, fam):
    truth = {}
    for r in summary:
        if split_param(r["parameter"])[0] == fam:
            t = abs(num(r["truth"]))
            truth.setdefault(r["parameter"], t if math.isfinite(t) else -1.0)
    # Keep the channels that matter most to the fit; tiny truths give noisy % errors anyway.
    keep = set(sorted(truth, key=lambda p: -truth[p])[:MAX_PER_FAMILY])
    return [p for p in truth if p in keep]


def draw_panel(ax, param, variants, colours, rel, coverage, rng):
    ax.axhline(0.0, color="black", lw=1.0, zorder=1)
    data_vals = []
    for i, v in enumerate(variants):
        vals = rel.get((v, param), np.array([]))
        vals = vals[np.isfinite(vals)]
        if vals.size == 0:
            continue  # variant does not estimate this parameter: leave the slot empty
        data_vals.append(vals)
        ax.boxplot([vals], positions=[i], widths=0.55, showfliers=False, patch_artist=True,
                   boxprops=dict(facecolor=colours[v], alpha=0.25, edgecolor=colours[v]),
                   whiskerprops=dict(color=colours[v]), capprops=dict(color=colours[v]),
                   medianprops=dict(color=colours[v], lw=1.2))
        # A baseline off by several hundred percent would flatten every other strip, so the
        # axis stops at +-CLIP and such points sit on the edge as triangles.
        shown = np.clip(vals, -CLIP, CLIP)
        clipped = shown != vals
        x = i + rng.uniform(-0.18, 0.18, vals.size)
        ax.scatter(x[~clipped], shown[~clipped], s=9, color=colours[v], alpha=0.45, lw=0,
                   zorder=2)
        for sign, mk in ((1, "^"), (-1, "v")):
            sel = clipped & (np.sign(vals) == sign)
            ax.scatter(x[sel], shown[sel], s=16, marker=mk, color=colours[v], alpha=0.6, lw=0,
                       zorder=2, clip_on=False)
        mean = vals.mean()
        ax.scatter([i], [np.clip(mean, -CLIP, CLIP)], marker="D", s=30, color=colours[v],
                   edgecolor="black", lw=0.8, zorder=3, clip_on=False)
        if abs(mean) > CLIP:
            ax.annotate("mean\n%+.0f%%" % mean, (i, np.clip(mean, -CLIP, CLIP)), fontsize=6.5,
                        xytext=(0, -9 if mean > 0 else 9), textcoords="offset points",
                        ha="center", va="top" if mean > 0 else "bottom", linespacing=0.9)
        # Axis-fraction y keeps the label at the top whatever the data range.
        cov = coverage.get((v, param), float("nan"))
        ax.text(i, 0.985, "cov\n%.0f%%" % cov if math.isfinite(cov) else "cov\nn/a",
                transform=ax.get_xaxis_transform(), ha="center", va="top", fontsize=7,
                color="black" if math.isfinite(cov) else "#888888", linespacing=0.95)
    if data_vals:  # headroom at the top keeps the coverage labels off the dots
        allv = np.clip(np.concatenate(data_vals), -CLIP, CLIP)
        lo, hi = min(allv.min(), 0.0), max(allv.max(), 0.0)
        span = max(hi - lo, 1.0)
        ax.set_ylim(lo - 0.05 * span, hi + 0.22 * span)
    ax.set_xticks(np.arange(len(variants)))
    ax.set_xticklabels(variants, rotation=40, ha="right", rotation_mode="anchor", fontsize=7)
    ax.set_xlim(-0.6, len(variants) - 0.4)
    ax.tick_params(axis="y", labelsize=7)
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(param, fontsize=9)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name in ("summary", "replicates", "out_png"):
        ap.add_argument(name)
    ap.add_argument("--title", default=None)
    args = ap.parse_args()

    summary = read_csv(args.summary, SUMMARY_COLS)
    replicates = read_csv(args.replicates, REPLICATE_COLS)
    variants = list(dict.fromkeys([r["variant"] for r in summary] +
                                  [r["variant"] for r in replicates]))
    colours = variant_colours(variants)

    # coverage_94 is expected as a fraction; accept percentages too rather than print 9200%.
    covs = [c for c in (num(r["coverage_94"]) for r in summary) if math.isfinite(c)]
    coverage_scale = 100.0 if (not covs or max(covs) <= 1.0) else 1.0
    coverage = {(r["variant"], r["parameter"]): num(r["coverage_94"]) * coverage_scale
                for r in summary}

    rel = {}
    for r in replicates:
        truth, est = num(r["truth"]), num(r["estimate"])
        if math.isfinite(truth) and truth != 0.0:  # else relative error is undefined
            key = (r["variant"], r["parameter"])
            rel.setdefault(key, []).append(100 * (est - truth) / abs(truth))
    rel = {k: np.array(v) for k, v in rel.items()}

    fam_params = [(f, p) for f, p in ((f, pick_params(summary, f)) for f in FAMILIES) if p]
    if not fam_params:
        fail("%s: no contribution[...], roi[...] or beta[...] parameters" % args.summary)

    # Each family gets its own block of rows so families never share a row.
    ncols = min(NCOLS, max(len(p) for _, p in fam_params))
    blocks = [(f, p, math.ceil(len(p) / ncols)) for f, p in fam_params]
    nrows = sum(b[2] for b in blocks)
    row_h = 2.4 + 0.085 * max(len(v) for v in variants)  # room for rotated tick labels
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.6 * ncols + 1.0, row_h * nrows + 1.2),
                             squeeze=False)
    rng = np.random.default_rng(7)  # fixed jitter: reruns give identical figures
    row = 0
    for fam, params, nr in blocks:
        for k in range(nr * ncols):
            ax = axes[row + k // ncols][k % ncols]
            if k >= len(params):
                ax.set_visible(False)
                continue
            draw_panel(ax, params[k], variants, colours, rel, coverage, rng)
            if k % ncols == 0:
                ax.set_ylabel("%s\n(estimate − truth) / |truth|, %%" % fam, fontsize=8)
        row += nr

    handles = [Patch(facecolor=colours[v], alpha=0.7, label=v) for v in variants] + [
        Line2D([], [], marker="D", color="grey", mec="black", ls="", label="mean of replicates"),
        Line2D([], [], color="black", lw=1.0, label="truth (0%)")]
    title = args.title or "Parameter recovery: %s" % os.path.basename(args.summary)
    n_rep = max((len(v) for v in rel.values()), default=0)
    # Title and legend live in a fixed band of inches above the panels so neither can
    # cover data, whatever the number of rows.
    fig_h = fig.get_figheight()
    fig.suptitle("%s  (up to %d replicates per variant; cov = 94%% interval coverage)"
                 % (title, n_rep), fontsize=11, y=1.0 - 0.12 / fig_h, va="top")
    fig.legend(handles=handles, loc="upper center", ncol=math.ceil(len(handles) / 2),
               fontsize=8, frameon=False, bbox_to_anchor=(0.5, 1.0 - 0.42 / fig_h))
    fig.tight_layout(rect=(0, 0, 1, 1.0 - 0.8 / fig_h), h_pad=1.2, w_pad=0.8)

    os.makedirs(os.path.dirname(os.path.abspath(args.out_png)), exist_ok=True)
    fig.savefig(args.out_png, dpi=DPI)
    plt.close(fig)
    md_path = os.path.splitext(args.out_png)[0] + ".md"
    write_markdown(md_path, summary, variants, coverage_scale)
    print(args.out_png, md_path, sep="\n")


if __name__ == "__main__":
    main()
