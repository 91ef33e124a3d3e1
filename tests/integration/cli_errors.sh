#!/usr/bin/env bash
# Bad input through the real command line: exit status 2 and a message naming the file
# (and, for data, the line and column).
set -u
herd="$1"
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
    echo "$out" | sed 's/^/    /'
    fail=1
  else
    echo "ok   $name"
  fi
}

cat > "$dir/good.csv" <<'CSV'
week,sales,tv,search
2024-01-01,100,10,5
2024-01-08,120,12,6
2024-01-15,90,0,7
2024-01-22,110,9,5
CSV
model() {  # model FILE CSV [extra toml]
  cat > "$1" <<TOML
name = "m"
[data]
path = "$2"
outcome = "sales"
[media]
channels = ["tv", "search"]
$3
TOML
}

model "$dir/ok.toml" good.csv ""
expect "good config passes" 0 "PASS" -- check-gradient "$dir/ok.toml" --points 2

printf 'week,sales,tv,search\n2024-01-01,100,10,5\n2024-01-08,120,abc,6\n' > "$dir/nonnum.csv"
model "$dir/nonnum.toml" nonnum.csv ""
expect "non-numeric cell names line and column" 2 "nonnum.csv:3:3" -- check-gradient "$dir/nonnum.toml"

printf 'week,sales,tv,search\n2024-01-01,100,10,5\n2024-01-08,120,-4,6\n' > "$dir/neg.csv"
model "$dir/neg.toml" neg.csv ""
expect "negative spend names line and column" 2 "neg.csv:3:3" -- check-gradient "$dir/neg.toml"

model "$dir/missing.toml" good.csv "" && sed -i 's/"search"/"radio"/' "$dir/missing.toml"
expect "missing column" 2 "good.csv:1.*radio" -- check-gradient "$dir/missing.toml"

model "$dir/badprior.toml" good.csv $'[priors]\nbeta = "normal(0,)"'
expect "bad distribution names the key" 2 "badprior.toml.*priors.beta" -- check-gradient "$dir/badprior.toml"

model "$dir/unknown.toml" good.csv $'adstock = { type = "geometric", lags = 3 }'
expect "unknown key" 2 "unknown.toml.*lags" -- check-gradient "$dir/unknown.toml"

model "$dir/badgroup.toml" good.csv $'groups = { g = ["tv", "radio"] }'
expect "unknown channel in a group" 2 "badgroup.toml.*radio" -- check-gradient "$dir/badgroup.toml"

# Asked-for hardware that is absent is an error, never a quiet CPU run (on a GPU machine
# with a CUDA build the fit would run, so there the check is left out).
if ! nvidia-smi -L >/dev/null 2>&1; then
  expect "device cuda without CUDA or a GPU" 2 "device cuda: (herd was built without CUDA|no CUDA device visible)" \
    -- fit "$dir/ok.toml" --device cuda --warmup 20 --draws 20
fi
model "$dir/chees.toml" good.csv $'[sampler]\nalgorithm = "chees"'
expect "ChEES in float32 on the wave" 0 "m: 16 chains x 50 draws" -- fit "$dir/chees.toml" --precision float32 --chains 16 --warmup 100 --draws 50
expect "chunk must be positive" 2 "chunk" -- fit "$dir/ok.toml" --chunk 0
expect "float32 fits on the CPU" 0 "m: 4 chains x 50 draws" -- fit "$dir/ok.toml" --precision float32 --warmup 50 --draws 50

expect "missing config file" 2 "nope.toml" -- check-gradient "$dir/nope.toml"
expect "unknown subcommand is a usage error" 2 "" -- frobnicate
expect "version" 0 "^herd [0-9]" -- --version

exit $fail
