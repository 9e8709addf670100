// The agent pages' words: each status as a word, a symbol and a sentence (never colour alone),
// and each kind of agent event as one line a person reads.
import { AGENT_STATUSES, type AgentStatus } from '../../../client/agent/protocol';
import type { MissionEvent } from '../../../core/events/events';

export interface StatusWords {
  status: AgentStatus;
  word: string;
  /** Shown beside the word (aria-hidden): the status reads apart without colour too. */
  symbol: string;
  /** What the status means, for a tooltip and the legend. */
  meaning: string;
}

const STATUS: Record<AgentStatus, Omit<StatusWords, 'status'>> = {
  IDLE: { word: 'Idle', symbol: '●', meaning: 'connected and waiting for work' },
  RUNNING: { word: 'Running', symbol: '▶', meaning: 'working on a task' },
  PAUSED: { word: 'Paused', symbol: '‖', meaning: 'held by an operator' },
  BLOCKED: { word: 'Blocked', symbol: '▲', meaning: 'waiting for something it needs' },
  OFFLINE: { word: 'Offline', symbol: '○', meaning: 'not connected: no heartbeat lately' },
  ERROR: { word: 'Error', symbol: '✕', meaning: 'reported an error' },
};

export const statusWords = (status: AgentStatus): StatusWords => ({ status, ...STATUS[status] });
export const ALL_STATUSES: StatusWords[] = AGENT_STATUSES.map(statusWords);

const REASONS: Record<string, string> = {
  hello: 'it said hello', heartbeat: 'its heartbeat said so', missed_heartbeats: 'it missed its heartbeats', goodbye: 'it said goodbye', operator: 'an operator',
};

export interface EventLine {
  id: string;
  at: string;
  actor: string;
  type: string;
  text: string;
  tone: 'info' | 'ok' | 'warn' | 'bad';
}

const s = (v: unknown): string | null => (typeof v === 'string' && v ? v : typeof v === 'number' ? String(v) : null);
const statusWord = (v: unknown) => (typeof v === 'string' && v in STATUS ? STATUS[v as AgentStatus].word : s(v) ?? '?');

/** One agent event in words (agent.work_changed is internal: the callers leave it out). */
export function eventLine(e: MissionEvent): EventLine {
  const p = e.payload ?? {};
  const type = s(p.type) ?? 'a command';
  const line = (text: string, tone: EventLine['tone'] = 'info'): EventLine => ({ id: e.id, at: e.timestamp, actor: e.actor, type: e.type, text, tone });
  switch (e.type) {
    case 'agent.status_changed': {
      const to = s(p.to);
      const why = REASONS[s(p.reason) ?? ''];
      return line(`${statusWord(p.from)} → ${statusWord(p.to)}${why ? `, because ${why}` : ''}`, to === 'ERROR' ? 'bad' : to === 'OFFLINE' || to === 'BLOCKED' ? 'warn' : 'info');
    }
    case 'agent.command.sent': return line(`Command ${type} sent${s(p.source) ? ` (from the ${p.source === 'ui' ? 'web UI' : p.source === 'cli' ? 'CLI' : 'API'})` : ''}`);
    case 'agent.command.succeeded': return line(`Command ${type} succeeded`, 'ok');
    case 'agent.command.failed': return line(`Command ${type} failed${s(p.error) ? `: ${p.error}` : ''}`, 'bad');
    case 'agent.command.timed_out': return line(`Command ${type} timed out: no answer in time`, 'bad');
    case 'agent.command.cancelled': return line(`Command ${type} was cancelled`, 'warn');
    case 'agent.command.refused': return line(`Command ${type} refused: ${s(p.reason) ?? 'no reason recorded'}`, 'warn');
    case 'agent.created': return line(`Registered${s(p.definition) ? ` as a ${p.definition}` : ''}`, 'ok');
    case 'agent.updated': return line('Its settings changed');
    case 'agent.deleted': return line('Removed', 'warn');
    case 'agent.paused': return line(`Paused${s(p.reason) ? `: ${p.reason}` : ''}`, 'warn');
    case 'agent.resumed': return line(`Resumed${s(p.reason) ? `: ${p.reason}` : ''}`, 'ok');
    case 'agent.registered': {
      const caps = Array.isArray(p.capabilities) ? p.capabilities.filter((c) => typeof c === 'string').join(', ') : '';
      return line(`Described itself: version ${s(p.version) ?? 'not given'}${caps ? `; can ${caps}` : ''}`);
    }
    case 'agent.configuration_assigned':
      return line(s(p.configuration) ? `Configuration “${p.configuration}” v${s(p.version) ?? '?'} assigned` : 'Its configuration was unassigned');
    case 'agent.configuration.applied': return line(`Applied configuration v${s(p.version) ?? '?'}${s(p.message) ? `: ${p.message}` : ''}`, 'ok');
    case 'agent.configuration.rejected': return line(`Rejected configuration v${s(p.version) ?? '?'}${s(p.message) ? `: ${p.message}` : ''}`, 'bad');
  }
  if (e.type.startsWith('agent.reported.')) {
    const severity = s(p.severity);
    return line(`Reported ${e.type.slice('agent.reported.'.length)}${s(p.message) ? `: ${p.message}` : ''}`, severity === 'error' ? 'bad' : severity === 'warning' ? 'warn' : 'info');
  }
  return line(e.type);
}
