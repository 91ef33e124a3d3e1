#!/usr/bin/python3
"""Decision outputs end to end through the `herd` binary: fit --prior, analyze (HDF5 group,
CSV, HTML report), optimize (JSON of INTERFACE.md), summarize's prior columns, bad input.

  analysis_test.py HERD WORKDIR

Run with Debian's python3 (python3-xarray, python3-h5netcdf, python3-matplotlib from
scripts/setup.sh).
"""
import csv
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import xarray as xr

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "configs", "examples")


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def run(herd, *args, expect=None):
    p = subprocess.run([herd, *args], capture_output=True, text=True)
    if expect is not None and p.returncode != expect:
        fail(f"herd {' '.join(args)}: exit {p.returncode}, expected {expect}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


def main(herd, work):
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    out = os.path.join(work, "fit.h5")
    # The log-log seed model (log saturation: increments measured from the lowest weekly spend).
    model = "dtc_paid_social_noncentered"
    run(herd, "fit", os.path.join(EXAMPLES, model + ".toml"), "--out", out, "--prior", "--warmup", "300",
        "--draws", "200", "--quiet", expect=0)

    # fit --prior: exact prior draws in the posterior's layout, and a prior predictive.
    prior = xr.open_dataset(out, group=f"{model}/prior")
    post = xr.open_dataset(out, group=f"{model}/posterior")
    check(dict(prior.sizes)["chain"] == 4 and dict(prior.sizes)["draw"] == 200, f"prior sizes {dict(prior.sizes)}")
    check(set(prior.data_vars) == set(post.data_vars) - {"contribution"},
          f"prior variables {sorted(prior.data_vars)} vs posterior {sorted(post.data_vars)}")
    # beta_sigma ~ half_normal(0.1) in the config: the prior draws say so (sd of |N(0, 0.1)| = 0.0603).
    sd = float(prior.beta_sigma.std())
    check(abs(sd - 0.1 * np.sqrt(1 - 2 / np.pi)) < 0.006, f"prior beta_sigma sd {sd}")
    pp = xr.open_dataset(out, group=f"{model}/prior_predictive")
    check(pp.y.dims == ("chain", "draw", "week"), f"prior_predictive dims {pp.y.dims}")
    check(bool((pp.y > 0).all()), "lognormal prior predictive is positive")

    # summarize: contraction columns.
    csv_path = os.path.join(work, "summary.csv")
    run(herd, "summarize", out, "--csv", csv_path, expect=0)
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    check(all(r["contraction"] != "" for r in rows), "every row has a contraction")
    flagged = {r["parameter"] for r in rows if r["prior_dominated"] == "1"}
    for r in rows:
        # A flag only from converged draws: an unconverged contraction is not evidence.
        want = float(r["contraction"]) < 0.1 and r["converged"] == "1"
        check(want == (r["prior_dominated"] == "1"), f"flag of {r}")
    unconverged = {r["parameter"] for r in rows if r["converged"] == "0"}

    # analyze: group in the file, CSV and report.
    rep = os.path.join(work, "report")
    p = run(herd, "analyze", out, "--model", model, "--out", rep, expect=0)
    check("linkedin_awareness" in p.stdout, "channel table printed")
    for engine in ("netcdf4", "h5netcdf"):
        an = xr.open_dataset(out, group=f"{model}/analysis", engine=engine)
        check(list(an.channel.values) == list(post.channel.values), f"{engine}: analysis channels")
        check(an.response.dims == ("channel", "point", "stat"), f"{engine}: response dims {an.response.dims}")
        check(list(an.stat.values) == ["mean", "hdi_3%", "hdi_97%"], f"stat labels {an.stat.values}")
        an.close()
    an = xr.open_dataset(out, group=f"{model}/analysis")
    weekly = an.contribution.sel(stat="mean").sum("week")
    np.testing.assert_allclose(weekly.values, an.contribution_total.sel(stat="mean").values, rtol=1e-9)
    lo, hi = an.roi.sel(stat="hdi_3%"), an.roi.sel(stat="hdi_97%")
    check(bool((lo <= an.roi.sel(stat="mean")).all() and (an.roi.sel(stat="mean") <= hi).all()), "ROI mean inside HDI")
    # Per-draw decision quantities, in the posterior's chain/draw layout: the summaries are
    # their means and the curves are float32 (test_analysis recomputes them draw by draw; the
    # posterior's contribution cannot here: under log saturation it has no zero point, and
    # analysis measures from the lowest weekly spend).
    check(an.roi_draws.dims == ("chain", "draw", "channel"), f"roi_draws dims {an.roi_draws.dims}")
    check(an.response_draws.dims == ("chain", "draw", "channel", "point"), f"response_draws {an.response_draws.dims}")
    check(an.response_draws.dtype == np.float32, f"response_draws dtype {an.response_draws.dtype}")
    check(an.roi_draws.dtype == np.float64, f"roi_draws dtype {an.roi_draws.dtype}")
    np.testing.assert_allclose(an.roi_draws.mean(("chain", "draw")).values, an.roi.sel(stat="mean").values, rtol=1e-9)
    np.testing.assert_allclose(an.marginal_roi_draws.mean(("chain", "draw")).values,
                               an.marginal_roi.sel(stat="mean").values, rtol=1e-9)
    np.testing.assert_allclose((1 / an.marginal_roi_draws).mean(("chain", "draw")).values,
                               an.marginal_cost_per_outcome.sel(stat="mean").values, rtol=1e-9)
    np.testing.assert_allclose(an.response_draws.astype(np.float64).mean(("chain", "draw")).values,
                               an.response.sel(stat="mean").values, rtol=1e-5, atol=1e-6)
    # The seed model counts conversions ([data] outcome_kind): its table speaks in CPA.
    check("CPA" in p.stdout and "mCPA" in p.stdout and " ROI " not in p.stdout, f"analyze table units:\n{p.stdout}")
    # Log saturation has no zero point: the curve starts at the lowest weekly spend, at 0.
    ref = an.reference_spend.values
    data = xr.open_dataset(out, group=f"{model}/constant_data")
    np.testing.assert_allclose(ref, data.spend.where(data.spend > 0).min("week").values, rtol=1e-12)
    np.testing.assert_allclose(an.curve_spend.isel(point=0).values, ref, rtol=1e-12)
    np.testing.assert_allclose(an.response.isel(point=0).sel(stat="mean").values, 0, atol=1e-9)
    for name in ("channels.csv", "contributions.csv", "response_curves.csv", "adstock.csv", "priors.csv",
                 "diagnostics.csv", "meta.json", "report.html"):
        check(os.path.exists(os.path.join(rep, model, name)), f"report folder lacks {name}")
    with open(os.path.join(rep, model, "report.html")) as f:
        html = f.read()
    check(html.count("data:image/png;base64,") >= 4, "report embeds its figures")
    with open(os.path.join(rep, model, "channels.csv")) as f:
        ch = list(csv.DictReader(f))
    check([r["channel"] for r in ch] == list(post.channel.values), "channels.csv rows")
    pd_csv = {r["channel"] for r in ch if r["prior_dominated"] == "1"}
    check(pd_csv == {c for c in post.channel.values if f"beta[{c}]" in flagged},
          f"prior-dominated channels agree: {pd_csv} vs summary {flagged}")
    # Where each channel's answer comes from agrees with summarize's flags: a pooled channel
    # whose own deviation beta_z is prior-dominated borrows its effect from its group.
    for r in ch:
        c = r["channel"]
        want = ("prior" if f"beta[{c}]" in flagged else "group" if f"beta_z[{c}]" in flagged
                else "unconverged" if {f"beta[{c}]", f"beta_z[{c}]"} & unconverged else "data")
        check(r["effect_source"] == want, f"{c}: effect_source {r['effect_source']}, summarize says {want}")
    # Analyzing again replaces the group; the file stays whole.
    run(herd, "analyze", out, "--all", expect=0)
    xr.open_dataset(out, group=f"{model}/analysis").close()

    # optimize: INTERFACE.md's JSON, the budget met, bounds kept.
    js = os.path.join(work, "opt.json")
    current = an.current_spend.values
    budget = float(current.sum()) * 1.05
    run(herd, "optimize", out, "--model", model, "--budget", repr(budget), "--json", js,
        "--fix", "linkedin_awareness", expect=0)
    with open(js) as f:
        r = json.load(f)
    for key in ("model", "budget", "current", "recommended", "expected_outcome", "lift", "p_better"):
        check(key in r, f"optimize JSON lacks {key}")
    check(set(r["lift"]) >= {"mean", "hdi_3%", "hdi_97%"}, f"lift keys {r['lift']}")
    check(set(r["expected_outcome"]) == {"current", "recommended"}, "expected_outcome keys")
    rec = r["recommended"]
    check(abs(sum(rec.values()) - budget) < 1e-6 * budget, f"budget met: {sum(rec.values())} vs {budget}")
    check(abs(rec["linkedin_awareness"] - r["current"]["linkedin_awareness"]) < 1e-9 * budget, "fixed channel kept")
    for c, x in rec.items():
        check(0.7 * r["current"][c] * (1 - 1e-9) <= x <= 1.3 * r["current"][c] * (1 + 1e-9), f"{c} within +-30%")
    check(r["expected_outcome"]["recommended"] >= r["expected_outcome"]["current"], "no worse than current")
    # Flags: a channel that ends on its bound says so (the fixed one says fixed), and where
    # each channel's effect comes from is analyze's effect_source.
    for c, x in rec.items():
        lo, hi = r["lower"][c], r["upper"][c]
        want = ("fixed" if lo == hi else "upper_bound" if x >= hi * (1 - 1e-9) else
                "lower_bound" if x <= lo * (1 + 1e-9) else "inside")
        check(r["bound"][c] == want, f"{c}: bound {r['bound'][c]}, expected {want} ({lo} <= {x} <= {hi})")
    check(r["bound"]["linkedin_awareness"] == "fixed", "the fixed channel is flagged fixed")
    check(any(v == "upper_bound" for v in r["bound"].values()), f"no channel on its bound: {r['bound']}")
    check(r["effect_source"] == {row["channel"]: row["effect_source"] for row in ch},
          f"optimize's effect_source {r['effect_source']} vs channels.csv")
    p = run(herd, "optimize", out, "--model", model, "--objective", "q10", expect=0)
    # A table a person reads: whole currency with separators, no e-notation, changes in %.
    check(not re.search(r"\de[+-]\d", p.stdout), f"optimize table in e-notation:\n{p.stdout}")
    check(any("," in line.split()[1] for line in p.stdout.splitlines() if line.startswith("meta_")),
          f"optimize table without thousands separators:\n{p.stdout}")
    # Each channel's move: how sure the draws are that it pays, and a flag below the level.
    check(r["outcome_kind"] == "conversions" and r["move_confidence"] == 0.9, "outcome_kind, move_confidence")
    check(abs(r["marginal_cpa"] * r["marginal_roi"] - 1) < 1e-12, "marginal CPA is 1 / marginal ROI")
    for c, pm in r["p_move_pays"].items():
        if c == "linkedin_awareness":
            check(pm is None and r["move_uncertain"][c] is False, "a fixed channel has no move to judge")
            continue
        check(pm is not None and 0 <= pm <= 1, f"{c}: p_move_pays {pm}")
        check(r["move_uncertain"][c] == (pm < 0.9), f"{c}: flag {r['move_uncertain'][c]} vs {pm}")
    p = run(herd, "optimize", out, "--model", model, "--budget", repr(budget), "--fix", "linkedin_awareness",
            "--move-confidence", "0.99", expect=0)
    check("move within its uncertainty +" in p.stdout and "below 0.99" in p.stdout, f"move flag in table:\n{p.stdout}")
    # How much to spend, for conversions in cost per acquisition: at the target marginal CPA
    # the split's marginal CPA is the target (or the bounds bind, and the JSON says so); ratio
    # bounds are ratios of current spend.
    js_t = os.path.join(work, "target.json")
    target = 2 * r["marginal_cpa"]
    run(herd, "optimize", out, "--model", model, "--target-mcpa", repr(target), "--bounds", "meta_retargeting=0.5x:2x",
        "--json", js_t, expect=0)
    with open(js_t) as f:
        t = json.load(f)
    check(t["mode"] == "target_mcpa" and t["target_mcpa"] == target, f"target JSON {t['mode']}")
    check(abs(t["lower"]["meta_retargeting"] - 0.5 * t["current"]["meta_retargeting"]) < 1e-9 * budget and
          abs(t["upper"]["meta_retargeting"] - 2 * t["current"]["meta_retargeting"]) < 1e-9 * budget, "ratio bounds")
    check(abs(t["upper"]["meta_prospecting"] - 3 * t["current"]["meta_prospecting"]) < 1e-9 * budget,
          "target mode: 0 to 3x current by default")
    if t["target_reached"]:
        check(abs(t["marginal_cpa"] - target) < 0.01 * target, f"marginal CPA {t['marginal_cpa']} vs {target}")
        check(t["budget"] > r["budget"], "a higher marginal cost than today's buys more")
    # The average cost per acquisition: the largest budget whose best split costs at most C.
    run(herd, "optimize", out, "--model", model, "--target-cpa", repr(1.2 * r["cpa"]), "--json", js_t, expect=0)
    with open(js_t) as f:
        t = json.load(f)
    check(t["mode"] == "target_cpa", f"target JSON {t['mode']}")
    if t["target_reached"]:
        check(abs(t["cpa"] - 1.2 * r["cpa"]) < 0.01 * r["cpa"], f"CPA {t['cpa']} vs {1.2 * r['cpa']}")
        check(t["budget"] > r["budget"], "a higher CPA than today's buys more")
    # The frontier: budgets in order, each split spending its budget, outcome rising with it.
    js_f = os.path.join(work, "frontier.json")
    run(herd, "optimize", out, "--model", model, "--budget-range", f"{0.5 * budget}:{1.5 * budget}", "--points", "4",
        "--json", js_f, expect=0)
    with open(js_f) as f:
        fr = json.load(f)
    pts = fr["points"]
    check(fr["mode"] == "frontier" and len(pts) == 4, f"frontier JSON {fr.get('mode')} {len(pts)}")
    for p0, p1 in zip(pts, pts[1:]):
        check(p1["budget"] > p0["budget"], "frontier budgets increase")
        check(p1["expected_outcome"]["mean"] >= p0["expected_outcome"]["mean"], "more budget buys no less")
    for p in pts:
        check(abs(sum(p["recommended"].values()) - p["budget"]) < 1e-6 * p["budget"], "each split spends its budget")
        e = p["expected_outcome"]
        check(e["hdi_3%"] <= e["mean"] <= e["hdi_97%"], f"frontier interval {e}")
    # --all: every model the file holds, one JSON object each (the same as --model gives).
    js_all = os.path.join(work, "opt_all.json")
    run(herd, "optimize", out, "--all", "--budget", repr(budget), "--fix", "linkedin_awareness", "--json", js_all,
        expect=0)
    with open(js_all) as f:
        every = json.load(f)
    check(isinstance(every, list) and [m["model"] for m in every] == [model], f"--all JSON {every}")
    check(every[0]["recommended"] == r["recommended"], "--all gives what --model gives")

    # A panel split geo by geo: each geo's budget kept, the total the sum of the geos'.
    panel = os.path.join(work, "panel.h5")
    run(herd, "fit", os.path.join(EXAMPLES, "geo_panel.toml"), "--out", panel, "--warmup", "100", "--draws", "50",
        "--quiet")
    check(os.path.exists(panel), "the panel fit wrote its file")
    js_g = os.path.join(work, "per_geo.json")
    run(herd, "optimize", panel, "--model", "geo_panel", "--geo-budget", "north=1.2x", "--geo-budget", "south=60000",
        "--json", js_g, expect=0)
    with open(js_g) as f:
        pg = json.load(f)
    check(pg["mode"] == "per_geo" and len(pg["geos"]) == 6, f"per-geo JSON {pg.get('mode')}")
    by = {g["geo"]: g for g in pg["geos"]}
    north_now = sum(by["north"]["current"].values())
    check(abs(by["north"]["budget"] - 1.2 * north_now) < 1e-6 * north_now, "north's budget is 1.2x today's")
    check(abs(by["south"]["budget"] - 60000) < 1e-6 * 60000, "south's budget as given")
    for g in pg["geos"]:
        spent = sum(g["recommended"].values())
        check(abs(spent - g["budget"]) < 1e-6 * g["budget"], f"geo {g['geo']} spends its budget")
        if g["geo"] not in ("north", "south"):
            check(abs(g["budget"] - sum(g["current"].values())) < 1e-6 * g["budget"], "other geos keep theirs")
        for c, v in g["recommended"].items():
            check(g["lower"][c] * (1 - 1e-9) <= v <= g["upper"][c] * (1 + 1e-9), f"geo {g['geo']} {c} in its box")
    check(abs(pg["budget"] - sum(g["budget"] for g in pg["geos"])) < 1e-6 * pg["budget"], "total budget is the sum")
    for c, v in pg["recommended"].items():
        check(abs(v - sum(g["recommended"][c] for g in pg["geos"])) < 1e-6 * pg["budget"], f"total {c} is the sum")
    for k in ("current", "recommended"):
        tot = sum(g["expected_outcome"][k] for g in pg["geos"])
        check(abs(pg["expected_outcome"][k] - tot) < 1e-9 * abs(tot), f"total expected outcome ({k}) is the sum")

    # Bad input: exit 2, nothing written.
    bad = os.path.join(work, "bad.json")
    for args in (["optimize", out, "--model", model, "--per-geo", "--json", bad],  # not a panel
                 ["optimize", panel, "--model", "geo_panel", "--geo-budget", "nowhere=1000", "--json", bad],
                 ["optimize", panel, "--model", "geo_panel", "--geo-budget", "north=-1", "--json", bad],
                 ["optimize", panel, "--model", "geo_panel", "--geo-budget", "north=1x", "--geo-budget", "north=2x",
                  "--json", bad],
                 ["optimize", panel, "--model", "geo_panel", "--per-geo", "--bounds", "tv=0:9000", "--json", bad],
                 ["optimize", panel, "--model", "geo_panel", "--per-geo", "--target-mroi", "0.01", "--json", bad],
                 ["optimize", panel, "--model", "geo_panel", "--geo-budget", "north=1.2x", "--budget", "1000",
                  "--json", bad],
                 ["optimize", panel, "--model", "geo_panel", "--geo-budget", "north=100", "--json", bad]):
        p = run(herd, *args)
        check(p.returncode == 2, f"herd {' '.join(args)}: exit {p.returncode}\n{p.stderr}")
        check(p.stderr.strip() != "", f"herd {' '.join(args)}: says why")
        check(not os.path.exists(bad), f"herd {' '.join(args)} wrote {bad}")
    for args in (["analyze", out],
                 ["analyze", out, "--model", "nope"],
                 ["analyze", os.path.join(work, "missing.h5"), "--all"],
                 ["optimize", out, "--model", model, "--bounds", "nope=1:2", "--json", bad],
                 ["optimize", out, "--model", model, "--bounds", "meta_retargeting=5:1", "--json", bad],
                 ["optimize", out, "--model", model, "--budget", "1e12", "--json", bad],
                 ["optimize", out, "--model", model, "--objective", "max", "--json", bad],
                 ["optimize", out, "--json", bad],
                 ["optimize", out, "--model", model, "--budget-range", "5:1", "--json", bad],
                 ["optimize", out, "--model", model, "--budget-range", "1000:2000", "--points", "1", "--json", bad],
                 ["optimize", out, "--model", model, "--budget", "1000", "--target-mroi", "1", "--json", bad],
                 ["optimize", out, "--model", model, "--target-mroi", "0.01", "--json", bad],  # conversions: CPA
                 ["optimize", out, "--model", model, "--target-roi", "0.01", "--json", bad],
                 ["optimize", out, "--model", model, "--target-cpa", "5", "--target-mcpa", "5", "--json", bad],
                 ["optimize", out, "--model", model, "--move-confidence", "1.5", "--json", bad],
                 ["optimize", out, "--model", model, "--target-mroi", "1", "--bounds", "meta_retargeting=2x:1x",
                  "--json", bad],
                 ["optimize", out, "--all", "--fix", "nope", "--json", bad]):
        p = run(herd, *args)
        check(p.returncode == 2, f"herd {' '.join(args)}: exit {p.returncode}\n{p.stderr}")
        check(p.stderr.strip() != "", f"herd {' '.join(args)}: says why")
        check(not os.path.exists(bad), f"herd {' '.join(args)} wrote {bad}")
    print("analysis: ok")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
