#!/usr/bin/env bash
# Runs every Go fuzz target of the repository briefly (FUZZTIME each, default
# 4s): a smoke test that the targets still find nothing new in a few thousand
# inputs beyond their committed seed corpora (testdata/fuzz/FuzzX, which
# `go test ./...` already replays). Targets are found by their declarations,
# so a new one is run without touching this script. Longer runs are recorded
# in docs/reliability.md (Fuzzing).
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-4s}
start=$(date +%s)
n=0
while IFS=: read -r file name; do
  pkg="./$(dirname "$file")"
  printf '%-40s %s\n' "$pkg" "$name"
  out=$(go test -vet=off -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -parallel 2 "$pkg" 2>&1) || {
    echo "$out" | tail -40
    echo "fuzz target $name in $pkg failed; the failing input is in $pkg/testdata/fuzz/$name/"
    exit 1
  }
  echo "$out" | grep -E '^fuzz: elapsed' | tail -1
  n=$((n + 1))
done < <(git grep -o -E '^func Fuzz[A-Za-z0-9_]+' -- '*_test.go' | sed 's/:func /:/')
echo "$n fuzz targets, $(( $(date +%s) - start ))s"
