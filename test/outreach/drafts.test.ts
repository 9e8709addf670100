// Outreach (issue 12), drafts: every change of content an immutable version,
// a diff between any two, submission, and the five decisions — admins only,
// on a draft waiting for approval, each one row with its event, a retried
// decision recorded once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditOf, eventsOf, expectStatus, newCampaign, newLead, outreachEnv, type OutreachEnv } from './helpers';

let env: OutreachEnv;
let campaignId: string;
beforeAll(async () => {
  env = await outreachEnv();
  campaignId = (await newCampaign(env.as.ADMIN)).id;
});
afterAll(async () => env?.t.close());

const newDraft = async (body: Record<string, unknown> = {}) =>
  (await expectStatus(await env.as.OPERATOR.request('POST', '/api/drafts', { campaignId, channel: 'EMAIL', subject: 'Hello', body: 'Line one\nLine two', note: 'first', ...body }), 201)).draft;
const submitted = async (body: Record<string, unknown> = {}) => {
  const d = await newDraft(body);
  await expectStatus(await env.as.OPERATOR.request('POST', `/api/drafts/${d.id}/submit`, {}), 200);
  return d as { id: string };
};
const decide = (id: string, path: string, body: Record<string, unknown> = {}, role: keyof OutreachEnv['as'] = 'ADMIN') =>
  env.as[role].request('POST', `/api/drafts/${id}/${path}`, body);
const decisionRows = (id: string) => env.t.db.owner<{ action: string; version: number; notes: string | null }[]>`
  select action, version, notes from draft_decisions where draft_id = ${id} order by at`;

describe('a draft', () => {
  it('keeps every version of its content, immutable, and diffs any two', async () => {
    const draft = await newDraft();
    expect(draft).toMatchObject({ status: 'DRAFT', currentVersion: 1, createdBy: env.names.OPERATOR });
    const v2 = await expectStatus(await env.as.OPERATOR.request('PATCH', `/api/drafts/${draft.id}`, { body: 'Line one\nLine 2\nLine three', note: 'tighter' }), 200);
    expect(v2.draft).toMatchObject({ currentVersion: 2, body: 'Line one\nLine 2\nLine three', subject: 'Hello' });
    await expectStatus(await env.as.OPERATOR.request('PATCH', `/api/drafts/${draft.id}`, { subject: 'Hi Ada' }), 200);
    const { versions } = await expectStatus(await env.as.VIEWER.request('GET', `/api/drafts/${draft.id}/versions`), 200);
    expect(versions.map((v: { version: number; note: string | null }) => [v.version, v.note])).toEqual([[3, null], [2, 'tighter'], [1, 'first']]);

    const { diff } = await expectStatus(await env.as.VIEWER.request('GET', `/api/drafts/${draft.id}/diff?from=1&to=3`), 200);
    expect(diff.subject).toEqual({ from: 'Hello', to: 'Hi Ada', changed: true });
    expect(diff.body).toMatchObject({ added: 2, removed: 1 });
    expect(diff.body.lines).toEqual([
      { kind: 'same', text: 'Line one' }, { kind: 'del', text: 'Line two' }, { kind: 'add', text: 'Line 2' }, { kind: 'add', text: 'Line three' },
    ]);
    const latest = (await expectStatus(await env.as.VIEWER.request('GET', `/api/drafts/${draft.id}/diff`), 200)).diff;
    expect(latest).toMatchObject({ from: 2, to: 3, subject: { changed: true }, body: { added: 0, removed: 0 } });
    expect((await env.as.VIEWER.request('GET', `/api/drafts/${draft.id}/diff?from=1&to=9`)).status).toBe(404);
    expect((await env.as.VIEWER.request('GET', `/api/drafts/${draft.id}/diff?from=0&to=1`)).status).toBe(400);

    await expect(env.t.db.sql`update draft_versions set body = 'rewritten' where draft_id = ${draft.id}`).rejects.toThrow();
    await expect(env.t.db.owner`update draft_versions set body = 'rewritten' where draft_id = ${draft.id}`).rejects.toThrow(/append-only/);
    await expect(env.t.db.owner`delete from draft_versions where draft_id = ${draft.id}`).rejects.toThrow(/append-only/);
    expect((await eventsOf(env, draft.id)).map((e) => e.type)).toEqual(['draft.created', 'draft.updated', 'draft.updated']);
  });

  it('is written by operators, on one of its campaign\'s channels, for a lead of its own campaign', async () => {
    expect((await env.as.CLOSER.request('POST', '/api/drafts', { campaignId, channel: 'EMAIL', body: 'x' })).status).toBe(403);
    const wrongChannel = await expectStatus(await env.as.OPERATOR.request('POST', '/api/drafts', { campaignId, channel: 'FACEBOOK', body: 'x' }), 400);
    expect(wrongChannel.error.message).toMatch(/reaches people on EMAIL, LINKEDIN, not FACEBOOK/);
    const other = await newCampaign(env.as.ADMIN);
    const theirLead = await newLead(env.as.OPERATOR, other.id);
    const before = await env.t.db.owner`select count(*)::int as n from drafts`;
    const res = await expectStatus(await env.as.OPERATOR.request('POST', '/api/drafts', { campaignId, leadId: theirLead.id, channel: 'EMAIL', body: 'x' }), 400);
    expect(res.error.message).toMatch(/^leadId names a lead of another campaign/);
    expect(await env.t.db.owner`select count(*)::int as n from drafts`).toEqual(before);
    const ours = await newLead(env.as.OPERATOR, campaignId);
    expect((await newDraft({ leadId: ours.id })).leadId).toBe(ours.id);
  });

  it('is the same draft for the same sourceKey', async () => {
    const sourceKey = `run:${Math.random()}`;
    const run = { runWorkflowId: `mission-${campaignId}-1`, runTaskId: campaignId };
    const first = await newDraft({ sourceKey, ...run });
    const again = await expectStatus(await env.as.OPERATOR.request('POST', '/api/drafts', { campaignId, channel: 'EMAIL', body: 'other', sourceKey }), 200);
    expect(again).toMatchObject({ created: false, draft: { id: first.id, body: 'Line one\nLine two', ...run } });
    expect((await auditOf(env, first.id)).map((e) => e.action)).toEqual(['draft.created']);
  });
});

describe('decisions on a draft', () => {
  it('approve: one row, the draft APPROVED, its content final', async () => {
    const d = await submitted();
    const res = await expectStatus(await decide(d.id, 'approve'), 200);
    expect(res).toMatchObject({ replayed: false, draft: { status: 'APPROVED' }, decision: { action: 'APPROVE', version: 1, actor: 'admin' } });
    expect((await env.as.OPERATOR.request('PATCH', `/api/drafts/${d.id}`, { body: 'changed' })).status).toBe(409);
    expect((await eventsOf(env, d.id)).map((e) => e.type)).toEqual(['draft.created', 'draft.submitted', 'approval.approved']);
  });

  it('reject: REJECTED; a reworked draft is a DRAFT to submit again', async () => {
    const d = await submitted();
    await expectStatus(await decide(d.id, 'reject', { notes: 'Off brand' }), 200);
    expect((await env.as.OPERATOR.request('POST', `/api/drafts/${d.id}/submit`, {})).status).toBe(409);
    const reworked = await expectStatus(await env.as.OPERATOR.request('PATCH', `/api/drafts/${d.id}`, { body: 'On brand', note: 'rework' }), 200);
    expect(reworked.draft).toMatchObject({ status: 'DRAFT', currentVersion: 2 });
    expect(await decisionRows(d.id)).toEqual([{ action: 'REJECT', version: 1, notes: 'Off brand' }]);
  });

  it('request changes: back to DRAFT with the notes, which are required', async () => {
    const d = await submitted();
    expect((await decide(d.id, 'request-changes', {})).status).toBe(400);
    expect((await decide(d.id, 'request-changes', { notes: '  ' })).status).toBe(400);
    const res = await expectStatus(await decide(d.id, 'request-changes', { notes: 'Name the product' }), 200);
    expect(res.draft.status).toBe('DRAFT');
    const [event] = (await eventsOf(env, d.id)).filter((e) => e.type === 'approval.changes_requested');
    expect(event!.payload).toMatchObject({ notes: 'Name the product', version: 1, from: 'NEEDS_APPROVAL', to: 'DRAFT', campaignId });
  });

  it('edit inline and approve: the reviewer\'s text is a new version, and that version is approved', async () => {
    const d = await submitted();
    const res = await expectStatus(await decide(d.id, 'edit-inline-approve', { subject: 'Hello, Ada', body: 'Line one\nLine two, better', notes: 'polished' }), 200);
    expect(res.draft).toMatchObject({ status: 'APPROVED', currentVersion: 2, subject: 'Hello, Ada', body: 'Line one\nLine two, better' });
    expect(res.decision).toMatchObject({ action: 'EDIT_INLINE_APPROVE', version: 2 });
    const { versions } = await expectStatus(await env.as.VIEWER.request('GET', `/api/drafts/${d.id}/versions`), 200);
    expect(versions[0]).toMatchObject({ version: 2, author: 'admin', note: 'polished' });
    expect((await eventsOf(env, d.id)).at(-1)!.type).toBe('approval.edited_and_approved');
  });

  it('approve with notes: the notes are required and travel with the event', async () => {
    const d = await submitted();
    expect((await decide(d.id, 'approve-with-notes', {})).status).toBe(400);
    await expectStatus(await decide(d.id, 'approve-with-notes', { notes: 'Personalise the opener' }), 200);
    const [event] = (await eventsOf(env, d.id)).filter((e) => e.type.startsWith('approval.'));
    expect(event).toMatchObject({ type: 'approval.approved_with_notes', entityType: 'draft', payload: expect.objectContaining({ notes: 'Personalise the opener' }) });
    expect(await decisionRows(d.id)).toEqual([{ action: 'APPROVE_WITH_NOTES', version: 1, notes: 'Personalise the opener' }]);
  });

  it('are refused to an operator (403) and to a closer, and change nothing', async () => {
    const d = await submitted();
    for (const role of ['OPERATOR', 'CLOSER', 'VIEWER'] as const) {
      const res = await expectStatus(await decide(d.id, 'approve', {}, role), 403);
      expect(res.error.message).toMatch(/needs the ADMIN role/);
    }
    expect(await decisionRows(d.id)).toEqual([]);
    expect((await expectStatus(await env.as.VIEWER.request('GET', `/api/drafts/${d.id}`), 200)).draft.status).toBe('NEEDS_APPROVAL');
  });

  it('need a draft waiting for approval: a draft not submitted, or decided already, is a 409', async () => {
    const draft = await newDraft();
    expect((await expectStatus(await decide(draft.id, 'approve'), 409)).error.message).toMatch(/is DRAFT; .* Submit it first/);
    const d = await submitted();
    await expectStatus(await decide(d.id, 'reject'), 200);
    expect((await expectStatus(await decide(d.id, 'approve'), 409)).error.message).toMatch(/is REJECTED/);
    expect(await decisionRows(d.id)).toEqual([{ action: 'REJECT', version: 1, notes: null }]);
  });

  it('refuse a decision on a version other than the current one', async () => {
    const d = await submitted();
    await expectStatus(await env.as.OPERATOR.request('PATCH', `/api/drafts/${d.id}`, { body: 'Changed after submitting' }), 200);
    await expectStatus(await env.as.OPERATOR.request('POST', `/api/drafts/${d.id}/submit`, {}), 200);
    expect((await expectStatus(await decide(d.id, 'approve', { version: 1 }), 409)).error.message).toMatch(/not the draft's current version \(2\)/);
    expect((await expectStatus(await decide(d.id, 'approve', { version: 2 }), 200)).decision.version).toBe(2);
  });

  it('are recorded once when the same decision comes twice, even at the same moment', async () => {
    const d = await submitted();
    const [a, b] = await Promise.all([decide(d.id, 'approve-with-notes', { notes: 'ok' }), decide(d.id, 'approve-with-notes', { notes: 'ok' })]);
    const bodies = [await expectStatus(a, 200), await expectStatus(b, 200)];
    expect(bodies.map((x) => x.replayed).sort()).toEqual([false, true]);
    expect(bodies[0].decision.id).toBe(bodies[1].decision.id);
    await expectStatus(await decide(d.id, 'approve-with-notes', { notes: 'ok' }), 200);
    expect(await decisionRows(d.id)).toHaveLength(1);
    expect(await auditOf(env, d.id, 'approval.approved_with_notes')).toHaveLength(1);
    await expect(env.t.db.owner`update draft_decisions set notes = 'forged' where draft_id = ${d.id}`).rejects.toThrow(/append-only/);
  });
});

describe('drafts, listed', () => {
  it('filter by campaign, lead and status', async () => {
    const own = await newCampaign(env.as.ADMIN);
    const lead = await newLead(env.as.OPERATOR, own.id);
    const body = { campaignId: own.id, channel: 'EMAIL', body: 'b' };
    const first = (await expectStatus(await env.as.OPERATOR.request('POST', '/api/drafts', { ...body, leadId: lead.id }), 201)).draft;
    const second = (await expectStatus(await env.as.OPERATOR.request('POST', '/api/drafts', body), 201)).draft;
    await expectStatus(await env.as.OPERATOR.request('POST', `/api/drafts/${second.id}/submit`, {}), 200);
    const ids = async (q: string) => (await expectStatus(await env.as.VIEWER.request('GET', `/api/drafts?${q}`), 200)).drafts.map((x: { id: string }) => x.id);
    expect(await ids(`campaignId=${own.id}`)).toEqual([second.id, first.id]);
    expect(await ids(`leadId=${lead.id}`)).toEqual([first.id]);
    expect(await ids(`campaignId=${own.id}&status=NEEDS_APPROVAL`)).toEqual([second.id]);
  });
});
