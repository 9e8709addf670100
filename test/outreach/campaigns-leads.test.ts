// Outreach (issue 12), campaigns and leads: campaigns made, changed and
// activated with their events; a lead always of a campaign of its own
// workspace; lead moves allowed and refused per role by LEAD_TRANSITIONS;
// score overrides by admins only, always with a reason, audited once; the
// same sourceKey is the same lead; a campaign's numbers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEAD_TRANSITIONS } from '../../core/outreach/leads';
import { LEAD_STATUSES } from '../../core/outreach/schemas';
import { secondWorkspace } from '../helpers/workspaces';
import { auditOf, eventsOf, expectStatus, leadAt, newCampaign, newLead, outreachEnv, unique, type OutreachEnv } from './helpers';

let env: OutreachEnv;
beforeAll(async () => {
  env = await outreachEnv();
});
afterAll(async () => env?.t.close());

describe('campaigns', () => {
  it('are created as drafts, changed, activated and paused, each change one event', async () => {
    const { ADMIN: admin, OPERATOR: operator, VIEWER: viewer } = env.as;
    const name = unique('Launch');
    const created = await expectStatus(await operator.request('POST', '/api/campaigns', { name, description: 'Q3', channels: ['EMAIL', 'EMAIL'] }), 201);
    const id = created.campaign.id;
    expect(created.campaign).toMatchObject({ name, status: 'draft', channels: ['EMAIL'], createdBy: env.names.OPERATOR });
    expect((await expectStatus(await viewer.request('GET', `/api/campaigns/${id}`), 200)).campaign.name).toBe(name);
    expect((await viewer.request('POST', '/api/campaigns', { name: unique('By a viewer') })).status).toBe(403);
    expect((await admin.request('POST', '/api/campaigns', { name: name.toUpperCase() })).status).toBe(409);

    const patched = await expectStatus(await operator.request('PATCH', `/api/campaigns/${id}`, { description: 'Q4', channels: ['EMAIL', 'LINKEDIN'] }), 200);
    expect(patched.campaign).toMatchObject({ description: 'Q4', channels: ['EMAIL', 'LINKEDIN'], updatedBy: env.names.OPERATOR });
    const active = await expectStatus(await operator.request('POST', `/api/campaigns/${id}/activate`, {}), 200);
    expect(active.campaign).toMatchObject({ status: 'active', activatedAt: expect.any(String) });
    await expectStatus(await operator.request('POST', `/api/campaigns/${id}/activate`, {}), 200); // a retry records nothing
    await expectStatus(await operator.request('PATCH', `/api/campaigns/${id}`, { status: 'paused' }), 200);

    expect((await eventsOf(env, id)).map((e) => e.type)).toEqual(['campaign.created', 'campaign.updated', 'campaign.activated', 'campaign.updated']);
    const [, update, , pause] = await auditOf(env, id);
    expect(update!.details.changes).toEqual({ description: { from: 'Q3', to: 'Q4' }, channels: { from: ['EMAIL'], to: ['EMAIL', 'LINKEDIN'] } });
    expect(pause!.details.changes).toEqual({ status: { from: 'active', to: 'paused' } });
  });

  it('need a channel to be activated, and once archived change no more', async () => {
    const { OPERATOR: operator } = env.as;
    const { id } = await newCampaign(operator, { channels: [] });
    const refused = await expectStatus(await operator.request('POST', `/api/campaigns/${id}/activate`, {}), 409);
    expect(refused.error.message).toMatch(/has no channel/);
    await expectStatus(await operator.request('PATCH', `/api/campaigns/${id}`, { status: 'archived' }), 200);
    for (const [method, path, body] of [['PATCH', `/api/campaigns/${id}`, { name: unique('Renamed') }], ['POST', `/api/campaigns/${id}/activate`, {}]] as const) {
      expect((await expectStatus(await operator.request(method, path, body), 409)).error.message).toMatch(/archived/);
    }
    expect((await operator.request('POST', '/api/leads', { campaignId: id, name: 'Late' })).status).toBe(409);
    expect((await operator.request('PATCH', `/api/campaigns/${id}`, { status: 'active' })).status).toBe(400);
  });

  it('are listed newest first, a page at a time', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await newCampaign(env.as.ADMIN)).id);
    const first = await expectStatus(await env.as.VIEWER.request('GET', '/api/campaigns?limit=2'), 200);
    expect(first.campaigns.map((c: { id: string }) => c.id)).toEqual([ids[2], ids[1]]);
    expect(first.next).toBe(ids[1]);
    const second = await expectStatus(await env.as.VIEWER.request('GET', `/api/campaigns?limit=2&before=${first.next}`), 200);
    expect(second.campaigns[0].id).toBe(ids[0]);
  });
});

describe('a lead', () => {
  it('belongs to a campaign of its own workspace: another workspace\'s campaign is refused and nothing is written', async () => {
    const b = await secondWorkspace(env.t, unique('team-b'));
    const theirs = await newCampaign(b.admin);
    const before = await env.t.db.owner`select count(*)::int as n from leads`;
    const res = await expectStatus(await env.as.OPERATOR.request('POST', '/api/leads', { campaignId: theirs.id, name: 'Smuggled' }), 400);
    expect(res.error.message).toBe('campaignId names no campaign of this workspace.');
    expect(await env.t.db.owner`select count(*)::int as n from leads`).toEqual(before);
    // And B's leads are, to A, leads that do not exist.
    const bLead = await newLead(b.admin, theirs.id);
    expect((await env.as.ADMIN.request('GET', `/api/leads/${bLead.id}`)).status).toBe(404);
    expect((await env.as.ADMIN.request('POST', `/api/leads/${bLead.id}/status`, { status: 'ENRICHED' })).status).toBe(404);
    const listed = await expectStatus(await env.as.ADMIN.request('GET', `/api/leads?campaignId=${theirs.id}`), 200);
    expect(listed.leads).toEqual([]);
  });

  it('is the same lead for the same sourceKey, written once', async () => {
    const { id: campaignId } = await newCampaign(env.as.ADMIN);
    const body = { campaignId, name: 'Grace', sourceKey: `pattern:${unique('k')}` };
    const first = await expectStatus(await env.as.OPERATOR.request('POST', '/api/leads', body), 201);
    const again = await expectStatus(await env.as.OPERATOR.request('POST', '/api/leads', { ...body, name: 'Grace H.' }), 200);
    expect(again).toMatchObject({ created: false, lead: { id: first.lead.id, name: 'Grace' } });
    expect((await auditOf(env, first.lead.id)).map((e) => e.action)).toEqual(['lead.created']);
    const other = await newCampaign(env.as.ADMIN);
    expect((await env.as.OPERATOR.request('POST', '/api/leads', { ...body, campaignId: other.id })).status).toBe(409);
  });

  it('is changed by operators, audited with what changed', async () => {
    const { id: campaignId } = await newCampaign(env.as.ADMIN);
    const lead = await newLead(env.as.OPERATOR, campaignId, { email: 'ADA@Example.com' });
    const res = await expectStatus(await env.as.OPERATOR.request('PATCH', `/api/leads/${lead.id}`, { company: 'Babbage Ltd', score: 'B' }), 200);
    expect(res.lead).toMatchObject({ email: 'ada@example.com', company: 'Babbage Ltd', score: 'B', effectiveScore: 'B' });
    expect((await env.as.CLOSER.request('PATCH', `/api/leads/${lead.id}`, { company: 'x' })).status).toBe(403);
    expect((await env.as.OPERATOR.request('PATCH', `/api/leads/${lead.id}`, { email: 'not-an-email' })).status).toBe(400);
    const [, updated] = await auditOf(env, lead.id);
    expect(updated).toMatchObject({ action: 'lead.updated', details: { changes: { company: { from: 'Acme', to: 'Babbage Ltd' }, score: { from: null, to: 'B' } } } });
  });
});

describe('lead moves, by LEAD_TRANSITIONS', () => {
  const move = (role: keyof OutreachEnv['as'], id: string, status: string) => env.as[role].request('POST', `/api/leads/${id}/status`, { status, note: 'moved' });

  it('has one table: operators take a lead to APPROVED, closers work it from there, every status reachable from NEW', () => {
    const reached = new Set(['NEW']);
    for (const from of LEAD_STATUSES) for (const to of Object.keys(LEAD_TRANSITIONS[from])) reached.add(to);
    expect([...reached].sort()).toEqual([...LEAD_STATUSES].sort());
    expect(LEAD_TRANSITIONS.NEW.ENRICHED).toBe('OPERATOR');
    expect(LEAD_TRANSITIONS.APPROVED.CONTACTED).toBe('CLOSER');
  });

  it('lets a closer move an APPROVED lead to CONTACTED, but not a NEW lead to ENRICHED', async () => {
    const { id: campaignId } = await newCampaign(env.as.ADMIN);
    const fresh = await newLead(env.as.OPERATOR, campaignId);
    const refused = await expectStatus(await move('CLOSER', fresh.id, 'ENRICHED'), 403);
    expect(refused.error.message).toBe('Moving a lead from NEW to ENRICHED needs the OPERATOR role; you are CLOSER. From NEW you may move it to: none.');
    const approved = await newLead(env.as.OPERATOR, campaignId);
    await leadAt(env, approved.id, 'APPROVED');
    const moved = await expectStatus(await move('CLOSER', approved.id, 'CONTACTED'), 200);
    expect(moved.lead).toMatchObject({ status: 'CONTACTED' });
    expect(await eventsOf(env, approved.id)).toEqual([
      expect.objectContaining({ type: 'lead.created' }),
      expect.objectContaining({ type: 'lead.status_changed', entityType: 'lead', payload: expect.objectContaining({ from: 'APPROVED', to: 'CONTACTED', note: 'moved', campaignId }) }),
    ]);
    expect((await auditOf(env, fresh.id, 'lead.status_changed'))).toEqual([]);
  });

  it('lets a viewer move nothing, and refuses a move the table lacks with the moves it has', async () => {
    const { id: campaignId } = await newCampaign(env.as.ADMIN);
    const lead = await newLead(env.as.OPERATOR, campaignId);
    await leadAt(env, lead.id, 'APPROVED');
    expect((await expectStatus(await move('VIEWER', lead.id, 'CONTACTED'), 403)).error.message).toMatch(/needs the CLOSER role/);
    const skip = await expectStatus(await move('ADMIN', lead.id, 'BOOKED'), 409);
    expect(skip.error.message).toBe('A APPROVED lead cannot move to BOOKED; from APPROVED it may move to: CONTACTED, LOST.');
    await expectStatus(await move('ADMIN', lead.id, 'LOST'), 200);
    expect((await expectStatus(await move('ADMIN', lead.id, 'NEW'), 409)).error.message).toMatch(/from LOST it may move to: none/);
  });

  it('walks the whole pipeline, each move by the least role that may make it', async () => {
    const { id: campaignId } = await newCampaign(env.as.ADMIN);
    const lead = await newLead(env.as.OPERATOR, campaignId);
    for (const [role, to] of [['OPERATOR', 'ENRICHED'], ['OPERATOR', 'DRAFTED'], ['OPERATOR', 'APPROVED'], ['CLOSER', 'CONTACTED'], ['CLOSER', 'REPLIED'], ['CLOSER', 'BOOKED']] as const) {
      await expectStatus(await move(role, lead.id, to), 200);
    }
    await expectStatus(await move('CLOSER', lead.id, 'BOOKED'), 200); // already there: a retry, recorded once
    expect((await auditOf(env, lead.id, 'lead.status_changed')).map((e) => e.details.to)).toEqual(['ENRICHED', 'DRAFTED', 'APPROVED', 'CONTACTED', 'REPLIED', 'BOOKED']);
  });
});

describe('a score override', () => {
  it('needs an admin and a reason, wins over the computed score, and is audited once with its reason', async () => {
    const { id: campaignId } = await newCampaign(env.as.ADMIN);
    const lead = await newLead(env.as.OPERATOR, campaignId, { score: 'C' });
    const path = `/api/leads/${lead.id}/score-override`;
    expect((await env.as.OPERATOR.request('POST', path, { score: 'A', reason: 'Warm intro' })).status).toBe(403);
    expect((await expectStatus(await env.as.ADMIN.request('POST', path, { score: 'A', reason: '   ' }), 400)).error.message).toMatch(/needs a reason/);
    expect((await env.as.ADMIN.request('POST', path, { score: 'A' })).status).toBe(400);
    expect((await env.as.ADMIN.request('POST', path, { score: 'A', reason: 'x'.repeat(501) })).status).toBe(400);
    const set = await expectStatus(await env.as.ADMIN.request('POST', path, { score: 'A', reason: '  Warm intro from the CEO ' }), 200);
    expect(set.lead).toMatchObject({ score: 'C', scoreOverride: 'A', effectiveScore: 'A', scoreOverrideReason: 'Warm intro from the CEO', scoreOverriddenBy: 'admin' });
    await expectStatus(await env.as.ADMIN.request('POST', path, { score: 'A', reason: 'Warm intro from the CEO' }), 200); // a retry
    const audited = await auditOf(env, lead.id, 'lead.score.overridden');
    expect(audited).toEqual([expect.objectContaining({ actor: 'admin', details: expect.objectContaining({ from: null, to: 'A', reason: 'Warm intro from the CEO' }) })]);
    expect((await eventsOf(env, lead.id)).filter((e) => e.type === 'lead.score.overridden')).toHaveLength(1);
    const byScore = await expectStatus(await env.as.VIEWER.request('GET', `/api/leads?campaignId=${campaignId}&score=A`), 200);
    expect(byScore.leads.map((l: { id: string }) => l.id)).toEqual([lead.id]);

    const cleared = await expectStatus(await env.as.ADMIN.request('POST', path, { score: null, reason: 'Intro fell through' }), 200);
    expect(cleared.lead).toMatchObject({ scoreOverride: null, scoreOverrideReason: null, effectiveScore: 'C' });
    expect((await auditOf(env, lead.id, 'lead.score.overridden')).at(-1)!.details).toMatchObject({ from: 'A', to: null, reason: 'Intro fell through' });
    await expect(env.t.db.sql`update leads set score_override = 'B', score_override_reason = null where id = ${lead.id}`).rejects.toThrow(/leads_override_reason/);
  });
});

describe("a campaign's metrics", () => {
  it('count leads by status and by effective score, and drafts by status', async () => {
    const { id: campaignId } = await newCampaign(env.as.ADMIN);
    const [a, b] = [await newLead(env.as.OPERATOR, campaignId, { score: 'B' }), await newLead(env.as.OPERATOR, campaignId, { score: 'B' })];
    await newLead(env.as.OPERATOR, campaignId);
    await leadAt(env, a.id, 'APPROVED');
    await expectStatus(await env.as.ADMIN.request('POST', `/api/leads/${b.id}/score-override`, { score: 'A', reason: 'Referral' }), 200);
    const draft = await expectStatus(await env.as.OPERATOR.request('POST', '/api/drafts', { campaignId, channel: 'EMAIL', subject: 'Hi', body: 'Hello' }), 201);
    await expectStatus(await env.as.OPERATOR.request('POST', `/api/drafts/${draft.draft.id}/submit`, {}), 200);
    await expectStatus(await env.as.OPERATOR.request('POST', '/api/drafts', { campaignId, channel: 'LINKEDIN', body: 'Hello there' }), 201);
    const { metrics } = await expectStatus(await env.as.VIEWER.request('GET', `/api/campaigns/${campaignId}/metrics`), 200);
    expect(metrics).toEqual({
      campaignId,
      leads: {
        total: 3,
        byStatus: { NEW: 2, ENRICHED: 0, DRAFTED: 0, APPROVED: 1, CONTACTED: 0, REPLIED: 0, BOOKED: 0, LOST: 0 },
        byScore: { A: 1, B: 1, C: 0, none: 1 },
      },
      drafts: { total: 2, byStatus: { DRAFT: 1, NEEDS_APPROVAL: 1, APPROVED: 0, REJECTED: 0 } },
    });
  });
});
