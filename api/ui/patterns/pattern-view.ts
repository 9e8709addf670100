// The pattern page's data: the pattern, its live statistics with charts (a
// fragment that polls with ?v= and gets 204 while nothing changed), its
// version history, and the last test run's outcome when there is one.
import type { Context } from 'hono';
import { getPattern, listVersions } from '../../../core/patterns/patterns';
import { recentRuns } from '../../../core/patterns/pattern-runs';
import type { WorkspaceRef } from '../../../core/access/users';
import { currentWorkspace, type AppDeps, type AppEnv } from '../../context';
import type { Renderer } from '../../render';
import { durationChart, successBar } from './charts';
import { contentVersion } from '../common';

export const VERSIONS_PER_PAGE = 20;
const CHART_RUNS = 30;

export interface TestOutcome {
  ok: boolean;
  /** For a failure: the pattern's error kind (syntax, runtime, timeout…) or "refused" when it did not run. */
  kind?: string;
  message?: string;
  status?: number;
  output?: unknown;
  logs: string[];
  logsTruncated?: boolean;
  durationMs?: number;
  outbound: { channel: string; status: string; payload: unknown; error?: string }[];
  version?: number;
  position?: { line: number; column: number };
}

export interface PatternExtra {
  error?: string;
  test?: TestOutcome;
  testInput?: string;
}

export function patternView(deps: AppDeps, renderer: Renderer) {
  const loadStats = async (ws: WorkspaceRef, id: string) => {
    const [pattern, runs] = await Promise.all([getPattern(deps.sql, id, ws), recentRuns(deps.sql, id, CHART_RUNS, ws)]);
    const s = pattern.stats;
    return {
      pattern,
      runs: runs.slice(0, 10),
      bar: successBar(s.successCount, s.failureCount, 240, 12),
      chart: durationChart(runs),
      statsVersion: contentVersion({ s, last: runs[0]?.executionKey ?? null, v: pattern.version, a: pattern.isActive }),
    };
  };

  return {
    /** The live statistics fragment; an unchanged poll answers 204. */
    async stats(c: Context<AppEnv>, id: string): Promise<Response> {
      const data = await loadStats(currentWorkspace(c), id);
      if (c.req.query('v') === data.statsVersion) return c.body(null, 204);
      return renderer.fragment(c, 'partials/patterns/pattern-stats', data);
    },

    async page(c: Context<AppEnv>, id: string, extra: PatternExtra = {}, status = 200): Promise<Response> {
      const ws = currentWorkspace(c);
      const [data, versions] = await Promise.all([loadStats(ws, id), listVersions(deps.sql, id, ws)]);
      const offset = Math.max(0, Math.trunc(Number(c.req.query('voffset')) || 0));
      const current = data.pattern.version;
      return renderer.respond(c, { page: 'pages/patterns/pattern', partial: 'partials/patterns/pattern-versions' }, {
        title: data.pattern.name,
        ...data,
        versions: versions.slice(offset, offset + VERSIONS_PER_PAGE),
        versionTotal: versions.length,
        voffset: offset,
        perPage: VERSIONS_PER_PAGE,
        diffFrom: Math.max(1, current - 1),
        diffTo: current,
        testInput: '{}',
        ...extra,
      }, status);
    },
  };
}

export type PatternView = ReturnType<typeof patternView>;
