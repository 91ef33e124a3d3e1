#!/usr/bin/env python3
"""The NumPyro peer of bench_cuda's end-to-end run.

The same N models as `bench_cuda ... e2e`: the national example's adstock + Hill shape
(configs/examples/national_media.toml, as bench/peers/stan/adstock_hill.stan writes it), each
with its own outcome series from `bench_cuda OUT.json export N`, the data scaled as herd scales
it, herd's priors. The fairest batching NumPyro allows: its functional NUTS (`hmc(algo="NUTS")`,
Stan-style windowed adaptation inside the kernel) jit-compiled once and vmapped over every
(model, chain), the iterations in a `lax.scan`. Reports wall time (compilation separately),
models per second and min bulk-ESS (rank-normalized, split chains; rank-based, so the
unconstrained draws give the constrained parameters' value) per model.

  python3 bench/peers/numpyro/national.py EXPORT.json OUT.json [--models N] [--warmup W] [--draws D]
  python3 bench/peers/numpyro/national.py EXPORT.json --check   # gradients against herd's, no sampling

Run from the repository root. Needs jax and numpyro (the GPU machines have both).
"""
import argparse
import csv
import json
import time

import numpy as np

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from numpyro.infer.hmc import hmc
from numpyro.infer.util import initialize_model, potential_energy

jax.config.update("jax_enable_x64", True)

CHANNELS = ["tv", "radio", "search", "social", "display", "video", "ooh", "affiliates"]
CONTROLS = ["price", "promo"]
L, PERIOD, HARMONICS = 8, 52.18, 2


def load_data(path="configs/examples/national_media.csv"):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    x = np.array([[float(r[c]) for c in CHANNELS] for r in rows])
    x = x / np.array([x[x[:, c] > 0, c].mean() for c in range(x.shape[1])])  # mean over active weeks
    z = np.array([[float(r[k]) for k in CONTROLS] for r in rows])
    t = np.arange(1, len(rows) + 1)
    season = np.stack([f(2 * np.pi * h * t / PERIOD) for h in range(1, HARMONICS + 1) for f in (np.sin, np.cos)], axis=1)
    return dict(x=jnp.asarray(x), z=jnp.asarray(z), season=jnp.asarray(season), trend_x=jnp.asarray(t / len(rows)))


def model(x, z, season, trend_x, y):
    N, C = x.shape
    intercept = numpyro.sample("intercept", dist.Normal(0.5, 0.5))
    trend = numpyro.sample("trend", dist.Normal(0.0, 0.2))
    season_coef = numpyro.sample("season", dist.Normal(0.0, 0.2).expand([season.shape[1]]))
    gamma = numpyro.sample("gamma", dist.Normal(0.0, 0.5).expand([z.shape[1]]))
    beta = numpyro.sample("beta", dist.HalfNormal(0.3).expand([C]))
    decay = numpyro.sample("adstock_decay", dist.Beta(1.0, 3.0).expand([C]))
    kappa = numpyro.sample("hill_kappa", dist.Gamma(6.0, 6.0).expand([C]))
    slope = numpyro.sample("hill_slope", dist.Gamma(6.0, 3.0).expand([C]))
    sigma = numpyro.sample("sigma", dist.HalfNormal(0.1))
    # Geometric adstock over L taps, normalized by the weights' sum; weeks before the data are zero.
    w = decay[None, :] ** jnp.arange(L)[:, None]  # [L, C]
    xpad = jnp.concatenate([jnp.zeros((L - 1, C)), x])
    a = sum(w[l] * xpad[L - 1 - l:L - 1 - l + N] for l in range(L)) / w.sum(0)
    # Hill: a^s / (a^s + kappa^s) = inv_logit(s (log a - log kappa)), 0 at a = 0.
    pos = a > 0
    sat = jnp.where(pos, jax.nn.sigmoid(slope * (jnp.log(jnp.where(pos, a, 1.0)) - jnp.log(kappa))), 0.0)
    mu = intercept + trend * trend_x + season @ season_coef + z @ gamma + sat @ beta
    numpyro.sample("y", dist.Normal(mu, sigma), obs=y)


def scaled_outcomes(export, n):
    """Each model's outcome over herd's outcome scale (the example's mean: the noisy series
    share their base's scale, as herd's with_outcome keeps it)."""
    ys = np.array([m["y"] for m in export["models"][:n]])
    scale = np.array([m["outcome_scale"] for m in export["models"][:n]])
    return jnp.asarray(ys / scale[:, None])


def unflatten(names, theta, shapes):
    """herd's coordinates by name ("beta[tv]", "season[cos1]"), in herd's order within each
    family -> NumPyro's unconstrained sites."""
    out = {}
    for name, v in zip(names, theta):
        out.setdefault(name.split("[")[0], []).append(v)
    return {s: jnp.asarray(np.array(v)).reshape(shapes[s]) for s, v in out.items()}


def check(export, data):
    """NumPyro's gradient of the log density on the unconstrained scale against herd's."""
    y = scaled_outcomes(export, 1)[0]
    info = initialize_model(jax.random.PRNGKey(0), model, model_kwargs=dict(data, y=y))
    shapes = {k: v.shape for k, v in info.param_info.z.items()}
    names = export["check"]["names"]
    worst, lps = 0.0, []
    for p in export["check"]["points"]:
        params = unflatten(names, p["theta"], shapes)
        pe = lambda q: potential_energy(model, (), dict(data, y=y), q)
        lp = -float(pe(params))
        g = jax.grad(lambda q: -pe(q))(params)
        counter = {}
        for name, want in zip(names, p["grad"]):
            site = name.split("[")[0]
            k = counter.get(site, 0)
            counter[site] = k + 1
            got = float(np.ravel(g[site])[k])
            worst = max(worst, abs(got - want) / max(1.0, abs(want)))
        lps.append((lp, p["lp"]))
    # Normalizing constants may differ by a constant (truncation of the half-normals); differences
    # between points may not.
    diffs = [abs((a - lps[0][0]) - (b - lps[0][1])) / max(1.0, abs(b - lps[0][1])) for a, b in lps[1:]]
    print(f"gradient: largest relative difference to herd {worst:.3g}; log density differences: {max(diffs):.3g}; "
          f"constant offset {lps[0][0] - lps[0][1]:.6g}")
    return worst < 1e-8 and max(diffs) < 1e-8


def bulk_ess(draws):
    """Rank-normalized bulk ESS of draws [chains, n] with split chains (as ArviZ)."""
    from numpyro.diagnostics import effective_sample_size
    from scipy.stats import norm, rankdata
    c, n = draws.shape
    half = n // 2
    split = np.concatenate([draws[:, :half], draws[:, n - half:]], axis=0)
    r = rankdata(split, method="average").reshape(split.shape)
    zs = norm.ppf((r - 0.375) / (split.size + 0.25))
    return float(effective_sample_size(zs))


def run(export, data, n, warmup, draws, chains=4, seed=1):
    ys = scaled_outcomes(export, n)
    keys = jax.random.split(jax.random.PRNGKey(seed), n * chains)
    y_b = jnp.repeat(ys, chains, axis=0)  # [n * chains, T]

    def potential_for(y):
        return lambda q: potential_energy(model, (), dict(data, y=y), q)

    init_kernel, sample_kernel = hmc(potential_fn_gen=potential_for, algo="NUTS")
    info = initialize_model(keys[0], model, model_kwargs=dict(data, y=ys[0]))
    z0 = info.param_info.z
    # uniform(-2, 2) on the unconstrained scale, as herd and Stan initialize
    inits = jax.tree_util.tree_map(
        lambda v: jax.random.uniform(keys[1], (n * chains,) + v.shape, minval=-2.0, maxval=2.0), z0)

    def one(init, y, key):
        state = init_kernel(init, num_warmup=warmup, model_args=(y,), rng_key=key)

        def step(s, _):
            s = sample_kernel(s, model_args=(y,))
            flat = jnp.concatenate([jnp.ravel(v) for v in jax.tree_util.tree_leaves(s.z)])
            return s, (flat, s.num_steps)

        _, (zs, steps) = jax.lax.scan(step, state, None, length=warmup + draws)
        return zs[warmup:], steps

    fn = jax.jit(jax.vmap(one))
    t0 = time.time()
    compiled = fn.lower(inits, y_b, keys).compile()
    compile_s = time.time() - t0
    t0 = time.time()
    zs, steps = compiled(inits, y_b, keys)
    zs = np.asarray(jax.block_until_ready(zs))
    run_s = time.time() - t0
    zs = zs.reshape(n, chains, draws, -1)
    ess = np.array([min(bulk_ess(zs[m, :, :, j]) for j in range(zs.shape[-1])) for m in range(n)])
    return dict(models=n, chains=chains, warmup=warmup, draws=draws, compile_s=compile_s, run_s=run_s,
                wall_s=compile_s + run_s, models_per_s=n / run_s, leapfrogs=int(np.asarray(steps).sum()),
                min_bulk_ess_median=float(np.median(ess)), min_bulk_ess_min=float(ess.min()),
                device=str(jax.devices()[0]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("export")
    ap.add_argument("out", nargs="?")
    ap.add_argument("--models", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=1000)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    export = json.load(open(a.export))
    data = load_data()
    if a.check:
        raise SystemExit(0 if check(export, data) else 1)
    r = run(export, data, a.models, a.warmup, a.draws)
    print(json.dumps(r, indent=2))
    if a.out:
        json.dump(dict(benchmark="cuda_e2e_peer", peer="numpyro " + numpyro.__version__, jax=jax.__version__, **r),
                  open(a.out, "w"), indent=2)


if __name__ == "__main__":
    main()
