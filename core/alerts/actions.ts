// An alert's actions, taken: each is the same operation as its twin elsewhere,
// authorized as that one is (opening a page is a link; an agent command goes
// through sendCommand with the caller's role; running the mission again goes
// through executeMission). Each taken action is audited on the alert.
import { ConflictError, ValidationError } from '../../lib/errors';
import type { Role } from '../../lib/names';
import { appendAudit, type Actor } from '../audit/audit-log';
import { sendCommand, type SendDeps } from '../agents/send-command';
import { executeMission } from '../runs/start';
import { getAlert } from './alerts';

export type ActionOutcome = { kind: 'open'; href: string } | { kind: 'agent_command'; commandId: string; agentId: string } | { kind: 'run_mission'; workflowId: string };

export async function takeAlertAction(
  deps: SendDeps, alertId: string, index: number, actor: Actor & { role: Role }, ws: { id: string; isDefault?: boolean },
): Promise<ActionOutcome> {
  const alert = await getAlert(deps.sql, alertId, ws);
  const action = alert.actions[index];
  if (!action) throw new ValidationError(`This alert has ${alert.actions.length} action${alert.actions.length === 1 ? '' : 's'}; there is no action ${index}.`);
  let outcome: ActionOutcome;
  if (action.kind === 'open') {
    outcome = { kind: 'open', href: action.href };
  } else if (action.kind === 'agent_command') {
    if (!alert.agentId) throw new ConflictError('This alert names no agent to send the command to.');
    const { command } = await sendCommand(deps, { agentId: alert.agentId, type: action.command, payload: action.payload, source: 'api' }, actor, ws, 0);
    outcome = { kind: 'agent_command', commandId: command.id, agentId: alert.agentId };
  } else {
    if (!alert.missionId) throw new ConflictError('This alert names no mission to run again.');
    const { workflowId } = await executeMission(deps.sql, deps.temporal, { missionId: alert.missionId, trigger: 'manual', actor }, ws);
    outcome = { kind: 'run_mission', workflowId };
  }
  if (outcome.kind !== 'open') {
    await appendAudit(deps.sql, {
      actor, action: 'alert.action_taken', entityType: 'alert', entityId: alert.id, workspaceId: alert.workspaceId,
      details: { title: alert.title, action: action.label, ...outcome },
    });
  }
  return outcome;
}
