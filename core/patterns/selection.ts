// Choosing a pattern from a container (seed 000): the default first, at
// random, or weighted by a smoothed success rate so new patterns still get tried.
import type { TxSql } from '../../db/sql';
import { AppError } from '../../lib/errors';
import { workspaceIdOf, type WorkspaceRef } from '../access/users';
import { scheduleStatsRollup } from './pattern-runs';
import type { PatternConfig, SelectionPolicy } from './schemas';

export interface Candidate {
  id: string;
  name: string;
  isDefault: boolean;
  priority: number;
  successCount: number;
  failureCount: number;
}

/** Laplace-smoothed success rate: (s + 1) / (n + 2). A pattern never run scores 0.5. */
export function smoothedSuccessRate(c: Pick<Candidate, 'successCount' | 'failureCount'>): number {
  return (c.successCount + 1) / (c.successCount + c.failureCount + 2);
}

/** Picks one candidate. `random` returns a number in [0, 1); pass a recorded or seeded source where it must replay. */
export function choosePattern<T extends Candidate>(candidates: readonly T[], policy: SelectionPolicy, random: () => number): T {
  if (candidates.length === 0) throw new NoCandidateError();
  const ordered = [...candidates].sort((a, b) => Number(b.isDefault) - Number(a.isDefault) || b.priority - a.priority || a.name.localeCompare(b.name));
  switch (policy) {
    case 'default_first':
      return ordered[0]!;
    case 'random':
      return ordered[Math.min(ordered.length - 1, Math.floor(random() * ordered.length))]!;
    case 'success_weighted': {
      const weights = ordered.map(smoothedSuccessRate);
      const total = weights.reduce((a, b) => a + b, 0);
      let r = random() * total;
      for (let i = 0; i < ordered.length; i++) {
        r -= weights[i]!;
        if (r < 0) return ordered[i]!;
      }
      return ordered[ordered.length - 1]!;
    }
  }
}

export class NoCandidateError extends AppError {
  constructor(container?: string) {
    super(409, 'no_active_pattern', `${container ? `Container "${container}"` : 'The container'} has no active pattern to choose from.`);
  }
}

export interface SelectablePattern extends Candidate {
  versionId: string;
  version: number;
  code: string;
  config: PatternConfig;
  containerId: string;
}

/**
 * Active patterns of an active container of the workspace, each at its current version, with their
 * statistics (live: the rollup plus runs not yet rolled up). None for a container of another workspace.
 */
export async function loadCandidates(sql: TxSql, containerId: string, ws?: WorkspaceRef): Promise<SelectablePattern[]> {
  scheduleStatsRollup(sql);
  return sql<SelectablePattern[]>`
    select p.id, p.name, p.is_default as "isDefault", p.priority, coalesce(st.success_count, 0)::float8 as "successCount",
           coalesce(st.failure_count, 0)::float8 as "failureCount", v.id as "versionId", v.version, v.code, v.config,
           p.container_id as "containerId"
    from patterns p
    join containers c on c.id = p.container_id and c.is_active
    join pattern_versions v on v.id = p.current_version_id
    left join pattern_live_stats st on st.pattern_id = p.id
    where p.container_id = ${containerId} and p.is_active and p.workspace_id = ${workspaceIdOf(sql, ws)}`;
}
