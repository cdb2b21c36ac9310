#!/usr/bin/env bash
# Runs every Go fuzz target of the repository briefly (FUZZTIME each, default
# 3s; 17 targets fit in about 90 s with the build): a smoke test that the
# targets still find nothing in a few thousand inputs beyond their committed
# seed corpora (testdata/fuzz/FuzzX, which `go test ./...` already replays). Targets are found by their declarations,
# so a new one is run without touching this script. Longer runs are recorded
# in docs/reliability.md (Fuzzing).
#
# Not `go test -fuzz`: it instruments every package of the build, the
# standard library and modernc.org/sqlite included (minutes of compiling on a
# cold cache), and its coordinator stalled at 0 execs/s with the shared
# GOCACHE fuzz corpus. Instead one `go test -c` builds a test binary per
# package with coverage instrumentation for that package only (its
# dependencies come from the ordinary build cache), and each target runs in
# its package's directory (for testdata/) with a fuzz cache of its own. The
# binaries stay in FUZZ_BIN between runs: `go test -c -o` skips the link of
# a binary that is up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-3s}
# One folder per checkout (worktrees, CI's clone); those unused for two days
# are removed (a set of binaries is ~230 MB).
bins=${XDG_CACHE_HOME:-$HOME/.cache}/rightsize/fuzz-bin
FUZZ_BIN=${FUZZ_BIN:-$bins/$(pwd | cksum | cut -d" " -f1)}
[ -d "$bins" ] && find "$bins" -mindepth 1 -maxdepth 1 -type d -mtime +1 ! -path "$FUZZ_BIN" -exec rm -rf {} + || true
start=$(date +%s)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$FUZZ_BIN" && touch "$FUZZ_BIN"

# file:FuzzName for every target, and the packages that hold them.
mapfile -t targets < <(git grep -o -E '^func Fuzz[A-Za-z0-9_]+' -- '*_test.go' | sed 's/:func /:/')
[ ${#targets[@]} -gt 0 ] || { echo "no fuzz targets found"; exit 1; }
mod=$(go list -m)
declare -A dirs=()
for t in "${targets[@]}"; do dirs[$(dirname "${t%%:*}")]=1; done
pkgs=() flags=()
for d in "${!dirs[@]}"; do
  pkgs+=("./$d")
  flags+=("-gcflags=$mod/$d=-d=libfuzzer")
done
# -o dir/ names each binary after its package; two packages with one name
# would make this fail loudly rather than overwrite each other.
go test -c -vet=off "${flags[@]}" -o "$FUZZ_BIN/" "${pkgs[@]}"
echo "built ${#pkgs[@]} instrumented test binaries in $(( $(date +%s) - start ))s"

n=0
for t in "${targets[@]}"; do
  file=${t%%:*} name=${t#*:}
  dir=$(dirname "$file")
  bin="$FUZZ_BIN/$(basename "$dir").test"
  t0=$(date +%s)
  # FUZZTIME_FuzzX overrides the time of one target (the targets that start an
  # app, FuzzEndpoint say, spend their first seconds starting it).
  ft=FUZZTIME_$name
  ft=${!ft:-$FUZZTIME}
  out=$(cd "$dir" && "$bin" -test.run '^$' -test.fuzz "^${name}\$" -test.fuzztime "$ft" \
    -test.parallel 2 -test.fuzzcachedir "$tmp/cache/$dir" 2>&1) || {
    echo "$out" | tail -40
    echo "fuzz target $name in ./$dir failed; the failing input is in ./$dir/testdata/fuzz/$name/"
    exit 1
  }
  last=$(echo "$out" | grep -E '^fuzz: elapsed' | tail -1 | sed 's/^fuzz: //')
  if [ -z "$last" ]; then
    echo "$out" | tail -20
    echo "fuzz target $name in ./$dir did not run (a build tag? a name the binary does not have?)"
    exit 1
  fi
  printf '%-22s %-28s %3ss  %s\n' "$name" "./$dir" "$(( $(date +%s) - t0 ))" "$last"
  n=$((n + 1))
done
echo "$n fuzz targets, ${FUZZTIME} each, $(( $(date +%s) - start ))s in all"
