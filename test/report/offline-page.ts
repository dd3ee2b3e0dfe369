/** Opens a report page in real headless Chromium and records console errors and every request it makes. */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import type { TestContext } from "node:test";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { missingMessage, systemDepsRequired } from "../system-deps.js";

/** Chromium from CHROMIUM_PATH or the usual Debian/Ubuntu/Chrome locations; null when none is installed. */
export function findChromium(): string | null {
  const candidates = [
    process.env.CHROMIUM_PATH,
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
    "/snap/bin/chromium",
  ];
  return candidates.find((p): p is string => typeof p === "string" && p !== "" && existsSync(p)) ?? null;
}

export interface OfflinePage {
  page: Page;
  url: string;
  /** Console errors and warnings, and uncaught page errors. */
  errors: string[];
  /** Every URL the page requested (a self-contained page requests only itself). */
  requests: string[];
  browser: Browser;
}

/**
 * Loads `file` in headless Chromium. Without Chromium the test is skipped (null), or fails when CI requires the
 * system dependencies. The caller closes `browser`.
 */
export async function openOfflinePage(t: TestContext, file: string): Promise<OfflinePage | null> {
  const exe = findChromium();
  if (exe === null) {
    if (systemDepsRequired) assert.fail(missingMessage("Chromium (/usr/bin/chromium or CHROMIUM_PATH)"));
    t.skip("no Chromium found (set CHROMIUM_PATH, or apt-get install chromium); the browser check did not run");
    return null;
  }
  const browser = await chromium.launch({ executablePath: exe, args: ["--no-sandbox"] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") errors.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("request", (req) => requests.push(req.url()));
  const url = pathToFileURL(file).href;
  await page.goto(url, { waitUntil: "load" });
  return { page, url, errors, requests, browser };
}
