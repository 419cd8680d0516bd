#!/usr/bin/env bash
# The project's test command (`npm test`): typecheck, unit tests, integration/e2e tests with real
# clients, and the Go conformance harness; ends with one `N passed, N failed` line for CI.
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
status=0

echo "== typecheck"
npx tsc --noEmit -p . || status=1

echo "== build worker"
npm run -s build:worker || status=1

echo "== vitest (unit + integration + e2e)"
npx vitest run --reporter=default --reporter=json --outputFile.json="$out/vitest.json" || status=1

go_json=""
if [ -f test/conformance/go.mod ] && command -v go >/dev/null 2>&1 && [ "${CAPIM_SKIP_GO:-}" != "1" ]; then
  echo "== go conformance (test/conformance)"
  (cd test/conformance && go test -count=1 -timeout 20m -json ./... > "$out/go.json"); rc=$?
  [ $rc -eq 0 ] || status=1
  go_json="$out/go.json"
fi

node test/summary.mjs "$out/vitest.json" "$go_json" || status=1
exit $status
