// What the API accepts for comments (seed 004): their types, and what a
// comment may be about. SYSTEM is the engine's own: no one writes one by hand.
import { z } from 'zod';
import { text } from '../../lib/text';
import { runWorkflowId } from '../board/work-item-schemas';

export const COMMENT_TYPES = ['NOTE', 'SYSTEM', 'ERROR', 'WARNING', 'SUCCESS'] as const;
export type CommentType = (typeof COMMENT_TYPES)[number];
/** The types a person (or an agent) writes. */
export const WRITTEN_TYPES = ['NOTE', 'ERROR', 'WARNING', 'SUCCESS'] as const;

const id = (what: string) => z.uuid(`${what} must be an id (a UUID).`);
const content = text().trim().min(1, 'A comment is not empty.').max(10_000, 'A comment is at most 10000 characters.');
const type = z.enum(WRITTEN_TYPES, 'type is NOTE, ERROR, WARNING or SUCCESS (SYSTEM comments are the engine’s own).');
const metadata = z.record(z.string().max(100), z.unknown())
  .refine((m) => JSON.stringify(m).length <= 4000, 'metadata is at most 4000 characters of JSON.');

export const commentCreateSchema = z.strictObject({
  content,
  type: type.default('NOTE'),
  missionId: id('missionId').optional(),
  /** A run (its workflow id); with taskId, one task of it. */
  workflowId: runWorkflowId.optional(),
  taskId: id('taskId').optional(),
  agentId: id('agentId').optional(),
  metadata: metadata.optional(),
}).refine((c) => c.missionId || c.workflowId || c.agentId, 'A comment is about a mission, a run or an agent: name one (missionId, workflowId or agentId).')
  .refine((c) => !c.taskId || c.workflowId, 'A task is one of a run: name the run with workflowId.');
export type CommentInput = z.infer<typeof commentCreateSchema>;

export const commentPatchSchema = z.strictObject({ content: content.optional(), type: type.optional() })
  .refine((p) => p.content !== undefined || p.type !== undefined, 'Change the content or the type.');
export type CommentPatch = z.infer<typeof commentPatchSchema>;
