// Valid bodies and forms for every route that takes one, over the bad-input
// walk's fixtures (test/foundation/bad-input.test.ts turns each one hostile).
// A route added without an entry here fails the walk.

type Ids = Record<'containerId' | 'patternId' | 'missionId' | 'taskId' | 'userId' | 'tokenId', string>;
/** `workspaceId`: the caller's own workspace (the switch's target); another's id when absent. */
export type Fixtures = Ids & { workflowId: string; spare: Ids; workspaceId?: string; agent?: AgentFixtures; outreach?: OutreachFixtures };

/** A campaign (on EMAIL), a lead of it, a draft for that lead waiting for approval, a work item about it and a comment, for the outreach, task board and comment routes. */
export interface OutreachFixtures { campaignId: string; leadId: string; draftId: string; workItemId: string; commentId: string }

/** An agent definition, an agent (with its token) and a configuration, for the agent routes. */
export interface AgentFixtures { definitionId: string; agentId: string; configurationId: string; token: string }

const CODE = 'async (input, ctx) => ({ ok: true })';

/** A valid body for each API route that takes one; the walk turns it hostile field by field. */
export const apiBodies = (fx: Fixtures): Record<string, Record<string, unknown>> => {
  const container = { name: 'c', description: 'd', category: 'custom', priority: 0 };
  const pattern = { name: 'p', description: 'd', code: CODE, note: 'n', config: { timeout: 1000, retryCount: 0, failureAction: 'skip' } };
  const task = { name: 't2', order: 1, patternId: fx.patternId, input: { a: 'b' }, approvalTimeoutSeconds: 60 };
  const schedule = { cron: '0 9 * * 1-5', timezone: 'America/Toronto', startDate: '2027-01-01T00:00:00Z', overlap: 'skip', paused: true, note: 'n' };
  const mission = { name: 'm', description: 'd', type: 'scheduled', priority: 'low', containerId: fx.containerId, config: { maxConcurrency: 1, retryDelayMs: 1000 }, schedule, tasks: [task] };
  const reason = { reason: 'r' };
  return {
    'POST /api/users': { username: 'fuzzed', password: 'password-123456', role: 'VIEWER', displayName: 'Fuzz' },
    'PATCH /api/users/:id': { role: 'VIEWER', disabled: false, password: 'password-123456' },
    'POST /api/tokens': { name: 'fuzz', userId: fx.userId, expiresInDays: 3 },
    'POST /api/workspaces': { name: 'Fuzzed team' }, 'PATCH /api/workspace': { name: 'Default' }, 'POST /api/workspace/archive': {},
    'PATCH /api/workspace/settings': { default_llm_config: { provider: 'OpenAI', model: 'gpt-4', max_tokens: 1000 }, timezone: 'America/Toronto' },
    'POST /api/workspace/members': { username: 'admin', role: 'VIEWER' },
    'POST /api/containers': container, 'PUT /api/containers/:id': container, 'PATCH /api/containers/:id': container,
    'POST /api/patterns': { ...pattern, containerId: fx.containerId }, 'PUT /api/patterns/:id': pattern, 'PATCH /api/patterns/:id': pattern,
    'POST /api/patterns/check': { code: CODE },
    'POST /api/patterns/:id/versions/:version/restore': {},
    'POST /api/inject': { patternId: fx.patternId, input: { lead: 'acme' }, timeoutMs: 1000 },
    'PUT /api/settings/safety': { dryRun: true, channels: { email: false } }, 'PATCH /api/settings/safety': { dryRun: true },
    'POST /api/settings/safety/global-pause': { reason: 'r' }, 'POST /api/settings/safety/global-resume': {},
    'POST /api/missions': mission, 'PUT /api/missions/:id': mission, 'PATCH /api/missions/:id': mission,
    'POST /api/missions/:id/tasks': task, 'PUT /api/missions/:id/tasks/:taskId': task, 'PATCH /api/missions/:id/tasks/:taskId': task,
    'POST /api/missions/:id/execute': { input: { campaign: 'spring' } },
    'POST /api/missions/:id/pause': reason, 'POST /api/missions/:id/resume': {},
    'PUT /api/missions/:id/schedule': schedule,
    'POST /api/missions/:id/trigger-secret': {}, 'POST /api/missions/:id/trigger': { lead: 'acme' },
    'POST /api/runs/:workflowId/pause': reason, 'POST /api/runs/:workflowId/resume': reason, 'POST /api/runs/:workflowId/cancel': reason,
    'POST /api/runs/:workflowId/decisions': { taskId: fx.taskId, action: 'approve_with_notes', notes: 'n', output: { x: 'y' } },
    'POST /api/schedules/:missionId/pause': { note: 'n' }, 'POST /api/schedules/:missionId/unpause': { note: 'n' }, 'POST /api/schedules/:missionId/run': {},
    'POST /api/schedules/:missionId/backfill': { start: '2026-01-10T10:30:00Z', end: '2026-01-10T12:30:00Z', overlap: 'allow_all' },
    'PATCH /api/scheduler/jobs/:id': { cron: '0 9 * * 1-5', timezone: 'America/Toronto', overlap: 'skip', paused: true, note: 'n' },
    'POST /api/scheduler/jobs/:id/run-now': {},
    'POST /api/runs/cancel': { workflowIds: [fx.workflowId], reason: 'r' },
    'POST /api/alerts/:id/ack': {}, 'POST /api/alerts/:id/resolve': { note: 'n' }, 'POST /api/alerts/:id/actions/:index': {},
    'POST /api/alert-rules': { name: 'Fuzzed rule', metric: 'data_quality', comparison: '<', threshold: 0.5, severity: 'warning', agentId: null, active: true },
    'PATCH /api/alert-rules/:id': { name: 'Renamed rule', threshold: 0.4, active: false },
    'POST /api/agent/alerts': { severity: 'warning', title: 't', message: 'm', actions: [{ kind: 'open', label: 'l', href: '/agents' }], key: 'fuzz-alert' },
    ...agentBodies(fx),
    ...outreachBodies(fx),
  };
};

/** Campaigns, leads and drafts (api/routes/outreach). */
function outreachBodies(fx: Fixtures): Record<string, Record<string, unknown>> {
  const campaignId = fx.outreach?.campaignId ?? fx.spare.containerId; // without outreach fixtures, an id of the right shape
  const leadId = fx.outreach?.leadId ?? fx.spare.patternId;
  return {
    'POST /api/campaigns': { name: 'Fuzzed campaign', description: 'd', channels: ['EMAIL'] },
    'PATCH /api/campaigns/:id': { name: 'Renamed campaign', description: 'd', channels: ['EMAIL', 'LINKEDIN'], status: 'paused' },
    'POST /api/campaigns/:id/activate': {},
    'POST /api/leads': {
      campaignId, name: 'Fuzzed lead', company: 'c', email: 'a@example.com', website: 'https://example.com', linkedin: 'l', facebook: 'f',
      instagram: 'i', score: 'B', notes: 'n', sourceKey: 'fuzz-lead',
    },
    'PATCH /api/leads/:id': { name: 'Renamed lead', company: 'c', email: 'b@example.com', website: 'https://example.org', linkedin: 'l', score: 'A', notes: 'n' },
    'POST /api/leads/:id/status': { status: 'ENRICHED', note: 'n' },
    'POST /api/leads/:id/score-override': { score: 'A', reason: 'r' },
    'POST /api/drafts': { campaignId, leadId, channel: 'EMAIL', subject: 's', body: 'b', note: 'n', runWorkflowId: fx.workflowId, runTaskId: fx.taskId, sourceKey: 'fuzz-draft' },
    'PATCH /api/drafts/:id': { subject: 's2', body: 'b2', note: 'n', leadId },
    'POST /api/drafts/:id/submit': {},
    'POST /api/drafts/:id/approve': { notes: 'n', version: 1 }, 'POST /api/drafts/:id/reject': { notes: 'n', version: 1 },
    'POST /api/drafts/:id/request-changes': { notes: 'n', version: 1 }, 'POST /api/drafts/:id/approve-with-notes': { notes: 'n', version: 1 },
    'POST /api/drafts/:id/edit-inline-approve': { subject: 's', body: 'b', notes: 'n', version: 1 },
    // The task board's work items (api/routes/board, api/routes/agents/work-items.ts).
    'POST /api/tasks': {
      title: 't', description: 'd', column: 'DOING', priority: 'high', campaignId, leadId, draftId: fx.outreach?.draftId ?? fx.spare.missionId,
      workflowId: fx.workflowId, taskId: fx.taskId, agentId: fx.agent?.agentId ?? fx.spare.userId, assignee: 'a', sourceKey: 'fuzz-task',
    },
    'PATCH /api/tasks/:id': { title: 't2', description: 'd2', priority: 'low', column: 'NEEDS_APPROVAL', note: 'n', assignee: 'b' },
    'POST /api/tasks/:id/notes': { note: 'n' },
    'POST /api/agent/work-items/:id/move': { column: 'DOING', note: 'n' }, 'POST /api/agent/work-items/:id/notes': { note: 'n' },
    // Comments (api/routes/collab).
    'POST /api/comments': { content: 'c @admin', type: 'WARNING', workflowId: fx.workflowId, taskId: fx.taskId, metadata: { a: 'b' } },
    'PATCH /api/comments/:id': { content: 'c2', type: 'NOTE' },
    // The caller's own notifications (api/routes/collab/notifications.ts).
    'PUT /api/notifications/preferences': { muted: ['alert'], emailKinds: ['mention'], email: 'walk@example.com' },
    'POST /api/notifications/read-all': {}, 'POST /api/notifications/:id/read': {},
    'POST /api/playbooks': { name: 'Fuzzed playbook', description: 'd', triggerEventType: 'agent.reported.sync_failed', missionId: fx.missionId, isActive: false },
    'PATCH /api/playbooks/:id': { name: 'Renamed playbook', description: 'd2', triggerEventType: 'alert.', isActive: false },
  };
}

/** Agents' definitions, agents, configurations, commands, and the agent protocol's own bodies. */
function agentBodies(fx: Fixtures): Record<string, Record<string, unknown>> {
  const version = {
    description: 'd', capabilities: ['diagnostics'], note: 'n',
    commands: [{ type: 'COLLECT_DIAGNOSTICS', description: 'd', payloadSchema: { type: 'object', properties: { a: { type: 'string', maxLength: 5 } } }, role: 'OPERATOR', timeoutMs: 5000 }],
    inputsSchema: { type: 'object' }, outputsConfig: [{ key: 'summary', type: 'md', description: 'd' }], triggersConfig: [{ type: 'event', config: { on: 'x' } }], configSchema: { type: 'object' },
  };
  const definitionId = fx.agent?.definitionId ?? fx.spare.containerId; // without agent fixtures, an id of the right shape
  return {
    'POST /api/agent-definitions': { ...version, name: 'Fuzzed kind', category: 'test', status: 'active' },
    'PATCH /api/agent-definitions/:id': { name: 'Renamed kind', category: 'test', status: 'deprecated' },
    'POST /api/agent-definitions/:id/versions': version,
    'POST /api/agents': { name: 'fuzzed-agent', definitionId, kind: 'http', heartbeatIntervalMs: 5000, capabilities: ['x'], metadata: { a: 'b' } },
    'PATCH /api/agents/:id': { name: 'renamed-agent', heartbeatIntervalMs: 5000, capabilities: ['x'], metadata: { a: 'b' } },
    'POST /api/agents/:id/token': {}, 'POST /api/agents/:id/pause': { reason: 'r' }, 'POST /api/agents/:id/resume': {},
    'PUT /api/agents/:id/configuration': { configurationId: null },
    'POST /api/agents/:id/commands': { type: 'COLLECT_DIAGNOSTICS', payload: { a: 'b' }, timeoutMs: 5000, wait: 0 },
    'POST /api/agent-configurations': { definitionId, name: 'Fuzzed config', description: 'd', yaml: 'region: eu\n' },
    'POST /api/agent-configurations/:id/versions': { yaml: 'region: us\n', note: 'n' },
    'POST /api/agent/hello': { version: '1', capabilities: ['x'], metadata: { a: 'b' }, heartbeatIntervalMs: 5000, kind: 'http' },
    'POST /api/agent/heartbeat': { sessionId: fx.spare.userId, status: 'IDLE', currentTask: 't', resourceUsage: {} },
    'POST /api/agent/goodbye': {},
    'POST /api/agent/commands/:id/result': { ok: true, result: { a: 'b' } },
    'POST /api/agent/tasks/:id/result': { ok: true, output: { summary: 's' } }, 'POST /api/agent/tasks/:id/progress': { message: 'm' },
    // Metric and usage values are any finite number: the walk's base bodies leave them out (it would call 0.5 hostile).
    'POST /api/agent/metrics': { samples: [{ at: '2026-01-01T00:00:00Z', values: {} }] },
    'POST /api/agent/events': { events: [{ type: 'sync.done', severity: 'info', message: 'm', payload: { a: 'b' } }] },
    'POST /api/agent/configurations/:version/ack': { status: 'applied', message: 'm' },
  };
}

/** A valid form for each page route that takes one, by path. */
export const uiForms = (fx: Fixtures): Record<string, Record<string, string>> => {
  const planner = {
    name: 'm', description: 'd', type: 'scheduled', priority: 'low', containerId: fx.containerId, maxConcurrency: '1', retryPolicy: 'none',
    retryDelayMs: '1000', alertOnFailure: 'on', onApprovalTimeout: 'reject', scheduled: 'on', cron: '0 9 * * 1-5', timezone: 'America/Toronto',
    startDate: '2027-01-01', overlap: 'skip', intent: 'draft',
    'tasks[t0][name]': 't', 'tasks[t0][order]': '0', 'tasks[t0][source]': `pattern:${fx.patternId}`, 'tasks[t0][input]': '{"a":1}', 'tasks[t0][timeout]': '60',
  };
  const pattern = { name: 'p', description: 'd', priority: '0', timeout: '1000', retryCount: '0', failureAction: 'skip', code: CODE, note: 'n' };
  const container = { name: 'c', description: 'd', category: 'custom', priority: '0', isActive: 'on' };
  const reason = { reason: 'r' };
  return {
    '/login': { username: 'nobody-here', password: 'wrong-password', next: '/' }, '/logout': {},
    '/alerts/:id/ack': {},
    '/runs/:workflowId/pause': reason, '/runs/:workflowId/resume': reason, '/runs/:workflowId/cancel': reason,
    '/runs/:workflowId/decide': { taskId: fx.taskId, action: 'edit_inline_approve', notes: 'n', output: '{"x":1}', from: 'inbox' },
    '/missions': planner, '/missions/:id': planner, '/missions/planner/json': { input: '{}' },
    '/missions/:id/execute': { input: '{"a":1}' }, '/missions/:id/pause': reason, '/missions/:id/resume': reason,
    '/missions/:id/trigger-secret': {}, '/missions/:id/delete': {},
    '/patterns': { ...pattern, containerId: fx.containerId }, '/patterns/:id': pattern, '/patterns/check': { code: CODE },
    '/patterns/:id/test': { input: '{"lead":"acme"}' }, '/patterns/:id/versions/:version/restore': {},
    '/patterns/:id/active': { active: 'true' }, '/patterns/:id/delete': {},
    '/containers': container, '/containers/:id': container, '/containers/:id/delete': {},
    '/schedules/:missionId/pause': { note: 'n' }, '/schedules/:missionId/unpause': { note: 'n' }, '/schedules/:missionId/run': {},
    '/runs/cancel': { workflowIds: fx.workflowId, reason: 'r', status: 'Running', sort: 'oldest', from: '2026-01-01', to: '2026-12-31' },
    '/schedules/:missionId/backfill': { start: '2026-01-10T10:30', end: '2026-01-10T12:30', overlap: 'allow_all' },
    '/schedules/:missionId/trigger': {},
    '/settings/safety/dry-run': { dryRun: 'true' }, '/settings/safety/channels/:channel': { enabled: 'false' },
    '/settings/safety/global-pause': { reason: 'r' }, '/settings/safety/global-resume': {},
    '/settings/users': { username: 'fuzzed2', password: 'password-123456', role: 'VIEWER', displayName: 'F' },
    '/settings/users/:id/role': { role: 'VIEWER' }, '/settings/users/:id/disabled': { disabled: 'false' },
    '/settings/tokens': { name: 'fuzz', userId: fx.userId, expiresInDays: '3' }, '/settings/tokens/:id/revoke': {},
    '/workspaces': { name: 'Fuzzed team' }, '/workspaces/switch': { workspaceId: fx.workspaceId ?? '00000000-0000-4000-8000-000000000000' },
    '/settings/workspace': { name: 'Default' }, '/settings/workspace/archive': {},
    '/settings/workspace/settings': { provider: 'OpenAI', model: 'gpt-4', temperature: '0.5', maxTokens: '1000', timezone: 'America/Toronto' },
    '/settings/members': { username: 'admin', role: 'VIEWER' }, '/settings/members/:id/remove': {},
    ...agentForms(fx),
    ...outreachForms(fx),
  };
};

/** The outreach pages' forms (api/ui/outreach), and the work items' (api/ui/board). */
function outreachForms(fx: Fixtures): Record<string, Record<string, string>> {
  return {
    '/work-items': { title: 't', description: 'd', column: 'DOING', priority: 'high', campaignId: fx.outreach?.campaignId ?? '', assignee: 'a' },
    '/work-items/:id/move': { column: 'DOING', note: 'n' }, '/work-items/:id/notes': { note: 'n' },
    '/inbox/read-all': {}, '/inbox/:id/read': { go: 'open' },
    '/comments': { content: 'c @admin', type: 'WARNING', missionId: fx.missionId }, '/comments/:id/delete': {},
    '/inbox/preferences': { muted: 'alert', emailKinds: 'mention', email: 'walk@example.com' },
    '/campaigns': { name: 'Fuzzed ui campaign', description: 'd', channels: 'EMAIL' }, '/campaigns/:id/activate': {},
    '/leads/:id/score-override': { score: 'A', reason: 'r' }, '/leads/:id/status': { status: 'ENRICHED', note: 'n' },
    '/drafts/:id': { subject: 's2', body: 'b2', note: 'n' }, '/drafts/:id/submit': {},
    '/drafts/:id/decide': { action: 'APPROVE_WITH_NOTES', notes: 'n', version: '1' },
  };
}

/** The agent pages' forms (api/ui/agents). */
function agentForms(fx: Fixtures): Record<string, Record<string, string>> {
  const definitionId = fx.agent?.definitionId ?? fx.spare.containerId; // without agent fixtures, an id of the right shape
  return {
    '/agents': { name: 'fuzzed-ui-agent', definitionId, heartbeatSeconds: '5' },
    '/agents/definitions': {
      name: 'Fuzzed ui kind', category: 'test', status: 'active', description: 'd', capabilities: 'diagnostics, x',
      commands: '[{"type":"COLLECT_DIAGNOSTICS","role":"OPERATOR","payloadSchema":{"type":"object"}}]',
    },
    '/agents/:id/commands': { type: 'COLLECT_DIAGNOSTICS', payload: '{"a":"b"}', timeoutSeconds: '5' },
    '/agents/:id/pause': { reason: 'r' }, '/agents/:id/resume': {},
    '/agents/:id/configuration': { configurationId: fx.agent?.configurationId ?? '' },
    '/agents/:id/configurations': { name: 'Fuzzed config', yaml: 'region: eu\n' },
    '/agents/:id/configuration/versions': { yaml: 'region: us\n', note: 'n' },
    '/agents/:id/token': {}, '/agents/:id/delete': {},
  };
}

