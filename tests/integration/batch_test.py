#!/usr/bin/python3
"""Batch fits end to end through the `herd` binary, checked from Python the way users read
the output: xarray (netCDF4 and h5netcdf engines) and netCDF4.

  batch_test.py output  HERD WORKDIR   every group opens; coordinates; values = herd summarize
  batch_test.py kill    HERD WORKDIR   SIGKILL mid-batch, the file opens, --resume = uninterrupted
  batch_test.py threads HERD WORKDIR   1 and 2 threads give identical files (draws bitwise)
  batch_test.py errors  HERD WORKDIR   malformed inputs: exit 2, file (line, column) named, nothing written

Run with Debian's python3 (python3-xarray, python3-h5netcdf, python3-netcdf4 from scripts/setup.sh).
"""
import csv
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tomllib

import netCDF4
import numpy as np
import xarray as xr

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "configs", "examples")
GROUPS = ["posterior", "sample_stats", "log_likelihood", "observed_data", "constant_data"]


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def run(herd, *args, expect=None, cwd=None):
    p = subprocess.run([herd, *args], capture_output=True, text=True, cwd=cwd)
    if expect is not None and p.returncode != expect:
        fail(f"herd {' '.join(args)}: exit {p.returncode}, expected {expect}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def small_run(work, n_seeds=0, failing=True):
    """A run file over the examples: the seed model, a 2-point sweep, optionally a model
    that cannot be fitted and a sweep over seeds."""
    text = f"""
[[models]]
config = "{EXAMPLES}/dtc_paid_social_tuned.toml"
name = "dtc_paid_social"

[[sweeps]]
config = "{EXAMPLES}/dtc_paid_social_noncentered.toml"
"media.pooling.multipliers.linkedin_awareness" = [0.05, 1.0]
"""
    if failing:
        # Outcomes near 1e200, unscaled: the normal likelihood overflows at every initial point.
        rows = "\n".join(f"{t},{(1 + t % 3)}e200,{1 + t % 4}" for t in range(1, 21))
        write(os.path.join(work, "huge.csv"), "week,y,tv\n" + rows + "\n")
        write(os.path.join(work, "huge.toml"),
              'name = "huge"\n[data]\npath = "huge.csv"\noutcome = "y"\noutcome_scale = "none"\n'
              '[media]\nchannels = ["tv"]\n')
        text += '\n[[models]]\nconfig = "huge.toml"\n'
    if n_seeds:
        text += f"""
[[sweeps]]
config = "{EXAMPLES}/dtc_paid_social_tuned.toml"
"sampler.seed" = {list(range(1, n_seeds + 1))}
"""
    path = os.path.join(work, "run.toml")
    write(path, text)
    return path


def models_of(path):
    with netCDF4.Dataset(path) as nc:
        return list(nc.groups), {name: nc[name].status for name in nc.groups}


def arrays(path, model, group):
    ds = xr.open_dataset(path, group=f"{model}/{group}", engine="netcdf4")
    out = {k: ds[k].values for k in list(ds.data_vars) + list(ds.coords)}
    ds.close()
    return out


def same_model(a, b, model):
    for g in GROUPS:
        x, y = arrays(a, model, g), arrays(b, model, g)
        check(x.keys() == y.keys(), f"{model}/{g}: variables differ: {sorted(x)} vs {sorted(y)}")
        for k in x:
            check(x[k].shape == y[k].shape and (x[k] == y[k]).all() if x[k].dtype.kind != "f"
                  else np.array_equal(x[k], y[k], equal_nan=True), f"{model}/{g}/{k} differs between {a} and {b}")


def label_selection(ds, var, parameter):
    """beta[meta] -> ds.beta.sel(channel='meta'); beta_geo_z[g1,tv] -> two dimensions."""
    m = re.fullmatch(r"([^\[]+)(?:\[(.*)\])?", parameter)
    name, labels = m.group(1), m.group(2)
    da = ds[name]
    if labels is None:
        return da
    extra = [d for d in da.dims if d not in ("chain", "draw")]
    parts = labels.split(",")
    check(len(parts) == len(extra), f"{parameter}: {len(parts)} labels for dims {extra}")
    return da.sel({d: p for d, p in zip(extra, parts)})


def cmd_output(herd, work):
    runfile = small_run(work)
    out = os.path.join(work, "out.h5")
    p = run(herd, "fit", runfile, "--out", out, "--warmup", "120", "--draws", "100", "--threads", "2", expect=1)
    check("huge" in p.stdout and "failed" in p.stdout, "the batch table shows the failed model\n" + p.stdout)
    check(not os.path.exists(out + ".parts"), "the parts are gone after a finished run")
    names, status = models_of(out)
    expected = ["dtc_paid_social", "dtc_paid_social_noncentered__linkedin_awareness=0.05",
                "dtc_paid_social_noncentered__linkedin_awareness=1.0", "huge"]
    check(names == expected, f"models in run order: {names}")
    with netCDF4.Dataset(out) as nc:
        listed = nc.getncattr("models")
        listed = [listed] if isinstance(listed, str) else list(listed)
        check(listed == expected, f"root attribute models: {listed}")
        check(list(nc["huge"].groups) == [], "a failed model has no data groups")
        # The sweep point as typed attributes, one per key, that a reader can select on.
        key = "sweep.media.pooling.multipliers.linkedin_awareness"
        picked = [m for m in expected if key in nc[m].ncattrs() and nc[m].getncattr(key) == 0.05]
        check(picked == ["dtc_paid_social_noncentered__linkedin_awareness=0.05"], f"selected on {key}: {picked}")
        check(np.issubdtype(np.asarray(nc[picked[0]].getncattr(key)).dtype, np.floating), "the value is a number")
        check(nc["huge"].status.startswith("failed: chain 0 found no initial point"), nc["huge"].status)
    csv_path = os.path.join(work, "summary.csv")
    run(herd, "summarize", out, "--csv", csv_path, expect=0)
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    check(list(rows[0].keys()) == ["model", "parameter", "mean", "sd", "hdi_3%", "hdi_97%", "mcse_mean",
                                   "mcse_sd", "ess_bulk", "ess_tail", "r_hat", "contraction",
                                   "prior_dominated", "converged"], f"CSV columns {list(rows[0])}")
    checked = 0
    for model in expected[:-1]:
        # Short fits (120 + 100 draws) may fail their convergence checks: then `warn`, never
        # `ok` with bad diagnostics, and every group is there all the same.
        check(status[model] == "ok" or status[model].startswith("warn: "), f"{model}: status {status[model]}")
        config = tomllib.loads(netCDF4.Dataset(out)[model].config)
        for engine in ("netcdf4", "h5netcdf"):
            for g in GROUPS:
                ds = xr.open_dataset(out, group=f"{model}/{g}", engine=engine)
                check(len(ds.data_vars) > 0, f"{engine}: {model}/{g} is empty")
                if "channel" in ds.coords:
                    check(list(ds.channel.values) == config["media"]["channels"],
                          f"{engine}: {model}/{g} channel coordinate {list(ds.channel.values)}")
                if g == "posterior":
                    check(ds.sizes["chain"] == 4 and ds.sizes["draw"] == 100, f"{model}: sizes {dict(ds.sizes)}")
                    check(ds.contribution.dims == ("chain", "draw", "week", "channel"), ds.contribution.dims)
                    check(np.issubdtype(ds.week.dtype, np.datetime64), f"week decodes to dates: {ds.week.dtype}")
                if g == "sample_stats":
                    check(ds.diverging.dtype == bool, f"diverging is boolean: {ds.diverging.dtype}")
                    check(ds.tree_depth.dtype.kind == "i", "tree_depth is integer")
                ds.close()
        # xarray's default engine, as ArviZ's from_netcdf opens each group.
        post = xr.open_dataset(out, group=f"{model}/posterior")
        for row in (r for r in rows if r["model"] == model):
            x = label_selection(post, None, row["parameter"]).values.astype(float)
            mean, sd = x.mean(), x.std(ddof=1)
            check(math.isclose(mean, float(row["mean"]), rel_tol=1e-12, abs_tol=1e-15),
                  f"{model} {row['parameter']}: mean {mean!r} vs summarize {row['mean']}")
            check(math.isclose(sd, float(row["sd"]), rel_tol=1e-10),
                  f"{model} {row['parameter']}: sd {sd!r} vs summarize {row['sd']}")
            checked += 1
        check(any(r["parameter"] == "beta[linkedin_awareness]" for r in rows if r["model"] == model),
              f"{model}: derived beta rows")
        post.close()
    check(checked > 60, f"only {checked} rows compared")
    try:  # ArviZ is not a Debian package; where someone has it, check it reads the file too
        import arviz as az
    except ImportError:
        az = None
    if az is not None:
        idata = az.InferenceData.from_netcdf(out, base_group="dtc_paid_social")
        check(set(GROUPS) <= set(idata.groups()), f"ArviZ groups {idata.groups()}")
        check(az.loo(idata).n_data_points == 104, "ArviZ loo over the 104 weeks")
    print(f"output: {len(expected)} models, every group opened with netcdf4 and h5netcdf, {checked} summary rows equal")


def cmd_kill(herd, work):
    runfile = small_run(work, n_seeds=17, failing=False)
    ref, killed = os.path.join(work, "ref.h5"), os.path.join(work, "killed.h5")
    args = ["fit", runfile, "--warmup", "120", "--draws", "80", "--threads", "1", "--no-contributions"]
    run(herd, *args, "--out", ref, expect=0)
    total = len(models_of(ref)[0])
    check(total == 20, f"{total} models in the reference run")
    proc = subprocess.Popen([herd, *args, "--out", killed], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    finished = 0
    for line in proc.stderr:
        if re.match(r"herd: \[\d+/\d+\] ", line):
            finished += 1
            if finished == 4:
                proc.send_signal(signal.SIGKILL)
                break
    proc.wait()
    check(proc.returncode == -signal.SIGKILL, f"herd was killed (exit {proc.returncode})")
    names, status = models_of(killed)
    check(len(names) >= 4 and len(names) < total, f"{len(names)} models in the killed run's file")
    for m in names:
        check(not status[m].startswith("failed"), f"{m}: {status[m]}")
        same_model(killed, ref, m)
    p = run(herd, *args, "--out", killed, "--resume", expect=0)
    check(f"({len(names)} already in" in p.stderr, "resume reports what it kept\n" + p.stderr)
    check(not os.path.exists(killed + ".parts"), "the parts are gone after the resumed run")
    names2, _ = models_of(killed)
    check(sorted(names2) == sorted(models_of(ref)[0]), f"resumed file holds {len(names2)} models")
    for m in names2:
        same_model(killed, ref, m)
    # Nothing left to do: a second resume fits nothing and leaves the file as it is.
    p = run(herd, *args, "--out", killed, "--resume", expect=0)
    check(f"{total} models, 0 to fit" in p.stderr, p.stderr)
    print(f"kill: {len(names)} of {total} models survived SIGKILL intact; --resume equals the uninterrupted run")


def cmd_threads(herd, work):
    runfile = small_run(work)
    files = []
    for t in ("1", "2"):
        out = os.path.join(work, f"t{t}.h5")
        run(herd, "fit", runfile, "--out", out, "--warmup", "100", "--draws", "80", "--threads", t, expect=1)
        files.append(out)
    names, status = models_of(files[0])
    check(names == models_of(files[1])[0], "same models")
    for m in names:
        check(status[m] == models_of(files[1])[1][m], f"{m}: {status[m]}")
        if not status[m].startswith("failed"):
            same_model(files[0], files[1], m)
    # One model alone on two threads runs its chains in parallel: still the same draws.
    alone_run = os.path.join(work, "alone.toml")
    write(alone_run, f'[[models]]\nconfig = "{EXAMPLES}/dtc_paid_social_tuned.toml"\nname = "dtc_paid_social"\n')
    alone = os.path.join(work, "alone.h5")
    run(herd, "fit", alone_run, "--out", alone, "--warmup", "100", "--draws", "80", "--threads", "2", expect=0)
    same_model(files[0], alone, "dtc_paid_social")
    print(f"threads: {len(names)} models identical with 1 and 2 threads, and alone with its chains on 2 threads")


def cmd_errors(herd, work):
    good_rows = ["week,sales,tv,search"] + [f"{t},{100 + 7 * (t % 5)},{10 + t % 3},{5 + t % 4}" for t in range(1, 31)]
    model = '[data]\npath = "{csv}"\noutcome = "sales"\n[media]\nchannels = ["tv", "search"]\n' \
            'groups = {{ paid = ["tv", "search"] }}\npooling = {{ type = "noncentered" }}\n'

    def data_case(name, lines, *, newline="\n", prefix=""):
        csv_path = os.path.join(work, name + ".csv")
        with open(csv_path, "w", newline="") as f:
            f.write(prefix + newline.join(lines) + (newline if lines else ""))
        write(os.path.join(work, name + ".toml"), model.format(csv=name + ".csv"))
        write(os.path.join(work, name + "_run.toml"), f'[[models]]\nconfig = "{name}.toml"\n')
        # Line always; column too where one cell is at fault (a header-wide problem has none).
        return os.path.join(work, name + "_run.toml"), re.escape(csv_path) + r":\d+(:\d+)?: "

    def run_case(name, body):
        path = os.path.join(work, name + ".toml")
        write(os.path.join(work, "ok.csv"), "\n".join(good_rows) + "\n")
        write(os.path.join(work, "ok.toml"), model.format(csv="ok.csv"))
        write(path, body)
        return path

    ok_run = run_case("ok_run", '[[models]]\nconfig = "ok.toml"\n')
    rows = list(good_rows)
    cases = [
        ("wrong delimiter", *data_case("semicolon", [r.replace(",", ";") for r in rows])),
        ("quoted newline", *data_case("quoted", rows[:5] + ['6,"10\n7",11,5'] + rows[6:])),
        ("byte-order mark", *data_case("bom", rows, prefix="\ufeff")),
        ("empty file", *data_case("empty", [])),
        ("duplicate dates", *data_case("dupdate", rows[:5] + [rows[5], rows[5]] + rows[7:])),
        ("NaN", *data_case("nan", rows[:3] + ["3,nan,11,6"] + rows[4:])),
        ("negative spend", *data_case("negative", rows[:3] + ["3,100,-4,6"] + rows[4:])),
        ("unknown channel in a sweep key",
         run_case("sweep_channel", '[[sweeps]]\nconfig = "ok.toml"\n"media.pooling.multipliers.radio" = [0.1]\n'),
         re.escape(os.path.join(work, "sweep_channel.toml")) + r":3:1: .*unknown channel \"radio\""),
        ("sweep over an unknown key",
         run_case("sweep_key", '[[sweeps]]\nconfig = "ok.toml"\n"media.colour" = ["red"]\n'),
         re.escape(os.path.join(work, "sweep_key.toml")) + r":3:1: .*unknown key `media.colour`"),
        ("glob matching nothing",
         run_case("glob", '[[models]]\ntemplate = "ok.toml"\ndata = "brands/*.csv"\n'),
         re.escape(os.path.join(work, "glob.toml")) + r":3:8: .*matches no file"),
        ("TOML syntax error", run_case("syntax", '[[models]\nconfig = "ok.toml"\n'),
         re.escape(os.path.join(work, "syntax.toml")) + r":1:\d+: TOML syntax error"),
        ("duplicate model names", run_case("dupnames", '[[models]]\nconfig = "ok.toml"\n[[models]]\nconfig = "ok.toml"\n'),
         re.escape(os.path.join(work, "dupnames.toml")) + r": two models are named \"ok\""),
    ]
    out_dir = os.path.join(work, "out")
    os.makedirs(out_dir)
    for name, runfile, pattern in cases:
        p = run(herd, "fit", runfile, "--out", os.path.join(out_dir, "x.h5"), "--warmup", "20", "--draws", "10")
        check(p.returncode == 2, f"{name}: exit {p.returncode}, expected 2\n{p.stderr}")
        check(re.search(pattern, p.stderr), f"{name}: message does not match {pattern!r}:\n{p.stderr}")
        check(os.listdir(out_dir) == [], f"{name}: left {os.listdir(out_dir)} behind")
    # Output paths: a missing folder, and a folder nobody may write in (root may write almost
    # anywhere, so /proc stands in for it there).
    missing = os.path.join(work, "no_such_dir", "x.h5")
    p = run(herd, "fit", ok_run, "--out", missing, "--warmup", "20", "--draws", "10")
    check(p.returncode == 2 and missing in p.stderr and "does not exist" in p.stderr, f"missing folder:\n{p.stderr}")
    check(not os.path.exists(os.path.dirname(missing)), "missing folder was created")
    if os.geteuid() == 0:
        locked = "/proc/herd-batch-test.h5"
    else:
        locked_dir = os.path.join(work, "locked")
        os.makedirs(locked_dir)
        os.chmod(locked_dir, 0o555)
        locked = os.path.join(locked_dir, "x.h5")
    p = run(herd, "fit", ok_run, "--out", locked, "--warmup", "20", "--draws", "10")
    check(p.returncode == 2 and locked in p.stderr and "cannot write" in p.stderr, f"no permission:\n{p.stderr}")
    # --resume into a file fitted with another config.
    out = os.path.join(out_dir, "r.h5")
    run(herd, "fit", ok_run, "--out", out, "--warmup", "20", "--draws", "10", expect=0)
    p = run(herd, "fit", ok_run, "--out", out, "--warmup", "20", "--draws", "11", "--resume")
    check(p.returncode == 2 and "fitted with other inputs" in p.stderr and "its config" in p.stderr, f"resume with another config:\n{p.stderr}")
    check(sorted(os.listdir(out_dir)) == ["r.h5"], f"left {os.listdir(out_dir)}")
    print(f"errors: {len(cases) + 3} malformed inputs, each exit 2 with its place named and nothing written")


def main(commands, doc):
    """`script.py COMMAND HERD WORKDIR`: runs one check in a fresh WORKDIR, removed if it passes."""
    if len(sys.argv) != 4 or sys.argv[1] not in commands:
        print(doc)
        sys.exit(2)
    cmd, herd, work = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    commands[cmd](herd, work)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main({"output": cmd_output, "kill": cmd_kill, "threads": cmd_threads, "errors": cmd_errors}, __doc__)
