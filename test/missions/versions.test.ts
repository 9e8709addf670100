// Changing the workflow safely (README "Changing the workflow safely"): a run
// started by the previous release's workflow code finishes under this one,
// and the recorded histories are append-only.
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildPlan } from '../../core/missions/missions';
import { startOptions } from '../../core/runs/start';
import { MISSION_WORKFLOW_TYPE, missionWorkflowId } from '../../lib/names';
import { startMissionWorker, type RunningWorker } from '../../worker';
import { decisionSignal } from '../../workflows/messages';
import { json, type ApiClient, type TestApp } from '../helpers/app';
import { makeMission, makePattern, missionEnv, result, waitFor, type MissionEnv } from '../helpers/missions';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HISTORIES = path.join(ROOT, 'test/fixtures/histories');

/** The workflow code of each earlier release, by the commit it landed in. */
const RELEASES = {
  'first release (inline outputs, signals only)': { sha: '7760aee0cc53d9592707c4441f6d9b0c66282611' },
  'second release (outputs by reference, Updates; input without a version)': { sha: '680fb71b635a3ea1e2f0df9020db7ba494228e05' },
  'third release (input version 3: no patch marker; run events by activity)': { sha: '93a384cf6714a50ca03fa7c359b15c679c9fa2d0', version: 3 },
};

const hasCommit = (sha: string) => {
  try {
    execFileSync('git', ['cat-file', '-e', `${sha}^{commit}`], { cwd: ROOT, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** Bundles the workflow code as it was at `sha` (workflows/ and the names it imports). */
async function bundleAt(sha: string): Promise<string> {
  // Inside the checkout (.tmp/ is ignored by git), so the bundler resolves @temporalio/* from its node_modules.
  await mkdir(path.join(ROOT, '.tmp'), { recursive: true });
  const dir = await mkdtemp(path.join(ROOT, '.tmp/release-'));
  const files = execFileSync('git', ['ls-tree', '-r', '--name-only', sha, 'workflows', 'lib/names.ts'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n');
  for (const f of files) {
    await mkdir(path.join(dir, path.dirname(f)), { recursive: true });
    await writeFile(path.join(dir, f), execFileSync('git', ['show', `${sha}:${f}`], { cwd: ROOT }));
  }
  const noop = () => {};
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(dir, 'workflows/index.ts'),
    logger: { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: (m: string) => console.error(m) },
  });
  const codePath = path.join(inject('tmpDir'), `release-${sha.slice(0, 12)}.js`);
  await writeFile(codePath, code);
  await rm(dir, { recursive: true, force: true });
  return codePath;
}

describe.each(Object.entries(RELEASES))('a run started by the %s', (_name, { sha, version }: { sha: string; version?: number }) => {
  let env: MissionEnv;
  let t: TestApp;
  let admin: ApiClient;
  let oldBundle: string;
  const workers: RunningWorker[] = [];

  beforeAll(async () => {
    if (!hasCommit(sha)) throw new Error(`This clone lacks commit ${sha}; the release tests need the repository's history (not a shallow clone).`);
    oldBundle = await bundleAt(sha);
    env = await missionEnv();
    ({ t, admin } = env);
    await env.worker.stop(); // this file runs its own workers, old code first
  });
  afterAll(async () => {
    for (const w of workers) await w.stop().catch(() => {});
    await t?.close();
  });

  const startWorker = async (codePath: string) => {
    const w = await startMissionWorker({
      config: t.config, sql: t.db.sql, logger: t.deps.logger, address: inject('temporalAddress'), sandbox: t.deps.sandbox,
      adapters: t.deps.adapters, workflowBundle: { codePath },
    });
    workers.push(w);
    return w;
  };

  it('finishes under this release: decided through the API and the CLI signal, outputs passed on', async () => {
    const draft = await makePattern(admin, env.containerId, 'async (i) => ({ draft: `Hi ${i.to}` })', { failureAction: 'skip' });
    const send = await makePattern(admin, env.containerId, 'async (i, ctx) => ({ sent: ctx.previous.review.draft, edited: ctx.previous.edit })');
    const missionId = await makeMission(env.operator, {
      containerId: env.containerId,
      tasks: [
        { name: 'review', order: 0, patternId: draft, input: { to: 'Ada' }, requiresApproval: true },
        { name: 'edit', order: 1, patternId: draft, input: { to: 'Bo' }, requiresApproval: true },
        { name: 'send', order: 2, patternId: send },
      ],
    });
    const old = await startWorker(oldBundle);
    // Started as that release started runs: with its input version, or none before the third (README: workers first, then the API).
    const plan = await buildPlan(t.db.sql, missionId);
    const workflowId = missionWorkflowId(missionId, randomUUID().slice(0, 13));
    await t.deps.temporal.client.workflow.start(MISSION_WORKFLOW_TYPE, {
      taskQueue: t.config.TEMPORAL_TASK_QUEUE, workflowId, ...startOptions(plan, 'manual'),
      args: [{ ...(version ? { version } : {}), missionId, trigger: 'manual', plan, startedBy: { id: null, name: env.operatorName } }],
    });
    const waiting = await waitFor(t, workflowId, (p) => p.status === 'NeedsApproval');
    await old.stop();

    // The new code takes over the run it did not start.
    await startWorker(inject('workflowBundlePath'));
    const viaApi = await admin.request('POST', `/api/runs/${workflowId}/decisions`, { taskId: waiting.tasks[0]!.id, action: 'approve' });
    expect(viaApi.status).toBe(200);
    expect((await json(viaApi)).task.decisions).toEqual([expect.objectContaining({ action: 'approve', actor: 'admin' })]);
    const second = await waitFor(t, workflowId, (p) => p.tasks[1]!.status === 'awaiting_approval');
    await t.deps.temporal.client.workflow.getHandle(workflowId).signal(decisionSignal, {
      taskId: second.tasks[1]!.id, action: 'edit_inline_approve', output: { draft: 'Hello Bo' }, actor: 'admin',
    });
    const final = await result(t, workflowId);
    expect(final.status).toBe('Completed');
    expect(final.tasks.map((x) => x.status)).toEqual(['completed', 'completed', 'completed']);
    expect(final.tasks[2]!.output).toEqual({ sent: 'Hi Ada', edited: { draft: 'Hello Bo' } });
  });
});

describe('recorded histories', () => {
  it('are append-only: every one recorded is still there, unchanged, and listed in the manifest', () => {
    const manifest = readFileSync(path.join(HISTORIES, 'MANIFEST'), 'utf8').trim().split('\n').filter((l) => l && !l.startsWith('#'));
    const listed = new Map(manifest.map((l) => [l.split(/\s+/)[1]!, l.split(/\s+/)[0]!]));
    const files = readdirSync(HISTORIES).filter((f) => f.endsWith('.json')).sort();
    expect(files.filter((f) => !listed.has(f)), 'histories missing from test/fixtures/histories/MANIFEST').toEqual([]);
    for (const [file, sha] of listed) {
      expect(existsSync(path.join(HISTORIES, file)), `${file} was removed`).toBe(true);
      expect(createHash('sha256').update(readFileSync(path.join(HISTORIES, file))).digest('hex'), `${file} was changed`).toBe(sha);
    }
  });
});
