// What every request handler can reach: the process's dependencies and the
// per-request variables the middleware sets.
import type { Context } from 'hono';
import type { Sql } from '../db/sql';
import { ForbiddenError } from '../lib/errors';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';
import type { TemporalHandle } from '../lib/temporal';
import { actorOf, type MemberWorkspace, type SignedInUser } from '../core/access/users';
import type { Adapters } from '../core/safety/outbound';
import type { SandboxPool } from '../activities/sandbox/pool';

export interface AppDeps {
  sql: Sql;
  temporal: TemporalHandle;
  logger: Logger;
  config: Config;
  sessionSecret: string;
  startedAt: Date;
  /** Runs patterns for inject and checks their code as it is saved. */
  sandbox: SandboxPool;
  adapters: Adapters;
}

/** The workspace a request acts in (its session's or its token's), with the caller's role there. */
export type CurrentWorkspace = MemberWorkspace;

export interface AppEnv {
  Variables: {
    requestId: string;
    /** Signed in; `role` is the one in `workspace`. */
    user: SignedInUser | null;
    /** Null when signed out, or signed in but no longer a member of the session's or token's workspace. */
    workspace: CurrentWorkspace | null;
    session: { id: string; csrfToken: string } | null;
    /** The agent an agent token (`mca_…`) speaks for, on the agent protocol's routes only (/api/agent/*). */
    agent: { id: string; name: string; workspaceId: string; keyVersion: number } | null;
  };
}

/** The request's workspace: authorize() has made sure there is one on every route that is not public. */
export function currentWorkspace(c: Context<AppEnv>): CurrentWorkspace {
  const ws = c.get('workspace');
  if (!ws) throw new ForbiddenError('You are not a member of this workspace.');
  return ws;
}

/** The request's workspace and the signed-in member acting in it, with their role there (for checks a route leaves to the domain). */
export function actingMember(c: Context<AppEnv>) {
  const ws = currentWorkspace(c);
  return { ws, actor: { ...actorOf(c.get('user')!), role: ws.role } };
}

/** The agent protocol's routes: agent tokens only (client/agent/protocol.ts). */
export function isAgentPath(path: string): boolean {
  return path === '/api/agent' || path.startsWith('/api/agent/');
}

/** The agent a request speaks for: authorize('agent') has made sure there is one. */
export function currentAgent(c: Context<AppEnv>): NonNullable<AppEnv['Variables']['agent']> {
  const agent = c.get('agent');
  if (!agent) throw new ForbiddenError('This route takes an agent token.');
  return agent;
}

/** API routes answer JSON; everything else is the HTML UI. */
export function isApiPath(path: string): boolean {
  return path === '/api' || path.startsWith('/api/');
}

/** Paths that answer JSON (errors included) and accept bearer tokens: the API and health. */
export function isJsonPath(path: string): boolean {
  // /metrics answers Prometheus' text, but speaks as the API does: tokens, and errors as JSON.
  return isApiPath(path) || path === '/health' || path.startsWith('/health/') || path === '/metrics';
}
