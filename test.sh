#!/usr/bin/env bash
# The whole test suite, including the differential comparison against
# Debian's apache2. Installs what the tests need when it is missing.
set -euo pipefail
cd "$(dirname "$0")"

missing=()
[ -x /usr/sbin/apache2 ] || missing+=(apache2)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v strace >/dev/null 2>&1 || missing+=(strace)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Packages may start system services on port 80; the tests use their own
# loopback ports and instances, so stop those to keep the machine quiet.
(service apache2 stop; service nginx stop) >/dev/null 2>&1 || true

export PLUME_REQUIRE_APACHE=1   # tests that compare with apache2 fail instead of skipping
gofmt_out=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$gofmt_out" ]; then echo "gofmt needed: $gofmt_out"; exit 1; fi
go vet ./...
log=$(mktemp)
# Unit and package tests, then the differential suite against apache2 run
# verbosely so its summary line (cases, matched, deliberate differences,
# failed) is shown.
go test -count=1 -timeout 20m $(go list ./... | grep -v '/conformance$')
status=0
go test -count=1 -v -timeout 15m ./conformance >"$log" 2>&1 || status=$?
if [ "$status" != 0 ]; then tail -n 300 "$log"; else grep -E '^(conformance:|ok|FAIL)' "$log"; fi
grep -q '^conformance: .* [0-9]* failed' "$log" || { echo "conformance summary missing"; status=1; }
rm -f "$log"
exit $status
