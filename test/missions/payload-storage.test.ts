// Payloads too big for Temporal's history (a large run input, an edited
// output) go through the SDK's external storage to PostgreSQL: the history
// holds a claim, the run reads the real value, and storing is idempotent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAYLOAD_STORAGE_THRESHOLD } from '../../lib/payload-storage';
import { json } from '../helpers/app';
import { execute, makeMission, makePattern, missionEnv, result, waitFor, type MissionEnv } from '../helpers/missions';

let env: MissionEnv;
beforeAll(async () => {
  env = await missionEnv();
});
afterAll(async () => env?.close());

const historyBytes = async (workflowId: string) => {
  const history = await env.t.deps.temporal.client.workflow.getHandle(workflowId).fetchHistory();
  return JSON.stringify(history).length;
};

describe('a run whose input and edited output are larger than history should hold', () => {
  it('keeps them in PostgreSQL, and the run sees them whole', async () => {
    const { admin, operator, containerId, t } = env;
    const big = 'x'.repeat(PAYLOAD_STORAGE_THRESHOLD + 50_000);
    const echo = await makePattern(admin, containerId, 'async (i, ctx) => ({ inputLength: ctx.mission.input.text.length })');
    const after = await makePattern(admin, containerId, 'async (i, ctx) => ({ editedLength: ctx.previous.review.text.length })');
    const missionId = await makeMission(operator, {
      containerId, tasks: [{ name: 'review', order: 0, patternId: echo, requiresApproval: true }, { name: 'after', order: 1, patternId: after }],
    });
    const before = (await t.db.sql`select count(*)::int as n from temporal_payloads`)[0]!.n as number;
    const workflowId = await execute(operator, missionId, { text: big });
    const waiting = await waitFor(t, workflowId, (p) => p.status === 'NeedsApproval');
    expect(waiting.tasks[0]!.output).toEqual({ inputLength: big.length });
    const edited = await admin.request('POST', `/api/runs/${workflowId}/decisions`, { taskId: waiting.tasks[0]!.id, action: 'edit_inline_approve', output: { text: big } });
    expect(edited.status).toBe(200);
    expect((await json(edited)).task.outputRef.bytes).toBeGreaterThan(PAYLOAD_STORAGE_THRESHOLD);
    const final = await result(t, workflowId);
    expect(final.tasks[1]!.output).toEqual({ editedLength: big.length });
    // The start input and the decision went to PostgreSQL; the history holds claims, not the text.
    const after2 = (await t.db.sql`select count(*)::int as n from temporal_payloads`)[0]!.n as number;
    expect(after2 - before).toBeGreaterThanOrEqual(2);
    expect(await historyBytes(workflowId)).toBeLessThan(PAYLOAD_STORAGE_THRESHOLD);
  });
});
