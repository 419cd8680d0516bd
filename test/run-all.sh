#!/usr/bin/env bash
# The project's test command (`npm test`): typecheck, unit tests, integration/e2e tests with real
# clients, the Go conformance harness and real Cluster API against capim-edge; ends with one
# `N passed, N failed` line for CI.
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
# Go lives in /usr/local/go on this project's machines even when a login shell did not add it to PATH.
[ -x /usr/local/go/bin/go ] && export PATH="$PATH:/usr/local/go/bin"
status=0

echo "== typecheck"
npx tsc --noEmit -p . || status=1

echo "== Env is what wrangler types generates; no import cycles"
npm run -s types:check || status=1
npm run -s check:cycles || status=1

echo "== build worker and controller"
npm run -s build:worker || status=1
npm run -s build:controller || status=1

echo "== vitest (unit + integration + e2e)"
npx vitest run --project unit --project integration --reporter=default --reporter=json --outputFile.json="$out/vitest.json" || status=1

go_json=""
if ! command -v go >/dev/null 2>&1; then
  echo "== go conformance skipped: no go toolchain on this machine"
elif [ "${CAPIM_SKIP_GO:-}" = "1" ]; then
  echo "== go conformance skipped: CAPIM_SKIP_GO=1"
else
  echo "== go conformance (test/conformance)"
  (cd test/conformance && go test -count=1 -timeout 20m -json ./... > "$out/go.json"); rc=$?
  [ $rc -eq 0 ] || status=1
  go_json="$out/go.json"
  # The side-by-side benchmark's Go program is not run here (npm run bench does), but it must build.
  echo "== go vet bench/sidebyside"
  (cd bench/sidebyside && GOFLAGS=-mod=mod go vet ./...) || status=1
fi

# The controller image (Dockerfile): built and asked for its usage where a docker daemon runs.
if docker info >/dev/null 2>&1; then
  echo "== docker image"
  (docker build -q -t capim-edge-controller:ci . >/dev/null && docker run --rm capim-edge-controller:ci --help | grep -q "^usage: capim-edge controller") || status=1
else
  echo "== docker image skipped: no docker daemon on this machine"
fi

capi_json=""
if ! command -v go >/dev/null 2>&1; then
  echo "== real-CAPI e2e skipped: no go toolchain on this machine"
elif [ "${CAPIM_SKIP_CAPI_E2E:-}" = "1" ]; then
  echo "== real-CAPI e2e skipped: CAPIM_SKIP_CAPI_E2E=1"
else
  # Builds etcd, Kubernetes v1.35.4 and CAPI v1.14.2 from Go modules into ~/.cache/capim-edge/capi-bin
  # (first time ~15-20 min on 2 cores, then cached), then runs the lifecycle and the 10-cluster shape.
  echo "== real-CAPI e2e (test/capi-e2e)"
  npx vitest run --project capi --reporter=default --reporter=json --outputFile.json="$out/capi.json" || status=1
  capi_json="$out/capi.json"
fi

node test/summary.mjs "$out/vitest.json" "$go_json" "$capi_json" || status=1
exit $status
