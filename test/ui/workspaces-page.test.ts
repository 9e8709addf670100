/// <reference lib="dom" />
// Workspaces in a real browser: a new workspace made from /workspaces becomes
// the current one, named in the header on every page; its settings are saved
// from the settings page; the header's menu switches back, by choosing alone.
import { type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebServer, type RunningWeb } from '../../api/server';
import { getWorkspaceSettings } from '../../core/access/workspaces';
import { createTestApp, type TestApp } from '../helpers/app';
import { launchChromium, signedInPage } from '../helpers/browser';

let t: TestApp;
let web: RunningWeb;
let browser: Browser;
const consoleErrors: string[] = [];

beforeAll(async () => {
  t = await createTestApp();
  web = await startWebServer(t.deps, { port: 0, host: '127.0.0.1' });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await web?.close();
  await t?.close();
});

describe('workspaces in the browser', () => {
  it('makes one, works in it, keeps its settings, and switches back from the header', async () => {
    const page = await signedInPage(browser, web.url, consoleErrors);
    const menu = page.locator('.ws-menu');
    await expect.poll(() => menu.textContent()).toContain('Default');

    await page.goto(`${web.url}/workspaces`);
    await page.getByLabel('Name').fill('Growth <b>team</b>');
    await page.getByRole('button', { name: 'Create workspace' }).click();
    await page.waitForURL(`${web.url}/settings`);
    // Named in the header (escaped), with the way back to the default one.
    const current = page.locator('#ws-switch option:checked');
    expect(await current.textContent()).toBe('Growth <b>team</b>');
    expect(await page.locator('.ws-menu b').count()).toBe(0);
    await expect.poll(() => page.locator('#workspace').textContent()).toContain('owned by admin');

    await page.getByLabel('Default model provider').fill('OpenAI');
    await page.getByLabel('Default model', { exact: true }).fill('gpt-4');
    await page.getByLabel('Temperature (0–2, optional)').fill('0.3');
    await page.getByLabel('Time zone').fill('America/Toronto');
    // Saved once its answer is back (the page then reloads, showing what was kept).
    const saved = page.waitForResponse((r) => r.url().endsWith('/settings/workspace/settings'));
    const reloaded = page.waitForEvent('load');
    await page.getByRole('button', { name: 'Save settings' }).click();
    expect((await saved).status()).toBe(204);
    await reloaded;
    await expect.poll(() => page.getByLabel('Default model', { exact: true }).inputValue()).toBe('gpt-4');
    await expect.poll(() => page.getByLabel('Time zone').inputValue()).toBe('America/Toronto');
    const id = (await t.db.sql<{ id: string }[]>`select id::text from workspaces where name = 'Growth <b>team</b>'`)[0]!.id;
    expect(await getWorkspaceSettings(t.db.sql, { id })).toEqual({ default_llm_config: { provider: 'OpenAI', model: 'gpt-4', temperature: 0.3 }, timezone: 'America/Toronto' });

    // A bad value is refused with the reason on the page, and nothing changes.
    await page.getByLabel('Time zone').fill('Mars/Olympus');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => page.locator('#flash').textContent()).toContain('time zone');
    expect((await getWorkspaceSettings(t.db.sql, { id })).timezone).toBe('America/Toronto');
    consoleErrors.length = 0; // htmx logs the refused request's 400

    // A new name shows in the header once saved.
    const renamed = page.waitForEvent('load');
    await page.locator('#ws-rename').fill('Growth');
    await page.getByRole('button', { name: 'Rename' }).click();
    await renamed;
    expect(await page.locator('#ws-switch option:checked').textContent()).toBe('Growth');

    // With several workspaces, the header still leads to them all.
    expect(await page.locator('.ws-menu a[href="/workspaces"]').textContent()).toBe('All');

    // Choosing in the header's menu switches at once.
    await page.locator('#ws-switch').selectOption({ label: 'Default' });
    await page.waitForURL(`${web.url}/`);
    expect(await page.locator('#ws-switch option:checked').textContent()).toBe('Default');
    expect(consoleErrors).toEqual([]);
    await page.context().close();
  });
});
