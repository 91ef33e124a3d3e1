#!/usr/bin/env python3
"""Fixed pointwise log likelihoods and ArviZ PSIS-LOO reference values for
tests/unit/diagnostics/test_loo.cpp.

Run from anywhere with a Python that has arviz (kept outside the repo):

    python3 -m venv /tmp/loovenv && /tmp/loovenv/bin/pip install arviz==0.23.4
    /tmp/loovenv/bin/python tests/data/loo/make_loo_reference.py

It writes, next to itself, case_a.json ... case_d.json (inputs and az.loo outputs)
and compare_b_c.json (az.compare of cases b and c, which model the same data).

log_lik is printed with SIG_DIGITS significant digits to keep the files small; every expected
value is computed from the values *as parsed back* from the written JSON, so the C++ test,
which parses the same text (strtod, correctly rounded like Python's float()), sees
bit-identical inputs. Draws are stored chain-major: log_lik[chain * draws_per_chain + draw][obs],
which is the order of ArviZ's stack(__sample__=("chain", "draw")).

reff: az.loo estimates a relative efficiency from the posterior's ESS when there are several
chains and shortens the Pareto tail with it. herd's psis_loo uses reff = 1 (the draws it is
given are treated as independent), so every call below passes reff=1.0 explicitly; the draws
here are independent anyway.
"""
import json
import os
import warnings

import numpy as np

warnings.filterwarnings("ignore")
import arviz as az  # noqa: E402  (its import emits a FutureWarning we silence above)

HERE = os.path.dirname(os.path.abspath(__file__))
SIG_DIGITS = 8


def normal_logpdf(y, mu, sd):
    return -0.5 * np.log(2.0 * np.pi) - np.log(sd) - 0.5 * ((y - mu) / sd) ** 2


def case_a(rng):
    """Well behaved: normal model, unknown mean and sd, 50 observations, 4 x 500 exact draws."""
    n, chains, draws = 50, 4, 500
    y = rng.normal(1.5, 2.0, size=n)
    # Posterior under p(mu, sigma^2) ∝ 1/sigma^2: sigma^2 | y ~ scaled-Inv-chi2(n-1, s^2),
    # mu | sigma, y ~ N(ybar, sigma^2/n) (Gelman et al., BDA3, sec. 3.2).
    s_total = chains * draws
    s2 = y.var(ddof=1)
    sigma = np.sqrt((n - 1) * s2 / rng.chisquare(n - 1, size=s_total))
    mu = rng.normal(y.mean(), sigma / np.sqrt(n))
    ll = normal_logpdf(y[None, :], mu[:, None], sigma[:, None])
    return "normal model, unknown mean and sd, exact posterior draws", chains, draws, ll


def eight_schools_like_data(rng):
    """20 observations with known, unequal measurement sds; three are outliers."""
    n = 20
    meas_sd = rng.uniform(0.5, 2.5, size=n)
    theta = rng.normal(1.0, 2.0, size=n)
    y = theta + meas_sd * rng.normal(size=n)
    y[[3, 11, 17]] += np.array([11.0, -9.0, 14.0])
    return y, meas_sd


def case_b(rng, y, meas_sd, chains=2, draws=500):
    """Heavy tails: y_i ~ N(theta_i, sd_i), theta_i ~ N(mu, tau). Each observation has its
    own parameter, so leaving it out moves theta_i a lot: k-hat ~ tau^2 / (tau^2 + sd_i^2),
    several above 0.7 and some above 1. 2 x 500 draws: (mu, tau) from a fixed
    approximate hyperposterior, theta_i from its exact conditional given them."""
    s_total = chains * draws
    tau = np.exp(rng.normal(np.log(3.0), 0.25, size=s_total))
    mu = rng.normal(y.mean(), 0.8, size=s_total)
    prec = 1.0 / tau[:, None] ** 2 + 1.0 / meas_sd[None, :] ** 2
    mean = (mu[:, None] / tau[:, None] ** 2 + y[None, :] / meas_sd[None, :] ** 2) / prec
    theta = mean + rng.normal(size=mean.shape) / np.sqrt(prec)
    ll = normal_logpdf(y[None, :], theta, meas_sd[None, :])
    return "hierarchical normal with outliers, per-observation parameters", chains, draws, ll


def case_c(rng, y, meas_sd):
    """Tiny: complete pooling of case b's data, y_i ~ N(mu, sd_i), flat prior on mu;
    one chain of 100 exact draws (tail length 20, good_k 0.5)."""
    draws = 100
    w = 1.0 / meas_sd**2
    mu = rng.normal((w * y).sum() / w.sum(), 1.0 / np.sqrt(w.sum()), size=draws)
    ll = normal_logpdf(y[None, :], mu[:, None], meas_sd[None, :])
    return "complete pooling of case b's data, 100 draws", 1, draws, ll


def case_d(rng, y, meas_sd):
    """Tail-length rule: case b's model with 97 draws, where S/5 = 19.4 is the binding bound
    and ArviZ's ceil(min(S/5, 3 sqrt(S))) = 20 differs from floor(S/5) = 19."""
    _, chains, draws, ll = case_b(rng, y, meas_sd, chains=1, draws=97)
    return "case b's model with 97 draws (tail length 20 = ceil(19.4))", chains, draws, ll


def round_sig(x):
    return np.array([float(f"{v:.{SIG_DIGITS - 1}e}") for v in x.ravel()]).reshape(x.shape)


def floats(a):
    return [float(v) for v in np.asarray(a).ravel()]


def write_json(name, obj):
    path = os.path.join(HERE, name)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    with open(path) as f:
        return json.load(f)


def loo_reference(chains, draws, ll):
    """az.loo on log_lik shaped (chains * draws, n) chain-major; returns the ELPDData and a dict."""
    n = ll.shape[1]
    idata = az.from_dict(log_likelihood={"y": ll.reshape(chains, draws, n)})
    res = az.loo(idata, pointwise=True, reff=1.0, scale="log")
    dev = az.loo(idata, pointwise=False, reff=1.0, scale="deviance")
    k = np.asarray(res.pareto_k)
    out = {
        "elpd_loo": float(res.elpd_loo),
        "se": float(res.se),
        "p_loo": float(res.p_loo),
        "looic": float(dev.elpd_loo),
        "good_k": float(res.good_k),
        "warning": bool(res.warning),
        "n_bad_k": int(np.sum(k > res.good_k)),
        "pointwise": floats(res.loo_i),
        "pareto_k": floats(k),
    }
    return res, out


def main():
    rng = np.random.default_rng(20250214)
    versions = {"arviz_version": az.__version__, "numpy_version": np.__version__}
    y, meas_sd = eight_schools_like_data(rng)
    makers = {
        "a": lambda: case_a(rng),
        "b": lambda: case_b(rng, y, meas_sd),
        "c": lambda: case_c(rng, y, meas_sd),
        "d": lambda: case_d(rng, y, meas_sd),
    }
    results = {}
    for key, make in makers.items():
        description, chains, draws, ll = make()
        ll = round_sig(ll)
        doc = {
            "description": description,
            **versions,
            "reff": 1.0,
            "chains": chains,
            "draws_per_chain": draws,
            "draws": chains * draws,
            "n_obs": int(ll.shape[1]),
            "sig_digits": SIG_DIGITS,
            "log_lik": [floats(row) for row in ll],
        }
        # Compute the reference from the inputs exactly as the C++ will read them.
        parsed = write_json(f"case_{key}.json", doc)
        ll_parsed = np.array(parsed["log_lik"], dtype=float)
        assert np.array_equal(ll_parsed, ll)
        res, out = loo_reference(chains, draws, ll_parsed)
        if key == "c":
            # psislw of every observation, for the test of psis_smooth on its own.
            lw, k = az.psislw(-ll_parsed.T, reff=1.0)
            out["psislw"] = [floats(row) for row in lw]
            out["psislw_k"] = floats(k)
        doc["expected"] = out
        write_json(f"case_{key}.json", doc)
        results[key] = res
        print(f"case_{key}: elpd_loo={out['elpd_loo']:.6f} se={out['se']:.6f} p_loo={out['p_loo']:.6f} "
              f"good_k={out['good_k']:.4f} n_bad_k={out['n_bad_k']} max_k={max(out['pareto_k']):.3f}")

    # az.compare on ELPDData computed with reff=1; elpd_diff/dse are those of the lower-ranked
    # model, relative to the top one (0 for the top).
    cmp = az.compare({"case_b": results["b"], "case_c": results["c"]}, ic="loo", scale="log")
    top, other = list(cmp.index)
    doc = {
        "description": "az.compare(ic='loo', scale='log') of case_b and case_c (same data)",
        **versions,
        "top": top,
        "other": other,
        "elpd_diff": float(cmp.loc[other, "elpd_diff"]),
        "dse": float(cmp.loc[other, "dse"]),
        "elpd_top": float(cmp.loc[top, "elpd_loo"]),
        "elpd_other": float(cmp.loc[other, "elpd_loo"]),
    }
    write_json("compare_b_c.json", doc)
    print(f"compare: top={top} elpd_diff={doc['elpd_diff']:.6f} dse={doc['dse']:.6f}")


if __name__ == "__main__":
    main()
