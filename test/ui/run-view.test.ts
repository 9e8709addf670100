// The run view (issue 9 point 3): a Gantt timeline of every attempt with the
// time spent waiting for a human, the run's total duration, the history from
// Temporal with payload previews and durations, the output to decide on next
// to the decision buttons, the diffs that request changes and edit and approve
// make, attempts told truly for running and cancelled tasks, and pausing with
// a reason. HTTP-level: the HTML the server sends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, signIn, userWithRole, type Browser } from '../helpers/app';
import { BUSY_PATTERN, eventually, execute, makeMission, makePattern, missionEnv, progress, result, waitFor, type MissionEnv } from '../helpers/missions';

let env: MissionEnv;
let admin: Browser;
let operator: Browser;
let draftPattern: string;
const HTMX = { headers: { 'HX-Request': 'true' } };

beforeAll(async () => {
  env = await missionEnv();
  const op = await userWithRole(env.t, 'OPERATOR');
  [admin, operator] = await Promise.all([signIn(env.t, 'admin', ADMIN_PASSWORD), signIn(env.t, op.username, op.password)]);
  draftPattern = await makePattern(env.admin, env.containerId, 'async (input, ctx) => ({ draft: ctx.notes ? `Dear ${input.to} (${ctx.notes})` : `Hi ${input.to}`, to: input.to })', { failureAction: 'skip' });
});
afterAll(async () => env?.close());

const runPath = (workflowId: string) => `/runs/${encodeURIComponent(workflowId)}`;
const html = async (b: Browser, path: string, init?: RequestInit) => {
  const res = await b.get(path, init);
  expect(res.status).toBe(200);
  return res.text();
};

interface Bar { kind: string; task: string; run: number; attempt: number | null; title: string }
/** The Gantt's bars, as the SVG draws them. */
function bars(page: string): Bar[] {
  const svg = page.slice(page.indexOf('<svg class="run-gantt"'), page.indexOf('</svg>', page.indexOf('<svg class="run-gantt"')));
  return [...svg.matchAll(/<rect class="g-bar g-(\w+)" data-task="([^"]+)" data-kind="\w+" data-run="(\d+)"(?: data-attempt="(\d+)")?[^>]*><title>([^<]*)<\/title><\/rect>/g)]
    .map((m) => ({ kind: m[1]!, task: m[2]!, run: Number(m[3]), attempt: m[4] ? Number(m[4]) : null, title: m[5]! }));
}
/** The <li> of one task in the task list. */
function taskItem(page: string, name: string): string {
  const list = page.slice(page.indexOf('<ol class="timeline">'));
  const start = list.indexOf(`. ${name}</strong>`);
  expect(start, `task ${name} on the page`).toBeGreaterThan(-1);
  return list.slice(start, list.indexOf('</li>', start));
}

/** A gated draft followed by a send; returns the run waiting at the gate. */
async function gatedRun(first: { name: string; patternId: string }[] = []) {
  const send = await makePattern(env.admin, env.containerId, 'async (i, ctx) => ({ sent: ctx.previous.draft ?? null })');
  const missionId = await makeMission(env.operator, {
    containerId: env.containerId, config: { retryPolicy: 'linear', retryDelayMs: 100 },
    tasks: [
      ...first.map((f) => ({ ...f, order: 0 })),
      { name: 'draft', order: 1, patternId: draftPattern, input: { to: 'Ada' }, requiresApproval: true },
      { name: 'send', order: 2, patternId: send },
    ],
  });
  const workflowId = await execute(env.operator, missionId);
  const waiting = await waitFor(env.t, workflowId, (p) => p.status === 'NeedsApproval');
  return { workflowId, taskId: waiting.tasks.find((t) => t.name === 'draft')!.id, progress: waiting };
}

const decide = async (workflowId: string, form: Record<string, string>) => {
  const res = await admin.post(`${runPath(workflowId)}/decide`, { from: 'run', ...form }, HTMX);
  expect(res.status).toBe(200);
  return res.text();
};

describe('the run view', () => {
  it('draws every attempt on the timeline, the wait for a human distinctly, and the run’s total duration', async () => {
    const flaky = await makePattern(env.admin, env.containerId, 'async (i, ctx) => { if (ctx.attempt === 1) throw new Error("first try fails"); return { ok: ctx.attempt } }', { retryCount: 1, failureAction: 'retry' });
    const { workflowId, progress: p } = await gatedRun([{ name: 'flaky', patternId: flaky }]);
    const [flakyTask, draftTask, sendTask] = p.tasks;
    const page = await html(admin, runPath(workflowId));

    expect(page).toMatch(/<svg class="run-gantt" id="run-gantt" viewBox="0 0 \d+ \d+(\.\d+)?" role="img" aria-labelledby="run-gantt-title"/);
    expect(page).toMatch(/<title id="run-gantt-title">Timeline of 3 tasks over [^<]+ so far, [^<]+ of it waiting for a decision<\/title>/);
    const drawn = bars(page);
    expect(drawn.filter((b) => b.task === flakyTask!.id).map((b) => [b.kind, b.attempt])).toEqual([['failed', 1], ['succeeded', 2]]);
    expect(drawn.find((b) => b.task === flakyTask!.id && b.kind === 'failed')!.title).toMatch(/^flaky, attempt 1: failed \(Error: first try fails\): \d/);
    expect(drawn.filter((b) => b.task === draftTask!.id).map((b) => b.kind)).toEqual(['succeeded', 'waiting']);
    expect(drawn.find((b) => b.kind === 'waiting')!.title).toMatch(/^draft, waiting for a decision \(still waiting\): .+ so far, from \+/);
    expect(drawn.filter((b) => b.task === sendTask!.id)).toEqual([]);
    expect(page).toMatch(/<pattern id="run-gantt-hatch"/);
    expect(page).toContain('<li><span class="swatch g-waiting"></span>waiting for a decision</li>');
    expect(page).toMatch(/<text class="g-name" x="\d+" y="[\d.]+">send · not started<\/text>/);

    expect(page).toMatch(/<dt>Duration<\/dt><dd id="run-duration">running for \d[^<]*, of which \d[^<]* waiting for a decision<\/dd>/);
    expect(taskItem(page, 'flaky')).toMatch(/· 2 attempts · /);
    expect(taskItem(page, 'send')).not.toMatch(/attempt/);

    // The numbers behind the chart, for those who do not see it.
    expect(page).toMatch(/<tr><td>flaky<\/td><td>attempt 1: failed \(Error: first try fails\)<\/td><td>\+[^<]+<\/td><td>[^<]+<\/td><\/tr>/);
  });

  it('shows the output to decide on open, next to the decision buttons', async () => {
    const { workflowId } = await gatedRun();
    const item = taskItem(await html(admin, runPath(workflowId)), 'draft');
    const approval = item.slice(item.indexOf('<div class="approval">'));
    expect(approval).toMatch(/<div class="run-approval">\s*<div class="run-pending-output">\s*<h3>Output to decide on <small class="muted">29 B<\/small><\/h3>\s*<pre>\{\n {2}&quot;draft&quot;: &quot;Hi Ada&quot;,\n {2}&quot;to&quot;: &quot;Ada&quot;\n\}<\/pre>/);
    expect(approval.indexOf('Output to decide on')).toBeLessThan(approval.indexOf('aria-label="Approve “draft”'));
    expect(approval).toMatch(/<div class="run-decide">\s*<div class="actions">/);
    // Shown once, open: not also in a closed <details>.
    expect(item).not.toContain('<details><summary>Output');
    // The edit form starts from the output itself.
    expect(approval).toMatch(/name="output" class="code" required>\{\n {2}&quot;draft&quot;: &quot;Hi Ada&quot;/);
  });

  it('shows what changed after request changes re-ran the task, then after edit and approve, and the history of it all', async () => {
    const { workflowId, taskId } = await gatedRun();
    await decide(workflowId, { taskId, action: 'request_changes', notes: 'be formal' });
    await waitFor(env.t, workflowId, (p) => p.tasks.some((t) => t.id === taskId && t.runs === 2 && t.status === 'awaiting_approval'));

    const again = await html(admin, runPath(workflowId));
    const approval = taskItem(again, 'draft').slice(taskItem(again, 'draft').indexOf('<div class="approval">'));
    expect(approval).toContain('<details class="run-output-diff" open>');
    expect(approval).toContain('<summary>Output changed: run 1 → run 2 (changes requested by admin: “be formal”) · 1 line added, 1 removed</summary>');
    expect(approval).toContain('<div class="del"><span class="sign" aria-hidden="true">- </span><span class="visually-hidden">Removed: </span>  &quot;draft&quot;: &quot;Hi Ada&quot;,</div>');
    expect(approval).toContain('<div class="add"><span class="sign" aria-hidden="true">+ </span><span class="visually-hidden">Added: </span>  &quot;draft&quot;: &quot;Dear Ada (be formal)&quot;,</div>');
    expect(approval).toContain('<div class="same"><span class="sign" aria-hidden="true">  </span>  &quot;to&quot;: &quot;Ada&quot;</div>');
    // Both runs of the task and both waits are on the timeline, the first wait ended by the decision.
    const drawn = bars(again).filter((b) => b.task === taskId);
    expect(drawn.map((b) => [b.kind, b.run])).toEqual([['succeeded', 1], ['succeeded', 2], ['waiting', 1], ['waiting', 2]]);
    expect(drawn[2]!.title).toMatch(/^draft, run 1: waiting for a decision \(request changes by admin\): /);
    expect(taskItem(again, 'draft')).toMatch(/· 2 attempts · run 2 times · /);

    await decide(workflowId, { taskId, action: 'edit_inline_approve', output: '{"draft":"Dear Ada, edited","to":"Ada"}' });
    await result(env.t, workflowId);
    const done = await html(admin, runPath(workflowId));
    const item = taskItem(done, 'draft');
    expect(item).toContain('<details class="run-output-diff">\n  <summary>Output changed: run 1 → run 2');
    expect(item).toContain('<summary>Edited output: the task’s output → the reviewer’s edit (edited and approved by admin) · 1 line added, 1 removed</summary>');
    expect(item).toContain('<span class="visually-hidden">Removed: </span>  &quot;draft&quot;: &quot;Dear Ada (be formal)&quot;,</div>');
    expect(item).toContain('<span class="visually-hidden">Added: </span>  &quot;draft&quot;: &quot;Dear Ada, edited&quot;,</div>');
    expect(done).toMatch(/<dt>Duration<\/dt><dd id="run-duration">\d[^<]*, of which \d[^<]* waiting for a decision<\/dd>/);

    const history = await html(admin, `${runPath(workflowId)}/timeline`, HTMX);
    const entry = (kind: string) => [...history.matchAll(/<li data-kind="([^"]+)">([\s\S]*?)<\/li>/g)].filter((m) => m[1] === kind).map((m) => m[2]!);
    const completed = entry('task.completed');
    expect(completed.length).toBeGreaterThanOrEqual(3);
    expect(completed[0]).toMatch(/<strong>draft<\/strong>: task completed/);
    expect(completed[0]).toMatch(/<div class="run-durations">scheduled → started \d[^<]* · started → completed \d[^<]*<\/div>/);
    expect(completed[0]).toContain('<code class="run-preview">{&quot;draft&quot;:&quot;Hi Ada&quot;,&quot;to&quot;:&quot;Ada&quot;}</code>');
    expect(entry('task.scheduled')[1]).toContain('<code class="run-preview">{&quot;input&quot;:{&quot;to&quot;:&quot;Ada&quot;},&quot;notes&quot;:[&quot;be formal&quot;]}</code>');
    const [requested, edited] = entry('update.decision');
    expect(requested).toMatch(/update decision &quot;request_changes&quot;: be formal <span class="muted">\(admin\)<\/span>/);
    expect(requested).toMatch(/<code class="run-preview">\{&quot;taskId&quot;:&quot;[0-9a-f-]{36}&quot;,&quot;action&quot;:&quot;request_changes&quot;,&quot;notes&quot;:&quot;be formal&quot;\}<\/code>/);
    expect(edited).toContain('&quot;output&quot;:{&quot;draft&quot;:&quot;Dear Ada, edited&quot;');
    expect(entry('update.decision.completed')[0]).toMatch(/update decision applied<\/div>\s*<div class="run-durations">accepted → applied \d/);
    expect(entry('run.completed')[0]).toMatch(/<span class="muted run-since">\+\d[^<]*<\/span> — run completed<\/div>\s*<div class="run-durations">run \d/);
  });

  it('shows a big waiting output whole to the reviewer, and says when outputs are too big to compare', async () => {
    const big = await makePattern(env.admin, env.containerId, 'async (i, ctx) => ({ big: (ctx.notes ? "y" : "x").repeat(70000) })');
    const missionId = await makeMission(env.operator, { containerId: env.containerId, tasks: [{ name: 'big', order: 0, patternId: big, requiresApproval: true }] });
    const workflowId = await execute(env.operator, missionId);
    const { tasks: [task] } = await waitFor(env.t, workflowId, (p) => p.status === 'NeedsApproval');
    const first = taskItem(await html(admin, runPath(workflowId)), 'big');
    expect(first).toContain('<h3>Output to decide on <small class="muted">68.4 KiB</small></h3>');
    // The run keeps only the start of it; the reviewer reads it whole, and edits it whole.
    expect(first).toContain(`<pre>{\n  &quot;big&quot;: &quot;${'x'.repeat(70000)}&quot;\n}</pre>`);
    expect(first).toContain(`name="output" class="code" required>{\n  &quot;big&quot;: &quot;${'x'.repeat(70000)}&quot;\n}</textarea>`);

    await decide(workflowId, { taskId: task!.id, action: 'request_changes', notes: 'other letter' });
    await waitFor(env.t, workflowId, (p) => p.tasks[0]!.runs === 2 && p.tasks[0]!.status === 'awaiting_approval');
    const again = taskItem(await html(admin, runPath(workflowId)), 'big');
    expect(again).toContain('<summary>Output changed: run 1 → run 2 (changes requested by admin: “other letter”)</summary>');
    expect(again).toContain('<p class="muted">Too big to compare here (68.4 KiB and 68.4 KiB; outputs up to 64.0 KiB are compared).</p>');
    expect(again).toContain(`&quot;${'y'.repeat(70000)}&quot;`);
    await decide(workflowId, { taskId: task!.id, action: 'reject' });
  });

  it('says which attempt is running, which one a cancellation stopped, pauses with a reason, and escapes task names', async () => {
    const busy = await makePattern(env.admin, env.containerId, BUSY_PATTERN, { timeout: 30_000 });
    const after = await makePattern(env.admin, env.containerId, 'async () => 1');
    const missionId = await makeMission(env.operator, {
      containerId: env.containerId,
      tasks: [{ name: '<b>busy</b>', order: 0, patternId: busy, input: { ms: 20_000 } }, { name: 'after', order: 1, patternId: after }],
    });
    const workflowId = await execute(env.operator, missionId);
    await waitFor(env.t, workflowId, (p) => p.tasks[0]!.status === 'running');

    const running = await html(operator, runPath(workflowId));
    expect(running).not.toMatch(/\b0 attempts/);
    expect(taskItem(running, '&lt;b&gt;busy&lt;/b&gt;')).toMatch(/<span class="pill pill-running">running<\/span>\s*<a href="\/patterns\/[^"]+">[^<]+<\/a>\s*· attempt 1 running\s*<\/span>/);
    expect(bars(running).map((b) => [b.kind, b.attempt])).toEqual([['running', 1]]);
    expect(running).toMatch(/<text class="g-name" x="\d+" y="[\d.]+">&lt;b&gt;busy&lt;\/b&gt; · attempt 1 running<\/text>/);
    expect(running).not.toContain('<b>busy</b>');
    expect(taskItem(running, 'after')).not.toMatch(/attempt|—/);

    // The pause form takes an optional reason, and the run shows it.
    expect(running).toMatch(/<form method="post" action="\/runs\/[^"]+\/pause"[^>]*>\s*<input type="hidden" name="_csrf"[^>]*>\s*<label for="run-pause-reason" class="visually-hidden">Reason for pausing \(optional\)<\/label>\s*<input type="text" id="run-pause-reason" name="reason"/);
    const paused = await operator.post(`${runPath(workflowId)}/pause`, { reason: 'checking the numbers' }, HTMX);
    expect(paused.status).toBe(200);
    const pausedHtml = await paused.text();
    expect(pausedHtml).toContain('<dt>Paused</dt><dd>checking the numbers</dd>');
    expect(pausedHtml).toContain(`action="${runPath(workflowId)}/resume"`);
    expect((await progress(env.t, workflowId)).pauseReason).toBe('checking the numbers');

    expect((await operator.post(`${runPath(workflowId)}/cancel`, { reason: 'wrong list' }, HTMX)).status).toBe(200);
    const cancelled = await eventually(() => html(operator, runPath(workflowId)), (h) => h.includes('pill pill-Cancelled'));
    expect(cancelled).toContain('pill pill-Cancelled');
    expect(cancelled).not.toMatch(/\b0 attempts/);
    expect(taskItem(cancelled, '&lt;b&gt;busy&lt;/b&gt;')).toMatch(/<span class="pill pill-cancelled">cancelled<\/span>\s*<a href="\/patterns\/[^"]+">[^<]+<\/a>\s*· stopped during attempt 1\s*<\/span>/);
    expect(taskItem(cancelled, 'after')).toMatch(/<span class="pill pill-cancelled">cancelled<\/span>\s*<\/span>/);
    expect(bars(cancelled).map((b) => [b.kind, b.attempt])).toEqual([['cancelled', 1]]);
    expect(cancelled).toMatch(/<dt>Duration<\/dt><dd id="run-duration">\d[^<]*<\/dd>/);
    expect(cancelled).not.toMatch(/<dd id="run-duration">running for/);
  });
});
