// Alert rules on agents' metrics (seed 001: "data quality score below a
// threshold"): checked on every sample an agent reports. A breach raises one
// alert per rule and agent (an open one is unique until resolved, so a
// thousand samples below the line raise one), and a sample back within the
// line resolves it, by the system. Rules belong to a workspace.
import { z } from 'zod';
import type { Sql, TxSql } from '../../db/sql';
import { rethrowConstraint } from '../../db/errors';
import { NotFoundError } from '../../lib/errors';
import { text } from '../../lib/text';
import { appendAudit, SYSTEM_ACTOR, type Actor } from '../audit/audit-log';
import { raiseAlert, resolveIn } from './alerts';
import { SEVERITIES, type Severity } from './alert-schemas';
import { refusedReference } from '../outreach/campaigns';

export const COMPARISONS = ['<', '<=', '>', '>='] as const;
type Comparison = (typeof COMPARISONS)[number];

export const alertRuleSchema = z.strictObject({
  name: text().trim().min(1, 'A rule needs a name.').max(120, 'A name is at most 120 characters.'),
  metric: text().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'metric is the name of a metric agents report (letters, digits, _ . : -).'),
  comparison: z.enum(COMPARISONS),
  threshold: z.number().finite().min(-1e9, 'threshold is at least -1000000000.').max(1e9, 'threshold is at most 1000000000.'),
  severity: z.enum(SEVERITIES).default('warning'),
  agentId: z.uuid('agentId must be an agent id (a UUID).').nullable().default(null),
  active: z.boolean().default(true),
});
export type AlertRuleInput = z.infer<typeof alertRuleSchema>;
export const alertRulePatchSchema = alertRuleSchema.partial().refine((p) => Object.keys(p).length > 0, 'Change something.');

export interface AlertRule {
  id: string;
  name: string;
  metric: string;
  comparison: Comparison;
  threshold: number;
  severity: Severity;
  agentId: string | null;
  active: boolean;
  createdBy: string;
  createdAt: Date;
}

const columns = (sql: TxSql) => sql`
  id, name, metric, comparison, threshold, severity, agent_id as "agentId", active, created_by as "createdBy", created_at as "createdAt"`;

export const listRules = (sql: TxSql, ws: { id: string }) =>
  sql<AlertRule[]>`select ${columns(sql)} from alert_rules where workspace_id = ${ws.id} order by lower(name) limit 500`;

async function getRule(sql: TxSql, id: string, ws: { id: string }): Promise<AlertRule> {
  const [r] = await sql<AlertRule[]>`select ${columns(sql)} from alert_rules where id = ${id} and workspace_id = ${ws.id}`;
  if (!r) throw new NotFoundError('Alert rule');
  return r;
}

async function checkAgent(tx: TxSql, agentId: string | null | undefined, ws: { id: string }) {
  if (!agentId) return;
  const [a] = await tx`select 1 from agents where id = ${agentId} and workspace_id = ${ws.id} and deleted_at is null`;
  if (!a) throw refusedReference('agentId', 'agent');
}

const taken = (name: string) => ({ unique: `An alert rule named "${name}" exists already in this workspace.` });

export async function createRule(sql: Sql, input: AlertRuleInput, actor: Actor, ws: { id: string }): Promise<AlertRule> {
  return sql.begin(async (tx) => {
    await checkAgent(tx, input.agentId, ws);
    const [row] = await tx<AlertRule[]>`
      insert into alert_rules (workspace_id, name, metric, comparison, threshold, severity, agent_id, active, created_by)
      values (${ws.id}, ${input.name}, ${input.metric}, ${input.comparison}, ${input.threshold}, ${input.severity}, ${input.agentId}, ${input.active}, ${actor.name})
      returning ${columns(tx)}`;
    await appendAudit(tx, { actor, action: 'alert_rule.created', entityType: 'alert_rule', entityId: row!.id, details: { ...input }, workspaceId: ws.id });
    return row!;
  }).catch((err) => rethrowConstraint(err, taken(input.name)));
}

export async function updateRule(sql: Sql, id: string, patch: Partial<AlertRuleInput>, actor: Actor, ws: { id: string }): Promise<AlertRule> {
  return sql.begin(async (tx) => {
    const before = await getRule(tx, id, ws);
    await checkAgent(tx, patch.agentId, ws);
    const r = { ...before, ...patch };
    const [row] = await tx<AlertRule[]>`
      update alert_rules set name = ${r.name}, metric = ${r.metric}, comparison = ${r.comparison}, threshold = ${r.threshold},
             severity = ${r.severity}, agent_id = ${r.agentId}, active = ${r.active}, updated_at = now()
      where id = ${id} returning ${columns(tx)}`;
    await appendAudit(tx, { actor, action: 'alert_rule.updated', entityType: 'alert_rule', entityId: id, details: { changes: patch }, workspaceId: ws.id });
    return row!;
  }).catch((err) => rethrowConstraint(err, taken(patch.name ?? 'that name')));
}

export async function deleteRule(sql: Sql, id: string, actor: Actor, ws: { id: string }): Promise<void> {
  await sql.begin(async (tx) => {
    const r = await getRule(tx, id, ws);
    await tx`delete from alert_rules where id = ${id}`;
    await appendAudit(tx, { actor, action: 'alert_rule.deleted', entityType: 'alert_rule', entityId: id, details: { name: r.name }, workspaceId: ws.id });
  });
}

const breaches = (v: number, c: Comparison, t: number) => (c === '<' ? v < t : c === '<=' ? v <= t : c === '>' ? v > t : v >= t);

/**
 * Checks one agent's samples (in time order) against the workspace's active rules, inside the transaction that
 * stores them: a breach raises the rule's alert for the agent unless one is open, a sample within the line
 * resolves it. Returns how many alerts were raised.
 */
export async function checkRules(
  tx: TxSql, agent: { id: string; workspaceId: string; name?: string }, samples: Record<string, number>[],
): Promise<number> {
  const names = [...new Set(samples.flatMap((s) => Object.keys(s)))];
  if (!names.length) return 0;
  const rules = await tx<AlertRule[]>`
    select ${columns(tx)} from alert_rules
    where workspace_id = ${agent.workspaceId} and active and metric in ${tx(names)} and (agent_id is null or agent_id = ${agent.id})`;
  let raised = 0;
  for (const rule of rules) {
    for (const s of samples) {
      const v = s[rule.metric];
      if (typeof v !== 'number') continue;
      const [open] = await tx<{ id: string; title: string }[]>`
        select id::text, coalesce(title, kind) as title from alerts where rule_id = ${rule.id} and agent_id = ${agent.id} and resolved_at is null`;
      if (breaches(v, rule.comparison, rule.threshold)) {
        if (open) continue;
        const r = await raiseAlert(tx, {
          workspaceId: agent.workspaceId, key: `rule:${rule.id}:${agent.id}:${Date.now()}:${Math.random().toString(36).slice(2, 10)}`,
          source: 'rule', kind: 'metric_rule', severity: rule.severity, ruleId: rule.id, agentId: agent.id, actor: 'system',
          title: `${rule.name}: ${rule.metric} ${v} ${rule.comparison} ${rule.threshold}`,
          message: `Agent ${agent.name ?? agent.id} reported ${rule.metric} = ${v}; the rule "${rule.name}" raises an alert when it is ${rule.comparison} ${rule.threshold}.`,
          actions: [{ kind: 'open', label: 'View the agent', href: `/agents/${agent.id}` }],
        });
        if (r.raised) raised++;
      } else if (open) {
        await resolveIn(tx, { id: open.id, title: open.title, workspaceId: agent.workspaceId }, SYSTEM_ACTOR, `${rule.metric} is back at ${v}`);
      }
    }
  }
  return raised;
}
