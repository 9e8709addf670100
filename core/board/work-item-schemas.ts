// What the API accepts for the task board's work items (seed 002's tasks), and
// the board's four columns.
import { z } from 'zod';
import { notesText, noteText, text } from '../../lib/text';
import { PRIORITIES } from '../missions/schemas';

/** Seed 002's TaskColumn. */
export const WORK_COLUMNS = ['BACKLOG', 'DOING', 'NEEDS_APPROVAL', 'DONE'] as const;
export type WorkColumn = (typeof WORK_COLUMNS)[number];

const id = (what: string) => z.uuid(`${what} must be an id (a UUID).`);
const title = text().trim().min(1, 'A work item needs a title.').max(200, 'A title is at most 200 characters.');
const description = text().trim().max(5000, 'A description is at most 5000 characters.');
const assignee = text().trim().max(100, 'An assignee is at most 100 characters.').transform((s) => s || null);
/** A mission run: its workflow id. */
export const runWorkflowId = text().regex(/^mission-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-[\w:.-]{1,100}$/, 'workflowId is a mission run id (mission-<missionId>-<suffix>).');

/** What an item is about and who has it; null unlinks. */
const links = {
  campaignId: id('campaignId').nullable().optional(),
  leadId: id('leadId').nullable().optional(),
  draftId: id('draftId').nullable().optional(),
  workflowId: runWorkflowId.nullable().optional(),
  /** One task of the run's mission (needs workflowId). */
  taskId: id('taskId').nullable().optional(),
  agentId: id('agentId').nullable().optional(),
  assignee: assignee.nullable().optional(),
};

export const workItemCreateSchema = z.strictObject({
  title,
  description: description.default(''),
  column: z.enum(WORK_COLUMNS).default('BACKLOG'),
  priority: z.enum(PRIORITIES).default('medium'),
  ...links,
  /** The same key is the same item: a retried create makes it once. */
  sourceKey: text().trim().min(1, 'A sourceKey is not empty.').max(200, 'A sourceKey is at most 200 characters.').optional(),
});
export type WorkItemCreateInput = z.infer<typeof workItemCreateSchema>;

/** Fields, links and (with its optional note) a move to another column, checked as a move; a note alone goes on the timeline. */
export const workItemPatchSchema = z.strictObject({
  title: title.optional(),
  description: description.optional(),
  priority: z.enum(PRIORITIES).optional(),
  ...links,
  column: z.enum(WORK_COLUMNS).optional(),
  note: noteText().optional(),
}).refine((p) => Object.values(p).some((v) => v !== undefined), 'Change a field, a link or the column.');
export type WorkItemPatch = z.infer<typeof workItemPatchSchema>;

export const workItemNoteSchema = z.strictObject({ note: notesText().min(1, 'A note is not empty.') });
