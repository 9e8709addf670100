// A task's replay page (/runs/:workflowId/tasks/:taskId/replay): the steps of
// core/runs/replay.ts as a timeline, each said in words here so the template
// only prints (escaped) text.
import { Hono } from 'hono';
import { z } from 'zod';
import { taskReplay, type ReplayStep } from '../../../core/runs/replay';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import type { Renderer } from '../../render';
import { workflowParam } from '../../routes/runs/runs';
import { valid } from '../../validate';
import { helpers } from '../../view-helpers';

/** One step as the page says it: a headline and its facts. */
export interface ShownStep { step: ReplayStep; title: string; facts: string[]; preview?: string; link?: { href: string; text: string } }

const words = (s: string | undefined) => (s ?? '').replace(/_/g, ' ');
const by = (actor: string | undefined) => (actor ? ` by ${actor}` : '');

export function showStep(s: ReplayStep): ShownStep {
  const facts: string[] = [];
  let title: string;
  let preview: string | undefined;
  let link: ShownStep['link'];
  const n = s.attempt !== undefined ? `Attempt ${s.attempt}` : 'An attempt';
  const run = s.execSeq && s.execSeq > 1 ? ` (run ${s.execSeq})` : '';
  // A task's attempt names the worker that ran it; a message, the client that sent it.
  if (s.identity) facts.push(s.kind === 'decision.received' ? `sent from ${s.identity}` : `worker ${s.identity}`);
  if (s.agent?.name || s.agent?.id) facts.push(`agent ${s.agent.name ?? s.agent.id}`);
  switch (s.kind) {
    case 'attempt.scheduled':
      title = `Scheduled${run}`;
      if (s.input) {
        facts.push(`input ${helpers.bytes(s.input.bytes)}`);
        preview = s.input.preview;
      }
      if (s.agent?.definition) facts.push(`on an agent of ${s.agent.definition}${s.agent.capability ? ` with ${s.agent.capability}` : ''}`);
      if (s.retry) facts.push(`retries after ${helpers.duration(s.retry.initialIntervalMs)}${s.retry.backoffCoefficient > 1 ? `, ×${s.retry.backoffCoefficient} each time` : ''}`);
      if (s.notes) facts.push(`notes: ${s.notes}`);
      break;
    case 'attempt.started':
      title = `${n} started${run}`;
      if (s.retryDelayMs !== undefined) facts.push(`retried after ${helpers.duration(s.retryDelayMs)}`);
      break;
    case 'attempt.completed':
      title = `${n} completed${run}`;
      break;
    case 'attempt.failed':
      title = `${n} failed${run}${s.final ? ' (no more retries)' : ''}: ${s.message ?? 'unknown error'}`;
      if (s.failureType) facts.push(words(s.failureType));
      break;
    case 'attempt.timed_out':
      title = `${n} timed out${run}: ${s.message ?? ''}`;
      break;
    case 'attempt.cancelled':
      title = `${n} cancelled${run}`;
      break;
    case 'approval.requested':
      title = `Approval requested${run}`;
      if (s.deadline) facts.push(`until ${helpers.formatTime(s.deadline)}`);
      break;
    case 'approval.timed_out':
      title = `Approval timed out: ${s.message ?? ''}`;
      break;
    case 'decision.received':
      title = `Decision "${words(s.action)}" received${by(s.actor)} (${s.via})`;
      break;
    case 'decision.taken':
      title = `Decided: ${words(s.action)}${by(s.actor)}`;
      break;
    case 'decision.refused':
      title = `Decision "${words(s.action)}"${by(s.actor)} refused: ${s.reason ?? ''}`;
      if (s.source === 'audit') facts.push('before it reached the run');
      break;
    case 'output.edited':
      title = 'Output replaced by the reviewer\'s edit';
      break;
    case 'outbound': {
      const o = s.outbound!;
      title = `Outbound ${o.channel}: ${words(o.status)}${s.attempt ? ` (attempt ${s.attempt})` : ''}`;
      facts.push(`payload ${helpers.bytes(o.payload.bytes)}`);
      if (o.attempts > 1) facts.push(`${o.attempts} tries`);
      if (o.error) facts.push(o.error);
      preview = o.payload.preview;
      break;
    }
    case 'run.paused':
      title = `Run paused${by(s.actor)}${s.reason ? `: ${s.reason}` : ''}`;
      break;
    case 'run.resumed':
      title = `Run resumed${by(s.actor)}`;
      break;
    case 'run.cancel_requested':
      title = `Cancellation requested${by(s.actor)}${s.reason ? `: ${s.reason}` : ''}`;
      break;
    default:
      title = `${words(s.kind.replace('.', ' '))}${s.message ? `: ${s.message}` : ''}${s.reason ? `: ${s.reason}` : ''}`;
  }
  if (s.notes && s.kind !== 'attempt.scheduled') facts.push(`notes: ${s.notes}`);
  if (s.output) {
    facts.push(`output ${helpers.bytes(s.output.bytes)}${s.output.ref ? ` (${s.output.ref})` : ''}`);
    preview ??= s.output.preview;
    // The page links the run page's own route for the whole output (the API's needs a token).
    if (s.output.url) link = { href: s.output.url.replace(/^\/api/, ''), text: 'The whole output (JSON)' };
  }
  return { step: s, title, facts, preview, link };
}

export function replayPages(deps: AppDeps, renderer: Renderer) {
  const app = new Hono<AppEnv>();

  app.get('/runs/:workflowId/tasks/:taskId/replay', authorize('VIEWER'), valid('param', workflowParam.extend({ taskId: z.uuid('Not a valid task id.') })), async (c) => {
    const { workflowId, taskId } = c.req.valid('param');
    const { task, steps } = await taskReplay(deps.sql, deps.temporal, workflowId, taskId, currentWorkspace(c));
    return renderer.respond(c, { page: 'pages/runs/replay', partial: 'partials/runs/replay' }, {
      title: `Replay: ${task.name}`, task, steps: steps.map(showStep),
    });
  });

  return app;
}
