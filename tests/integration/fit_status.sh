#!/usr/bin/env bash
# Honest status through the real command line: an unconverged fit is `warn` (exit 0, or 3
# with --strict), a failed model exits 1 whatever the flags, the checks follow [run] and the
# flags, a fit without --out says that nothing was written, and a running fit says where it is.
set -u
herd="$1"
examples=$(cd "$2" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0

expect() {  # expect NAME STATUS PATTERN -- ARGS...
  local name=$1 status=$2 pattern=$3
  shift 4
  local out rc
  out=$("$herd" "$@" 2>&1)
  rc=$?
  if [ "$rc" -ne "$status" ] || ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAIL $name: exit $rc (want $status), output:"
    echo "$out" | tail -20 | sed 's/^/    /'
    fail=1
  else
    echo "ok   $name"
  fi
}

tuned="$examples/dtc_paid_social_tuned.toml"
short=(--warmup 10 --draws 10 --quiet)
lenient=(--max-rhat 100 --min-ess 0 --max-divergences 1000000 --min-ebfmi 0)

expect "unconverged fit is warn" 0 "^status: warn: r_hat [0-9.]+ > 1.01" -- fit "$tuned" "${short[@]}"
expect "--strict exits 3 on warn" 3 "^status: warn: " -- fit "$tuned" "${short[@]}" --strict
expect "flags set the checks" 0 "^status: ok" -- fit "$tuned" "${short[@]}" "${lenient[@]}" --strict
expect "the checks are printed" 0 "checks: max R-hat < 100, bulk and tail ESS > 0" -- fit "$tuned" "${short[@]}" "${lenient[@]}"
expect "one draw a chain: undefined, never ok" 0 "r_hat undefined .*too few draws" -- \
  fit "$tuned" --warmup 10 --draws 1 --quiet "${lenient[@]}"
expect "no --out says nothing was written" 0 "nothing was written \(no --out\)" -- fit "$tuned" --warmup 10 --draws 10
# Off a terminal a running fit says where it is, warmup included (a launch per chunk).
expect "progress lines in warmup" 0 "dtc_paid_social_tuned: warmup [0-9,]+/13,000, step size [0-9.]+, 0 divergences so far" -- \
  fit "$tuned" --warmup 12000 --draws 1000 --threads 1 --progress-every 0.2 "${lenient[@]}"

# A run file: one failing model (an outcome that overflows), one unconverged one.
cat > "$dir/huge.csv" <<'CSV'
week,y,tv
1,1e200,1
2,2e200,2
3,1e200,3
4,3e200,1
CSV
cat > "$dir/huge.toml" <<'TOML'
name = "huge"
[data]
path = "huge.csv"
outcome = "y"
outcome_scale = "none"
[media]
channels = ["tv"]
TOML
cat > "$dir/run.toml" <<TOML
[[models]]
config = "$tuned"
[[models]]
config = "huge.toml"
TOML
expect "a failed model exits 1" 1 "1 warn, 1 failed of 2 models" -- fit "$dir/run.toml" --out "$dir/a.h5" "${short[@]}"
expect "--strict keeps 1 for a failure" 1 "failed" -- fit "$dir/run.toml" --out "$dir/b.h5" "${short[@]}" --strict
expect "summarize shows the stored status" 0 "dtc_paid_social_tuned +warn +[0-9.]+ .*r_hat" -- summarize "$dir/a.h5"

cat > "$dir/lenient.toml" <<TOML
[run]
max_rhat = 100
min_ess = 0
max_divergences = 1000000
min_ebfmi = 0
[[models]]
config = "$tuned"
TOML
expect "[run] sets the checks" 0 "1 ok, 0 warn, 0 failed of 1 models" -- \
  fit "$dir/lenient.toml" --out "$dir/c.h5" "${short[@]}" --strict
expect "a flag overrides [run]" 3 "0 ok, 1 warn" -- \
  fit "$dir/lenient.toml" --out "$dir/d.h5" "${short[@]}" --strict --max-rhat 1.01
cat > "$dir/bad.toml" <<TOML
[run]
max_rhat = 0.5
[[models]]
config = "$tuned"
TOML
expect "a bad [run] check names its place" 2 "bad.toml:2:12: .*run.max_rhat" -- fit "$dir/bad.toml" --out "$dir/e.h5"
[ -e "$dir/e.h5" ] && { echo "FAIL a refused run wrote $dir/e.h5"; fail=1; }

exit $fail
