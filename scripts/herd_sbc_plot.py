#!/usr/bin/python3
"""Rank-histogram and ECDF-difference plots for simulation-based calibration (SBC).

  herd_sbc_plot.py DIR

Reads DIR/ranks.csv (replication,parameter,rank,max_rank) and DIR/sbc.csv
(parameter,p_value,threshold,replications,bin0..bin9) written by `herd sbc ... --out DIR`
and writes
  DIR/sbc_ranks.png  10-bin rank histogram per parameter with the expected count and a
                     per-bin 99% binomial band; titles in red where p_value < threshold
                     (the Bonferroni-corrected chi-square test from sbc.csv);
  DIR/sbc_ecdf.png   ECDF of normalized ranks minus the uniform CDF per parameter with a
                     simultaneous 95% band (Säilynoja, Bürkner & Vehtari 2022); titles in
                     red where the curve leaves the band.

Needs Debian's python3 with python3-matplotlib (Agg backend) and numpy; no scipy.
"""
import csv
import math
import os
import sys

try:
    import matplotlib
    matplotlib.use("Agg")  # no display on build machines
    import matplotlib.pyplot as plt
    import numpy as np
except ImportError:
    sys.exit("herd_sbc_plot: matplotlib/numpy missing (apt-get install python3-matplotlib; "
             "run with /usr/bin/python3 if another python3 comes first on PATH)")

DPI = 110
NBINS = 10
NCOLS = 6
N_SIM = 2000      # uniform samples used to calibrate the simultaneous band
SEED = 20220101   # fixed so the band (and the red titles) are reproducible
BAD = "#c0392b"
RANK_COLS = ["replication", "parameter", "rank", "max_rank"]
SBC_COLS = ["parameter", "p_value", "threshold", "replications"]


def fail(msg):
    print("herd_sbc_plot: " + msg, file=sys.stderr)
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
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def short(name, n=28):
    # Cut from the middle: indexed names share a long prefix and differ at the end.
    if len(name) <= n:
        return name
    head = n // 3
    return name[:head] + "…" + name[len(name) - (n - head - 1):]


def binom_cdf_table(n, probs):
    """CDF of Binomial(n, p) at k = 0..n for each p (rows); exact via log-factorials."""
    k = np.arange(n + 1)
    logfact = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, n + 1)))])
    logc = logfact[n] - logfact[k] - logfact[n - k]
    p = np.clip(np.asarray(probs, dtype=float)[:, None], 1e-300, 1 - 1e-16)
    pmf = np.exp(logc[None, :] + k[None, :] * np.log(p) + (n - k)[None, :] * np.log1p(-p))
    return np.minimum(np.cumsum(pmf, axis=1), 1.0)


def binom_quantile(cdf, q):
    """Smallest k with CDF(k) >= q, row-wise (the usual discrete quantile)."""
    return np.argmax(cdf >= q - 1e-12, axis=1)


def bin_of(ranks, max_rank):
    # Same rule for every rank count: bin b holds ranks r with floor(r*NBINS/(L+1)) == b,
    # so uneven splits (L+1 not a multiple of NBINS) still get the right expected counts.
    return (np.asarray(ranks) * NBINS) // (max_rank + 1)


def simultaneous_band(n, max_rank, rng):
    """Simultaneous 95% band for the ECDF difference of n uniform ranks in 0..max_rank.

    Method (Säilynoja, Bürkner & Vehtari 2022, "Graphical test for discrete uniformity ...",
    simulation variant): evaluate the ECDF at z_j = (j+1)/(L+1), j = 0..L-1, i.e. just above
    each possible normalized rank (r+0.5)/(L+1). Under uniformity n*ECDF(z_j) ~ Bin(n, z_j)
    marginally. For each of N_SIM simulated uniform rank samples of size n compute the
    smallest two-sided pointwise tail probability over all z_j,
        gamma_s = min_j 2*min(F_j(c_j), 1 - F_j(c_j - 1)),
    i.e. the largest pointwise level at which that sample would still stay inside every
    interval. The 5% quantile of gamma_s is the pointwise level gamma for which 95% of
    uniform samples stay inside all intervals; the band is the Bin(n, z_j) gamma/2 and
    1-gamma/2 quantiles divided by n, minus z_j.
    """
    L = max_rank
    z = np.arange(1, L + 1) / (L + 1.0)
    cdf = binom_cdf_table(n, z)                     # (L, n+1)
    sims = rng.integers(0, L + 1, size=(N_SIM, n))
    counts = np.zeros((N_SIM, L + 1), dtype=np.int64)
    np.add.at(counts, (np.repeat(np.arange(N_SIM), n), sims.ravel()), 1)
    c = np.cumsum(counts, axis=1)[:, :L]            # #ranks <= j for j = 0..L-1
    j = np.arange(L)[None, :]
    lower_tail = cdf[j, c]
    upper_tail = 1.0 - np.where(c > 0, cdf[j, np.maximum(c - 1, 0)], 0.0)
    gamma_s = np.min(2.0 * np.minimum(lower_tail, upper_tail), axis=1)
    gamma = min(float(np.quantile(gamma_s, 0.05)), 1.0)
    lo = binom_quantile(cdf, gamma / 2.0) / n - z
    hi = binom_quantile(cdf, 1.0 - gamma / 2.0) / n - z
    return z, lo, hi, gamma


def grid(n_panels, row_h):
    nrows = math.ceil(n_panels / NCOLS)
    fig, axes = plt.subplots(nrows, NCOLS, figsize=(2.5 * NCOLS, row_h * nrows + 1.0),
                             squeeze=False)
    axes = axes.ravel()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, axes


def finish(fig, title, path):
    fig_h = fig.get_figheight()
    fig.suptitle(title, fontsize=10, y=1.0 - 0.1 / fig_h, va="top")
    fig.tight_layout(h_pad=0.9, w_pad=0.6)  # tight_layout already makes room for suptitle
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    print(path)


def main():
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        sys.exit(2)
    out_dir = sys.argv[1]
    if not os.path.isdir(out_dir):
        fail("missing directory: " + out_dir)
    rank_rows = read_csv(os.path.join(out_dir, "ranks.csv"), RANK_COLS)
    sbc_rows = read_csv(os.path.join(out_dir, "sbc.csv"), SBC_COLS)

    ranks, max_ranks = {}, set()
    for r in rank_rows:
        ranks.setdefault(r["parameter"], []).append(int(float(r["rank"])))
        max_ranks.add(int(float(r["max_rank"])))
    if len(max_ranks) != 1:
        fail("ranks.csv: max_rank differs between rows (%s)" % sorted(max_ranks))
    L = max_ranks.pop()
    ranks = {p: np.asarray(v) for p, v in ranks.items()}
    if any(v.min() < 0 or v.max() > L for v in ranks.values()):
        fail("ranks.csv: a rank lies outside 0..max_rank (%d)" % L)
    params = list(ranks)
    nan2 = (float("nan"), float("nan"))
    test = {r["parameter"]: (num(r["p_value"]), num(r["threshold"])) for r in sbc_rows}
    missing = [p for p in params if p not in test]
    if missing:
        sys.stderr.write("herd_sbc_plot: no sbc.csv row for %d parameter(s), e.g. %s\n"
                         % (len(missing), missing[0]))
    # Bin probabilities: uneven when (L+1) is not a multiple of NBINS.
    bin_p = np.bincount(bin_of(np.arange(L + 1), L), minlength=NBINS) / (L + 1.0)
    edges = np.arange(NBINS + 1) - 0.5

    # --- rank histograms -------------------------------------------------------------
    fig, axes = grid(len(params), 1.55)
    n_bad_hist = 0
    for ax, p in zip(axes, params):
        n = ranks[p].size
        counts = np.bincount(bin_of(ranks[p], L), minlength=NBINS)
        cdf = binom_cdf_table(n, bin_p)
        lo, hi = binom_quantile(cdf, 0.005), binom_quantile(cdf, 0.995)
        # Per-bin band as steps so every bar is judged against its own interval; drawn
        # behind the bars with its edges repeated on top so both stay visible.
        lo_s, hi_s = np.append(lo, lo[-1]), np.append(hi, hi[-1])
        ax.fill_between(edges, lo_s, hi_s, step="post", color="#dddddd", lw=0, zorder=0)
        outside = (counts < lo) | (counts > hi)
        ax.bar(np.arange(NBINS), counts, width=0.9, color=np.where(outside, BAD, "#7f9fbf"),
               edgecolor="none", zorder=1)
        for edge in (lo_s, hi_s):
            ax.step(edges, edge, where="post", color="grey", lw=0.6, ls="--", zorder=2)
        ax.step(edges, n * np.append(bin_p, bin_p[-1]), where="post", color="black", lw=0.9,
                zorder=3)
        pv, th = test.get(p, nan2)
        bad = pv < th  # False when either is nan
        n_bad_hist += bad
        ax.set_title("%s\np=%.2g" % (short(p), pv), fontsize=7.5, color=BAD if bad else "black",
                     fontweight="bold" if bad else "normal", linespacing=1.0)
        ax.set_xlim(-0.5, NBINS - 0.5)
        ax.set_ylim(0, max(counts.max(), hi.max()) * 1.08)
        ax.set_xticks([])
        ax.tick_params(axis="y", labelsize=6.5, pad=1)
    thr = sorted({t for _, t in test.values() if math.isfinite(t)})
    finish(fig, "SBC rank histograms: %d parameters, %d bins of ranks 0..%d; black = expected "
           "count, grey = per-bin 99%% binomial band (red bar: outside it).\nRed title: "
           "chi-square p < %s (Bonferroni threshold from sbc.csv) — %d flagged"
           % (len(params), NBINS, L, "%.2g" % thr[0] if len(thr) == 1 else "threshold",
              n_bad_hist), os.path.join(out_dir, "sbc_ranks.png"))

    # --- ECDF difference plots ---------------------------------------------------------
    rng = np.random.default_rng(SEED)
    bands = {}
    fig, axes = grid(len(params), 1.45)
    n_bad_ecdf = 0
    for ax, p in zip(axes, params):
        n = ranks[p].size
        if n not in bands:  # replications can differ per parameter if some fits failed
            bands[n] = simultaneous_band(n, L, rng)
        z, lo, hi, _ = bands[n]
        diff = np.cumsum(np.bincount(ranks[p], minlength=L + 1))[:L] / n - z
        out = (diff < lo - 1e-12) | (diff > hi + 1e-12)
        bad = bool(out.any())
        n_bad_ecdf += bad
        pad = lambda a: np.concatenate([[0.0], a, [0.0]])  # ECDF difference is 0 at 0 and 1
        zz = np.concatenate([[0.0], z, [1.0]])
        ax.fill_between(zz, pad(lo), pad(hi), color="grey", alpha=0.25, lw=0)
        ax.axhline(0.0, color="black", lw=0.6)
        ax.plot(zz, pad(diff), color=BAD if bad else "#1f4e79", lw=1.0)
        ax.plot(z[out], diff[out], "o", ms=2, color=BAD)
        ax.set_title(short(p), fontsize=7.5, color=BAD if bad else "black",
                     fontweight="bold" if bad else "normal")
        lim = max(np.abs(diff).max(), np.abs(lo).max(), np.abs(hi).max()) * 1.12
        ax.set(ylim=(-lim, lim), xlim=(0, 1), xticks=[0, 0.5, 1])
        ax.tick_params(labelsize=6.5, pad=1)
    sizes = sorted(bands)
    finish(fig, "SBC ECDF difference (ECDF of (rank+0.5)/%d minus uniform CDF): %d parameters, "
           "n = %s; grey = simultaneous 95%% band\n(Säilynoja et al. 2022, %d simulations, "
           "pointwise level %s). Red: curve leaves the band — %d flagged\n(about 5%% of "
           "well-calibrated parameters cross by chance: judge the shape, not only the count)"
           % (L + 1, len(params), "/".join(map(str, sizes)), N_SIM,
              "/".join("%.3g" % bands[s][3] for s in sizes), n_bad_ecdf),
           os.path.join(out_dir, "sbc_ecdf.png"))


if __name__ == "__main__":
    main()
