#!/usr/bin/python3
"""Hostile input and faults through the `herd` binary: every defect class of the "never
destroy a result" issue, each at least twice (in a CSV, a model config, a run file, a flag or
an output path), with its exit status, a fragment of its message, and a check that nothing was
written and a previous output is byte-for-byte intact.

  hostile_test.py destroy HERD WORKDIR  existing outputs, outputs that are inputs, caps, names
  hostile_test.py lock    HERD WORKDIR  a second writer, analyze during a fit, a killed holder
  hostile_test.py labels  HERD WORKDIR  commas, brackets, dots and control characters in labels
  hostile_test.py finite  HERD WORKDIR  values whose sums overflow; resume after an edit
  hostile_test.py faults  HERD WORKDIR  a full disk (tmpfs), SIGINT and SIGTERM
  hostile_test.py messages HERD WORKDIR flags, long cells, UTF-16, wide headers, missing data

Run with Debian's python3 (python3-xarray, python3-netcdf4 from scripts/setup.sh).
"""
import csv
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time

import netCDF4
import xarray as xr

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAST = ["--warmup", "30", "--draws", "20", "--chains", "2", "--quiet"]
# A fit of the small model that lasts about a second and writes several MB (contributions).
LONG = ["--warmup", "2000", "--draws", "20000", "--chains", "2", "--quiet"]


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def run(herd, *args, cwd=None, timeout=300):
    return subprocess.run([herd, *args], capture_output=True, text=True, cwd=cwd, timeout=timeout)


def write(path, text, mode="w"):
    with open(path, mode) as f:
        f.write(text)


def digest(path):
    """Every file under path (or the file itself) with its SHA-256: 'intact' means equal."""
    out = {}
    if os.path.isfile(path):
        with open(path, "rb") as f:
            return {"": hashlib.sha256(f.read()).hexdigest()}
    for d, _, files in os.walk(path):
        for n in files:
            p = os.path.join(d, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, path)] = hashlib.sha256(f.read()).hexdigest()
    return out


def csv_quote(s):
    return '"' + s.replace('"', '""') + '"' if any(ch in s for ch in ',"\n') else s


def data_csv(path, channels=("tv", "search"), weeks=30, header=None, outcome=None):
    rows = [header or ",".join(["week", "sales", *[csv_quote(c) for c in channels]])]
    for t in range(weeks):
        y = outcome(t) if outcome else 100 + 7 * (t % 5) + 3 * (t % 3)
        rows.append(",".join([str(t + 1), str(y), *[str(5 + (t * (i + 2)) % 7) for i in range(len(channels))]]))
    write(path, "\n".join(rows) + "\n")


def toml_str(s):
    """A TOML basic string; control characters as \\uXXXX escapes (TOML forbids them raw)."""
    out = ""
    for ch in s:
        if ch in '"\\':
            out += "\\" + ch
        elif ord(ch) < 0x20 or ord(ch) == 0x7f:
            out += f"\\u{ord(ch):04x}"
        else:
            out += ch
    return '"' + out + '"'


def model_toml(path, csv_name, channels=("tv", "search"), extra="", name="m"):
    write(path, f"name = {toml_str(name)}\n[data]\npath = {toml_str(csv_name)}\noutcome = \"sales\"\n"
                f"[media]\nchannels = [{', '.join(toml_str(c) for c in channels)}]\n{extra}")


def expect(herd, case, status, fragment, *args, cwd=None, intact=(), absent=()):
    """Runs herd; checks the exit status, the message fragment, files unchanged, paths absent."""
    before = {p: digest(p) for p in intact}
    p = run(herd, *args, cwd=cwd)
    text = p.stdout + p.stderr
    check(p.returncode == status and fragment in text,
          f"{case}: exit {p.returncode} (want {status}), want {fragment!r} in:\n{text[-3000:]}")
    for path in intact:
        check(digest(path) == before[path], f"{case}: {path} changed")
    for path in absent:
        check(not os.path.exists(path), f"{case}: {path} was written")
    print(f"ok   {case}")
    return p


def fitted(herd, work, name="m"):
    """A small fitted model (config, data, output) to be kept safe by the cases."""
    data_csv(os.path.join(work, "d.csv"))
    model_toml(os.path.join(work, "m.toml"), "d.csv", name=name)
    out = os.path.join(work, "old.h5")
    p = run(herd, "fit", os.path.join(work, "m.toml"), "--out", out, *FAST)
    check(p.returncode == 0, f"the reference fit failed:\n{p.stderr}")
    return os.path.join(work, "m.toml"), out


# ------------------------------------------------------------------------------------------

def cmd_destroy(herd, work):
    cfg, old = fitted(herd, work)
    d = os.path.join(work, "d.csv")
    # An existing output is refused unless --resume or --overwrite: a model config, a run file.
    expect(herd, "existing --out refused", 2, "pass --resume to complete it, --overwrite to replace it",
           "fit", cfg, "--out", old, *FAST, intact=[old])
    run_file = os.path.join(work, "run.toml")
    write(run_file, f'[run]\noutput = "old.h5"\n[[models]]\nconfig = "m.toml"\n')
    expect(herd, "existing [run] output refused", 2, "old.h5: exists (a herd output with 1 model)",
           "fit", run_file, *FAST, intact=[old])
    # The study writes its fits with the same guard.
    study = os.path.join(ROOT, "configs", "studies", "dtc_pooling.toml")
    expect(herd, "existing study --out refused", 2, "--overwrite to replace it",
           "study", study, "--replicates", "1", "--out", old, intact=[old])
    # An output that is one of the inputs: the data, the run file, the config (even --overwrite).
    expect(herd, "--out the data CSV", 2, "the output is an input of this run",
           "fit", cfg, "--out", d, "--overwrite", *FAST, intact=[d])
    expect(herd, "--out the run file", 2, "the output is an input of this run",
           "fit", run_file, "--out", run_file, "--overwrite", *FAST, intact=[run_file])
    os.makedirs(os.path.join(work, "sub"))
    expect(herd, "--out the config through ../", 2, "the output is an input of this run",
           "fit", cfg, "--out", os.path.join(work, "sub", "..", "m.toml"), "--overwrite", *FAST, intact=[cfg])
    expect(herd, "--draws-csv the config", 2, "the output is an input of this run",
           "fit", cfg, "--draws-csv", cfg, *FAST, intact=[cfg])
    # Caps checked before anything on disk is touched, even with --overwrite.
    for case, extra, frag in [
        ("chains near INT_MAX", "[sampler]\nchains = 2147483000\n", "sampler.chains"),
        ("draws near INT_MAX", "[sampler]\ndraws = 2147483000\n", "sampler.draws"),
        ("harmonics near INT_MAX", "[seasonality]\nharmonics = 2147483000\n", "seasonality.harmonics"),
        ("harmonics past period / 2", "[seasonality]\nperiod = 52\nharmonics = 40\n", "at most period / 2 = 26"),
    ]:
        bad = os.path.join(work, "bad.toml")
        model_toml(bad, "d.csv", extra=extra)
        expect(herd, case, 2, frag, "fit", bad, "--out", old, "--overwrite", *FAST[:-1], intact=[old])
    expect(herd, "--draws past the cap", 2, "--draws", "fit", cfg, "--out", old, "--overwrite", "--draws",
           "2000000000", intact=[old])
    expect(herd, "--chains past the cap", 2, "--chains", "fit", cfg, "--out", old, "--overwrite", "--chains",
           "100000", intact=[old])
    # Each size under its cap, their product past any machine's memory: refused with the figure.
    for case, args in [("draws x chains past memory (flags)", ["--chains", "1024", "--draws", "1000000"]),
                       ("draws x chains past memory (config)", [])]:
        target = cfg
        if not args:
            target = os.path.join(work, "bad.toml")
            model_toml(target, "d.csv", extra="[sampler]\nchains = 1000\ndraws = 900000\n")
        expect(herd, case, 2, "GiB of memory", "fit", target, "--out", old, "--overwrite", *args, intact=[old])
    # Names that are not names.
    for case, name in [("model named .", "."), ("model named ..", "..")]:
        bad = os.path.join(work, "bad.toml")
        model_toml(bad, "d.csv", name=name)
        expect(herd, case, 2, "cannot name a model", "fit", bad, "--out", old, "--overwrite", intact=[old])
    write(run_file, '[[models]]\nconfig = "m.toml"\nname = "."\n')
    expect(herd, "run file renames a model to .", 2, "run.toml:3:8", "fit", run_file, "--out", old, "--overwrite",
           intact=[old])
    # Sweeps too large for a run, and products that would wrap around size_t.
    values = "[" + ", ".join(str(0.1 * (i + 1)) for i in range(100)) + "]"
    write(run_file, f'[[sweeps]]\nconfig = "m.toml"\n"sampler.target_accept" = {values}\n'
                    f'"sampler.seed" = {list(range(100))}\n"trend.type" = ["none", "linear"] \n'
                    f'"sampler.max_depth" = {list(range(1, 11))}\n')
    expect(herd, "a sweep of 200,000 points", 2, "more points than the 100000 models", "fit", run_file,
           "--out", old, "--overwrite", intact=[old])
    keys = "\n".join(f'"priors.p{i}" = {list(range(10))}' for i in range(21))
    write(run_file, f'[[models]]\nconfig = "m.toml"\n[[sweeps]]\nconfig = "m.toml"\n{keys}\n')
    expect(herd, "a sweep of 10^21 points (wraps size_t)", 2, "more points than the 100000 models", "fit",
           run_file, "--out", old, "--overwrite", intact=[old])
    # --overwrite does replace, and --resume with --overwrite is a usage error.
    expect(herd, "--resume with --overwrite", 2, "excludes", "fit", cfg, "--out", old, "--resume", "--overwrite",
           intact=[old])
    expect(herd, "--overwrite replaces", 0, "", "fit", cfg, "--out", old, "--overwrite", *FAST)


def cmd_lock(herd, work):
    cfg, old = fitted(herd, work)
    # Slow enough that the holder never finishes while the checks run (its part would appear).
    slow = ["--warmup", "300000", "--draws", "1000", "--chains", "2", "--quiet"]
    out = os.path.join(work, "busy.h5")
    first = subprocess.Popen([herd, "fit", cfg, "--out", out, *slow], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if os.path.exists(out + ".lock"):
                break
            time.sleep(0.05)
        check(os.path.exists(out + ".lock"), "the fit took no lock")
        parts = digest(out + ".parts") if os.path.exists(out + ".parts") else {}
        for case, args in [("second fit --overwrite", ["fit", cfg, "--out", out, "--overwrite", *FAST]),
                           ("second fit --resume", ["fit", cfg, "--out", out, "--resume", *FAST])]:
            expect(herd, case, 2, f"(pid {first.pid}) is writing this file", *args)
        check(first.poll() is None, "the first fit was disturbed")
        check((digest(out + ".parts") if os.path.exists(out + ".parts") else {}) == parts, "the parts changed")
        # herd analyze rewrites the file it analyzes: never while a fit holds it.
        shutil.copy(old, out + ".copy.h5")
        holder = subprocess.Popen([herd, "fit", cfg, "--out", out + ".copy.h5", "--overwrite", *slow],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            if os.path.exists(out + ".copy.h5.lock"):
                break
            time.sleep(0.05)
        expect(herd, "analyze during a fit", 2, f"herd analyze: another herd process (pid {holder.pid})",
               "analyze", out + ".copy.h5", "--all")
        holder.kill()
        holder.wait()
    finally:
        first.kill()
        first.wait()
    # A killed holder never blocks: the kernel dropped its lock; --resume goes on.
    expect(herd, "resume after the holder was killed", 0, "", "fit", cfg, "--out", out, "--resume", *FAST)
    check(not os.path.exists(out + ".lock"), "a finished run leaves its lock file")
    expect(herd, "analyze when nobody writes", 0, "", "analyze", old, "--all")


def cmd_labels(herd, work):
    # Commas, brackets, quotes and dots in channel, control, geo and group names round-trip.
    channels = ("tv, national", "search[brand]", 'radio "drive"', "a.b")
    data_csv(os.path.join(work, "d.csv"), channels=channels)
    cfg = os.path.join(work, "m.toml")
    model_toml(cfg, "d.csv", channels=channels,
               extra='[media.pooling]\ntype = "noncentered"\n[media.groups]\n"g,1" = ["tv, national", "a.b"]\n'
                     '"g[2]" = ["search[brand]", "radio \\"drive\\""]\n')
    out = os.path.join(work, "l.h5")
    p = run(herd, "fit", cfg, "--out", out, *FAST)
    check(p.returncode == 0, f"labels with commas and brackets: exit {p.returncode}\n{p.stderr[-2000:]}")
    post = xr.open_dataset(out, group="m/posterior")
    check(list(post.channel.values) == list(channels), f"channel coordinate {list(post.channel.values)}")
    check(post.beta.dims == ("chain", "draw", "channel"), f"beta dims {post.beta.dims}")
    check(sorted(post.beta_mu.dims) == ["chain", "draw", "group"], f"beta_mu dims {post.beta_mu.dims}")
    check(set(post.group.values) == {"g,1", "g[2]"}, f"group coordinate {list(post.group.values)}")
    post.close()
    summary = os.path.join(work, "s.csv")
    check(run(herd, "summarize", out, "--csv", summary).returncode == 0, "summarize")
    with open(summary) as f:
        params = [r["parameter"] for r in csv.DictReader(f)]
    check("beta[tv, national]" in params and 'beta[radio "drive"]' in params, f"summary CSV parameters {params}")
    # A geo name with a comma in a panel: beta_geo_z lays out over (geo, channel).
    rows = ["week,region,sales,tv,search"]
    for g in ("north, east", "south[1]"):
        for t in range(26):
            rows.append(f'{t + 1},"{g}",{100 + 5 * (t % 4) + len(g)},{3 + t % 5},{2 + t % 3}')
    write(os.path.join(work, "p.csv"), "\n".join(rows) + "\n")
    pcfg = os.path.join(work, "p.toml")
    write(pcfg, 'name = "p"\n[data]\npath = "p.csv"\noutcome = "sales"\npanel = "region"\n'
                '[media]\nchannels = ["tv", "search"]\n')
    pout = os.path.join(work, "p.h5")
    p = run(herd, "fit", pcfg, "--out", pout, *FAST)
    check(p.returncode == 0, f"panel with a comma in a geo: exit {p.returncode}\n{p.stderr[-2000:]}")
    post = xr.open_dataset(pout, group="p/posterior")
    check(post.beta_geo_z.dims == ("chain", "draw", "geo", "channel"), f"beta_geo_z dims {post.beta_geo_z.dims}")
    check(list(post.geo.values) == ["north, east", "south[1]"], f"geo coordinate {list(post.geo.values)}")
    post.close()
    print("ok   labels with commas, brackets, quotes and dots round-trip through the file and the CSV")
    # A sweep key reaches a channel with a dot in its name by quoting the segment.
    run_file = os.path.join(work, "run.toml")
    write(run_file, '[[sweeps]]\nconfig = "m.toml"\n\'media.pooling.multipliers."a.b"\' = [0.5, 2.0]\n')
    sout = os.path.join(work, "sw.h5")
    p = run(herd, "fit", run_file, "--out", sout, *FAST)
    check(p.returncode == 0, f"quoted sweep key: exit {p.returncode}\n{p.stderr[-2000:]}")
    with netCDF4.Dataset(sout) as nc:
        names = list(nc.groups)
        sweeps = [nc[n].sweep for n in names]
    check(names == ["m__a.b=0.5", "m__a.b=2.0"], f"sweep models {names}")
    check('"a.b"' in sweeps[0], f"sweep attribute {sweeps[0]}")
    print("ok   a quoted sweep key addresses channel a.b")
    write(run_file, '[[sweeps]]\nconfig = "m.toml"\n\'media.pooling.multipliers."a.b\' = [0.5]\n')
    expect(herd, "unclosed quote in a sweep key", 2, "is not closed", "fit", run_file, "--out",
           os.path.join(work, "x.h5"), absent=[os.path.join(work, "x.h5")])
    # Control characters are rejected where they appear.
    write(os.path.join(work, "c.csv"), "week,sales,tv\x01x,search\n1,100,1,2\n2,110,2,3\n")
    model_toml(os.path.join(work, "c.toml"), "c.csv", channels=("tv\x01x", "search"))
    expect(herd, "control character in a CSV header", 2, "c.csv:1:3", "fit", os.path.join(work, "c.toml"),
           "--out", os.path.join(work, "x.h5"), absent=[os.path.join(work, "x.h5")])
    rows = ["week,region,sales,tv,search", '1,north,100,1,2', '1,"so\x1buth",100,1,2']
    write(os.path.join(work, "g.csv"), "\n".join(rows) + "\n")
    write(os.path.join(work, "g.toml"), 'name = "g"\n[data]\npath = "g.csv"\noutcome = "sales"\n'
                                        'panel = "region"\n[media]\nchannels = ["tv", "search"]\n')
    expect(herd, "control character in a geo name", 2, "g.csv:3:2", "fit", os.path.join(work, "g.toml"),
           "--out", os.path.join(work, "x.h5"), absent=[os.path.join(work, "x.h5")])
    model_toml(os.path.join(work, "n.toml"), "d.csv", channels=channels, name="m\x07")
    expect(herd, "control character in a model name", 2, "control characters", "fit",
           os.path.join(work, "n.toml"), "--out", os.path.join(work, "x.h5"), absent=[os.path.join(work, "x.h5")])


def cmd_finite(herd, work):
    data_csv(os.path.join(work, "big.csv"), outcome=lambda t: "1e308" if t in (7, 8) else str(100 + t))
    model_toml(os.path.join(work, "big.toml"), "big.csv")
    expect(herd, "outcome near 1e308 (its sum overflows)", 2, "big.csv:9:2", "fit", os.path.join(work, "big.toml"),
           "--out", os.path.join(work, "x.h5"), absent=[os.path.join(work, "x.h5")])
    rows = ["week,sales,tv,search"] + [f"{t + 1},{100 + t},{'1.7e308' if t in (3, 4) else 5},{2}" for t in range(30)]
    write(os.path.join(work, "spend.csv"), "\n".join(rows) + "\n")
    model_toml(os.path.join(work, "spend.toml"), "spend.csv")
    expect(herd, "spend near 1e308 (its sum overflows)", 2, "spend.csv:5:3", "fit",
           os.path.join(work, "spend.toml"), "--out", os.path.join(work, "x.h5"), absent=[os.path.join(work, "x.h5")])
    # --resume compares the data, the resolved config and the output options.
    cfg, old = fitted(herd, work)
    with open(os.path.join(work, "d.csv")) as f:
        lines = f.read().splitlines()
    lines[5] = lines[5].replace(",", ",9", 1)
    write(os.path.join(work, "d.csv"), "\n".join(lines) + "\n")
    expect(herd, "resume after the CSV was edited", 2, "its data", "fit", cfg, "--out", old, "--resume", *FAST,
           intact=[old])
    data_csv(os.path.join(work, "d.csv"))  # the data as fitted
    expect(herd, "resume with --prior toggled", 2, "the output options", "fit", cfg, "--out", old, "--resume",
           "--prior", *FAST, intact=[old])
    expect(herd, "resume with --no-contributions toggled", 2, "contributions=yes", "fit", cfg, "--out", old,
           "--resume", "--no-contributions", *FAST, intact=[old])
    expect(herd, "resume with the same inputs", 0, "", "fit", cfg, "--out", old, "--resume", *FAST, intact=[old])


def cmd_faults(herd, work):
    cfg, _ = fitted(herd, work)
    # Signals: finished models stay, the lock goes, exit 128 + signal within 2 seconds.
    run_file = os.path.join(work, "run.toml")
    write(run_file, "".join(f'[[models]]\nconfig = "{cfg}"\nname = "n{i}"\n' for i in range(4)))
    for sig, code in [(signal.SIGINT, 130), (signal.SIGTERM, 143)]:
        out = os.path.join(work, f"sig{code}.h5")
        p = subprocess.Popen([herd, "fit", run_file, "--out", out, *LONG, "--threads", "1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        t0 = time.monotonic()
        p.send_signal(sig)
        _, err = p.communicate(timeout=10)
        took = time.monotonic() - t0
        check(p.returncode == code, f"{sig.name}: exit {p.returncode}, want {code}\n{err}")
        check(took < 2.0, f"{sig.name}: took {took:.2f} s to exit")
        check("--resume" in err and "safe in" in err, f"{sig.name}: message\n{err}")
        check(not os.path.exists(out + ".lock"), f"{sig.name}: the lock file is left")
        r = run(herd, "fit", run_file, "--out", out, "--resume", *LONG)
        check(r.returncode == 0, f"{sig.name}: --resume after it: exit {r.returncode}\n{r.stderr}")
        with netCDF4.Dataset(out) as nc:
            check(list(nc.groups) == ["n0", "n1", "n2", "n3"], f"{sig.name}: models {list(nc.groups)}")
        print(f"ok   {sig.name}: exit {code} in {took:.2f} s, --resume completes the run")
    # A full disk: one line naming the file and the cause, no crash, --resume recovers.
    mnt = os.path.join(work, "small")
    os.makedirs(mnt, exist_ok=True)
    m = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", mnt], capture_output=True, text=True)
    if m.returncode != 0:
        print(f"skip full disk: cannot mount a tmpfs here ({m.stderr.strip() or 'not permitted'})")
        return
    try:
        out = os.path.join(mnt, "full.h5")
        p = run(herd, "fit", cfg, "--out", out, *LONG)
        check(p.returncode == 1, f"full disk: exit {p.returncode} (a crash is negative)\n{p.stderr}")
        check("No space left on device" in p.stderr and "full.h5" in p.stderr, f"full disk: message\n{p.stderr}")
        check(len(p.stderr.strip().splitlines()) <= 3, f"full disk: more than a few lines\n{p.stderr}")
        check(not os.path.exists(out + ".lock"), "full disk: the lock file is left")
        subprocess.run(["mount", "-o", "remount,size=64m", mnt], check=True)
        r = run(herd, "fit", cfg, "--out", out, "--resume", *LONG)
        check(r.returncode == 0, f"full disk: --resume after space was freed: exit {r.returncode}\n{r.stderr}")
        print("ok   full disk: one message, exit 1, --resume completes once there is space")
    finally:
        subprocess.run(["umount", mnt])


def cmd_messages(herd, work):
    cfg, old = fitted(herd, work)
    p = expect(herd, "--chains 0", 2, "--chains", "fit", cfg, "--chains", "0")
    check("1797693" not in p.stderr and "0.000000" not in p.stderr, f"--chains 0 message: {p.stderr}")
    p = expect(herd, "--warmup -1", 2, "--warmup", "fit", cfg, "--warmup", "-1")
    check("1797693" not in p.stderr, f"--warmup -1 message: {p.stderr}")
    expect(herd, "--bounds joined by a comma", 2, "one CHANNEL=LO:HI per flag", "optimize", old, "--model", "m",
           "--bounds", "tv=0:1,search=0:2")
    expect(herd, "--bounds with a bad number", 2, "need 0 <= LO <= HI", "optimize", old, "--model", "m",
           "--bounds", "tv=0:x")
    # A 10 MB cell is named, not echoed.
    big = "x" * (10 << 20)
    write(os.path.join(work, "cell.csv"), f"week,sales,tv,search\n1,{big},1,2\n2,110,2,3\n")
    model_toml(os.path.join(work, "cell.toml"), "cell.csv")
    p = expect(herd, "a 10 MB cell", 2, "cell.csv:2:2", "check-gradient", os.path.join(work, "cell.toml"))
    check(len(p.stderr) < 2000, f"the message echoes the cell: {len(p.stderr)} bytes")
    write(os.path.join(work, "cell.csv"), f"week,sales,tv,search\n1,100,-{'9' * 5000},2\n2,110,2,3\n")
    p = expect(herd, "a 5000-digit negative spend", 2, "cell.csv:2:3", "check-gradient",
               os.path.join(work, "cell.toml"))
    check(len(p.stderr) < 2000, f"the message echoes the cell: {len(p.stderr)} bytes")
    # UTF-16 (with and without its byte-order mark) is recognised as such.
    text = "week,sales,tv,search\n1,100,1,2\n2,110,2,3\n"
    write(os.path.join(work, "u16.csv"), text.encode("utf-16"), mode="wb")
    model_toml(os.path.join(work, "u16.toml"), "u16.csv")
    expect(herd, "UTF-16 with a byte-order mark", 2, "UTF-16", "check-gradient", os.path.join(work, "u16.toml"))
    write(os.path.join(work, "u16.csv"), text.encode("utf-16-le"), mode="wb")
    expect(herd, "UTF-16 without a byte-order mark", 2, "UTF-16", "check-gradient", os.path.join(work, "u16.toml"))
    # A header of 100k columns: the duplicate far down is found (linear check) and named.
    names = [f"c{i}" for i in range(100000)] + ["c1"]
    write(os.path.join(work, "wide.csv"), ",".join(["week", "sales", "tv", "search", *names]) + "\n1,1,1,1" +
          ",0" * len(names) + "\n")
    model_toml(os.path.join(work, "wide.toml"), "wide.csv")
    expect(herd, "a duplicate among 100k columns", 2, "duplicate column name (also column 6)", "check-gradient",
           os.path.join(work, "wide.toml"))
    # A missing data file is reported with the config and key that named it.
    model_toml(os.path.join(work, "nodata.toml"), "nope.csv")
    expect(herd, "missing data file names its config", 2, "named by `data.path` in", "check-gradient",
           os.path.join(work, "nodata.toml"))
    run_file = os.path.join(work, "run.toml")
    write(run_file, '[[models]]\nconfig = "nodata.toml"\n')
    expect(herd, "missing data file through a run file", 2, "nodata.toml", "fit", run_file, "--out",
           os.path.join(work, "x.h5"), absent=[os.path.join(work, "x.h5")])


def main():
    commands = {"destroy": cmd_destroy, "lock": cmd_lock, "labels": cmd_labels, "finite": cmd_finite,
                "faults": cmd_faults, "messages": cmd_messages}
    if len(sys.argv) != 4 or sys.argv[1] not in commands:
        print(__doc__)
        sys.exit(2)
    cmd, herd, work = sys.argv[1], os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    commands[cmd](herd, work)
    print(f"hostile {cmd}: passed")


if __name__ == "__main__":
    main()
