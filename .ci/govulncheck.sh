#!/usr/bin/env bash
# govulncheck for CI. vuln.go.dev is not reachable from this machine, but the
# Go module proxy is, and it serves golang.org/x/vulndb, the repository the
# database is generated from: data/osv holds one OSV JSON file per Go
# vulnerability, and govulncheck reads a directory of OSV files given as
# -db file:///dir (it builds the index in memory). So: install govulncheck,
# download the newest vulndb module (the pinned one if "latest" cannot be
# resolved), scan, and let .ci/vulnsummary decide: a called vulnerability in a
# required module fails; standard-library ones (fixed only by a newer
# toolchain than the pinned Go) are printed as warnings. Anything unreachable
# is reported and skipped, never a failure (docs/reliability.md).
set -uo pipefail
cd "$(dirname "$0")/.."
VULN_VERSION=v1.9.0
VULNDB_PINNED=v0.0.0-20261105234957-e22db6528018
GOBIN="$(go env GOPATH)/bin"

skip() { echo "govulncheck: SKIPPED: $*"; exit 0; }

if ! "$GOBIN/govulncheck" -version 2>/dev/null | grep -q "govulncheck@$VULN_VERSION"; then
  go install "golang.org/x/vuln/cmd/govulncheck@$VULN_VERSION" ||
    skip "cannot install golang.org/x/vuln/cmd/govulncheck@$VULN_VERSION (is the Go module proxy reachable?)"
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
echo "vulnerability database: $(basename "$dbdir") ($(ls "$dbdir/data/osv" | wc -l) entries)"

if ! "$GOBIN/govulncheck" -db "file://$dbdir/data/osv" -format json ./... > "$tmp/report.json"; then
  skip "govulncheck did not run to the end"
fi
go run ./.ci/vulnsummary < "$tmp/report.json"
