/// <reference lib="dom" />
// Comments on a mission's page in a real browser: an admin's comment appears
// in the panel at once, and on an operator's open page of the same mission
// without a reload; an empty one is refused in words beside the form; content
// is text, never HTML; a viewer reads the panel without the form.
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN } from '../helpers/env';
import { apiClient, json, userWithRole } from '../helpers/app';
import { useBrowserApp } from '../helpers/browser-app';
import { signedInPage } from '../helpers/browser';

const app = useBrowserApp();

describe('the comments panel', () => {
  it('posts, shows live on another open page, refuses an empty comment in words, and keeps text as text', async () => {
    const admin = apiClient(app.t, ADMIN_TOKEN);
    const containerId = (await json(await admin.request('POST', '/api/containers', { name: 'Comment lab', category: 'custom' }))).container.id;
    const missionId = (await json(await admin.request('POST', '/api/missions', { name: 'Lead sweep', type: 'manual', containerId }))).mission.id;
    const operator = await userWithRole(app.t, 'OPERATOR');
    const viewer = await userWithRole(app.t, 'VIEWER');
    const [a, o, v] = [await signedInPage(app.browser, app.web.url, app.consoleErrors), await signedInPage(app.browser, app.web.url, app.consoleErrors, operator), await signedInPage(app.browser, app.web.url, app.consoleErrors, viewer)];
    for (const p of [a, o, v]) {
      await p.goto(`${app.web.url}/missions/${missionId}`);
      await expect.poll(() => p.locator('#comments-title').count()).toBe(1);
    }

    await a.getByLabel(/^Add a comment/).fill(`@${operator.username} <b>check</b> the list`);
    await a.getByLabel('Type', { exact: true }).selectOption('WARNING');
    await a.getByRole('button', { name: 'Comment', exact: true }).click();
    await expect.poll(() => a.locator('#comments .comment').count()).toBe(1);
    expect(await a.locator('#comments .comment').textContent()).toContain(`@${operator.username} <b>check</b> the list`);
    expect(await a.locator('#comments .comment b').count()).toBe(0);
    expect(await a.locator('#comments .comment .pill').textContent()).toBe('Warning');
    await expect.poll(() => o.locator('#comments .comment').count(), { timeout: 15_000 }).toBe(1); // live, no reload

    await o.getByRole('button', { name: 'Comment', exact: true }).click();
    await expect.poll(() => o.locator('#comment-error').textContent()).toContain('A comment is not empty.');
    expect(await v.getByLabel(/^Add a comment/).count()).toBe(0);
    await expect.poll(() => v.locator('#comments .comment').count(), { timeout: 15_000 }).toBe(1);
    expect(app.consoleErrors).toEqual([]);
  });
});
