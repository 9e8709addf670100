// What a browser test file without a worker starts from: a test app, its web
// server (with the server's own background readers: notifier, playbooks) and
// Chromium, stopped after the file. Call useBrowserApp() at the top of a file.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { startWebServer, type RunningWeb } from '../../api/server';
import { createTestApp, type TestApp } from './app';
import { launchChromium } from './browser';

export interface BrowserApp {
  readonly t: TestApp;
  readonly web: RunningWeb;
  readonly browser: Browser;
  /** Console and page errors of every page a test opened with them. */
  readonly consoleErrors: string[];
}

export function useBrowserApp(): BrowserApp {
  const state = {} as { t: TestApp; web: RunningWeb; browser: Browser };
  const consoleErrors: string[] = [];
  beforeAll(async () => {
    state.t = await createTestApp();
    state.web = await startWebServer(state.t.deps, { port: 0, host: '127.0.0.1' });
    state.browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await state.browser?.close();
    await state.web?.close();
    await state.t?.close();
  });
  return {
    get t() { return state.t; },
    get web() { return state.web; },
    get browser() { return state.browser; },
    consoleErrors,
  };
}
