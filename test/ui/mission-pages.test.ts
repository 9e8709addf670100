// Mission pages: the planner's schedule rule, the activity feed naming what it
// is about, and a mission's next runs agreeing with the schedules page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN } from '../helpers/env';
import { apiClient, createTestApp, json, signIn, userWithRole, type ApiClient, type Browser, type TestApp } from '../helpers/app';
import { eventually } from '../helpers/missions';

let t: TestApp;
let api: ApiClient;
let operator: Browser;
let viewer: Browser;
let containerId: string;
let patternId: string;

const HTMX = { headers: { 'HX-Request': 'true' } };
const SCRIPT_NAME = '<script>alert(1)</script>';

async function page(b: Browser, path: string, init?: RequestInit): Promise<{ status: number; html: string }> {
  const res = await b.get(path, init);
  return { status: res.status, html: await res.text() };
}

beforeAll(async () => {
  t = await createTestApp();
  api = apiClient(t, ADMIN_TOKEN);
  const [v, o] = await Promise.all([userWithRole(t, 'VIEWER'), userWithRole(t, 'OPERATOR')]);
  [viewer, operator] = await Promise.all([signIn(t, v.username, v.password), signIn(t, o.username, o.password)]);
  containerId = (await json(await api.request('POST', '/api/containers', { name: 'Lab', category: 'custom' }))).container.id;
  const res = await api.request('POST', '/api/patterns', { containerId, name: 'scorer', code: 'async () => ({ ok: true })', config: { timeout: 2000, retryCount: 0, failureAction: 'skip' } });
  expect(res.status).toBe(201);
  patternId = (await json(res)).pattern.id;
});
afterAll(async () => t?.close());

describe('the planner’s schedule, the activity feed and a mission’s next runs', () => {
  const plannerForm = (over: Record<string, string>) => ({
    description: '', type: 'manual', priority: 'medium', containerId, maxConcurrency: '1', retryPolicy: 'none', retryDelayMs: '1000',
    alertOnFailure: 'on', onApprovalTimeout: 'reject', cron: '0 9 * * 1-5', timezone: 'America/Toronto', overlap: 'skip', intent: 'active',
    'tasks[t0][name]': 'one', 'tasks[t0][order]': '0', 'tasks[t0][source]': `pattern:${patternId}`, 'tasks[t0][input]': '{}', ...over,
  });
  const missionNamed = async (name: string) => (await json(await api.request('GET', `/api/missions?q=${encodeURIComponent(name)}`))).missions as { id: string; name: string; type: string; schedule: { cron: string } | null }[];

  it('saves a manual mission with “Run on a schedule” ticked as scheduled, and refuses a scheduled one without a schedule', async () => {
    const ticked = await operator.post('/missions', plannerForm({ name: 'Ticked box', type: 'manual', scheduled: 'on' }));
    expect(ticked.status).toBe(303);
    const id = ticked.headers.get('location')!.split('/').pop()!;
    expect((await json(await api.request('GET', `/api/missions/${id}`))).mission).toMatchObject({ type: 'scheduled', schedule: { cron: '0 9 * * 1-5', timezone: 'America/Toronto' } });

    const refused = await operator.post('/missions', plannerForm({ name: 'Unticked box', type: 'scheduled' }));
    expect(refused.status).toBe(400);
    const html = await refused.text();
    expect(html).toContain('<p class="field-error" id="m-type-err">A scheduled mission needs its schedule: tick “Run on a schedule”, or choose the type manual.</p>');
    expect(html).toMatch(/<select id="m-type" name="type" data-schedule-box="m-scheduled" aria-invalid="true"/);
    expect(html).toContain('value="Unticked box"');
    expect(await missionNamed('Unticked box')).toEqual([]);

    // A webhook mission may also run on a schedule: it keeps its trigger.
    const hooked = await operator.post('/missions', plannerForm({ name: 'Hooked and timed', type: 'triggered', scheduled: 'on' }));
    expect(hooked.status).toBe(200);
    expect(await missionNamed('Hooked and timed')).toEqual([expect.objectContaining({ type: 'triggered', schedule: expect.objectContaining({ cron: '0 9 * * 1-5' }) })]);

    const form = (await page(operator, '/missions/new')).html;
    expect(form).toContain('<input type="checkbox" id="m-scheduled" name="scheduled" data-type-select="m-type"');
  });

  it('names the mission that was created in the activity feed, escaped', async () => {
    for (const name of ['Daily brief', SCRIPT_NAME]) {
      expect((await api.request('POST', '/api/missions', { name, type: 'manual', containerId, tasks: [] })).status).toBe(201);
    }
    const res = await viewer.get('/board/feed', HTMX);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/<strong>admin<\/strong>\s*<a href="\/missions\/[0-9a-f-]{36}">created mission “Daily brief”<\/a>/);
    expect(html).toContain('created mission “&lt;script&gt;alert(1)&lt;/script&gt;”');
    expect(html).not.toContain(SCRIPT_NAME);
  });

  it('lists no next runs on a paused schedule’s mission page, as the schedules page does, and Temporal’s next runs once unpaused', async () => {
    const res = await api.request('POST', '/api/missions', {
      name: 'Quiet hours', type: 'scheduled', containerId, status: 'active', tasks: [{ name: 'one', order: 0, patternId }],
      schedule: { cron: '15 7 * * *', timezone: 'Europe/Paris', paused: true },
    });
    expect(res.status).toBe(201);
    const id = (await json(res)).mission.id as string;
    const row = async () => {
      // Once Temporal described the row in time (a busy Temporal gets the page's placeholder, tested on its own).
      const html = (await eventually(() => page(viewer, '/schedules'), (p) => !p.html.includes(`schedule-pending" aria-labelledby="sch-${id.slice(0, 8)}`))).html;
      const start = html.indexOf(`<article id="schedule-${id}"`);
      expect(start).toBeGreaterThan(-1);
      return html.slice(start, html.indexOf('</article>', start));
    };
    const times = (html: string) => [...html.matchAll(/<li><time datetime="([^"]+)">([^<]+)<\/time><\/li>/g)].map((m) => [m[1], m[2]]);

    const paused = (await page(viewer, `/missions/${id}`)).html;
    expect(paused).toContain('Next runs: <span class="muted">none while the schedule is paused.</span>');
    expect(times(paused)).toEqual([]);
    expect(await row()).toContain('None while paused.');

    expect((await operator.post(`/schedules/${id}/unpause`, {})).status).toBe(303);
    const active = (await page(viewer, `/missions/${id}`)).html;
    const listed = times(active);
    expect(listed).toHaveLength(5);
    expect(listed[0]![1]).toMatch(/07:15 \(Europe\/Paris\)$/);
    expect(times(await row())).toEqual(listed);
  });
});
