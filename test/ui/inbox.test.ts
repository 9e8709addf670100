/// <reference lib="dom" />
// The inbox in a real browser, with the web server's own notifier: a member's
// navigation count rises live when someone mentions them (no reload), the
// inbox lists the mention, Open marks it read and goes to what it is about,
// and the count is gone; preferences asking for email without an address are
// refused in words, and saved with one.
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN } from '../helpers/env';
import { apiClient, json, userWithRole } from '../helpers/app';
import { useBrowserApp } from '../helpers/browser-app';
import { clickAndLoad, signedInPage } from '../helpers/browser';

const app = useBrowserApp();

describe('the inbox', () => {
  it('counts a mention live, opens it read, and keeps preferences', async () => {
    const admin = apiClient(app.t, ADMIN_TOKEN);
    const containerId = (await json(await admin.request('POST', '/api/containers', { name: 'Inbox lab', category: 'custom' }))).container.id;
    const missionId = (await json(await admin.request('POST', '/api/missions', { name: 'Weekly <b>digest</b>', type: 'manual', containerId }))).mission.id;
    const bob = await userWithRole(app.t, 'OPERATOR');
    const page = await signedInPage(app.browser, app.web.url, app.consoleErrors, bob);
    const count = page.locator('#nav-inbox');
    expect((await count.textContent())?.trim()).toBe('');

    expect((await admin.request('POST', '/api/comments', { missionId, content: `@${bob.username} can you <i>check</i> this?` })).status).toBe(201);
    await expect.poll(() => count.textContent(), { timeout: 15_000 }).toContain('1');

    await page.getByRole('link', { name: /^Inbox/ }).click();
    await page.waitForURL(`${app.web.url}/inbox`);
    const item = page.locator('.inbox-item').first();
    expect(await item.textContent()).toContain('admin mentioned you');
    expect(await item.textContent()).toContain(`@${bob.username} can you <i>check</i> this?`);
    await clickAndLoad(page, 'Open');
    expect(new URL(page.url()).pathname).toBe(`/missions/${missionId}`);
    expect((await page.locator('#nav-inbox').textContent())?.trim()).toBe('');

    await page.goto(`${app.web.url}/inbox`);
    await page.getByLabel('Email: Someone mentioned me').check();
    await page.getByRole('button', { name: 'Save preferences' }).click();
    await expect.poll(() => page.locator('#prefs-error').textContent()).toContain('Email needs an address');
    await page.getByLabel('Email address').fill('bob@example.com');
    await clickAndLoad(page, 'Save preferences');
    expect(await page.getByLabel('Email: Someone mentioned me').isChecked()).toBe(true);
    expect(await page.getByLabel('Email address').inputValue()).toBe('bob@example.com');
    expect(app.consoleErrors.filter((e) => !/status of 400/.test(e))).toEqual([]);
  });
});
