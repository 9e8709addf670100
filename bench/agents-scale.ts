// Part 3 of bench/agents.ts: a fleet of agents (1,000 unless BENCH_AGENTS says
// otherwise) heartbeating every 10 s on one web process. The agents are
// registered through the core (createAgent: tokens hashed, signing secrets
// derived), then connected by bench/agents-fleet.ts in a process of its own;
// the web process' CPU and memory are read from /proc over a timed window
// that opens once every agent is connected and has heartbeated once.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { SYSTEM_ACTOR } from '../core/audit/audit-log';
import { agentSigningKey, createAgent } from '../core/agents/agents';
import { agentCreateSchema } from '../core/agents/schemas';
import type { FleetAgent, FleetReport, FromFleet, ToFleet } from './agents-fleet';
import { REPO, memoryMb, treeCpuMs, usageBetween, usageNow, type WebProcess } from './agents-web';
import { elapsed, fmt, log, stats, table, type Cleanup } from './lib';
import type { Stack } from './stack';

export const HEARTBEAT_MS = 10_000;
export const GOALS = { cpuFraction: 0.1, rssMb: 300, statusP99Ms: 1000 };

export interface ScaleOptions {
  stack: Stack;
  cleanup: Cleanup;
  web: WebProcess;
  adminToken: string;
  /** POST to the web process as the admin; returns the JSON body (throws unless `expect`). */
  post(path: string, body: unknown, expect?: number): Promise<any>;
  agents: number;
  seconds: number;
  /** Every flipEvery-th agent changes its status at each heartbeat. */
  flipEvery: number;
}

export interface ScaleResult {
  cpuFraction: number;
  rssMb: number;
  statusP99Ms: number;
}

/** The fleet process, and its messages one at a time. */
function startFleet(cleanup: Cleanup) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/agents-fleet.ts'], { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const inbox: FromFleet[] = [];
  let wake: (() => void) | null = null;
  let exited = false;
  child.on('message', (m: FromFleet) => (inbox.push(m), wake?.()));
  child.once('exit', () => ((exited = true), wake?.()));
  cleanup.add('stop the fleet process', () => {
    if (!exited) child.kill('SIGKILL');
  });
  const next = async <T extends FromFleet['type']>(type: T, timeoutMs: number): Promise<Extract<FromFleet, { type: T }>> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = inbox.shift();
      if (m?.type === 'error') throw new Error(`the fleet process failed: ${m.message}`);
      if (m?.type === type) return m as Extract<FromFleet, { type: T }>;
      if (m) continue;
      if (exited) throw new Error('the fleet process exited');
      if (Date.now() > deadline) throw new Error(`no "${type}" from the fleet process after ${timeoutMs / 1000} s`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 1000).unref();
      });
      wake = null;
    }
  };
  return { pid: child.pid!, send: (m: ToFleet) => child.send(m), next, done: () => exited };
}

export async function fleetOnOneWebProcess(o: ScaleOptions): Promise<ScaleResult> {
  const t0 = performance.now();
  const suffix = randomUUID().slice(0, 8);
  const { definition } = await o.post('/api/agent-definitions', { name: `Fleet agent ${suffix}`, category: 'bench', status: 'active', capabilities: ['fleet'] }, 201);
  const key = await agentSigningKey(o.stack.sql, o.stack.config.MC_AGENT_SIGNING_KEY);
  const agents: FleetAgent[] = [];
  for (let i = 0; i < o.agents; i += 10) {
    const batch = Array.from({ length: Math.min(10, o.agents - i) }, (_, k) => i + k);
    agents.push(...(await Promise.all(batch.map(async (n) => {
      const input = agentCreateSchema.parse({ name: `fleet-${String(n).padStart(4, '0')}-${suffix}`, definitionId: definition.id, heartbeatIntervalMs: HEARTBEAT_MS });
      const { agent, token, signingSecret } = await createAgent(o.stack.sql, input, SYSTEM_ACTOR, key);
      return { id: agent.id, token, signingSecret };
    }))));
  }
  log(`  ${o.agents} agents registered in ${elapsed(t0)}`);

  // The web process with nothing connected, for comparison.
  const idle0 = { cpu: treeCpuMs(o.web.pid), at: performance.now() };
  await new Promise((r) => setTimeout(r, 5000));
  const idle = { fraction: (treeCpuMs(o.web.pid) - idle0.cpu) / (performance.now() - idle0.at), ...memoryMb(o.web.pid) };

  const fleet = startFleet(o.cleanup);
  fleet.send({ cmd: 'start', url: o.web.url, adminToken: o.adminToken, agents, rampMs: HEARTBEAT_MS, flipEvery: o.flipEvery });
  const ready = await fleet.next('ready', 180_000);
  log(`  fleet connected: ${ready.connected} hellos, ${ready.streams} streams open, in ${fmt(ready.ms / 1000)} s`);
  await new Promise((r) => setTimeout(r, HEARTBEAT_MS + 2000)); // every agent has heartbeated at least once since

  const before = { usage: await usageNow(o.stack, o.web.pid), fleet: treeCpuMs(fleet.pid) };
  fleet.send({ cmd: 'reset' });
  await new Promise((r) => setTimeout(r, o.seconds * 1000));
  fleet.send({ cmd: 'report' });
  const { report } = await fleet.next('report', 30_000);
  const after = { usage: await usageNow(o.stack, o.web.pid), fleet: treeCpuMs(fleet.pid), mem: memoryMb(o.web.pid) };
  const used = usageBetween(before.usage, after.usage);
  const fleetShare = (after.fleet - before.fleet) / (after.usage.at - before.usage.at);

  fleet.send({ cmd: 'stop' });
  await fleet.next('stopped', 60_000).catch((err) => log(`  (fleet stop: ${(err as Error).message})`));
  return print(o, report, { used, fleetShare, mem: after.mem, idle, ready });
}

function print(
  o: ScaleOptions, r: FleetReport,
  m: { used: ReturnType<typeof usageBetween>; fleetShare: number; mem: { rss: number; peak: number }; idle: { fraction: number; rss: number }; ready: { connected: number } },
): ScaleResult {
  const hb = stats(r.heartbeatMs);
  const st = stats(r.statusMs);
  const cpuFraction = m.used.web;
  const pct = (x: number) => `${fmt(x * 100)} %`;
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const expected = (m.ready.connected * r.seconds * 1000) / HEARTBEAT_MS;
  log(table(['measure', 'value', 'goal', ''], [
    ['web process CPU (of one core)', pct(cpuFraction), `<= ${pct(GOALS.cpuFraction)}`, verdict(cpuFraction <= GOALS.cpuFraction)],
    ['web process RSS (end; peak)', `${fmt(m.mem.rss, 0)} MB; ${fmt(m.mem.peak, 0)} MB`, `<= ${GOALS.rssMb} MB`, verdict(m.mem.peak <= GOALS.rssMb)],
    ['heartbeat-to-status p50 / p99', `${fmt(st.p50)} / ${fmt(st.p99)} ms`, `p99 <= ${GOALS.statusP99Ms} ms`, verdict(st.p99 <= GOALS.statusP99Ms)],
    ['  status changes timed; not seen in 5 s', `${st.n}; ${r.statusMissed}`, '', ''],
    ['heartbeat round trip p50 / p99 / max', `${fmt(hb.p50)} / ${fmt(hb.p99)} / ${fmt(hb.max)} ms`, '', ''],
    ['heartbeats answered; failed', `${hb.n} (${fmt(hb.n / r.seconds)}/s, ${fmt((hb.n / expected) * 100, 0)} % of due); ${r.heartbeatErrors}`, '', ''],
    ['streams opened (reconnects); hellos failed', `${r.streamOpens} (${r.streamOpens - m.ready.connected}); ${r.helloFailures}`, '', ''],
    ['web CPU per heartbeat (all of its work / heartbeats)', `${fmt((m.used.web * m.used.seconds * 1000) / Math.max(1, hb.n), 2)} ms`, '', ''],
    ['PostgreSQL transactions/s; per heartbeat', `${fmt(m.used.xacts, 0)}; ${fmt((m.used.xacts * m.used.seconds) / Math.max(1, hb.n), 1)}`, '', ''],
    ['PostgreSQL / Temporal CPU (of one core)', `${pct(m.used.postgres)} / ${pct(m.used.temporal)}`, '', ''],
    ['fleet process CPU (not the web\'s)', pct(m.fleetShare), '', ''],
    ['web process idle, no agents connected', `${pct(m.idle.fraction)}, ${fmt(m.idle.rss, 0)} MB`, '', ''],
  ]));
  if (r.firstError) log(`  first error: ${r.firstError}`);
  return { cpuFraction, rssMb: m.mem.peak, statusP99Ms: st.p99 };
}
