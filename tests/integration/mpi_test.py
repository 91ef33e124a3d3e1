#!/usr/bin/python3
"""`herd fit` over the ranks of an MPI job (Open MPI's mpirun), checked against one process.

  mpi_test.py same     HERD WORKDIR   2 ranks = 1 process, draws bitwise; the index opens in xarray
  mpi_test.py kill     HERD WORKDIR   SIGKILL one rank, --resume completes the run, same draws
  mpi_test.py disagree HERD WORKDIR   ranks started with other inputs: exit 2, said so, nothing fitted
  mpi_test.py unbuilt  HERD WORKDIR   a build without MPI under mpirun: exit 2, said so
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import xarray as xr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from batch_test import check, main, models_of, run, same_model, small_run  # noqa: E402

MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--mca", "btl", "self,vader", "-n", "2"]
ARGS = ["--warmup", "100", "--draws", "60", "--no-contributions"]


def twelve(work):
    """3 models of the examples, one that cannot be initialized, 8 seeds of the seed model."""
    runfile = small_run(work, n_seeds=8, failing=True)
    return runfile


def reference(herd, work, runfile):
    ref = os.path.join(work, "ref.h5")
    run(herd, "fit", runfile, "--out", ref, "--threads", "2", *ARGS, expect=1)  # the failing model
    names, _ = models_of(ref)
    check(len(names) == 12, f"{len(names)} models in the reference")
    return ref, names


def mpi(herd, *args):
    return subprocess.run(MPIRUN + [herd, *args], capture_output=True, text=True)


def compare_all(ref, other, names):
    got, status = models_of(other)
    check(sorted(got) == sorted(names), f"models {sorted(got)}")
    for m in names:
        check(models_of(ref)[1][m] == status[m], f"{m}: {status[m]}")
        if not status[m].startswith("failed"):  # ok and warn fits hold draws: compare them
            same_model(ref, other, m)


def cmd_same(herd, work):
    runfile = twelve(work)
    ref, names = reference(herd, work, runfile)
    out = os.path.join(work, "mpi.h5")
    p = mpi(herd, "fit", runfile, "--out", out, *ARGS)
    check(p.returncode == 1, f"exit {p.returncode} (1: one model fails)\n{p.stderr}")
    for r in (0, 1):
        check(re.search(rf"herd\[{r}/2\]: \[\d+/\d+\] ", p.stderr), f"rank {r} fitted models\n" + p.stderr)
    shards = sorted(os.listdir(out + ".shards"))
    check(len(shards) == 2 and all(re.fullmatch(r"run\d+-rank[01]\.h5", s) for s in shards), f"shards {shards}")
    check(not os.path.exists(out + ".parts"), "parts removed")
    compare_all(ref, out, names)
    # The run's file opens as one, through its links, with xarray's default engine.
    ds = xr.open_dataset(out, group="dtc_paid_social/posterior")
    check(ds.sizes["draw"] == 60 and list(ds.channel.values)[-1] == "linkedin_awareness", "linked group opens")
    ds.close()
    s = run(herd, "summarize", out, expect=0)
    check("1 failed" in s.stdout, s.stdout)
    # A resume of the finished run fits nothing and keeps it.
    p = mpi(herd, "fit", runfile, "--out", out, "--resume", *ARGS)
    check(p.returncode == 1 and "12 models, 0 to fit" in p.stderr, p.stderr)
    compare_all(ref, out, names)
    print(f"same: 12 models over 2 ranks identical to one process; the index over {len(shards)} shards opens in xarray")


def cmd_kill(herd, work):
    runfile = twelve(work)
    ref, names = reference(herd, work, runfile)
    out = os.path.join(work, "killed.h5")
    proc = subprocess.Popen(MPIRUN + [herd, "fit", runfile, "--out", out, "--threads", "1", *ARGS],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    pid1, finished = None, 0
    for line in proc.stderr:
        m = re.match(r"herd\[1/2\]: pid (\d+)", line)
        if m:
            pid1 = int(m.group(1))
        if re.match(r"herd\[\d/2\]: \[\d+/\d+\] ", line):
            finished += 1
            if finished == 3 and pid1:
                os.kill(pid1, signal.SIGKILL)
                break
    proc.stderr.close()
    proc.wait(timeout=120)
    check(proc.returncode != 0, f"mpirun ends with an error when a rank dies (exit {proc.returncode})")
    check(finished == 3 and pid1, "killed rank 1 after 3 models")
    p = mpi(herd, "fit", runfile, "--out", out, "--resume", *ARGS)
    check(p.returncode == 1, f"resume: exit {p.returncode}\n{p.stderr}")
    kept = re.search(r"\((\d+) already in", p.stderr)
    check(kept and int(kept.group(1)) >= 3, "the resumed run kept the finished models\n" + p.stderr)
    compare_all(ref, out, names)
    print(f"kill: rank 1 killed after 3 models; --resume kept {kept.group(1)} and completed the run, identical")


def cmd_disagree(herd, work):
    runfile = twelve(work)
    out = os.path.join(work, "x.h5")
    # MPMD: rank 0 and rank 1 started with different seeds, as ranks reading different files would.
    base = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--mca", "btl", "self,vader"]
    p = subprocess.run(base + ["-n", "1", herd, "fit", runfile, "--out", out, *ARGS, ":",
                               "-n", "1", herd, "fit", runfile, "--out", out, *ARGS, "--seed", "9"],
                       capture_output=True, text=True)
    check(p.returncode == 2, f"exit {p.returncode}\n{p.stderr}")
    check("rank 1" in p.stderr and "other inputs than rank 0" in p.stderr, p.stderr)
    check(not os.path.exists(out) and not os.path.exists(out + ".parts"), "nothing written")
    # Bad input seen by every rank is reported once.
    p = mpi(herd, "fit", os.path.join(work, "missing.toml"), "--out", out)
    check(p.returncode == 2 and p.stderr.count("missing.toml: cannot open") == 1, p.stderr)
    print("disagree: ranks with other inputs stop before fitting (exit 2); bad input reported once")


def cmd_unbuilt(herd, work):
    runfile = twelve(work)
    p = mpi(herd, "fit", runfile, "--out", os.path.join(work, "x.h5"), *ARGS)
    check(p.returncode == 2 and "built without MPI" in p.stderr, f"exit {p.returncode}\n{p.stderr}")
    print("unbuilt: a build without MPI refuses to run as 2 copies")


if __name__ == "__main__":
    if shutil.which("mpirun") is None:
        print("mpirun not found: install openmpi-bin (scripts/setup.sh)")
        sys.exit(1)
    main({"same": cmd_same, "kill": cmd_kill, "disagree": cmd_disagree, "unbuilt": cmd_unbuilt}, __doc__)
