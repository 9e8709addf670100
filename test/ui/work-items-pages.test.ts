/// <reference lib="dom" />
// The task board's work items in a real browser, on the one board: an admin
// makes an item from a lead's page (it arrives linked to the lead and its
// campaign) and finds it in the board's Backlog; an operator moves it to Doing
// with a note (it sits with the running runs) and then to Needs approval, but
// is offered no Done, and a forged Done is refused in words; the admin sets it
// Done (the Completed column), and the timeline tells the whole story.
import { type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebServer, type RunningWeb } from '../../api/server';
import { ADMIN_TOKEN } from '../helpers/env';
import { apiClient, createTestApp, json, userWithRole, type TestApp } from '../helpers/app';
import { clickAndLoad, launchChromium, signedInPage } from '../helpers/browser';

let t: TestApp;
let web: RunningWeb;
let browser: Browser;
const consoleErrors: string[] = [];
let lead = '';
let operator: { username: string; password: string };

beforeAll(async () => {
  t = await createTestApp();
  web = await startWebServer(t.deps, { port: 0, host: '127.0.0.1' });
  browser = await launchChromium();
  const api = apiClient(t, ADMIN_TOKEN);
  const campaign = (await json(await api.request('POST', '/api/campaigns', { name: 'Fleet <b>week</b>', channels: ['EMAIL'] }))).campaign.id;
  lead = (await json(await api.request('POST', '/api/leads', { campaignId: campaign, name: 'Grace Hopper', company: 'Compilers Inc' }))).lead.id;
  operator = await userWithRole(t, 'OPERATOR');
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await web?.close();
  await t?.close();
});

const column = (heading: string) => `section.column:has(h2 span:text-is("${heading}"))`;

describe('work items on the board', () => {
  it('are made from a lead, moved by an operator, set Done only by an admin, and keep their timeline', async () => {
    const admin = await signedInPage(browser, web.url, consoleErrors);
    await admin.goto(`${web.url}/leads/${lead}`);
    await admin.getByRole('link', { name: 'New work item', exact: true }).click();
    await admin.getByLabel('Title').fill('Call <i>Grace</i> back');
    await admin.getByLabel('Priority').selectOption('high');
    await admin.getByRole('button', { name: 'Create the work item' }).click();
    await admin.waitForURL(/\/work-items\/[0-9a-f-]{36}$/);
    const itemUrl = admin.url();
    expect(await admin.locator('#item-title').textContent()).toContain('Call <i>Grace</i> back');
    expect(await admin.getByRole('link', { name: 'Grace Hopper' }).count()).toBe(1);
    expect(await admin.getByRole('link', { name: 'Fleet <b>week</b>' }).count()).toBe(1);

    await admin.goto(`${web.url}/`);
    expect(await admin.locator(column('Backlog')).getByRole('link', { name: /Call <i>Grace<\/i> back/ }).count()).toBe(1);

    // The operator: Doing with a note, then Needs approval; no Done offered, and a forged one refused in words.
    const op = await signedInPage(browser, web.url, consoleErrors, operator);
    await op.goto(itemUrl);
    await op.getByLabel('Note (optional)').fill('Dialling now');
    await clickAndLoad(op, 'Move to Doing');
    expect(await op.locator('#item-column').textContent()).toBe('Doing');
    await op.goto(`${web.url}/`);
    expect(await op.locator(column('Running')).getByRole('link', { name: /Call <i>Grace<\/i> back/ }).count()).toBe(1);
    await op.goto(itemUrl);
    await clickAndLoad(op, 'Move to Needs approval');
    expect(await op.getByRole('button', { name: 'Set Done' }).count()).toBe(0);
    expect(await op.locator('#item-moves .hint').textContent()).toContain('to Done needs the ADMIN role');
    const forged = await op.evaluate(async (url) => {
      const csrf = (document.querySelector('input[name=_csrf]') as HTMLInputElement).value;
      const res = await fetch(`${url}/move`, { method: 'POST', body: new URLSearchParams({ _csrf: csrf, column: 'DONE' }) });
      return { status: res.status, text: await res.text() };
    }, itemUrl);
    expect(forged.status).toBe(403);
    expect(forged.text).toContain('Only an admin sets a work item DONE');
    expect(consoleErrors.splice(0)).toEqual([expect.stringContaining('status of 403')]); // the forged post's own refusal

    // The admin sets it Done: the Completed column, and the whole story on its page.
    await admin.goto(itemUrl);
    await clickAndLoad(admin, 'Set Done');
    expect(await admin.locator('#item-column').textContent()).toBe('Done');
    const story = (await admin.locator('#timeline li').allTextContents()).map((s) => s.replace(/\s+/g, ' ').trim());
    expect(story).toHaveLength(4);
    expect(story[0]).toContain('admin created it in Backlog');
    expect(story[1]).toContain(`${operator.username} moved it from Backlog to Doing Dialling now`);
    expect(story[2]).toContain('moved it from Doing to Needs approval');
    expect(story[3]).toContain('admin moved it from Needs approval to Done');
    await admin.goto(`${web.url}/`);
    expect(await admin.locator(column('Completed')).getByRole('link', { name: /Call <i>Grace<\/i> back/ }).count()).toBe(1);
    expect(await admin.locator(column('Backlog')).getByRole('link', { name: /Call <i>Grace<\/i> back/ }).count()).toBe(0);
    expect(consoleErrors).toEqual([]);
  });
});
