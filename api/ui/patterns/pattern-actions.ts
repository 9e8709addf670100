// Actions on one pattern: a test run (operators), the diff between two
// versions (everyone), and restore, activate/deactivate and delete (admins).
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { inject, PatternFailedError } from '../../../core/patterns/inject';
import { deletePattern, getPattern, getVersion, restoreVersion, updatePattern } from '../../../core/patterns/patterns';
import { injectInput, versionNumber } from '../../../core/patterns/schemas';
import { actorOf } from '../../../core/access/users';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';
import type { Renderer } from '../../render';
import { valid } from '../../validate';
import { lineDiff } from '../../../lib/line-diff';
import { jsonField, readForm, redirect, str } from '../common';
import { flash, flashing, formProblem, isHtmx } from '../form-problem';
import type { PatternView, TestOutcome } from './pattern-view';

const idParam = z.object({ id: z.uuid('Not a valid pattern id.') });
const versionParam = idParam.extend({ version: versionNumber });
const diffQuery = z.object({
  from: versionNumber.optional(),
  to: versionNumber.optional(),
});

type FailureDetails = {
  kind: string; logs?: string[]; outbound?: TestOutcome['outbound']; durationMs?: number; pattern?: { version: number }; position?: TestOutcome['position'];
};

export function patternActions(deps: AppDeps, renderer: Renderer, view: PatternView) {
  const app = new Hono<AppEnv>();
  const actor = (c: Context<AppEnv>) => actorOf(c.get('user')!);

  // A test run is an inject of this pattern: audited, recorded in its statistics, rate-limited per user.
  app.post('/patterns/:id/test', authorize('OPERATOR'), valid('param', idParam), async (c) => {
    const { id } = c.req.valid('param');
    const testInput = str(await readForm(c), 'input');
    let test: TestOutcome;
    let status = 200;
    try {
      const input = injectInput.parse({ patternId: id, input: jsonField(testInput, 'Input') });
      const r = await inject(deps, input, actor(c), { ratePerMinute: deps.config.MC_INJECT_RATE_LIMIT }, currentWorkspace(c));
      test = { ok: true, output: r.output, logs: r.logs, logsTruncated: r.logsTruncated, durationMs: r.durationMs, outbound: r.outbound, version: r.pattern.version };
    } catch (err) {
      if (err instanceof PatternFailedError) {
        const d = err.details as FailureDetails;
        test = { ok: false, kind: d.kind, message: err.message, logs: d.logs ?? [], outbound: d.outbound ?? [], durationMs: d.durationMs, version: d.pattern?.version, position: d.position };
        status = 422;
      } else {
        // Not run at all: bad input, an inactive pattern, the rate limit (429).
        const p = formProblem(err);
        if (!p) throw err;
        test = { ok: false, kind: 'refused', message: p.message, status: p.status, logs: [], outbound: [] };
        status = p.status;
      }
    }
    // htmx swaps only 2xx: the outcome, failed or not, is what the result region shows.
    if (isHtmx(c)) return renderer.fragment(c, 'partials/patterns/pattern-test-result', { test });
    return view.page(c, id, { test, testInput }, status);
  });

  app.get('/patterns/:id/diff', authorize('VIEWER'), valid('param', idParam), valid('query', diffQuery), async (c) => {
    const ws = currentWorkspace(c);
    const pattern = await getPattern(deps.sql, c.req.valid('param').id, ws);
    const q = c.req.valid('query');
    const to = q.to ?? pattern.version;
    const from = q.from ?? Math.max(1, to - 1);
    const [a, b] = await Promise.all([getVersion(deps.sql, pattern.id, from, ws), getVersion(deps.sql, pattern.id, to, ws)]);
    const config = lineDiff(JSON.stringify(a.config, null, 2), JSON.stringify(b.config, null, 2));
    return renderer.respond(c, { page: 'pages/patterns/pattern-diff', partial: 'partials/patterns/pattern-diff' }, {
      title: `${pattern.name}: v${from} → v${to}`, pattern, from: a, to: b, code: lineDiff(a.code, b.code), config,
    });
  });

  app.post('/patterns/:id/versions/:version/restore', authorize('ADMIN'), valid('param', versionParam), async (c) => {
    const { id, version } = c.req.valid('param');
    const pattern = await flashing(c, () => restoreVersion(deps.sql, id, version, actor(c), currentWorkspace(c)));
    flash(c, 'ok', `Restored v${version} as v${pattern.version}.`);
    return redirect(c, `/patterns/${id}`);
  });

  app.post('/patterns/:id/active', authorize('ADMIN'), valid('param', idParam), async (c) => {
    const { id } = c.req.valid('param');
    const active = str(await readForm(c), 'active') === 'true';
    await flashing(c, () => updatePattern(deps.sql, id, { isActive: active }, actor(c), (code) => deps.sandbox.check(code), currentWorkspace(c)));
    return redirect(c, `/patterns/${id}`);
  });

  // Refused with the 409 message while missions use the pattern.
  app.post('/patterns/:id/delete', authorize('ADMIN'), valid('param', idParam), async (c) => {
    const { id } = c.req.valid('param');
    const ws = currentWorkspace(c);
    const pattern = await getPattern(deps.sql, id, ws);
    try {
      await deletePattern(deps.sql, id, actor(c), ws);
    } catch (err) {
      const p = formProblem(err);
      if (!p || isHtmx(c)) return flashing(c, () => Promise.reject(err));
      return view.page(c, id, { error: p.message }, p.status);
    }
    return redirect(c, `/containers/${pattern.containerId}`);
  });

  return app;
}
