// The approvals inbox (/approvals, optionally narrowed to one mission) and the
// decision form's route, shared by the inbox and the run view: each answers
// with the fragment the form came from.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { approvalMissions, pendingApprovals } from '../../../core/runs/approvals';
import { decide } from '../../../core/runs/decisions';
import { LiveCache } from '../../../core/events/live-cache';
import { eventStreamOf } from '../../../core/events/stream';
import { getMission } from '../../../core/missions/missions';
import { actorOf } from '../../../core/access/users';
import { AppError, ValidationError } from '../../../lib/errors';
import { text } from '../../../lib/text';
import { DECISION_ACTIONS } from '../../../workflows/messages';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import { describeIssues, issueDetail, triggerHeader } from '../../middleware/errors';
import type { Renderer } from '../../render';
import { decisionBody, workflowParam } from '../../routes/runs/runs';
import { valid } from '../../validate';
import { contentVersion, jsonField, readForm, redirect, str } from '../common';
import { renderRunView } from './runs';

const empty = (v: unknown) => (v === '' ? undefined : v);
const missionFilter = z.preprocess(empty, z.uuid('Not a valid mission id; choose a mission from the list.').optional());
export const inboxQuery = z.object({ v: text().max(40).optional(), missionId: missionFilter });

type Message = { kind: 'ok' | 'error'; text: string };

export function approvalPages(deps: AppDeps, renderer: Renderer) {
  const app = new Hono<AppEnv>();
  const pending = new LiveCache<Awaited<ReturnType<typeof pendingApprovals>>>(1000, 100);
  eventStreamOf(deps.sql, deps.logger).onEvent((e) => {
    if (/^(approval|run|scheduler)\./.test(e.type)) pending.clear();
  });

  // A decision from the run view or the inbox; answers with the fragment the form came from.
  app.post('/runs/:workflowId/decide', authorize('ADMIN'), valid('param', workflowParam), async (c) => {
    const { workflowId } = c.req.valid('param');
    const form = await readForm(c);
    const action = str(form, 'action');
    if (!(DECISION_ACTIONS as readonly string[]).includes(action)) throw new ValidationError(`Unknown decision "${action}".`);
    // The inbox's filter travels with its forms, so the inbox comes back as narrow as it was; checked before deciding.
    const filter = z.object({ missionId: missionFilter }).safeParse({ missionId: str(form, 'missionId') });
    if (!filter.success) throw new ValidationError(describeIssues(filter.error.issues), filter.error.issues.map(issueDetail));
    const { missionId } = filter.data;
    // The same rules as the API's decisions: notes and output reach the run and its audit entry.
    const { taskId, notes, output } = decisionBody.parse({
      taskId: str(form, 'taskId'), action, notes: str(form, 'notes') || undefined,
      output: action === 'edit_inline_approve' ? jsonField(str(form, 'output'), 'Edited output') : undefined,
    });
    let message: Message;
    try {
      const task = await decide(
        deps.sql, deps.temporal, workflowId, { taskId, action: action as (typeof DECISION_ACTIONS)[number], notes, output }, actorOf(c.get('user')!), currentWorkspace(c),
      );
      message = { kind: 'ok', text: `${task.name}: ${action.replace(/_/g, ' ')} recorded.` };
    } catch (err) {
      // A plain form post gets the refusal as a page that says why (and its status); htmx, in the fragment's flash.
      if (!(err instanceof AppError) || err.status >= 500 || !c.req.header('HX-Request')) throw err;
      message = { kind: 'error', text: err.message };
    }
    const from = str(form, 'from');
    if (!c.req.header('HX-Request')) return redirect(c, from === 'inbox' ? `/approvals${missionId ? `?missionId=${missionId}` : ''}` : `/runs/${encodeURIComponent(workflowId)}`);
    if (from === 'inbox') return inbox(c, missionId, message);
    c.header('HX-Trigger', triggerHeader({ flash: message }));
    return renderRunView(deps, renderer, c, workflowId, 200, true);
  });

  const inbox = async (c: Context<AppEnv>, missionId: string | undefined, message?: Message) => {
    // An unknown mission is a 404 that names it, not an inbox that looks empty.
    const ws = currentWorkspace(c);
    const mission = missionId ? await getMission(deps.sql, missionId, ws) : null;
    // One load serves every open inbox of the workspace (with this filter) that an event woke, until another
    // event drops it; opening the page, filtering, or deciding here reads afresh. The workspace is in the key.
    const approvals = await pending.get(`${ws.id}|${missionId ?? ''}`, () => pendingApprovals(deps.sql, deps.temporal, { missionId }, ws), {
      fresh: !!message || !c.req.header('X-Live-Refresh'),
    });
    const version = contentVersion(approvals.map((a) => [a.run.workflowId, a.taskId, a.runs]));
    const fragment = c.req.header('HX-Request') === 'true' && c.req.header('HX-Boosted') !== 'true';
    if (!message && fragment && c.req.query('v') === version) return c.body(null, 204);
    // Only the full page shows the filter, so only it needs the missions to choose from.
    const missions = fragment ? [] : await approvalMissions(deps.sql, missionId, ws);
    return renderer.respond(c, { page: 'pages/runs/approvals', partial: 'partials/runs/approvals' }, {
      title: mission ? `Approvals · ${mission.name}` : 'Approvals', approvals, message, version, missions, missionId: mission?.id ?? null,
    });
  };

  app.get('/approvals', authorize('VIEWER'), valid('query', inboxQuery), (c) => inbox(c, c.req.valid('query').missionId));

  return app;
}
