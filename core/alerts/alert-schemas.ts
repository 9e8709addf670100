// What an alert is made of (seed 001): its severity, and its actions, each a
// real operation: open a page of the app (view logs), send the agent one of its
// definition's commands (re-ingest), or run the alert's mission again.
import { z } from 'zod';
import { text } from '../../lib/text';

export const SEVERITIES = ['info', 'warning', 'error', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

const label = text().trim().min(1, 'An action needs a label.').max(60, 'A label is at most 60 characters.');
export const alertActionSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('open'), label, href: text().regex(/^\/(?!\/)[^\s]{0,300}$/, 'href is a path of this app (/runs/…).') }),
  z.strictObject({
    kind: z.literal('agent_command'), label,
    command: text().regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'command is a command type of the agent’s definition (REFRESH_DATA).'),
    payload: z.record(z.string().max(100), z.unknown()).default({}),
  }),
  z.strictObject({ kind: z.literal('run_mission'), label }),
], { error: 'An action is { kind: "open", label, href }, { kind: "agent_command", label, command, payload } or { kind: "run_mission", label }.' });
export type AlertAction = z.infer<typeof alertActionSchema>;

/** An alert an agent raises over its connection (POST /api/agent/alerts). */
export const agentAlertSchema = z.strictObject({
  severity: z.enum(SEVERITIES).default('warning'),
  title: text().trim().min(1, 'An alert needs a title.').max(200, 'A title is at most 200 characters.'),
  message: text().trim().max(2000, 'A message is at most 2000 characters.').default(''),
  actions: z.array(alertActionSchema).max(5, 'At most 5 actions.').default([]),
  /** The same key is the same alert: an agent that posts again raises it once. */
  key: text().trim().min(1).max(120).optional(),
});
export type AgentAlertInput = z.infer<typeof agentAlertSchema>;
