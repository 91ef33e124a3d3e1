#!/usr/bin/env python3
"""Generates the synthetic example data sets in configs/examples/ (standard library only,
fixed seeds, so the files are reproducible byte for byte):

  python3 scripts/make_example_data.py configs/examples

dtc_paid_social.csv   104 weeks, 10 paid-social campaigns, log-log response
                      (log y = alpha + sum_j beta_j log(x_j / mean_j) + noise); linkedin_awareness
                      is a low-spend always-on campaign that barely moves week to week.
national_media.csv    156 weeks, 8 channels, geometric adstock (8 taps, normalized) and Hill
                      saturation, price and promo controls, two yearly harmonics, normal noise.
geo_panel.csv         6 geos x 104 weeks (long format), 4 channels, geometric adstock (4 taps),
                      logistic saturation, geo-varying effects, one control.
The true values are written next to each file as <name>.truth.txt.
"""
import datetime
import math
import random
import sys
from pathlib import Path


def weeks(n, start=datetime.date(2022, 1, 3)):
    return [(start + datetime.timedelta(weeks=i)).isoformat() for i in range(n)]


def adstock(x, decay, taps):
    w = [decay**l for l in range(taps)]
    s = sum(w)
    return [sum(w[l] * x[t - l] for l in range(taps) if t - l >= 0) / s for t in range(len(x))]


def hill(a, kappa, slope):
    return 0.0 if a <= 0 else a**slope / (a**slope + kappa**slope)


def logistic(a, lam):
    return (1 - math.exp(-lam * a)) / (1 + math.exp(-lam * a))


def spend_series(rng, n, level, vol, dark=0.0, floor=0.0):
    """A mean-reverting log random walk around `level`, with optional dark weeks."""
    z, out = 0.0, []
    for _ in range(n):
        z = 0.7 * z + rng.gauss(0, vol)
        v = level * math.exp(z)
        out.append(0.0 if rng.random() < dark else max(v, floor))
    return out


def write(path, header, rows):
    with open(path, "w", newline="") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(x if isinstance(x, str) else f"{x:.6g}" for x in r) + "\n")


def dtc(out):
    rng = random.Random(20260216)
    n = 104
    names = ["meta_prospecting", "meta_retargeting", "meta_advantage_shopping", "tiktok_spark",
             "tiktok_prospecting", "snap_prospecting", "pinterest_shopping", "reddit_conversion",
             "youtube_shorts", "linkedin_awareness"]
    levels = [42000, 18000, 26000, 9000, 14000, 6000, 5000, 3500, 7000, 1200]
    vols = [0.35, 0.3, 0.4, 0.45, 0.4, 0.35, 0.3, 0.35, 0.4, 0.004]
    beta = [0.18, 0.09, 0.14, 0.06, 0.11, 0.05, 0.04, 0.03, 0.07, 0.4573]
    x = [spend_series(rng, n, levels[j], vols[j]) for j in range(10)]
    means = [sum(s) / n for s in x]
    alpha, sigma = math.log(5000.0), 0.05
    rows = []
    for t, d in enumerate(weeks(n)):
        mu = alpha + sum(beta[j] * math.log(x[j][t] / means[j]) for j in range(10))
        y = math.exp(mu + rng.gauss(0, sigma))
        rows.append([d, y] + [x[j][t] for j in range(10)])
    write(out / "dtc_paid_social.csv", ["week", "conversions"] + names, rows)
    (out / "dtc_paid_social.truth.txt").write_text(
        "log y = log(5000) + sum beta_j log(x_j / mean_j) + N(0, 0.05)\n"
        + "".join(f"beta[{nm}] = {b}\n" for nm, b in zip(names, beta)))


def national(out):
    rng = random.Random(156)
    n = 156
    names = ["tv", "radio", "search", "social", "display", "video", "ooh", "affiliates"]
    levels = [50000, 12000, 30000, 25000, 9000, 15000, 8000, 6000]
    dark = [0.3, 0.2, 0.0, 0.05, 0.1, 0.25, 0.4, 0.0]
    decay = [0.6, 0.4, 0.1, 0.3, 0.2, 0.5, 0.55, 0.15]
    kappa = [1.1, 0.8, 0.9, 1.0, 0.7, 1.2, 0.9, 0.8]
    slope = [2.0, 1.5, 1.2, 1.8, 1.0, 2.2, 1.6, 1.3]
    beta = [0.25, 0.06, 0.18, 0.12, 0.04, 0.08, 0.05, 0.05]
    x = [spend_series(rng, n, levels[j], 0.5, dark[j]) for j in range(8)]
    means = [sum(v for v in s if v > 0) / sum(1 for v in s if v > 0) for s in x]
    a = [adstock([v / means[j] for v in x[j]], decay[j], 8) for j in range(8)]
    price = [round(10 + rng.gauss(0, 0.4), 3) for _ in range(n)]
    promo = [1.0 if rng.random() < 0.15 else 0.0 for _ in range(n)]
    rows = []
    for t, d in enumerate(weeks(n, datetime.date(2021, 1, 4))):
        tt = t + 1
        season = 0.08 * math.sin(2 * math.pi * tt / 52.18) + 0.05 * math.cos(2 * math.pi * tt / 52.18) \
            - 0.03 * math.sin(4 * math.pi * tt / 52.18)
        mu = 0.6 + season - 0.05 * (price[t] - 10) + 0.07 * promo[t] \
            + sum(beta[j] * hill(a[j][t], kappa[j], slope[j]) for j in range(8))
        y = 100000 * (mu + rng.gauss(0, 0.03))
        rows.append([d, y] + [x[j][t] for j in range(8)] + [price[t], promo[t]])
    write(out / "national_media.csv", ["week", "revenue"] + names + ["price", "promo"], rows)
    (out / "national_media.truth.txt").write_text(
        "y / 100000 = 0.6 + season - 0.05 (price - 10) + 0.07 promo + sum beta_j hill(adstock(x_j/mean_j)) + N(0, 0.03)\n"
        + "".join(f"{nm}: beta {b} decay {dc} kappa {k} slope {s}\n"
                  for nm, b, dc, k, s in zip(names, beta, decay, kappa, slope)))


def geo(out):
    rng = random.Random(6)
    n, geos = 104, ["north", "south", "east", "west", "central", "coast"]
    names = ["tv", "search", "social", "radio"]
    base_beta = [0.3, 0.2, 0.15, 0.08]
    decay = [0.5, 0.1, 0.3, 0.4]
    lam = [2.0, 3.0, 2.5, 1.5]
    rows = []
    dates = weeks(n)
    series = {}
    for g in geos:
        size = math.exp(rng.gauss(0, 0.3))
        x = [spend_series(rng, n, 4000 * size * (j + 1), 0.45, 0.1) for j in range(4)]
        beta_g = [b * math.exp(rng.gauss(0, 0.2)) for b in base_beta]
        temp = [15 + 10 * math.sin(2 * math.pi * (t + 1) / 52.18) + rng.gauss(0, 2) for t in range(n)]
        series[g] = (x, beta_g, temp, size)
    all_active = {j: [v for g in geos for v in series[g][0][j] if v > 0] for j in range(4)}
    means = [sum(v) / len(v) for v in all_active.values()]
    for t in range(n):
        for g in geos:
            x, beta_g, temp, size = series[g]
            mu = 1.0 + 0.01 * (temp[t] - 15)
            for j in range(4):
                a = adstock([v / means[j] for v in x[j]], decay[j], 4)[t]
                mu += beta_g[j] * logistic(a, lam[j])
            y = 2000 * size * (mu + rng.gauss(0, 0.04))
            rows.append([g, dates[t], y] + [x[j][t] for j in range(4)] + [temp[t]])
    write(out / "geo_panel.csv", ["geo", "week", "sales"] + names + ["temperature"], rows)
    (out / "geo_panel.truth.txt").write_text(
        "sales = 2000 size_g (1 + 0.01 (temp - 15) + sum beta_gj logistic(adstock(x_j/mean_j; 4 taps)) + N(0, 0.04))\n"
        + "".join(f"{nm}: beta (population) {b} decay {dc} lambda {l}\n"
                  for nm, b, dc, l in zip(names, base_beta, decay, lam)))


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "configs/examples")
    out.mkdir(parents=True, exist_ok=True)
    dtc(out)
    national(out)
    geo(out)
