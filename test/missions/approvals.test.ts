// Approval gates: the five decisions, refusals that change nothing, and the
// approval timeout, each audited once with its seed 002 event name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../core/audit/audit-log';
import { decisionSignal } from '../../workflows/messages';
import { json, type ApiClient, type TestApp } from '../helpers/app';
import { type MissionEnv, execute, makeMission, makePattern, missionEnv, progress, result, waitFor, eventually } from '../helpers/missions';

let t: TestApp;
let env: MissionEnv;
let admin: ApiClient;
let operator: ApiClient;
let operatorName: string;
let containerId: string;
let draftPattern: string;
let nextPattern: string;

beforeAll(async () => {
  env = await missionEnv();
  ({ t, admin, operator, operatorName, containerId } = env);
  draftPattern = await makePattern(admin, containerId, 'async (input, ctx) => ({ draft: `Hi ${input.to}`, notes: ctx.notes, run: ctx.attempt })', { failureAction: 'skip' });
  nextPattern = await makePattern(admin, containerId, 'async (input, ctx) => ({ sent: ctx.previous.draft ?? null })');
});
afterAll(async () => env?.close());

/** A two-task mission whose first task is gated; returns the run waiting for a decision. */
async function gatedRun(opts: { failureAction?: 'skip' | 'abort'; timeout?: number; onTimeout?: string } = {}) {
  const pattern = opts.failureAction === 'abort' ? await makePattern(admin, containerId, 'async (i) => ({ draft: i.to })', { failureAction: 'abort' }) : draftPattern;
  const missionId = await makeMission(operator, {
    containerId,
    config: opts.onTimeout ? { onApprovalTimeout: opts.onTimeout } : {},
    tasks: [
      { name: 'draft', order: 0, patternId: pattern, input: { to: 'Ada' }, requiresApproval: true, ...(opts.timeout ? { approvalTimeoutSeconds: opts.timeout } : {}) },
      { name: 'send', order: 1, patternId: nextPattern },
    ],
  });
  const workflowId = await execute(operator, missionId);
  const waiting = await waitFor(t, workflowId, (p) => p.status === 'NeedsApproval');
  const taskId = waiting.tasks[0]!.id;
  expect(waiting.pendingApprovals).toEqual([expect.objectContaining({ taskId, taskName: 'draft', output: expect.objectContaining({ draft: expect.any(String) }) })]);
  return { missionId, workflowId, taskId };
}

const decide = (workflowId: string, body: Record<string, unknown>, as = admin) => as.request('POST', `/api/runs/${workflowId}/decisions`, body);

describe('the five decisions', () => {
  it('approve: the mission goes on, and the run listed as NeedsApproval while it waited', async () => {
    const { workflowId, taskId } = await gatedRun();
    // Visibility lists lag the run a moment.
    const listed = await eventually(async () => json(await operator.request('GET', '/api/runs?status=NeedsApproval&limit=100')), (l) => l.runs.some((r: { workflowId: string }) => r.workflowId === workflowId));
    expect(listed.runs.map((r: { workflowId: string }) => r.workflowId)).toContain(workflowId);
    const inbox = await eventually(async () => json(await operator.request('GET', '/api/approvals')), (i) => i.approvals.some((a: { taskId: string }) => a.taskId === taskId));
    expect(inbox.approvals.some((a: { taskId: string }) => a.taskId === taskId)).toBe(true);

    const res = await decide(workflowId, { taskId, action: 'approve' });
    expect(res.status).toBe(200);
    const final = await result(t, workflowId);
    expect(final.tasks.map((x) => x.status)).toEqual(['completed', 'completed']);
    expect(final.tasks[0]!.decisions).toEqual([expect.objectContaining({ action: 'approve', actor: 'admin' })]);
    expect(final.tasks[1]!.output).toEqual({ sent: { draft: 'Hi Ada', notes: null, run: 1 } });
    expect(await listAudit(t.db.sql, { action: 'approval.approved', entityId: workflowId, limit: 10 })).toHaveLength(1);
  });

  it('approve_with_notes: goes on and keeps the notes', async () => {
    const { workflowId, taskId } = await gatedRun();
    expect((await decide(workflowId, { taskId, action: 'approve_with_notes', notes: 'approved with personalization tweak' })).status).toBe(200);
    const final = await result(t, workflowId);
    expect(final.tasks[0]).toMatchObject({ status: 'completed', notes: ['approved with personalization tweak'] });
    const [entry] = await listAudit(t.db.sql, { action: 'approval.approved_with_notes', entityId: workflowId, limit: 10 });
    expect(entry?.details).toMatchObject({ notes: 'approved with personalization tweak', taskName: 'draft' });
  });

  it('edit_inline_approve: goes on with the edited output in place of the original, keeping both', async () => {
    const { workflowId, taskId } = await gatedRun();
    expect((await decide(workflowId, { taskId, action: 'edit_inline_approve', output: { draft: 'Dear Ada' } })).status).toBe(200);
    const final = await result(t, workflowId);
    expect(final.tasks[0]).toMatchObject({ output: { draft: 'Dear Ada' }, originalOutput: { draft: 'Hi Ada', notes: null, run: 1 } });
    expect(final.tasks[1]!.output).toEqual({ sent: { draft: 'Dear Ada' } });
    expect(await listAudit(t.db.sql, { action: 'approval.edited_and_approved', entityId: workflowId, limit: 10 })).toHaveLength(1);
  });

  it('request_changes: runs the task again with the notes, then gates again', async () => {
    const { workflowId, taskId } = await gatedRun();
    expect((await decide(workflowId, { taskId, action: 'request_changes', notes: 'mention the spring sale' })).status).toBe(200);
    const again = await waitFor(t, workflowId, (p) => p.status === 'NeedsApproval' && p.tasks[0]!.runs === 2);
    expect(again.tasks[0]!.output).toMatchObject({ notes: 'mention the spring sale' });
    expect((await decide(workflowId, { taskId, action: 'approve' })).status).toBe(200);
    const final = await result(t, workflowId);
    expect(final.tasks[0]!.decisions.map((d) => d.action)).toEqual(['request_changes', 'approve']);
    expect(await listAudit(t.db.sql, { action: 'approval.changes_requested', entityId: workflowId, limit: 10 })).toHaveLength(1);
  });

  it('reject: the task is rejected and its failure action applies (skip goes on, abort fails)', async () => {
    const skip = await gatedRun({ failureAction: 'skip' });
    expect((await decide(skip.workflowId, { taskId: skip.taskId, action: 'reject' })).status).toBe(200);
    const final = await result(t, skip.workflowId);
    expect(final.tasks.map((x) => x.status)).toEqual(['rejected', 'completed']);
    expect(await listAudit(t.db.sql, { action: 'approval.rejected', entityId: skip.workflowId, limit: 10 })).toHaveLength(1);

    const abort = await gatedRun({ failureAction: 'abort' });
    expect((await decide(abort.workflowId, { taskId: abort.taskId, action: 'reject' })).status).toBe(200);
    await expect(result(t, abort.workflowId)).rejects.toThrow();
    expect((await progress(t, abort.workflowId)).tasks.map((x) => x.status)).toEqual(['rejected', 'pending']);
  });
});

describe('refused decisions', () => {
  it('are answered with a clear 4xx by the API and change nothing', async () => {
    const { workflowId, taskId } = await gatedRun();
    expect((await decide(workflowId, { taskId, action: 'approve' }, operator)).status).toBe(403);
    const unknown = await decide(workflowId, { taskId: '00000000-0000-4000-8000-000000000000', action: 'approve' });
    expect(unknown.status).toBe(404);
    const bad = await decide(workflowId, { taskId, action: 'shrug' });
    expect(bad.status).toBe(400);
    const noOutput = await decide(workflowId, { taskId, action: 'edit_inline_approve' });
    expect(noOutput.status).toBe(400);
    expect((await progress(t, workflowId)).status).toBe('NeedsApproval');

    expect((await decide(workflowId, { taskId, action: 'approve' })).status).toBe(200);
    const twice = await decide(workflowId, { taskId, action: 'reject' });
    expect(twice.status).toBe(409);
    expect((await json(twice)).error.message).toMatch(/already decided: approve by admin/);
    const final = await result(t, workflowId);
    expect(final.tasks[0]!.decisions).toHaveLength(1);
    // Once the run has ended, the same: a 409 that names the decision taken (Temporal calls the ended run "not found").
    const late = await decide(workflowId, { taskId, action: 'reject' });
    expect(late.status).toBe(409);
    expect((await json(late)).error.message).toMatch(/already decided: approve by admin/);
    // Refused before they entered the run's history (the Update's validator, or the run had ended), each audited once by the API.
    const refused = await listAudit(t.db.sql, { action: 'approval.refused', entityId: workflowId, limit: 10 });
    expect(refused.map((r) => [r.actor, r.details.action, r.details.reason]).reverse()).toEqual([
      ['admin', 'approve', 'unknown task'],
      // The run may have ended already as the second decision came (its last task is quick).
      ['admin', 'reject', expect.stringMatching(/^(the task is not waiting for a decision|the run has already ended)$/)],
      ['admin', 'reject', 'the run has already ended'],
    ]);
  });

  it('answer in the same round trip: the task as the decision left it', async () => {
    const { workflowId, taskId } = await gatedRun();
    const res = await decide(workflowId, { taskId, action: 'edit_inline_approve', output: { draft: 'Dear Ada' } });
    expect(res.status).toBe(200);
    const { task } = await json(res);
    expect(task).toMatchObject({ id: taskId, status: 'completed', output: { draft: 'Dear Ada' }, originalOutput: { draft: 'Hi Ada' } });
    expect(task.decisions).toEqual([expect.objectContaining({ action: 'edit_inline_approve', actor: 'admin' })]);
  });

  it('have no effect when signalled straight to the workflow by someone who may not decide', async () => {
    const { workflowId, taskId } = await gatedRun();
    const handle = t.deps.temporal.client.workflow.getHandle(workflowId);
    await handle.signal(decisionSignal, { taskId, action: 'approve', actor: operatorName });
    await handle.signal(decisionSignal, { taskId, action: 'approve', actor: 'nobody-at-all' });
    await handle.signal(decisionSignal, { taskId: 'no-such-task', action: 'approve', actor: 'admin' });
    const p = await waitFor(t, workflowId, (x) => x.refusedDecisions.length === 3);
    expect(p.status).toBe('NeedsApproval');
    expect(p.tasks[0]!.decisions).toEqual([]);
    expect(p.refusedDecisions.map((r) => r.reason)).toEqual(
      expect.arrayContaining([expect.stringMatching(/only admins/), expect.stringMatching(/no user named/), 'unknown task']),
    );
    // The run shows a refusal at once; its audit entry comes from an activity just after.
    const refusedAudit = await eventually(() => listAudit(t.db.sql, { action: 'approval.refused', entityId: workflowId, limit: 10 }), (r) => r.length >= 3);
    expect(refusedAudit).toHaveLength(3); // every refusal that names someone, the unknown task too
    await handle.signal(decisionSignal, { taskId, action: 'approve', actor: 'admin' });
    expect((await result(t, workflowId)).status).toBe('Completed');
  });
});

describe('a paused run', () => {
  it('never hides a pending approval: still in the inbox, decidable, and the next task waits for resume', async () => {
    const { workflowId, taskId } = await gatedRun();
    const paused = await json(await operator.request('POST', `/api/runs/${workflowId}/pause`, { reason: 'lunch' }));
    expect(paused.state).toMatchObject({ status: 'NeedsApproval', paused: true });
    const inbox = await eventually(async () => json(await admin.request('GET', '/api/approvals')), (i) => i.approvals.some((a: { taskId: string }) => a.taskId === taskId));
    expect(inbox.approvals.map((a: { taskId: string; run: { workflowId: string } }) => [a.run.workflowId, a.taskId])).toContainEqual([workflowId, taskId]);
    expect((await decide(workflowId, { taskId, action: 'approve' })).status).toBe(200);
    const held = await waitFor(t, workflowId, (p) => p.status === 'Paused');
    expect(held.tasks.map((x) => x.status)).toEqual(['completed', 'pending']);
    expect((await operator.request('POST', `/api/runs/${workflowId}/resume`, {})).status).toBe(200);
    expect((await result(t, workflowId)).tasks.map((x) => x.status)).toEqual(['completed', 'completed']);
  });
});

describe('approval timeout', () => {
  it('ends the wait as the mission says, and raises an alert', async () => {
    const { workflowId } = await gatedRun({ timeout: 1, onTimeout: 'reject' });
    const final = await result(t, workflowId);
    expect(final.tasks.map((x) => x.status)).toEqual(['rejected', 'completed']); // skip on reject
    expect(final.tasks[0]!.decisions).toEqual([expect.objectContaining({ action: 'timeout', actor: 'system' })]);
    const { alerts } = await json(await operator.request('GET', '/api/alerts'));
    const alert = alerts.find((a: { workflowId: string }) => a.workflowId === workflowId);
    expect(alert).toMatchObject({ kind: 'approval_timeout', message: expect.stringContaining('without a decision'), acknowledgedAt: null });
    expect((await operator.request('POST', `/api/alerts/${alert.id}/ack`)).status).toBe(200);
    const after = await json(await operator.request('GET', '/api/alerts'));
    expect(after.alerts.some((a: { id: string }) => a.id === alert.id)).toBe(false);
    expect(await listAudit(t.db.sql, { action: 'alert.acknowledged', entityId: alert.id, limit: 5 })).toHaveLength(1);
  });
});
