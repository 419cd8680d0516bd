// The fleet dashboard of `npm start`, in a real browser: Debian's chromium, headless, driven by
// playwright-core. It lists the clusters with their machines' bootstrap steps, shows request rates,
// and its fault toggle injects API faults on the edge (seen by a client of the cluster) and clears them.
// CAPIM_DASHBOARD_SCREENSHOT=<file.png> also saves a screenshot (the README's).
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import { chromium, type Browser, type Page } from "playwright-core";
import { tempDir } from "../helpers/edge.js";
import { startEmbedded, until, type Embedded } from "./embedded-process.js";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
const CLUSTERS = 3;

describe.skipIf(!CHROMIUM)("dashboard in chromium", () => {
  let run: Embedded;
  let browser: Browser;
  let page: Page;
  let url: string;
  let kubeconfigDir: string;

  beforeAll(async () => {
    kubeconfigDir = tempDir("capim-dash-kc-");
    run = startEmbedded(["--clusters", String(CLUSTERS), "--control-planes", "1", "--workers", "1", "--startup-duration", "0s", "--vip-port-range", "25000-25999"], {
      kubeconfigDir,
      stateDir: tempDir("capim-dash-state-"),
    });
    url = /^dashboard at (\S+)/.exec(await run.waitForLine(/^dashboard at /))![1];
    await run.waitForLine(new RegExp(`^all ${CLUSTERS} clusters ready$`), 150_000);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    page = await browser.newPage({ viewport: { width: 1280, height: 520 } });
  }, 200_000);

  afterAll(async () => {
    await browser?.close();
    await run?.stop();
  });

  const row = (cluster: string) => page.locator(`tr[data-cluster="default/${cluster}"]`);

  it("lists every cluster with its phase, endpoint and machines' bootstrap steps", async () => {
    await page.goto(url);
    await page.locator("tbody tr").nth(CLUSTERS - 1).waitFor();
    expect(await page.locator("tbody tr").count()).toBe(CLUSTERS);
    for (let i = 1; i <= CLUSTERS; i++) {
      const text = await row(`capim-${i}`).innerText();
      expect(text).toMatch(/^default\/capim-\d/);
      expect(text).toMatch(/127\.0\.0\.1:25\d{3}/);
      expect(text).toContain(`capim-${i}-cp-0: Ready`);
    }
    expect(await page.locator("#summary").innerText()).toMatch(new RegExp(`^${CLUSTERS} clusters, ${CLUSTERS * 2}/${CLUSTERS * 2} machines ready`));
  });

  it("injects faults with the toggle (a client of the cluster sees 503s) and clears them", async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(path.join(kubeconfigDir, "default-capim-2.kubeconfig"));
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const outcomes = async (n: number) => {
      const codes: number[] = [];
      for (let i = 0; i < n; i++) codes.push(await core.listNamespace().then(() => 200, (e) => (e as { code?: number }).code ?? -1));
      return codes;
    };
    await row("capim-2").locator("button.fault-toggle").click();
    await until(async () => (await row("capim-2").locator(".faults").innerText()).includes('"code":503'), "the fault shown on the page");
    const faulted = await outcomes(60);
    expect(faulted.filter((c) => c === 503).length).toBeGreaterThan(5); // rate 0.5: ~30 of 60
    expect(faulted.every((c) => c === 200 || c === 503)).toBe(true);
    // The VIP's metrics see the errors: the page's error rate (over the last 10 s) and total for that
    // cluster count them.
    const failed = faulted.filter((c) => c === 503).length;
    await until(async () => Number(await row("capim-2").locator("td.errors").getAttribute("data-rate")) > 0, "errors/s on the page", 30_000);
    // The page polls every 2 s: the poll that first shows a rate may have come in the middle of the 60
    // requests, so the total is waited for, not read once.
    const shown = await until(async () => {
      const text = await row("capim-2").locator("td.errors").innerText();
      return text.includes(`(${failed})`) ? text : undefined;
    }, `the page's error total (${failed})`, 30_000).catch(async () => row("capim-2").locator("td.errors").innerText());
    expect(shown).toContain(`(${failed})`);
    if (process.env.CAPIM_DASHBOARD_SCREENSHOT) await page.screenshot({ path: process.env.CAPIM_DASHBOARD_SCREENSHOT });

    await row("capim-2").locator("button.fault-toggle").click();
    await until(async () => (await row("capim-2").locator("button.fault-toggle").innerText()).startsWith("Inject"), "the toggle back to Inject");
    expect((await outcomes(20)).every((c) => c === 200)).toBe(true);
  });

  it("refuses fault changes without the dashboard's header (no cross-site changes)", async () => {
    const res = await fetch(`${url.replace(/\/dashboard$/, "")}/dashboard/api/clusters/default/capim-1/faults`, { method: "DELETE" });
    expect(res.status).toBe(403);
  });
});
