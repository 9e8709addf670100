// Parts 1 and 2 of bench/agents.ts, against the web process and the bench's
// worker: a command's round trip next to a bare Temporal activity's (and where
// its time goes, from its workflow's history); a mission task on an agent next
// to the same task as a sandboxed pattern.
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { AGENT_COMMAND_WORKFLOW_TYPE } from '../client/agent/protocol';
import type { CommandOutcome } from '../core/agents/commands';
import type { Progress } from '../workflows/messages';
import { treeCpuMs, type WebProcess } from './agents-web';
import { fmt, log, stats, table, type Stats } from './lib';
import type { BenchClient, Stack } from './stack';

const { EventType } = proto.temporal.api.enums.v1;

export type Api = (method: string, path: string, body?: unknown, expect?: number) => Promise<{ status: number; body: any }>;

export interface Ctx {
  stack: Stack;
  bench: BenchClient;
  web: WebProcess;
  api: Api;
}

interface Subject {
  name: string;
  what: string;
  run(): Promise<void>;
}

/** Each subject once per round, the order rotating each round so that drift weighs on all alike; ms. */
async function interleaved(subjects: Subject[], iterations: number, warmup: number): Promise<Map<string, Stats>> {
  for (let i = 0; i < warmup; i++) for (const s of subjects) await s.run();
  const samples = new Map(subjects.map((s) => [s.name, [] as number[]]));
  for (let i = 0; i < iterations; i++) {
    for (let k = 0; k < subjects.length; k++) {
      const s = subjects[(i + k) % subjects.length]!;
      const t = performance.now();
      await s.run();
      samples.get(s.name)!.push(performance.now() - t);
    }
  }
  return new Map([...samples].map(([name, xs]) => [name, stats(xs)]));
}

/** Prints subjects with their ratio to `base` at p50 and p99; returns the ratios of `subject`. */
function ratioTable(subjects: Subject[], measured: Map<string, Stats>, base: string, extra: (s: Subject) => string[] = () => []): Map<string, { p50: number; p99: number }> {
  const b = measured.get(base)!;
  const ratios = new Map<string, { p50: number; p99: number }>();
  const rows = subjects.map((s) => {
    const m = measured.get(s.name)!;
    ratios.set(s.name, { p50: m.p50 / b.p50, p99: m.p99 / b.p99 });
    return [s.name, String(m.n), fmt(m.p50), fmt(m.p90), fmt(m.p99), fmt(m.max), `${fmt(m.p50 / b.p50, 2)}x`, `${fmt(m.p99 / b.p99, 2)}x`, ...extra(s)];
  });
  log(table(['subject', 'n', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', `p50/${base}`, `p99/${base}`], rows));
  log(subjects.map((s) => `  ${s.name}: ${s.what}`).join('\n'));
  return ratios;
}

/** 1. API -> agent -> result, the same command started on Temporal directly (as the CLI does), and the bare round trip. */
export async function commandRoundTrip(ctx: Ctx, agentId: string, iterations: number, warmup: number) {
  const { client, call } = ctx.bench;
  const taskQueue = ctx.stack.config.TEMPORAL_TASK_QUEUE;
  let commands = 0;
  const last = { api: '', cli: '', bare: '' };
  const subjects: Subject[] = [
    {
      name: 'api command', what: `POST /api/agents/:id/commands {type: PING, wait: 30}, answered by the shipped AgentClient, 200 with its result`,
      run: async () => {
        const { body } = await ctx.api('POST', `/api/agents/${agentId}/commands`, { type: 'PING', payload: {}, wait: 30 }, 200);
        if (body.command.status !== 'succeeded' || body.command.result?.pong !== true) throw new Error(`PING came back ${JSON.stringify(body.command).slice(0, 300)}`);
        last.api = body.command.workflowId;
        commands++;
      },
    },
    {
      name: 'temporal command', what: `${AGENT_COMMAND_WORKFLOW_TYPE} started and awaited by a Temporal client (the CLI's way: no API, checked in the workflow)`,
      run: async () => {
        last.cli = `bench-cli-${randomUUID()}`;
        const outcome = (await call(() => client.workflow.execute(AGENT_COMMAND_WORKFLOW_TYPE, {
          taskQueue, workflowId: last.cli, args: [{ agentId, type: 'PING', payload: {}, actor: ctx.stack.config.MC_ADMIN_USERNAME }],
        }))) as CommandOutcome;
        if (outcome.status !== 'succeeded') throw new Error(`the CLI-style PING came back ${JSON.stringify(outcome).slice(0, 300)}`);
      },
    },
    {
      name: 'bare', what: 'bareSequentialWorkflow(1): one trivial activity on the same worker and task queue, started and awaited by the bench client',
      run: async () => {
        last.bare = `bench-bare-${randomUUID()}`;
        const r = (await call(() => client.workflow.execute('bareSequentialWorkflow', { taskQueue, workflowId: last.bare, args: [1] }))) as { ok?: boolean };
        if (r?.ok !== true) throw new Error(`the bare workflow returned ${JSON.stringify(r)}`);
      },
    },
  ];
  const cpu0 = treeCpuMs(ctx.web.pid);
  const measured = await interleaved(subjects, iterations, warmup);
  const webMsPerCommand = (treeCpuMs(ctx.web.pid) - cpu0) / commands;
  const ratios = ratioTable(subjects, measured, 'bare');
  log(`  web process CPU per API command (warm-up included): ${fmt(webMsPerCommand, 1)} ms`);
  log('  where the time goes: the last run of each, from its history (ms after the workflow started; act = activity, wft = workflow task):');
  for (const [name, id] of [['api command', last.api], ['temporal command', last.cli], ['bare', last.bare]] as const) {
    log(`    ${name}: ${await call(() => timeline(client, id))}`);
  }
  return ratios.get('api command')!;
}

/** 2. One task on an agent against the same task as a sandboxed pattern: a mission run each, through the API. */
export async function taskOnAgent(ctx: Ctx, o: { agentId: string; containerId: string; patternId: string }, iterations: number, warmup: number) {
  const task = { name: 'write', order: 0, input: { topic: 'agents' } };
  const mission = async (extra: Record<string, unknown>) =>
    (await ctx.api('POST', '/api/missions', { name: `bench-${randomUUID().slice(0, 8)}`, type: 'manual', status: 'active', containerId: o.containerId, tasks: [{ ...task, ...extra }] }, 201)).body.mission.id as string;
  const onAgent = await mission({ agent: { selection: 'fixed', agentId: o.agentId, timeoutSeconds: 30 } });
  const onPattern = await mission({ patternId: o.patternId });
  const runOf = (missionId: string) => async () => {
    const { body } = await ctx.api('POST', `/api/missions/${missionId}/execute`, {}, 201);
    const p = (await ctx.bench.call(() => ctx.bench.client.workflow.getHandle(body.workflowId).result())) as Progress;
    if (p.status !== 'Completed' || p.tasks[0]?.status !== 'completed') throw new Error(`run ${body.workflowId} ended ${JSON.stringify(p).slice(0, 400)}`);
  };
  const subjects: Subject[] = [
    { name: 'agent task', what: 'POST /api/missions/:id/execute of one task {agent: fixed}, the AgentClient answers {summary}; until the run completes', run: runOf(onAgent) },
    { name: 'pattern task', what: 'the same task with a pattern `async (input) => ({ summary: ... })` in the sandbox; until the run completes', run: runOf(onPattern) },
  ];
  const ratios = ratioTable(subjects, await interleaved(subjects, iterations, warmup), 'pattern task');
  return ratios.get('agent task')!;
}

/** One run's history as `event@ms` from its start: scheduled -> completed of each task, in order. */
async function timeline(client: Client, workflowId: string): Promise<string> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const ms = (e: (typeof events)[number]) => Number(e.eventTime?.seconds ?? 0) * 1000 + (e.eventTime?.nanos ?? 0) / 1e6;
  const t0 = events.length ? ms(events[0]!) : 0;
  const names = new Map<number, string>();
  return events.map((e) => {
    const type = String(EventType[e.eventType ?? 0]).replace(/^EVENT_TYPE_/, '').toLowerCase()
      .replace('workflow_execution_', 'run-').replace('workflow_task_', 'wft-').replace('activity_task_', 'act-');
    const scheduled = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (scheduled) names.set(Number(e.eventId), scheduled);
    const of = e.activityTaskCompletedEventAttributes?.scheduledEventId ?? e.activityTaskFailedEventAttributes?.scheduledEventId;
    const label = scheduled ?? (of !== undefined && of !== null ? names.get(Number(of)) : undefined);
    return `${type}${label ? `(${label})` : ''}@${fmt(ms(e) - t0, 0)}`;
  }).filter((x) => !x.startsWith('act-started')).join(' ');
}
