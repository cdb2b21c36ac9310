#!/usr/bin/env bash
# govulncheck for CI, on the built binary: `-mode=binary` reads the module
# list and symbol table of bin/rightsize, so it answers in seconds where the
# source scan (call graph of every package) took 5-13 minutes on a loaded
# machine. It reports a vulnerability when a vulnerable function is linked
# into the binary, which is what ships.
#
# vuln.go.dev is not reachable from this machine, but the Go module proxy is,
# and it serves golang.org/x/vulndb, the repository the database is generated
# from: data/osv holds one OSV JSON file per Go vulnerability, and govulncheck
# reads such a directory given as -db file:///dir. So: install govulncheck,
# download the newest vulndb module (the pinned one if "latest" cannot be
# resolved), scan, and let .ci/vulnsummary decide: a vulnerability in a
# required module fails; standard-library ones (fixed only by a newer
# toolchain than the pinned Go) are printed as warnings. An unreachable proxy
# is reported and skipped, never a failure (docs/reliability.md).
set -uo pipefail
cd "$(dirname "$0")/.."
VULN_VERSION=v1.9.0
VULNDB_PINNED=v0.0.0-20261105234957-e22db6528018
GOBIN="$(go env GOPATH)/bin"
start=$(date +%s)
step() { echo "govulncheck: $* ($(( $(date +%s) - start ))s)"; }
skip() { echo "govulncheck: SKIPPED: $*"; exit 0; }

if ! "$GOBIN/govulncheck" -version 2>/dev/null | grep -q "govulncheck@$VULN_VERSION"; then
  go install "golang.org/x/vuln/cmd/govulncheck@$VULN_VERSION" ||
    skip "cannot install golang.org/x/vuln/cmd/govulncheck@$VULN_VERSION (is the Go module proxy reachable?)"
  step "installed govulncheck@$VULN_VERSION"
fi

# Outside the module, so go.mod is not touched.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dbdir=""
for v in latest "$VULNDB_PINNED"; do
  dbdir=$(cd "$tmp" && go mod download -json "golang.org/x/vulndb@$v" 2>/dev/null | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dbdir" ] && [ -d "$dbdir/data/osv" ] && break
  dbdir=""
done
[ -n "$dbdir" ] || skip "cannot download the vulnerability database (module golang.org/x/vulndb) through the Go module proxy"
step "vulnerability database $(basename "$dbdir"), $(ls "$dbdir/data/osv" | wc -l) entries"

# A build failure is a failure: the tests before this step built the same code.
go build -o "$tmp/rightsize" ./cmd/rightsize || { echo "govulncheck: FAIL: go build ./cmd/rightsize"; exit 1; }
step "built ./cmd/rightsize"

if ! "$GOBIN/govulncheck" -mode=binary -db "file://$dbdir/data/osv" -format json "$tmp/rightsize" > "$tmp/report.json"; then
  skip "govulncheck did not run to the end"
fi
step "scanned the binary"
go run ./.ci/vulnsummary < "$tmp/report.json"
