/// <reference lib="dom" />
// The board as a user sees it (issue 9, point 4): each card shows a progress
// bar, the current task, its attempt and the time elapsed; Paused and Needs
// approval read apart in colour and in words; an empty board says what to do
// next and lists the paused example schedules; at phone width the board says
// that its columns scroll sideways.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Browser as Chromium } from 'playwright-core';
import { startWebServer, type RunningWeb } from '../../api/server';
import { DAILY_JOBS, seedExamples } from '../../core/missions/examples';
import { freePort } from '../../lib/ports';
import { startTemporalDevServer, type DevServer } from '../../scripts/temporal-dev-server';
import { createTestApp, json, signIn, userWithRole, type Browser, type TestApp } from '../helpers/app';
import { launchChromium, signedInPage } from '../helpers/browser';
import { ADMIN_PASSWORD } from '../helpers/env';
import { BUSY_PATTERN, eventually, execute, makeMission, makePattern, missionEnv, waitFor, type MissionEnv } from '../helpers/missions';

const CSS = readFile(new URL('../../public/app.css', import.meta.url), 'utf8');

/** The column (by status) that holds a run's card, and the card's HTML; nulls while it is not on the board. */
function findCard(html: string, workflowId: string): { column: string | null; card: string | null } {
  const href = `href="/runs/${encodeURIComponent(workflowId)}"`;
  for (const section of html.split('<section class="column').slice(1)) {
    const at = section.indexOf(href);
    if (at < 0) continue;
    const start = section.lastIndexOf('<a class="card', at);
    return { column: /^ column-(\w+)/.exec(section)?.[1] ?? null, card: section.slice(start, section.indexOf('</a>', at) + 4) };
  }
  return { column: null, card: null };
}

const ids = (html: string) => [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!);

/** The colours one selector's rule sets in the board's block of the stylesheet. */
async function coloursOf(selector: string): Promise<string> {
  const css = await CSS;
  const block = css.slice(css.indexOf('/* Board: cards, progress, empty states */'));
  const rule = new RegExp(`(^|\\n)${selector.replace(/\./g, '\\.')} \\{([^}]+)\\}`).exec(block);
  expect(rule, `a rule for ${selector} in the board's block`).not.toBeNull();
  return rule![2]!.trim();
}

describe('cards on the board', () => {
  let env: MissionEnv;
  let admin: Browser;
  const board = async () => (await admin.get(`/?containerId=${env.containerId}`)).text();
  /** The board, read until the run's card sits in `column` and satisfies `ok`. */
  const cardIn = async (workflowId: string, column: string, ok: (card: string) => boolean = () => true) => {
    const found = await eventually(async () => findCard(await board(), workflowId), (f) => f.column === column && !!f.card && ok(f.card));
    expect(found.column, `the card of ${workflowId}: ${found.card}`).toBe(column);
    return found.card!;
  };
  const cancel = async (workflowId: string) => {
    expect((await env.operator.request('POST', `/api/runs/${workflowId}/cancel`, {})).status).toBe(202);
    await env.t.deps.temporal.client.workflow.getHandle(workflowId).result().catch(() => {});
  };

  beforeAll(async () => {
    env = await missionEnv();
    admin = await signIn(env.t, 'admin', ADMIN_PASSWORD);
  });
  afterAll(async () => env?.close());

  it('shows a running run’s progress bar, its current task with the attempt, and the time elapsed', async () => {
    const quick = await makePattern(env.admin, env.containerId, 'async () => ({ ok: true })');
    // Fails its first attempt, then works for a minute: the card catches it on attempt 2.
    const flaky = await makePattern(env.admin, env.containerId,
      `async (input, ctx) => { if (ctx.attempt < 2) throw new Error('first try fails'); return (${BUSY_PATTERN})(input, ctx) }`,
      { timeout: 90_000, retryCount: 2, failureAction: 'retry' });
    const missionId = await makeMission(env.operator, {
      containerId: env.containerId, config: { retryPolicy: 'linear', retryDelayMs: 100 },
      tasks: [
        { name: 'collect', order: 0, patternId: quick },
        { name: 'crunch', order: 1, patternId: flaky, input: { ms: 60_000 } },
        { name: 'report', order: 2, patternId: quick },
      ],
    });
    const workflowId = await execute(env.operator, missionId);
    try {
      // Attempt 2 records its own start: from then on the card names it as the attempt under way.
      const card = await cardIn(workflowId, 'Running', (c) => /“crunch”<\/strong> · attempt 2\s*<\/span>/.test(c));
      expect(card).toContain('class="card card-Running"');
      expect(card).toContain('<span class="pill pill-Running">Running</span>');
      expect(card).toMatch(/<progress class="card-bar" max="100" value="33" aria-label="[^"]+: 1 of 3 tasks finished">33%<\/progress>/);
      expect(card).toContain('1 of 3 tasks finished · 33%');
      expect(card).toMatch(/Now: <strong>“crunch”<\/strong> · attempt 2\s*<\/span>/);
      const [, start, text] = /<time datetime="([^"]+)" data-elapsed title="Started [^"]+">([^<]+)<\/time> elapsed/.exec(card) ?? [];
      expect(new Date(start!).getTime()).toBeLessThanOrEqual(Date.now());
      expect(text).toMatch(/^\d+ s$|^\d+ min \d+ s$/);
    } finally {
      await cancel(workflowId);
    }
    // Ended, the card says how long the run took, and where it stopped.
    const ended = await cardIn(workflowId, 'Cancelled');
    expect(ended).toMatch(/took <time datetime="[^"]+" title="Started [^"]+, ended [^"]+">[^<]+<\/time>, ended /);
    expect(ended).toContain('value="33"');
  });

  it('gives a paused run and a run waiting for approval colours and words of their own', async () => {
    const quick = await makePattern(env.admin, env.containerId, 'async () => ({ ok: true })');
    const two = (gate: boolean) => makeMission(env.operator, {
      containerId: env.containerId,
      tasks: [{ name: 'draft', order: 0, patternId: quick, requiresApproval: gate }, { name: 'send', order: 1, patternId: quick }],
    });
    const paused = await execute(env.operator, await two(false));
    const pausedNow = await env.operator.request('POST', `/api/runs/${paused}/pause`, { reason: 'checking numbers' });
    expect((await json(pausedNow)).state).toMatchObject({ status: 'Paused', paused: true });
    const waiting = await execute(env.operator, await two(true));
    await waitFor(env.t, waiting, (p) => p.status === 'NeedsApproval');
    try {
      const pausedCard = await cardIn(paused, 'Paused', (c) => !c.includes('Finishing before the pause'));
      expect(pausedCard).toContain('class="card card-Paused"');
      expect(pausedCard).toContain('<span class="pill pill-Paused">Paused</span>');
      expect(pausedCard).toContain('Paused between tasks; resume it from the run’s page.');
      expect(pausedCard).toMatch(/value="(0|50)"/);

      const waitingCard = await cardIn(waiting, 'NeedsApproval');
      expect(waitingCard).toContain('class="card card-NeedsApproval"');
      expect(waitingCard).toContain('<span class="pill pill-NeedsApproval">Needs approval</span>');
      expect(waitingCard).toMatch(/Waiting for approval: <strong>“draft”<\/strong> · attempt 1/);
      expect(waitingCard).toContain('0 of 2 tasks finished · 0%');

      // Three colours apart (Running, Paused, Needs approval), and the words say it without them.
      const [running, pausedColours, approval] = await Promise.all(['.card-Running', '.card-Paused', '.card-NeedsApproval'].map(coloursOf));
      expect(new Set([running, pausedColours, approval]).size).toBe(3);
      expect(await coloursOf('.pill-Paused')).not.toBe(await coloursOf('.pill-NeedsApproval'));

      // Each id once on the page, columns and cards included.
      const page = await board();
      expect(ids(page).length).toBe(new Set(ids(page)).size);
      expect(page).toMatch(/<h2 id="col-Paused"><span>Paused<\/span><span>1<\/span><\/h2>/);
    } finally {
      await Promise.all([cancel(paused), cancel(waiting)]);
    }
  });

  it('tells each empty column what lands there, and a board with no match that its filters hide everything', async () => {
    const html = await (await admin.get(`/?containerId=${env.containerId}&priority=urgent`)).text();
    expect(html).toContain('No missions or runs match these filters. <a href="/">Clear the filters</a>');
    expect(html).not.toContain('Nothing on the board yet');
    expect(html.match(/<p class="column-empty">None match these filters.<\/p>/g)).toHaveLength(7);
  });
});

describe('an empty board', () => {
  // A Temporal server of its own: the shared one holds other test files' runs, and this board must have none.
  let temporal: DevServer;
  let t: TestApp;
  let viewer: Browser;
  let operator: Browser;
  let web: RunningWeb;
  let chromium: Chromium;

  beforeAll(async () => {
    temporal = await startTemporalDevServer({ cli: inject('temporalCli'), port: await freePort() });
    t = await createTestApp({ TEMPORAL_ADDRESS: temporal.address });
    expect(await seedExamples(t.db.sql, t.deps.temporal, (code) => t.deps.sandbox.check(code))).toBe(true);
    const [v, o] = await Promise.all([userWithRole(t, 'VIEWER'), userWithRole(t, 'OPERATOR')]);
    [viewer, operator] = await Promise.all([signIn(t, v.username, v.password), signIn(t, o.username, o.password)]);
  });
  afterAll(async () => {
    await chromium?.close();
    await web?.close();
    await t?.close();
    await temporal?.stop();
  });

  it('says what to do next, and lists the five example schedules as paused until someone unpauses them', async () => {
    const html = await (await operator.get('/')).text();
    const start = html.slice(html.indexOf('<section class="panel board-start"'), html.indexOf('</section>', html.indexOf('board-start-title')));
    expect(start).toContain('<h2 id="board-start-title">Nothing on the board yet</h2>');
    expect(start).toContain('<a href="/missions">Start a mission from Missions</a>');
    expect(start).toContain('<a href="/missions/new">plan a new mission</a>');
    expect(start).toContain('schedules <strong>paused</strong>, so nothing runs until an operator or an admin unpauses one on <a href="/schedules">Schedules</a>.');
    expect(start).toContain('Scheduled missions (5)');
    const listed = [...start.matchAll(/<a href="\/schedules#schedule-[0-9a-f-]{36}">([^<]+)<\/a>\s*<span class="pill pill-Paused">Paused<\/span>\s*<span class="muted">([^<]+)<\/span>/g)];
    expect(listed.map((m) => m[1])).toEqual(DAILY_JOBS.map((j) => j.name));
    expect(listed[0]![2]).toMatch(/09:00.*\(America\/Toronto\)/);
    for (const job of DAILY_JOBS) expect(start).toContain(job.description);
    // Each column says what would land in it.
    expect(html).toContain('<p class="column-empty">Nothing is running. A run shows here as soon as it starts; so does a work item moved to DOING.</p>');
    expect(html).toContain('<p class="column-empty">Nothing waits for a decision. A task with an approval gate stops here until an admin decides.</p>');
    expect(html).toContain('<p class="column-empty">No drafts. A mission saved without being run waits here, and so does a new work item.</p>');
    expect(ids(html).length).toBe(new Set(ids(html)).size);
  });

  it('tells a viewer to ask an operator, with nothing to press', async () => {
    const res = await viewer.get('/board', { headers: { 'HX-Request': 'true' } });
    const html = await res.text();
    expect(html).toContain('Ask an operator to start a mission from <a href="/missions">Missions</a>');
    expect(html).not.toContain('/missions/new');
    expect(html).not.toMatch(/<form|hx-post/);
    expect(html).toContain('Scheduled missions (5)');
  });

  it('at phone width says that the columns scroll sideways, and at desktop width does not', async () => {
    const css = await CSS;
    expect(css).toMatch(/\.board-swipe \{ display: none; \}\s*@media \(max-width: 760px\) \{\s*\.board-swipe \{ display: block;/);
    expect(await (await viewer.get('/')).text()).toContain('<p class="board-swipe" id="board-swipe">Swipe sideways to see all 7 columns →</p>');

    web = await startWebServer(t.deps, { port: 0, host: '127.0.0.1' });
    chromium = await launchChromium();
    const errors: string[] = [];
    const page = await signedInPage(chromium, web.url, errors);
    const hint = page.locator('#board-swipe');
    expect(await hint.isVisible()).toBe(false);
    await page.setViewportSize({ width: 375, height: 800 });
    await expect.poll(() => hint.isVisible()).toBe(true);
    const sizes = await page.evaluate(() => {
      const grid = document.querySelector('#board .board')!;
      return { page: document.documentElement.scrollWidth - document.documentElement.clientWidth, board: grid.scrollWidth - grid.clientWidth };
    });
    expect(sizes.page).toBeLessThanOrEqual(0); // the page never scrolls sideways...
    expect(sizes.board).toBeGreaterThan(0); // ...the columns do, inside the board
    await page.setViewportSize({ width: 1280, height: 900 });
    await expect.poll(() => hint.isVisible()).toBe(false);
    expect(errors).toEqual([]);
    await page.context().close();
  });
});
