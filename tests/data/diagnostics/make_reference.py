#!/usr/bin/env python3
"""Fixed draws and ArviZ reference values for tests/unit/diagnostics/test_diagnostics.cpp.

Run from anywhere with a Python that has arviz, numpy and scipy (kept outside the repo):

    python3 -m venv /tmp/azenv && /tmp/azenv/bin/pip install arviz numpy scipy
    /tmp/azenv/bin/python tests/data/diagnostics/make_reference.py

It writes, next to itself, one CSV per case (one chain per row, comma separated) and
expected.json. Draws are printed with 9 significant digits to keep the files small; every
expected value is computed from the values *as parsed back* from that text, so the C++ test,
which parses the same text with strtod, sees bit-identical inputs.

Everything except nested R-hat comes straight from ArviZ (the public az.rhat / az.ess /
az.mcse / az.bfmi / az.summary). ArviZ has no nested R-hat, so `nested_rhat_transcription`
below is a direct transcription of Margossian, Hoffman, Sountsov, Riou-Durand, Vehtari and
Gelman (2024), "Nested R-hat: assessing the convergence of Markov chain Monte Carlo when
running many short chains", Bayesian Analysis, doi:10.1214/24-BA1453 (eqs. for B_nu, W_nu
and nR-hat; the same definition as posterior::rhat_nested in R). It is an independent
implementation written from the paper, not from the C++ code.
"""
import json
import os
import warnings

import numpy as np
import scipy

warnings.filterwarnings("ignore")
import arviz as az  # noqa: E402  (its import emits a FutureWarning we silence above)

HERE = os.path.dirname(os.path.abspath(__file__))
SIG_DIGITS = 9


def ar1(rng, chains, draws, rho, start=None):
    """Stationary AR(1) chains with unit marginal variance (or started from `start`)."""
    x = np.empty((chains, draws))
    prev = rng.normal(size=chains) if start is None else np.asarray(start, dtype=float)
    scale = np.sqrt(1.0 - rho * rho)
    for d in range(draws):
        prev = rho * prev + scale * rng.normal(size=chains)
        x[:, d] = prev
    return x


def make_cases():
    rng = np.random.default_rng(20240611)
    cases = {}
    cases["iid_normal"] = rng.normal(size=(4, 1000))
    cases["ar1_rho09"] = ar1(rng, 4, 500, 0.9)
    # Poorly mixed: each chain sits around its own mode.
    cases["shifted_means"] = rng.normal(size=(4, 300)) + np.array([0.0, 0.2, 0.8, 2.0])[:, None]
    cases["student_t2"] = rng.standard_t(2.0, size=(4, 400))
    cases["odd_draws"] = ar1(rng, 4, 251, 0.5)
    # 32 superchains x 8 chains x 8 draws: chains of a superchain start at a shared,
    # overdispersed point and have not forgotten it after 8 AR(1) steps.
    starts = np.repeat(rng.normal(scale=3.0, size=32), 8)
    cases["many_short"] = ar1(rng, 256, 8, 0.6, start=starts)
    cases["single_chain"] = ar1(rng, 1, 1000, 0.3)
    # Heavy ties: one decimal of a normal gives ~40 distinct values in 800 draws.
    cases["ties"] = np.round(rng.normal(size=(4, 200)), 1)
    # Tiny and odd: az.rhat folds around the median of the split draws (middle draw of each
    # chain dropped), az.summary around the median of all draws; here the two differ.
    cases["tiny_odd"] = np.round(rng.normal(size=(3, 9)), 2)
    return cases


def write_case(name, ary):
    """Write with SIG_DIGITS significant digits and return the values as parsed back."""
    rows = [",".join(f"{v:.{SIG_DIGITS}g}" for v in chain) for chain in ary]
    with open(os.path.join(HERE, f"{name}.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")
    return np.array([[float(s) for s in row.split(",")] for row in rows])


def nested_rhat_transcription(ary, superchains):
    """nR-hat = sqrt(1 + B_nu / W_nu) for K superchains of M chains of N draws.

    B_nu  = 1/(K-1) sum_k (fbar_..k - fbar_...)^2          between superchains
    Btil_k = 1/(M-1) sum_m (fbar_.mk - fbar_..k)^2          between chains in superchain k (0 if M=1)
    Wtil_k = 1/M sum_m 1/(N-1) sum_n (f_nmk - fbar_.mk)^2   within chains (0 if N=1)
    W_nu  = 1/K sum_k (Btil_k + Wtil_k)
    Superchain k holds the consecutive chains k*M .. k*M+M-1.
    """
    chains, n = ary.shape
    k_count = superchains
    m = chains // k_count
    grouped = ary.reshape(k_count, m, n)
    chain_mean = grouped.mean(axis=2)  # (K, M)
    super_mean = grouped.mean(axis=(1, 2))  # (K,)
    overall = super_mean.mean()
    b_nu = np.sum((super_mean - overall) ** 2) / (k_count - 1)
    b_tilde = np.sum((chain_mean - super_mean[:, None]) ** 2, axis=1) / (m - 1) if m > 1 else 0.0
    if n > 1:
        w_tilde = (np.sum((grouped - chain_mean[:, :, None]) ** 2, axis=2) / (n - 1)).mean(axis=1)
    else:
        w_tilde = 0.0
    w_nu = np.mean(b_tilde + w_tilde)
    return float(np.sqrt(1.0 + b_nu / w_nu))


def f(v):
    v = float(v)
    return None if np.isnan(v) else v  # JSON has no NaN; null means "ArviZ returns NaN"


def reference(ary):
    summ = az.summary(az.convert_to_dataset(ary), hdi_prob=0.94, round_to="none").iloc[0]
    out = {
        "rhat": f(az.rhat(ary, method="rank")),
        "ess_bulk": f(az.ess(ary, method="bulk")),
        "ess_tail": f(az.ess(ary, method="tail")),
        "ess_mean": f(az.ess(ary, method="mean")),
        "ess_sd": f(az.ess(ary, method="sd")),
        "ess_quantile_05": f(az.ess(ary, method="quantile", prob=0.05)),
        "ess_quantile_50": f(az.ess(ary, method="quantile", prob=0.5)),
        "mcse_mean": f(az.mcse(ary, method="mean")),
        "mcse_sd": f(az.mcse(ary, method="sd")),
        "mcse_quantile_05": f(az.mcse(ary, method="quantile", prob=0.05)),
        "mcse_quantile_50": f(az.mcse(ary, method="quantile", prob=0.5)),
        "bfmi": [f(v) for v in az.bfmi(ary)],
        "summary": {
            "mean": f(summ["mean"]),
            "sd": f(summ["sd"]),
            "hdi_low": f(summ["hdi_3%"]),
            "hdi_high": f(summ["hdi_97%"]),
            "mcse_mean": f(summ["mcse_mean"]),
            "mcse_sd": f(summ["mcse_sd"]),
            "ess_bulk": f(summ["ess_bulk"]),
            "ess_tail": f(summ["ess_tail"]),
            "r_hat": f(summ["r_hat"]),
        },
    }
    return out


def main():
    cases = make_cases()
    expected = {
        "versions": {
            "arviz": az.__version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
        },
        "significant_digits": SIG_DIGITS,
        "cases": {},
    }
    nested = {"many_short": 32, "ar1_rho09": 2}
    for name, ary in cases.items():
        parsed = write_case(name, ary)
        ref = reference(parsed)
        ref["chains"], ref["draws"] = parsed.shape
        if name in nested:
            k = nested[name]
            ref["nested_rhat"] = {"superchains": k, "value": nested_rhat_transcription(parsed, k)}
        expected["cases"][name] = ref
    tiny = expected["cases"]["tiny_odd"]
    assert tiny["rhat"] != tiny["summary"]["r_hat"], "tiny_odd no longer separates the two medians"
    with open(os.path.join(HERE, "expected.json"), "w") as fh:
        json.dump(expected, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()
