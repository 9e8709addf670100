// Alerts (seed 001) with real agents through the shipped client: a metric
// beyond a rule's threshold raises one alert however many samples breach it,
// and a sample back within resolves it; an agent raises its own alert once per
// key, with actions an operator takes as their twins are authorized (a command
// to the agent); a failed run's alert runs its mission again; acknowledging and
// resolving record who and when; the operators are notified.
import { afterEach, describe, expect, it } from 'vitest';
import { notifyOnce } from '../../core/collab/notifier';
import { json } from '../helpers/app';
import { useAgentFixture } from '../helpers/agent-fixtures';
import { eventually, execute, makeMission, makePattern, waitFor } from '../helpers/missions';

const fx = useAgentFixture();
const rules: string[] = [];
afterEach(async () => {
  for (const id of rules.splice(0)) await fx.admin.request('DELETE', `/api/alert-rules/${id}`);
});

const alertsOf = async (agentId: string, state = 'all') =>
  (await json(await fx.admin.request('GET', `/api/alerts?state=${state}&agentId=${agentId}`))).alerts as { id: string; source: string; severity: string; title: string; resolvedBy: string | null; actions: unknown[] }[];

describe('an alert rule on a metric', () => {
  it('raises one alert for a breach however many samples cross the line, and resolves it when the metric is back', async () => {
    const res = await fx.admin.request('POST', '/api/alert-rules', { name: `Quality ${Date.now()}`, metric: 'data_quality', comparison: '<', threshold: 0.8, severity: 'critical' });
    expect(res.status, await res.clone().text()).toBe(201);
    rules.push((await json(res)).rule.id);
    const a = await fx.register(await fx.definition());
    const client = fx.connect(a).client;
    await client.start();
    for (const q of [0.5, 0.4, 0.7]) await client.reportMetrics({ data_quality: q });
    await Promise.all([client.reportMetrics({ data_quality: 0.1 }), client.reportMetrics({ data_quality: 0.2 })]); // two at once
    const [one, ...more] = await alertsOf(a.id);
    expect(more).toEqual([]);
    expect(one).toMatchObject({ source: 'rule', severity: 'critical', title: expect.stringMatching(/^Quality \d+: data_quality 0\.5 < 0\.8$/), resolvedBy: null });

    // The operators hear of it once.
    while ((await notifyOnce(fx.env.t.db.sql)) > 0);
    const { notifications } = await json(await fx.env.operator.request('GET', '/api/notifications?limit=200'));
    expect(notifications.filter((n: { kind: string; title: string }) => n.kind === 'alert' && n.title.includes(one!.title))).toHaveLength(1);

    await client.reportMetrics({ data_quality: 0.95 });
    expect((await alertsOf(a.id))[0]).toMatchObject({ id: one!.id, resolvedBy: 'system' });
    await client.reportMetrics({ data_quality: 0.3 }); // a new breach: a new alert
    expect((await alertsOf(a.id, 'unresolved')).map((x) => x.id)).not.toContain(one!.id);
    expect(await alertsOf(a.id, 'unresolved')).toHaveLength(1);
  });
});

describe('an agent', () => {
  it('raises its alert once per key, and an operator takes its actions as the UI would', async () => {
    const a = await fx.register(await fx.definition());
    const client = fx.connect(a).client;
    const alert = {
      severity: 'warning' as const, title: 'Feed is stale', message: 'No rows since 09:00', key: 'stale-feed',
      actions: [{ kind: 'open' as const, label: 'View the agent', href: `/agents/${a.id}` }, { kind: 'agent_command' as const, label: 'Re-ingest', command: 'REFRESH_DATA', payload: { source: 'crm' } }],
    };
    const first = await client.raiseAlert(alert);
    expect(first.raised).toBe(true);
    expect(await client.raiseAlert(alert)).toEqual({ alertId: first.alertId, raised: false });
    expect(await alertsOf(a.id)).toHaveLength(1);

    const take = (who: typeof fx.admin, n: number) => who.request('POST', `/api/alerts/${first.alertId}/actions/${n}`, {});
    expect((await take(fx.env.viewer, 1)).status).toBe(403);
    expect((await take(fx.env.operator, 3)).status).toBe(400);
    expect((await json(await take(fx.env.operator, 0))).outcome).toEqual({ kind: 'open', href: `/agents/${a.id}` });
    const sent = await json(await take(fx.env.operator, 1));
    expect(sent.outcome).toMatchObject({ kind: 'agent_command', agentId: a.id, commandId: expect.any(String) });
    const { commands } = await json(await fx.admin.request('GET', `/api/agents/${a.id}/commands`));
    expect(commands).toContainEqual(expect.objectContaining({ id: sent.outcome.commandId, type: 'REFRESH_DATA' }));

    // Acknowledged and resolved, each with who and when, once.
    const acked = await json(await fx.env.operator.request('POST', `/api/alerts/${first.alertId}/ack`, {}));
    expect(acked.alert).toMatchObject({ acknowledgedBy: fx.env.operatorName, acknowledgedAt: expect.any(String) });
    const resolved = await json(await fx.admin.request('POST', `/api/alerts/${first.alertId}/resolve`, { note: 'feed back' }));
    expect(resolved.alert).toMatchObject({ resolvedBy: 'admin', resolvedAt: expect.any(String) });
    expect((await fx.admin.request('POST', `/api/alerts/${first.alertId}/resolve`, {})).status).toBe(200);
    const audit = await fx.env.t.db.owner`select action from audit_log where entity_id = ${first.alertId} order by id`;
    expect(audit.map((r) => r.action)).toEqual(['alert.action_taken', 'alert.acknowledged', 'alert.resolved']);
  });
});

describe("a failed run's alert", () => {
  it('runs its mission again', async () => {
    const failing = await makePattern(fx.admin, fx.env.containerId, 'async () => { throw new Error("upstream down") }', { failureAction: 'abort' });
    const missionId = await makeMission(fx.admin, { containerId: fx.env.containerId, tasks: [{ name: 'fetch', order: 0, patternId: failing }] });
    const failed = await execute(fx.env.operator, missionId);
    await waitFor(fx.env.t, failed, (p) => p.status === 'Failed');
    const alert = await eventually(
      async () => ((await json(await fx.admin.request('GET', '/api/alerts?state=all&limit=200'))).alerts as { id: string; workflowId: string; actions: { kind: string }[] }[]).find((x) => x.workflowId === failed),
      (x) => !!x,
    );
    expect(alert!.actions.map((x) => x.kind)).toEqual(['open', 'run_mission']);
    const again = await json(await fx.env.operator.request('POST', `/api/alerts/${alert!.id}/actions/1`, {}));
    expect(again.outcome).toMatchObject({ kind: 'run_mission', workflowId: expect.stringMatching(new RegExp(`^mission-${missionId}-`)) });
    expect(again.outcome.workflowId).not.toBe(failed);
    await waitFor(fx.env.t, again.outcome.workflowId, (p) => p.status === 'Failed');
  });
});
