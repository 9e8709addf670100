/// <reference lib="dom" />
// The outreach pages in a real browser: a campaign, a lead and two drafts made
// through the API; on /leads an admin opens the lead, is refused an override
// without a reason (in words, in the form), overrides with one and sees who and
// why, and moves the lead with a note; on a draft's page they write a second
// version, submit it, approve it with notes (refused without), see the diff
// between the two versions, and request changes on the other draft. Content is
// text, never HTML. A viewer sees the pages without the forms.
import { type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebServer, type RunningWeb } from '../../api/server';
import { ADMIN_TOKEN } from '../helpers/env';
import { ADMIN_PASSWORD, apiClient, createTestApp, json, signIn, userWithRole, type ApiClient, type TestApp } from '../helpers/app';
import { launchChromium, signedInPage } from '../helpers/browser';

let t: TestApp;
let web: RunningWeb;
let browser: Browser;
let api: ApiClient;
const consoleErrors: string[] = [];
const ids = { campaign: '', lead: '', first: '', second: '' };

async function made(res: Response): Promise<any> {
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return json(res);
}

beforeAll(async () => {
  t = await createTestApp();
  web = await startWebServer(t.deps, { port: 0, host: '127.0.0.1' });
  browser = await launchChromium();
  api = apiClient(t, ADMIN_TOKEN);
  ids.campaign = (await made(await api.request('POST', '/api/campaigns', { name: 'Spring <b>push</b>', channels: ['EMAIL'] }))).campaign.id;
  await made(await api.request('POST', `/api/campaigns/${ids.campaign}/activate`, {}));
  ids.lead = (await made(await api.request('POST', '/api/leads', { campaignId: ids.campaign, name: 'Ada Lovelace', company: 'Analytical Engines', score: 'C' }))).lead.id;
  const draft = (body: string, subject: string) => api.request('POST', '/api/drafts', { campaignId: ids.campaign, leadId: ids.lead, channel: 'EMAIL', subject, body });
  ids.first = (await made(await draft('Hello Ada,\n<b>not bold</b>\nSee you.', 'Hello <i>there</i>'))).draft.id;
  ids.second = (await made(await draft('A second message.', 'Another one'))).draft.id;
  await made(await api.request('POST', `/api/drafts/${ids.second}/submit`, {}));
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await web?.close();
  await t?.close();
});

describe('the outreach pages', () => {
  it('override a score with a reason, move a lead, edit, submit, decide drafts and diff their versions', async () => {
    const page = await signedInPage(browser, web.url, consoleErrors);
    await page.getByRole('link', { name: 'Outreach' }).click();
    await page.waitForURL(`${web.url}/campaigns`);
    const row = page.locator('tr', { hasText: 'Spring <b>push</b>' });
    await expect.poll(() => row.locator('.outreach-status').textContent()).toBe('Active');
    expect(await row.getByRole('img', { name: /^Leads by status: New 1,/ }).count()).toBe(1);

    // The lead, from /leads: the override needs a reason, said in the form.
    await page.goto(`${web.url}/leads`);
    await page.getByRole('link', { name: 'Ada Lovelace' }).click();
    await page.waitForURL(`${web.url}/leads/${ids.lead}`);
    expect(await page.locator('#score .outreach-effective').textContent()).toContain('C');
    await page.getByLabel('Override score').selectOption('A');
    await page.getByRole('button', { name: 'Override score' }).click();
    await expect.poll(() => page.locator('#score [role=alert]').textContent()).toContain('A score override needs a reason');
    await page.getByLabel('Reason (required)').fill('Met at the <em>conference</em>');
    await page.getByRole('button', { name: 'Override score' }).click();
    await expect.poll(() => page.locator('#score .outreach-override').textContent()).toContain('Met at the <em>conference</em>');
    expect(await page.locator('#score .outreach-override').textContent()).toMatch(/Overridden to A by admin/);
    expect(await page.locator('#score .outreach-effective').textContent()).toContain('computed: C');
    expect(await page.locator('#score em').count()).toBe(0);

    // Moved, with a note: the status and the history say so.
    await page.getByLabel('Note (optional)').fill('researched');
    await page.getByRole('button', { name: 'Move to Enriched' }).click();
    await expect.poll(() => page.locator('#lead-title .outreach-status').textContent()).toBe('Enriched');
    expect(await page.locator('#lead-history').textContent()).toContain('New → Enriched: “researched”');
    expect(await page.getByRole('button', { name: 'Move to Drafted' }).count()).toBe(1);

    // The first draft: its content as text, a second version, submitted.
    await page.goto(`${web.url}/drafts/${ids.first}`);
    expect(await page.locator('.draft-body').textContent()).toContain('<b>not bold</b>');
    expect(await page.locator('.draft-body b, #draft-title i').count()).toBe(0);
    await page.getByText('Write a new version').click();
    await page.getByLabel('Body', { exact: true }).first().fill('Hello Ada,\nA line that is new.\nSee you.');
    await page.getByLabel('Note').fill('warmer');
    await page.getByRole('button', { name: 'Save new version' }).click();
    await expect.poll(() => page.locator('#draft-content h2').textContent()).toBe('Version 2');
    await page.getByRole('button', { name: 'Submit for approval' }).click();
    await expect.poll(() => page.locator('#draft-title .outreach-status').textContent()).toBe('Needs approval');

    // Approve with notes: refused without notes, in the form; then made.
    await page.getByRole('button', { name: 'Approve with notes' }).click();
    await expect.poll(() => page.locator('#draft-decide [role=alert]').textContent()).toContain('Approving with notes needs notes');
    await page.getByLabel('Notes for version 2').fill('Good, keep it short');
    await page.getByRole('button', { name: 'Approve with notes' }).click();
    await expect.poll(() => page.locator('#draft-title .outreach-status').textContent()).toBe('Approved');
    expect(await page.locator('#decisions').textContent()).toContain('Approved with notes');
    expect(await page.locator('#decisions').textContent()).toContain('Good, keep it short');

    // The diff between the two versions, any way round.
    await page.getByLabel('Compare').selectOption('2');
    await page.getByLabel('with').selectOption('1');
    await page.getByRole('button', { name: 'Show changes' }).click();
    await expect.poll(() => page.locator('#draft-diff h3').textContent()).toContain('Changes from v2 to v1');
    expect(await page.locator('#draft-diff .diff .add').textContent()).toContain('<b>not bold</b>');
    expect(await page.locator('#draft-diff .diff .del').textContent()).toContain('A line that is new.');

    // The second draft: changes requested, back to a draft.
    await page.goto(`${web.url}/drafts`);
    await page.getByRole('link', { name: 'Another one' }).click();
    await page.waitForURL(`${web.url}/drafts/${ids.second}`);
    await page.getByLabel('Notes for version 1').fill('Say who we are');
    await page.getByRole('button', { name: 'Request changes' }).click();
    await expect.poll(() => page.locator('#draft-title .outreach-status').textContent()).toBe('Draft');
    expect(await page.locator('#decisions').textContent()).toContain('Asked for changes');
    expect(await page.locator('#decisions').textContent()).toContain('Say who we are');
    expect(consoleErrors).toEqual([]);
  });

  it('shows a viewer the lead and the draft without their forms, saying who may', async () => {
    const viewer = await userWithRole(t, 'VIEWER');
    const page = await signedInPage(browser, web.url, consoleErrors, viewer);
    await page.goto(`${web.url}/leads/${ids.lead}`);
    await page.locator('#score').waitFor();
    expect(await page.locator('#score').textContent()).toContain('Only an admin of this workspace overrides a score');
    expect(await page.getByRole('button', { name: 'Override score' }).count()).toBe(0);
    expect(await page.locator('#moves').textContent()).toContain('needs the OPERATOR role');
    await page.goto(`${web.url}/campaigns`);
    expect(await page.getByRole('button', { name: 'Create campaign' }).count()).toBe(0);
    await page.goto(`${web.url}/drafts/${ids.second}`);
    expect(await page.getByRole('button', { name: 'Approve', exact: true }).count()).toBe(0);
    expect(await page.locator('#draft-edit').count()).toBe(0);
    expect(consoleErrors).toEqual([]);
  });
});

describe('the outreach forms without a browser', () => {
  it('answer a refused plain post with the page, its status and the message in the form; htmx with the form in place', async () => {
    const admin = await signIn(t, 'admin', ADMIN_PASSWORD);
    const lead = (await made(await api.request('POST', '/api/leads', { campaignId: ids.campaign, name: 'Grace Hopper' }))).lead.id;
    const noReason = await admin.post(`/leads/${lead}/score-override`, { score: 'B', reason: '  ' });
    expect(noReason.status).toBe(400);
    expect(await noReason.text()).toMatch(/id="score-error"[^>]*>Reason: A score override needs a reason/);
    const noMove = await admin.post(`/leads/${lead}/status`, { status: 'BOOKED' });
    expect(noMove.status).toBe(409);
    expect(await noMove.text()).toContain('A NEW lead cannot move to BOOKED; from NEW it may move to: ENRICHED, LOST.');
    const inPlace = await admin.post(`/leads/${lead}/score-override`, { score: 'B', reason: '' }, { headers: { 'HX-Request': 'true' } });
    expect(inPlace.status).toBe(200);
    const fragment = await inPlace.text();
    expect(fragment).toMatch(/^<section id="score"/);
    expect(fragment).toContain('A score override needs a reason');
    const notWaiting = await admin.post(`/drafts/${ids.first}/decide`, { action: 'REJECT', notes: 'late' });
    expect(notWaiting.status).toBe(409);
    expect(await notWaiting.text()).toContain('only a draft waiting for approval (NEEDS_APPROVAL) takes a decision');
    const closer = await userWithRole(t, 'CLOSER');
    const asCloser = await signIn(t, closer.username, closer.password);
    const below = await asCloser.post(`/leads/${lead}/status`, { status: 'ENRICHED' });
    expect(below.status).toBe(403);
    expect(await below.text()).toContain('needs the OPERATOR role');
    expect((await json(await api.request('GET', `/api/leads/${lead}`))).lead).toMatchObject({ status: 'NEW', scoreOverride: null });
  });
});
