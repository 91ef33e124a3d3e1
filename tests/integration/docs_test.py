#!/usr/bin/python3
"""The README and docs/reference.md say what is true: every code block in them is run or
checked against the binary.

  docs_test.py HERD SOURCE_DIR WORKDIR

- Command synopses (unlabelled blocks of `herd ...` lines): every flag a line names exists in
  `herd <command> --help`, and every flag of `--help` is named (one spelling of an alias is
  enough), so neither side can drift.
- `# <file>.toml` blocks of the reference are written to WORKDIR (beside the example data)
  and its worked session (`sh` block of `herd` and `mkdir` lines) runs there, the binary
  first on PATH: each command exits 0 and
  the configs it reads print no warning.
- `sh` blocks of the README: `bash scripts/X.sh` names a script that exists; `herd` and
  `mpirun ... herd` lines use only flags `herd fit --help` lists (they are run by CI's
  quickstart or need MPI; the build line is CI's own build).
- `python` blocks of the README run against a short fit of the example batch into
  WORKDIR/runs/example.h5 (the file they name); a block importing arviz is skipped, and says
  so, where arviz is not installed (it is not a Debian package).
"""
import os
import re
import shutil
import subprocess
import sys

FAILURES = []


def check(cond, msg):
    if not cond:
        FAILURES.append(msg)
        print("FAIL:", msg)


def blocks(path):
    """(language, first line number, text) of each fenced block."""
    out, lang, start, lines = [], None, 0, []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if line.startswith("```"):
                if lang is None:
                    lang, start, lines = line[3:].strip(), n + 1, []
                else:
                    out.append((lang, start, "".join(lines)))
                    lang = None
            elif lang is not None:
                lines.append(line)
    return out


def help_flags(herd, command):
    """Groups of spellings of each flag `herd COMMAND --help` lists (aliases together)."""
    p = subprocess.run([herd, command, "--help"], capture_output=True, text=True)
    check(p.returncode == 0, f"herd {command} --help: exit {p.returncode}")
    groups = []
    for line in p.stdout.splitlines():
        m = re.match(r"\s+(-[-\w,]+)", line)
        if not m:
            continue
        names = {x for x in m.group(1).split(",") if x.startswith("--") and x != "--help"}
        if names:
            groups.append(names)
    return groups


def synopsis_commands(text):
    """{command: set of flags} of a synopsis block; continuation lines join the command above."""
    cmds, current = {}, None
    for line in text.splitlines():
        m = re.match(r"\s*herd (\S+)", line)
        if m and not line.startswith(" " * 6):
            current = m.group(1)
            cmds.setdefault(current, set())
        if current:
            cmds[current] |= set(re.findall(r"--[a-z][a-z0-9-]*", line))
    return cmds


def check_synopsis(herd, where, text):
    for command, flags in synopsis_commands(text).items():
        if command.startswith("--"):
            continue
        groups = help_flags(herd, command)
        known = set().union(*groups) if groups else set()
        for f in sorted(flags - known):
            check(False, f"{where}: `herd {command} {f}` is not a flag of herd {command}")
        for g in groups:
            check(bool(g & flags), f"{where}: herd {command} has {'/'.join(sorted(g))}, which the synopsis leaves out")


def run(cmd, cwd, env=None):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)


def reference(herd, src, work):
    path = os.path.join(src, "docs", "reference.md")
    shutil.copy(os.path.join(src, "configs", "examples", "national_media.csv"), work)
    session = None
    for lang, line, text in blocks(path):
        where = f"docs/reference.md:{line}"
        if lang == "":
            check_synopsis(herd, where, text)
        elif lang == "toml":
            m = re.match(r"# (\S+\.toml):", text)
            check(m is not None, f"{where}: a TOML block starts with `# <file>.toml:` (the file the session uses)")
            if m:
                with open(os.path.join(work, m.group(1)), "w") as f:
                    f.write(text)
        elif lang == "sh":
            session = (where, text)
    check(session is not None, "docs/reference.md has no worked session")
    if session is None:
        return
    where, text = session
    env = dict(os.environ, PATH=os.path.dirname(herd) + os.pathsep + os.environ.get("PATH", ""))
    for cmd in text.splitlines():
        if not cmd.strip():
            continue
        check(cmd.startswith(("herd ", "mkdir ")), f"{where}: a session line the test does not know: {cmd}")
        p = run(["bash", "-c", cmd], work, env)
        check(p.returncode == 0, f"{where}: `{cmd}` exited {p.returncode}:\n{p.stderr[-2000:]}")
        check("warning" not in p.stderr, f"{where}: `{cmd}` warns:\n{p.stderr[-2000:]}")
        if p.returncode == 0:
            print(f"ok: {cmd}")


def fit_examples(herd, src, work):
    """A short fit of the example batch at runs/example.h5 under work, as the README's blocks expect."""
    os.makedirs(os.path.join(work, "runs"), exist_ok=True)
    p = run([herd, "fit", os.path.join(src, "configs", "examples", "example.toml"), "--out",
             "runs/example.h5", "--warmup", "30", "--draws", "20", "--chains", "2", "--quiet"], work)
    check(p.returncode == 0, f"fit of the example batch: exit {p.returncode}\n{p.stderr[-2000:]}")
    return True


def readme(herd, src, work):
    path = os.path.join(src, "README.md")
    fitted = False
    try:
        import arviz  # noqa: F401
        have_arviz = True
    except ImportError:
        have_arviz = False
    fit_flags = set().union(*help_flags(herd, "fit"))
    for lang, line, text in blocks(path):
        where = f"README.md:{line}"
        if lang == "":
            check_synopsis(herd, where, text)
        elif lang == "sh":
            for cmd in text.splitlines():
                cmd = cmd.split("#")[0].strip()
                if not cmd:
                    continue
                s = re.match(r"bash (scripts/\S+)", cmd)
                if s:
                    check(os.path.exists(os.path.join(src, s.group(1))), f"{where}: {s.group(1)} does not exist")
                elif re.search(r"\bherd fit\b", cmd):
                    for f in re.findall(r"(?<!\S)--[a-z][a-z0-9-]*", cmd.split("herd fit", 1)[1]):
                        check(f in fit_flags, f"{where}: herd fit has no {f}")
                    cfg = [t for t in cmd.split() if t.endswith(".toml") and "/" in t]
                    for c in cfg:
                        check(os.path.exists(os.path.join(src, c)) or not c.startswith("configs/"),
                              f"{where}: {c} does not exist")
                elif re.match(r"herd (optimize|analyze|summarize) runs/example\.h5\b", cmd):
                    # Decisions from the example batch: run as written on a short fit of it.
                    fitted = fitted or fit_examples(herd, src, work)
                    p = run([herd] + cmd.split()[1:], work)
                    check(p.returncode == 0, f"{where}: {cmd}: exit {p.returncode}\n{p.stderr[-2000:]}")
                    if p.returncode == 0:
                        print(f"ok: {where}: {cmd}")
                else:
                    check(cmd.startswith("cmake "), f"{where}: a shell line the test does not know: {cmd}")
        elif lang == "python":
            if "arviz" in text and not have_arviz:
                print(f"skipped: {where} (arviz is not installed)")
                continue
            fitted = fitted or fit_examples(herd, src, work)
            p = run(["/usr/bin/python3", "-c", text], work)
            check(p.returncode == 0, f"{where}: the block fails:\n{p.stderr[-2000:]}")
            if p.returncode == 0:
                print(f"ok: {where}")


def main(herd, src, work):
    herd, src = os.path.abspath(herd), os.path.abspath(src)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    reference(herd, src, work)
    readme(herd, src, work)
    if FAILURES:
        print(f"docs: {len(FAILURES)} failure(s)")
        sys.exit(1)
    print("docs: ok")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
