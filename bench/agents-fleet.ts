// The simulated fleet of bench/agents.ts, run as a process of its own so that
// its CPU does not count against the web server's: one shipped AgentClient
// (client/agent/http-agent.ts, the real protocol) per agent, each saying hello,
// keeping its stream of work open and heartbeating at its interval. Every
// `flipEvery`-th agent flips its status IDLE <-> RUNNING at each heartbeat, and
// one observer follows GET /api/events/stream?type=agent.status_changed as the
// admin, as the agents page does: heartbeat-to-status is the time from sending
// such a heartbeat to its status change arriving there.
//
// Driven over IPC by bench/agents-scale.ts: start -> ready, reset (a new
// window), report -> the window's samples, stop -> goodbyes, stopped.
import { createParser } from 'eventsource-parser';
import { AgentClient } from '../client/agent/http-agent';
import type { HeartbeatRequest, ReportedStatus } from '../client/agent/protocol';

export interface FleetAgent {
  id: string;
  token: string;
  signingSecret: string;
}

export type ToFleet =
  | { cmd: 'start'; url: string; adminToken: string; agents: FleetAgent[]; rampMs: number; flipEvery: number }
  | { cmd: 'reset' }
  | { cmd: 'report' }
  | { cmd: 'stop' };

export interface FleetReport {
  seconds: number;
  /** Heartbeat round trips answered 2xx in the window (ms), and the ones that failed (network or status). */
  heartbeatMs: number[];
  heartbeatErrors: number;
  firstError: string | null;
  /** Heartbeat sent -> its agent.status_changed event seen by the observer (ms), and the changes not seen within 5 s. */
  statusMs: number[];
  statusMissed: number;
  /** Streams opened since the start (a reconnect opens one more) and hellos that failed for good. */
  streamOpens: number;
  helloFailures: number;
  /** This process' own CPU in the window (ms). */
  cpuMs: number;
}

export type FromFleet =
  | { type: 'ready'; connected: number; streams: number; ms: number }
  | { type: 'report'; report: FleetReport }
  | { type: 'stopped' }
  | { type: 'error'; message: string };

const quiet = { info: () => {}, warn: () => {} };
const send = (m: FromFleet) => process.send!(m);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MISSED_AFTER_MS = 5000;

const clients: AgentClient[] = [];
/** Per flipping agent: the status the server shows, and the change sent but not yet seen on the event stream. */
const shown = new Map<string, ReportedStatus>();
const pending = new Map<string, { status: ReportedStatus; at: number }>();
let window = { heartbeatMs: [] as number[], heartbeatErrors: 0, firstError: null as string | null, statusMs: [] as number[], statusMissed: 0, at: performance.now(), cpu: process.cpuUsage() };
let streamOpens = 0;
let helloFailures = 0;
let observer: AbortController | null = null;

function networkOf(agent: FleetAgent, flips: boolean, client: () => AgentClient): typeof fetch {
  return async (input, init) => {
    const url = String(input);
    if (url.endsWith('/stream')) {
      const res = await fetch(input, init);
      if (res.ok) streamOpens++;
      return res;
    }
    if (!url.endsWith('/heartbeat')) return fetch(input, init);
    const { status } = JSON.parse(String(init?.body)) as HeartbeatRequest;
    const t = performance.now();
    if (flips && status !== shown.get(agent.id)) pending.set(agent.id, { status, at: t });
    try {
      const res = await fetch(input, init);
      if (!res.ok) {
        window.heartbeatErrors++;
        window.firstError ??= `HTTP ${res.status}: ${(await res.clone().text()).slice(0, 200)}`;
        return res;
      }
      window.heartbeatMs.push(performance.now() - t);
      if (flips) {
        shown.set(agent.id, status);
        client().setStatus(status === 'IDLE' ? 'RUNNING' : 'IDLE'); // the next heartbeat changes it again
      }
      return res;
    } catch (err) {
      window.heartbeatErrors++;
      window.firstError ??= (err as Error).message;
      throw err;
    }
  };
}

/** The admin's view of status changes: each one that a flipping agent's heartbeat caused, timed. */
async function observe(url: string, adminToken: string): Promise<void> {
  observer = new AbortController();
  const res = await fetch(`${url}/api/events/stream?type=agent.status_changed`, {
    headers: { Authorization: `Bearer ${adminToken}`, Accept: 'text/event-stream' }, signal: observer.signal,
  });
  if (!res.ok || !res.body) throw new Error(`the event stream answered ${res.status}`);
  const parser = createParser({
    onEvent: (m) => {
      if (m.event !== 'agent.status_changed') return;
      const e = JSON.parse(m.data) as { entityId: string; payload: { to?: string; reason?: string } };
      const p = pending.get(e.entityId);
      if (p && e.payload.reason === 'heartbeat' && p.status === e.payload.to) {
        window.statusMs.push(performance.now() - p.at);
        pending.delete(e.entityId);
      }
    },
  });
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) return;
      parser.feed(decoder.decode(value, { stream: true }));
    }
  })();
}

async function start(m: Extract<ToFleet, { cmd: 'start' }>): Promise<void> {
  const t0 = performance.now();
  await observe(m.url, m.adminToken);
  await Promise.all(m.agents.map(async (agent, i) => {
    await sleep((i * m.rampMs) / m.agents.length); // spread over one interval, as a fleet that did not start in step
    const flips = i % m.flipEvery === 0;
    if (flips) shown.set(agent.id, 'IDLE'); // hello brings it online as IDLE
    const client: AgentClient = new AgentClient({
      url: m.url, token: agent.token, signingSecret: agent.signingSecret, version: '1.0.0', logger: quiet,
      fetch: networkOf(agent, flips, () => client),
    });
    for (let attempt = 0; ; attempt++) {
      try {
        await client.start();
        clients.push(client);
        return;
      } catch (err) {
        if (attempt >= 4) {
          helloFailures++;
          window.firstError ??= `hello: ${(err as Error).message}`;
          return;
        }
        await sleep(500 * 2 ** attempt);
      }
    }
  }));
  const deadline = performance.now() + 60_000;
  while (streamOpens < clients.length && performance.now() < deadline) await sleep(100);
  send({ type: 'ready', connected: clients.length, streams: streamOpens, ms: performance.now() - t0 });
}

function report(): FleetReport {
  const now = performance.now();
  for (const [id, p] of pending) {
    if (now - p.at > MISSED_AFTER_MS) {
      window.statusMissed++;
      pending.delete(id);
    }
  }
  const cpu = process.cpuUsage(window.cpu);
  const { heartbeatMs, heartbeatErrors, firstError, statusMs, statusMissed } = window;
  return { seconds: (now - window.at) / 1000, heartbeatMs, heartbeatErrors, firstError, statusMs, statusMissed, streamOpens, helloFailures, cpuMs: (cpu.user + cpu.system) / 1000 };
}

process.on('message', (m: ToFleet) => {
  const run = async () => {
    if (m.cmd === 'start') return start(m);
    if (m.cmd === 'reset') {
      window = { heartbeatMs: [], heartbeatErrors: 0, firstError: null, statusMs: [], statusMissed: 0, at: performance.now(), cpu: process.cpuUsage() };
      return;
    }
    if (m.cmd === 'report') return send({ type: 'report', report: report() });
    observer?.abort();
    await Promise.all(clients.map((c) => c.stop().catch(() => {})));
    send({ type: 'stopped' });
    process.disconnect();
  };
  run().catch((err) => send({ type: 'error', message: (err as Error).stack ?? String(err) }));
});
process.on('disconnect', () => setTimeout(() => process.exit(0), 100).unref());
