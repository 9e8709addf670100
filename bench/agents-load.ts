// Part 4 of bench/agents.ts: commands sent at a fixed rate (open loop: one
// every 1/rate s, whatever is still in flight), each caller waiting for its
// result, counted where they arrive (the agents' handlers, by the number each
// payload carries) and where their results come back (the callers); next to
// bare workflows of one trivial activity started at the same rate by the
// bench's Temporal client: what the machine itself sustains.
import { randomUUID } from 'node:crypto';
import type { AgentClient } from '../client/agent/http-agent';
import type { Ctx } from './agents-measures';
import { memoryMb, usageBetween, usageNow } from './agents-web';
import { fmt, log, stats, table, type Stats } from './lib';

export interface Receiver {
  id: string;
  client: AgentClient;
  /** Handler calls by payload number. */
  received: Map<number, number>;
}

interface Load {
  total: number;
  ok: number;
  outcomes: Map<string, number>;
  firstProblem: string | null;
  sendRate: number;
  maxLag: number;
  drainSeconds: number;
  latency: Stats;
  /** While sending (the steady state), and from the first send until the last answer (per item). */
  sending: ReturnType<typeof usageBetween>;
  whole: ReturnType<typeof usageBetween>;
  rssMb: number;
}

/** `one(n)` for n = 0 .. rate*seconds-1, started on schedule; it returns an outcome ('ok' counts as delivered) and may say why not. */
async function atRate(ctx: Ctx, rate: number, seconds: number, one: (n: number) => Promise<{ outcome: string; problem?: string }>): Promise<Load> {
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  const outcomes = new Map<string, number>();
  let firstProblem: string | null = null;
  const timed = async (n: number) => {
    const t = performance.now();
    const r = await one(n).catch((err: Error) => ({ outcome: 'request failed', problem: err.message }));
    if (r.outcome === 'ok') latencies.push(performance.now() - t);
    outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
    if (r.problem) firstProblem ??= r.problem;
  };
  const u0 = await usageNow(ctx.stack, ctx.web.pid);
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  let maxLag = 0;
  for (let n = 0; n < total; n++) {
    const due = start + (n * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    maxLag = Math.max(maxLag, performance.now() - due);
    inflight.push(timed(n));
  }
  const sendSeconds = (performance.now() - start) / 1000;
  const u1 = await usageNow(ctx.stack, ctx.web.pid);
  const rssMb = memoryMb(ctx.web.pid).rss;
  await Promise.all(inflight);
  const drainSeconds = (performance.now() - start) / 1000 - sendSeconds;
  const u2 = await usageNow(ctx.stack, ctx.web.pid);
  return {
    total, ok: outcomes.get('ok') ?? 0, outcomes, firstProblem, sendRate: total / sendSeconds, maxLag, drainSeconds,
    latency: stats(latencies), sending: usageBetween(u0, u1), whole: usageBetween(u0, u2), rssMb,
  };
}

/** A command to a receiver; 'ok' once it succeeded with its payload's number echoed (a 202 is followed until it settles). */
function commandTo(ctx: Ctx, receivers: Receiver[], counts: { late: number }) {
  return async (n: number): Promise<{ outcome: string; problem?: string }> => {
    const { id } = receivers[n % receivers.length]!;
    let { status, body } = await ctx.api('POST', `/api/agents/${id}/commands`, { type: 'ECHO', payload: { n }, wait: 60, timeoutMs: 120_000 });
    if (status === 202) counts.late++;
    for (const until = Date.now() + 120_000; status === 202 && Date.now() < until; ) {
      await new Promise((r) => setTimeout(r, 1000));
      const again = await ctx.api('GET', `/api/agents/${id}/commands/${body.command.id}`);
      if (!['queued', 'delivered'].includes(again.body?.command?.status)) ({ status, body } = { status: 200, body: again.body });
    }
    const c = body?.command;
    if (status === 200 && c?.status === 'succeeded' && c.result?.n === n) return { outcome: 'ok' };
    return { outcome: status === 200 ? `command ${c?.status}` : `HTTP ${status}`, problem: `HTTP ${status}: ${JSON.stringify(body).slice(0, 300)}` };
  };
}

export async function sustainedCommands(ctx: Ctx, receivers: Receiver[], rate: number, seconds: number) {
  const { client, call } = ctx.bench;
  const taskQueue = ctx.stack.config.TEMPORAL_TASK_QUEUE;
  const bare = await atRate(ctx, rate, seconds, async () => {
    const r = (await call(() => client.workflow.execute('bareSequentialWorkflow', { taskQueue, workflowId: `bench-bare-${randomUUID()}`, args: [1] }))) as { ok?: boolean };
    return r?.ok === true ? { outcome: 'ok' } : { outcome: 'wrong result', problem: JSON.stringify(r) };
  });
  await new Promise((r) => setTimeout(r, 2000));
  const dup0 = receivers.reduce((a, x) => a + x.client.stats.duplicateFrames, 0);
  const counts = { late: 0 };
  const cmd = await atRate(ctx, rate, seconds, commandTo(ctx, receivers, counts));
  await new Promise((r) => setTimeout(r, 1000)); // a straggling duplicate frame would have come by now
  let once = 0, never = 0, more = 0;
  for (let n = 0; n < cmd.total; n++) {
    const times = receivers[n % receivers.length]!.received.get(n) ?? 0;
    if (times === 1) once++;
    else if (times === 0) never++;
    else more++;
  }
  const dupFrames = receivers.reduce((a, x) => a + x.client.stats.duplicateFrames, 0) - dup0;

  const pct = (x: number) => `${fmt(x * 100)} %`;
  const perItem = (l: Load, share: number) => fmt((share * l.whole.seconds * 1000) / Math.max(1, l.total), 1);
  const col = (l: Load, isCommand: boolean) => [
    `${l.total}; ${fmt(l.sendRate)}/s (sender <= ${fmt(l.maxLag, 0)} ms late)`,
    `${l.ok} (${fmt((l.ok / Math.max(1, l.total)) * 100, 2)} %)${isCommand && counts.late ? `, ${counts.late} after a 202 and polling` : ''}`,
    `${l.total - l.ok}${l.total > l.ok ? ` (${[...l.outcomes].filter(([k]) => k !== 'ok').map(([k, v]) => `${k}: ${v}`).join(', ')})` : ''}`,
    isCommand ? `${once}; ${never}; ${more}` : '-',
    isCommand ? String(dupFrames) : '-',
    `${fmt(l.latency.p50)} / ${fmt(l.latency.p90)} / ${fmt(l.latency.p99)} / ${fmt(l.latency.max)}`,
    `${fmt(l.drainSeconds)} s`,
    `${pct(l.sending.web)} / ${pct(l.sending.main)} / ${pct(l.sending.temporal)} / ${pct(l.sending.postgres)}`,
    `${perItem(l, l.whole.web)} / ${perItem(l, l.whole.main)} / ${perItem(l, l.whole.temporal)} / ${perItem(l, l.whole.postgres)}`,
    fmt((l.whole.xacts * l.whole.seconds) / Math.max(1, l.total), 1),
    `${fmt(l.rssMb, 0)} MB`,
  ];
  const labels = [
    'sent; rate achieved', 'callers with their result', 'lost (no result)', 'at the agents: exactly once; never; twice+', 'frames delivered again (client dropped them)',
    'round trip p50 / p90 / p99 / max ms', 'drain after the last send', 'CPU while sending: web / this / Temporal / PG', 'CPU ms per item: web / this / Temporal / PG',
    'PostgreSQL transactions per item', 'web process RSS at the end of sending',
  ];
  const c = col(cmd, true);
  const b = col(bare, false);
  log(table(['measure', 'api commands (ECHO)', 'bare workflows'], labels.map((label, i) => [label, c[i]!, b[i]!])));
  log('  "this" = the bench process: the worker, the callers and the receiving agents; CPU as a fraction of one core.');
  if (cmd.firstProblem) log(`  first problem (commands): ${cmd.firstProblem}`);
  if (bare.firstProblem) log(`  first problem (bare): ${bare.firstProblem}`);
  return { total: cmd.total, ok: cmd.ok, lost: cmd.total - cmd.ok, once, rate: cmd.sendRate, bareOk: bare.ok, bareTotal: bare.total };
}
