// Seed 002's day on the sample data that ships with the product: the five
// example jobs run now, through ctx.outreach on the real worker, Temporal and
// PostgreSQL. And what a pattern may do there: idempotent across a task's
// retries, inside its run's workspace, never a decision.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedExamples } from '../../core/missions/examples';
import { SAMPLE_CAMPAIGN } from '../../core/missions/example-jobs';
import type { Progress } from '../../workflows/messages';
import { json } from '../helpers/app';
import { execute, makeMission, makePattern, missionEnv, result, waitFor, type MissionEnv } from '../helpers/missions';
import { secondWorkspace } from '../helpers/workspaces';
import { newCampaign, unique } from './helpers';

let env: MissionEnv;
beforeAll(async () => {
  env = await missionEnv();
  expect(await seedExamples(env.t.db.sql, env.t.deps.temporal, (code) => env.t.deps.sandbox.check(code))).toBe(true);
});
afterAll(() => env?.close());

const missionNamed = async (name: string): Promise<string> => {
  const { missions } = await json(await env.admin.request('GET', `/api/missions?q=${name}`));
  return missions.find((m: { name: string }) => m.name === name).id;
};
const leads = async () => (await json(await env.admin.request('GET', '/api/leads?limit=100'))).leads as { name: string; company: string; status: string; score: string | null }[];
const drafts = async () => (await json(await env.admin.request('GET', '/api/drafts?limit=100'))).drafts as { id: string; channel: string; status: string; leadId: string | null; runWorkflowId: string | null }[];

/** Runs the mission now; approves each gate it stops at; returns its final progress. */
async function runNow(name: string): Promise<Progress> {
  const workflowId = await execute(env.admin, await missionNamed(name));
  for (;;) {
    const p = await waitFor(env.t, workflowId, (x) => x.status !== 'Running', 30_000);
    if (p.status !== 'NeedsApproval') return p.status === 'Completed' ? p : result(env.t, workflowId);
    const waiting = p.tasks.find((t) => t.status === 'awaiting_approval')!;
    const res = await env.admin.request('POST', `/api/runs/${workflowId}/decisions`, { taskId: waiting.id, action: 'approve' });
    expect(res.status, await res.clone().text()).toBe(200);
    await waitFor(env.t, workflowId, (x) => x.tasks.find((t) => t.id === waiting.id)?.status !== 'awaiting_approval');
  }
}

describe('the five example jobs, run now', () => {
  it('research six leads, score them, draft outreach for the A and B ones into approvals, draft a post, and brief the day', async () => {
    const research = await runNow('lead_research');
    expect(research.tasks[0]!.output).toEqual({ found: 6, added: 6 });
    expect((await leads()).map((l) => l.status)).toEqual(Array(6).fill('NEW'));
    expect((await leads())[0]).toMatchObject({ status: 'NEW', score: null });

    await runNow('enrichment_scoring');
    const scored = Object.fromEntries((await leads()).map((l) => [l.company, [l.status, l.score]]));
    expect(scored).toEqual({
      'Northside Motors': ['ENRICHED', 'A'], 'Eastgate Auto Group': ['ENRICHED', 'A'], 'Lakeshore Fleet': ['ENRICHED', 'B'],
      'Metro Van Rentals': ['ENRICHED', 'B'], 'Corner Garage': ['ENRICHED', 'C'], 'Harbour Trucks': ['ENRICHED', 'C'],
    });

    // Approved at the gate (the inbox): the task's drafts take the decision.
    const drafting = await runNow('outreach_drafting_qa');
    expect(drafting.tasks.map((t) => t.status)).toEqual(['completed', 'completed']);
    const outreach = (await drafts()).filter((d) => d.channel === 'EMAIL');
    expect(outreach).toHaveLength(4);
    expect(outreach.every((d) => d.status === 'APPROVED' && d.leadId && d.runWorkflowId?.startsWith('mission-'))).toBe(true);
    expect((await leads()).filter((l) => l.status === 'DRAFTED').map((l) => l.score).sort()).toEqual(['A', 'A', 'B', 'B']);
    // Sending obeys dry-run (on by default): the send step ran, and nothing left.
    expect(drafting.tasks[1]!.output).toMatchObject({ queued: 4 });
    // On the task board: one review item waiting for an admin, linked to the run and its task, its note naming the drafts.
    const { tasks: review } = await json(await env.admin.request('GET', `/api/tasks?q=${encodeURIComponent('Review the outreach drafts of')}`));
    expect(review).toEqual([expect.objectContaining({ column: 'NEEDS_APPROVAL', taskId: drafting.tasks[0]!.id, workflowId: expect.stringMatching(/^mission-/) })]);
    const { timeline } = await json(await env.admin.request('GET', `/api/tasks/${review[0].id}`));
    expect(timeline.map((e: { kind: string }) => e.kind)).toEqual(['created', 'note']);
    expect(timeline[1].note.split('\n')).toHaveLength(4);

    // The post waits in approvals; approved from the drafts API, with notes, its run goes on.
    const content = await execute(env.admin, await missionNamed('content_research_creation_qa'));
    await waitFor(env.t, content, (p) => p.status === 'NeedsApproval');
    const post = (await drafts()).find((d) => d.channel === 'LINKEDIN')!;
    expect(post).toMatchObject({ status: 'NEEDS_APPROVAL', leadId: null, runWorkflowId: content });
    const decided = await env.admin.request('POST', `/api/drafts/${post.id}/approve-with-notes`, { notes: 'post it Tuesday' });
    expect(decided.status, await decided.clone().text()).toBe(200);
    expect((await result(env.t, content)).status).toBe('Completed');

    const brief = (await runNow('daily_brief')).tasks[0]!.output as { wins: string[]; blockers: string[]; nextMoves: string[]; counts: Record<string, number> };
    expect(brief.counts).toMatchObject({ 'lead.created': 6, 'draft.created': 5, 'draft.submitted': 5, 'approval.approved': 4, 'approval.approved_with_notes': 1 });
    expect(brief.wins).toEqual(['6 new leads', '10 leads moved on', '5 drafts approved']);
    expect([brief.wins, brief.blockers, brief.nextMoves].map((x) => x.length)).toEqual([3, 3, 3]);

    // The same research again finds the same people: no lead twice.
    expect((await runNow('lead_research')).tasks[0]!.output).toEqual({ found: 6, added: 0 });
    expect(await leads()).toHaveLength(6);
  });
});

describe('ctx.outreach', () => {
  it('creates once across a task\'s retries: the attempt that failed after creating, and the one that succeeded, made one lead and one entry', async () => {
    const campaign = await newCampaign(env.admin);
    await env.admin.request('POST', `/api/campaigns/${campaign.id}/activate`, {});
    const pattern = await makePattern(env.admin, env.containerId, `async (input, ctx) => {
      const { lead } = await ctx.outreach.createLead({ campaignId: input.campaignId, name: 'Retried Ada' });
      if (ctx.attempt === 1) throw new Error('lost the connection, say');
      return { leadId: lead.id };
    }`, { retryCount: 2, failureAction: 'retry' });
    const missionId = await makeMission(env.admin, { containerId: env.containerId, tasks: [{ name: 'create', order: 0, patternId: pattern, input: { campaignId: campaign.id } }] });
    const p = await result(env.t, await execute(env.admin, missionId));
    expect(p.tasks[0]).toMatchObject({ status: 'completed', attempts: 2 });
    const rows = await env.t.db.owner`select id from leads where campaign_id = ${campaign.id}`;
    expect(rows.map((r) => r.id)).toEqual([(p.tasks[0]!.output as { leadId: string }).leadId]);
    expect(await env.t.db.owner`select 1 from audit_log where entity_id = ${rows[0]!.id} and action = 'lead.created'`).toHaveLength(1);
  });

  it("refuses what a pattern may not do with a readable error, and changes nothing: another workspace's campaign, a decision, bad fields", async () => {
    const other = await secondWorkspace(env.t, unique('Other'));
    const foreign = await newCampaign(other.admin);
    const pattern = await makePattern(env.admin, env.containerId, `async (input, ctx) => {
      const tried = async (f) => { try { await f(); return 'allowed'; } catch (e) { return String(e.message); } };
      return {
        foreign: await tried(() => ctx.outreach.createLead({ campaignId: input.foreign, name: 'Spy' })),
        badField: await tried(() => ctx.outreach.createLead({ campaignId: input.foreign, name: 'X', score: 'Z' })),
        decide: await tried(() => ctx.outreach.approveDraft(input.foreign)),
        unknownOp: typeof ctx.outreach.decideDraft,
      };
    }`);
    const missionId = await makeMission(env.admin, { containerId: env.containerId, tasks: [{ name: 'probe', order: 0, patternId: pattern, input: { foreign: foreign!.id } }] });
    const out = (await result(env.t, await execute(env.admin, missionId))).tasks[0]!.output as Record<string, string>;
    expect(out.foreign).toMatch(/campaign/i);
    expect(out.foreign).not.toBe('allowed');
    expect(out.badField).toMatch(/^ctx\.outreach\.createLead\(lead\): score: /);
    expect(out.decide).toMatch(/not a function/);
    expect(out.unknownOp).toBe('undefined');
    expect(await env.t.db.owner`select 1 from leads where campaign_id = ${foreign!.id}`).toHaveLength(0);
  });

  it('is not there for a test run (POST /api/inject): it creates no leads', async () => {
    const pattern = await makePattern(env.admin, env.containerId, `async (input, ctx) => {
      try { await ctx.outreach.campaigns(); return 'available'; } catch (e) { return e.message; }
    }`);
    const res = await env.admin.request('POST', '/api/inject', { patternId: pattern, input: {} });
    expect(res.status).toBe(200);
    expect((await json(res)).output).toBe('ctx.outreach is available to mission tasks only');
  });

  it('ships the sample campaign active, so the jobs have somewhere to work', async () => {
    const { campaigns } = await json(await env.admin.request('GET', '/api/campaigns?limit=100'));
    expect(campaigns.find((c: { name: string }) => c.name === SAMPLE_CAMPAIGN.name)).toMatchObject({ status: 'active', channels: ['EMAIL', 'LINKEDIN'] });
  });
});

describe('a draft its task wrote', () => {
  /** A run of a gated task that writes two drafts for approval (their body carries the reviewer's notes, if any). */
  async function gatedDrafts() {
    const campaign = await newCampaign(env.admin);
    await env.admin.request('POST', `/api/campaigns/${campaign.id}/activate`, {});
    const pattern = await makePattern(env.admin, env.containerId, `async (input, ctx) => {
      const ids = [];
      for (const n of [1, 2]) {
        const { draft } = await ctx.outreach.createDraft({
          campaignId: input.campaignId, channel: 'EMAIL', subject: 'Hello ' + n, body: 'Body ' + n + (ctx.notes ? ' / ' + ctx.notes : ''), key: input.k + n, submit: true,
        });
        ids.push(draft.id);
      }
      return { ids };
    }`);
    const missionId = await makeMission(env.admin, {
      containerId: env.containerId, tasks: [{ name: 'write', order: 0, patternId: pattern, input: { campaignId: campaign.id, k: unique('k') }, requiresApproval: true }],
    });
    const workflowId = await execute(env.admin, missionId);
    const waiting = await waitFor(env.t, workflowId, (p) => p.status === 'NeedsApproval');
    const ids = (waiting.pendingApprovals[0]!.output as { ids: string[] }).ids;
    return { workflowId, taskId: waiting.tasks[0]!.id, ids };
  }
  const draft = async (id: string) => json(await env.admin.request('GET', `/api/drafts/${id}`));

  it('is decided at its task\'s gate: approving it with notes from the drafts API lets the run go on, and its sibling takes the same decision', async () => {
    const { workflowId, ids } = await gatedDrafts();
    expect((await env.operator.request('POST', `/api/drafts/${ids[0]}/approve`, {})).status).toBe(403);
    const res = await env.admin.request('POST', `/api/drafts/${ids[0]}/approve-with-notes`, { notes: 'tone it down next time' });
    const body = await json(res);
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ draft: { status: 'APPROVED' }, decision: { action: 'APPROVE_WITH_NOTES', notes: 'tone it down next time', actor: 'admin' }, gate: { workflowId } });
    const final = await result(env.t, workflowId);
    expect(final.status).toBe('Completed');
    expect(final.tasks[0]!.decisions).toEqual([expect.objectContaining({ action: 'approve_with_notes', actor: 'admin', notes: 'tone it down next time' })]);
    for (const id of ids) expect((await draft(id)).decisions).toEqual([expect.objectContaining({ action: 'APPROVE_WITH_NOTES', notes: 'tone it down next time' })]);
    expect(await env.t.db.owner`select 1 from audit_log where entity_id = ${workflowId} and action = 'approval.approved_with_notes'`).toHaveLength(1);
  });

  it('takes a decision made at the gate (the inbox): changes requested send its drafts back, the task writes them again, and an inline edit approves them', async () => {
    const { workflowId, taskId, ids } = await gatedDrafts();
    const res = await env.admin.request('POST', `/api/runs/${workflowId}/decisions`, { taskId, action: 'request_changes', notes: 'mention spring' });
    expect(res.status, await res.clone().text()).toBe(200);
    const again = await waitFor(env.t, workflowId, (p) => p.status === 'NeedsApproval' && p.tasks[0]!.runs === 2);
    expect((again.pendingApprovals[0]!.output as { ids: string[] }).ids).toEqual(ids); // the same drafts, written again
    for (const id of ids) {
      const { draft: d, decisions } = await draft(id);
      expect(d).toMatchObject({ status: 'NEEDS_APPROVAL', currentVersion: 2 });
      expect(d.body).toMatch(/ \/ mention spring$/);
      expect(decisions).toEqual([expect.objectContaining({ action: 'REQUEST_CHANGES', notes: 'mention spring', version: 1 })]);
    }
    const edit = await env.admin.request('POST', `/api/drafts/${ids[1]}/edit-inline-approve`, { body: 'Body 2, as the reviewer wrote it' });
    expect(edit.status, await edit.clone().text()).toBe(200);
    expect((await result(env.t, workflowId)).status).toBe('Completed');
    expect((await draft(ids[1]!)).draft).toMatchObject({ status: 'APPROVED', currentVersion: 3, body: 'Body 2, as the reviewer wrote it' });
    expect((await draft(ids[0]!)).draft).toMatchObject({ status: 'APPROVED', currentVersion: 2 });
  });
});
