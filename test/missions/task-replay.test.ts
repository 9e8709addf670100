/// <reference lib="dom" />
// A task's replay (GET /api/runs/:workflowId/tasks/:taskId/replay and its page):
// its whole story in time order from Temporal's history and the run's records.
// Recorded histories (test/fixtures/histories) are read by the pure mapping;
// live runs on the real servers check attempts, the gate, sends by reference,
// the workspace gate, and the page in Chromium (escaped, linked from the run).
import { readFileSync } from 'node:fs';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebServer, type RunningWeb } from '../../api/server';
import { readTaskHistory } from '../../core/runs/replay-history';
import { tellStory, type ReplayStep } from '../../core/runs/replay';
import type { MissionInput } from '../../workflows/messages';
import { json } from '../helpers/app';
import { launchChromium, signedInPage } from '../helpers/browser';
import { execute, makeMission, makePattern, missionEnv, result, waitFor, type MissionEnv } from '../helpers/missions';
import { secondWorkspace } from '../helpers/workspaces';

const NONE = { attempts: [], outbound: [], refusals: [] };
const kinds = (steps: ReplayStep[]) => steps.map((s) => s.kind);

/** A recorded history's story for the task named `name` (the plan's first task by default). */
function recorded(file: string, name?: string) {
  const history = historyFromJSON(JSON.parse(readFileSync(new URL(`../fixtures/histories/${file}`, import.meta.url), 'utf8')));
  const events = history.events ?? [];
  const [payload] = events[0]!.workflowExecutionStartedEventAttributes!.input!.payloads!;
  const input = JSON.parse(Buffer.from(payload!.data!).toString()) as MissionInput;
  const taskId = input.plan!.tasks.find((t) => name === undefined || t.name === name)!.id;
  const h = readTaskHistory(events, taskId, 'run-1');
  return { h, taskId, steps: tellStory([h], NONE, { workflowId: 'mission-x', taskId, open: false }) };
}

describe('a recorded history, read for one task', () => {
  it('tells a gated task approved with notes: attempt, output by reference, approval requested, the decision', () => {
    const { steps, taskId } = recorded('approval-approve-with-notes.v4.json', 'draft');
    expect(kinds(steps)).toEqual(['attempt.scheduled', 'attempt.started', 'attempt.completed', 'approval.requested', 'decision.received', 'decision.taken']);
    expect(steps[1]).toMatchObject({ attempt: 1, identity: expect.any(String), eventId: expect.any(Number) });
    expect(steps[2]!.output).toMatchObject({ ref: expect.any(String), bytes: expect.any(Number), url: `/api/runs/mission-x/tasks/${taskId}/output` });
    expect(steps[5]).toMatchObject({ actor: 'admin', action: 'approve_with_notes', notes: expect.any(String) });
    const ids = steps.map((s) => s.eventId!);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  });

  it('tells a task whose retries ran out, and leaves out the other task', () => {
    const { steps } = recorded('failed-retry-exhausted.v4.json', 'broken');
    expect(recorded('failed-retry-exhausted.v4.json', 'never').steps).toEqual([]);
    const last = steps.filter((s) => s.kind.startsWith('attempt.')).at(-1)!;
    expect(last).toMatchObject({ kind: 'attempt.failed', final: true, message: expect.any(String) });
    const started = steps.find((s) => s.kind === 'attempt.started')!;
    // Without the database, the attempt before the last is still named, with the failure the history kept.
    if (started.attempt! > 1) expect(steps.find((s) => s.kind === 'attempt.failed' && s.attempt === started.attempt! - 1)).toBeTruthy();
  });

  it('joins the records: earlier attempts and sends inside their execution, the agent that took the attempt', () => {
    const { h, taskId } = recorded('approval-approve-with-notes.v4.json', 'draft');
    const exec = h.executions[0]!;
    const late = new Date(exec.endMs! + 60_000); // another clock, a minute ahead: still placed inside its execution
    const steps = tellStory([h], {
      attempts: [
        { type: 'task.started', at: late, runId: 'run-1', execSeq: 1, attempt: 1, agent: { id: 'agent-1', name: 'scout' } },
        { type: 'task.attempt_failed', at: late, runId: 'run-1', execSeq: 1, attempt: 0, error: 'earlier' },
      ],
      outbound: [{ channel: 'email', status: 'sent', attempts: 2, error: null, createdAt: late, runId: 'run-1', execSeq: 1, attempt: 1, bytes: 9000, head: 'x'.repeat(200) }],
      refusals: [],
    }, { workflowId: 'mission-x', taskId, open: false });
    expect(kinds(steps).slice(0, 5)).toEqual(['attempt.scheduled', 'attempt.failed', 'attempt.started', 'outbound', 'attempt.completed']);
    expect(steps[1]).toMatchObject({ eventId: null, source: 'events', attempt: 0, message: 'earlier' });
    expect(steps[2]).toMatchObject({ eventId: 6, agent: { id: 'agent-1', name: 'scout' } });
    expect(steps[3]!.outbound).toMatchObject({ channel: 'email', status: 'sent', payload: { bytes: 9000 } });
    expect(steps[3]!.outbound!.payload.preview).toHaveLength(160);
  });

  it('keeps the pause that fell while the task was in flight, and leaves out what came after it ended', () => {
    const first = kinds(recorded('pause-resume.v4.json', 'first').steps);
    expect(first).toEqual(['attempt.scheduled', 'attempt.started', 'run.paused', 'attempt.completed']);
    // The next task waited for the resume before it was scheduled: nothing was in flight while paused.
    expect(kinds(recorded('pause-resume.v4.json', 'second').steps)).toEqual(['attempt.scheduled', 'attempt.started', 'attempt.completed']);
    const cancelled = recorded('cancelled.v4.json', 'forever').steps;
    expect(kinds(cancelled)).toEqual(['attempt.scheduled', 'attempt.started', 'run.cancel_requested', 'attempt.cancelled']);
    expect(cancelled[2]).toMatchObject({ actor: 'admin', reason: 'wrong list' });
  });
});

let env: MissionEnv;
let web: RunningWeb;
let browser: Browser;
const consoleErrors: string[] = [];
const HOSTILE = '<img src=x onerror="window.__pwned=1">draft & "co"';

beforeAll(async () => {
  env = await missionEnv();
  web = await startWebServer(env.t.deps, { port: 0, host: '127.0.0.1' });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await web?.close();
  await env?.close();
});

const replayOf = async (workflowId: string, taskId: string, api = env.viewer) => api.request('GET', `/api/runs/${workflowId}/tasks/${taskId}/replay`);
/** Index of the first step matching `m` after index `from` (fails the test when there is none). */
function indexOf(steps: ReplayStep[], m: Partial<ReplayStep>, from = -1): number {
  const i = steps.findIndex((s, n) => n > from && Object.entries(m).every(([k, v]) => (s as unknown as Record<string, unknown>)[k] === v));
  expect(i, `${JSON.stringify(m)} after step ${from} in ${JSON.stringify(kinds(steps))}`).toBeGreaterThan(from);
  return i;
}

/** A gated task that fails its first attempt, then succeeds; approved with notes. */
async function flakyGatedRun(name = 'draft') {
  const flaky = await makePattern(env.admin, env.containerId,
    'async (input, ctx) => { if (ctx.attempt === 1) throw new Error("first try fails"); return { draft: "Hi " + input.to, big: "y".repeat(5000) } }',
    { retryCount: 1, failureAction: 'retry' });
  const missionId = await makeMission(env.admin, {
    containerId: env.containerId, config: { retryPolicy: 'linear', retryDelayMs: 200 },
    tasks: [{ name, order: 0, patternId: flaky, input: { to: 'Ada' }, requiresApproval: true }],
  });
  const workflowId = await execute(env.admin, missionId);
  const waiting = await waitFor(env.t, workflowId, (p) => p.status === 'NeedsApproval');
  const taskId = waiting.tasks[0]!.id;
  const res = await env.admin.request('POST', `/api/runs/${workflowId}/decisions`, { taskId, action: 'approve_with_notes', notes: 'fine <b>now</b>' });
  expect(res.status, await res.clone().text()).toBe(200);
  await result(env.t, workflowId);
  return { workflowId, taskId };
}

describe('the replay of a task', () => {
  let run: { workflowId: string; taskId: string };
  beforeAll(async () => {
    run = await flakyGatedRun();
  });

  it('lists the failed attempt with its message, the retry, the approval and the decision with notes, in order', async () => {
    // A decision after the run ended is refused before it reaches the run: the replay lists it too.
    expect((await env.admin.request('POST', `/api/runs/${run.workflowId}/decisions`, { taskId: run.taskId, action: 'approve' })).status).toBe(409);
    const res = await replayOf(run.workflowId, run.taskId);
    expect(res.status).toBe(200);
    const { task, steps } = (await json(res)) as { task: Record<string, unknown>; steps: ReplayStep[] };
    expect(task).toMatchObject({ id: run.taskId, name: 'draft', status: 'completed', runner: 'pattern', requiresApproval: true, attempts: 2, executions: 1 });

    const scheduled = indexOf(steps, { kind: 'attempt.scheduled' });
    expect(steps[scheduled]!.retry).toMatchObject({ initialIntervalMs: 200, backoffCoefficient: 1 });
    const failed = indexOf(steps, { kind: 'attempt.failed', attempt: 1 }, scheduled);
    expect(steps[failed]!.message).toContain('first try fails');
    const started = indexOf(steps, { kind: 'attempt.started', attempt: 2 }, failed);
    expect(steps[started]).toMatchObject({ identity: expect.any(String), retryDelayMs: expect.any(Number) });
    const completed = indexOf(steps, { kind: 'attempt.completed', attempt: 2 }, started);
    const requested = indexOf(steps, { kind: 'approval.requested' }, completed);
    const decided = indexOf(steps, { kind: 'decision.taken' }, requested);
    expect(steps[decided]).toMatchObject({ actor: 'admin', action: 'approve_with_notes', notes: 'fine <b>now</b>' });
    const refused = indexOf(steps, { kind: 'decision.refused' }, decided);
    expect(steps[refused]).toMatchObject({ source: 'audit', actor: 'admin', action: 'approve', reason: expect.any(String) });

    // Ordered by time; history steps carry their event ids.
    const times = steps.map((s) => Date.parse(s.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(steps[completed]!.eventId).toEqual(expect.any(Number));

    // The output by reference: its size, its start and a link to it whole, never the value itself.
    const output = steps[completed]!.output!;
    expect(output).toMatchObject({ ref: expect.any(String), url: `/api/runs/${run.workflowId}/tasks/${run.taskId}/output` });
    expect(output.bytes).toBeGreaterThan(5000);
    expect(JSON.stringify(steps)).not.toContain('y'.repeat(300));
    const whole = await env.viewer.request('GET', output.url!);
    expect(whole.status).toBe(200);
    expect((await json(whole)).output.big).toHaveLength(5000);
  });

  it('lists a task\'s outbound send (dry run) by reference', async () => {
    const sender = await makePattern(env.admin, env.containerId,
      'async (input, ctx) => { await ctx.outbound.send("email", { to: "ada@example.com", body: "z".repeat(4000) }); return { sent: true } }');
    const missionId = await makeMission(env.admin, { containerId: env.containerId, tasks: [{ name: 'send', order: 0, patternId: sender }] });
    const workflowId = await execute(env.admin, missionId);
    const done = await result(env.t, workflowId);
    const { steps } = (await json(await replayOf(workflowId, done.tasks[0]!.id))) as { steps: ReplayStep[] };
    const send = steps[indexOf(steps, { kind: 'outbound' }, indexOf(steps, { kind: 'attempt.started' }))]!;
    expect(send.outbound).toMatchObject({ channel: 'email', status: 'dry_run', attempts: expect.any(Number), error: null });
    expect(send.outbound!.payload.bytes).toBeGreaterThan(4000);
    expect(send.outbound!.payload.preview!.length).toBeLessThanOrEqual(160);
    expect(indexOf(steps, { kind: 'attempt.completed' })).toBeGreaterThan(steps.indexOf(send));
  });

  it('answers 404 for another workspace\'s run, an unknown task and an unknown run; 400 for a bad task id', async () => {
    const b = await secondWorkspace(env.t, `replay-b-${Date.now()}`);
    const theirs = await replayOf(run.workflowId, run.taskId, b.admin);
    expect(theirs.status).toBe(404);
    const unknownRun = await replayOf(`mission-${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}-nope`, run.taskId);
    expect(unknownRun.status).toBe(404);
    expect((await json(theirs)).error).toEqual((await json(unknownRun)).error);
    expect((await replayOf(run.workflowId, '00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await replayOf(run.workflowId, 'not-a-task')).status).toBe(400);
    expect((await b.browser.get(`/runs/${run.workflowId}/tasks/${run.taskId}/replay`)).status).toBe(404);
  });
});

describe('the replay page', () => {
  it('is linked from the run page and shows the steps, escaping a hostile task name', async () => {
    const { workflowId, taskId } = await flakyGatedRun(HOSTILE);
    const page = await signedInPage(browser, web.url, consoleErrors);
    await page.goto(`${web.url}/runs/${encodeURIComponent(workflowId)}`);
    if (process.env.MC_SCREENSHOTS) await page.screenshot({ path: `${process.env.MC_SCREENSHOTS}/task-replay-run.png` });
    await page.getByRole('link', { name: 'Replay', exact: true }).click();
    await page.waitForURL(`${web.url}/runs/${encodeURIComponent(workflowId)}/tasks/${taskId}/replay`);
    expect(await page.locator('#replay h1').textContent()).toContain(HOSTILE);
    expect(await page.locator('#replay img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    const titles = await page.locator('.replay-steps .replay-title').allTextContents();
    const at = (text: string) => titles.findIndex((x) => x.startsWith(text));
    expect(titles[at('Attempt 1 failed')], titles.join('\n')).toMatch(/^Attempt 1 failed: .*first try fails/);
    expect(at('Attempt 2 completed')).toBeGreaterThan(at('Attempt 1 failed'));
    expect(at('Approval requested')).toBeGreaterThan(at('Attempt 2 completed'));
    expect(at('Decided: approve with notes by admin')).toBeGreaterThan(at('Approval requested'));
    expect(await page.locator('.replay-steps').textContent()).toContain('notes: fine <b>now</b>');
    expect(await page.locator('.replay-steps a', { hasText: 'The whole output' }).first().getAttribute('href')).toBe(`/runs/${encodeURIComponent(workflowId)}/tasks/${taskId}/output`);
    if (process.env.MC_SCREENSHOTS) await page.screenshot({ path: `${process.env.MC_SCREENSHOTS}/task-replay.png`, fullPage: true });
    expect(consoleErrors).toEqual([]);
    await page.context().close();
  });
});
