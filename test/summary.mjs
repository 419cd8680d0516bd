// Prints the closing `N passed, N failed` line CI reads, from vitest's JSON report, `go test -json`, and
// the real-CAPI e2e's vitest JSON report (optional: "" when it was skipped).
import { existsSync, readFileSync } from "node:fs";

const [vitestFile, goFile, capiFile] = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
function countVitest(file) {
  const report = JSON.parse(readFileSync(file, "utf8"));
  passed += report.numPassedTests ?? 0;
  failed += (report.numFailedTests ?? 0) + (report.numRuntimeErrorTestSuites ?? 0);
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  for (const suite of report.testResults ?? []) {
    // A file that failed to load, or whose beforeAll/afterAll failed, has no failed assertion but must
    // still count as a failure.
    if (suite.status === "failed" && !(suite.assertionResults ?? []).some((a) => a.status === "failed")) failed += 1;
  }
}
if (vitestFile && existsSync(vitestFile)) {
  countVitest(vitestFile);
} else {
  failed += 1;
  console.error("no vitest report found");
}
if (goFile && existsSync(goFile)) {
  const failedTestsByPackage = new Map();
  for (const line of readFileSync(goFile, "utf8").split("\n")) {
    if (!line.startsWith("{")) continue;
    const event = JSON.parse(line);
    if (!event.Test) {
      // A package that fails without a failing test (build error, TestMain exit) still counts once.
      if (event.Action === "fail" && !failedTestsByPackage.get(event.Package)) failed += 1;
      continue;
    }
    if (["pass", "fail", "skip"].includes(event.Action)) console.log(`go ${event.Action.toUpperCase()} ${event.Test} (${event.Elapsed}s)`);
    if (event.Action === "pass") passed += 1;
    else if (event.Action === "fail") {
      failed += 1;
      failedTestsByPackage.set(event.Package, (failedTestsByPackage.get(event.Package) ?? 0) + 1);
    } else if (event.Action === "skip") skipped += 1;
  }
}
if (capiFile) {
  if (existsSync(capiFile)) countVitest(capiFile);
  else {
    failed += 1;
    console.error("no real-CAPI e2e report found");
  }
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 ? 1 : 0);
