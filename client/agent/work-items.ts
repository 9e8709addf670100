// The task board from an agent's side: the work items it holds, moved to DOING
// or NEEDS_APPROVAL as it works them (DONE is an admin's), and notes on their
// timelines. Mission Control answers only for items held by this agent.

export const WORK_COLUMNS = ['BACKLOG', 'DOING', 'NEEDS_APPROVAL', 'DONE'] as const;
export type WorkColumn = (typeof WORK_COLUMNS)[number];

/** A work item as the agent sees it (the API's fields; dates as ISO text). */
export interface AgentWorkItem {
  id: string;
  title: string;
  description: string;
  column: WorkColumn;
  priority: string;
  campaignId: string | null;
  leadId: string | null;
  draftId: string | null;
  workflowId: string | null;
  taskId: string | null;
  updatedAt: string;
}

export type AgentRequest = <T>(method: 'GET' | 'POST', path: string, body?: unknown) => Promise<T>;

export class AgentWorkItems {
  constructor(private readonly request: AgentRequest) {}

  /** The items this agent holds, in one column or all. */
  async list(column?: WorkColumn): Promise<AgentWorkItem[]> {
    const query = column ? `?column=${column}` : '';
    return (await this.request<{ workItems: AgentWorkItem[] }>('GET', `/work-items${query}`)).workItems;
  }

  /** Moves an item this agent holds; moving it to the column it is in changes nothing. */
  async move(id: string, column: Exclude<WorkColumn, 'DONE'>, note?: string): Promise<AgentWorkItem> {
    const body = { column, ...(note ? { note } : {}) };
    return (await this.request<{ workItem: AgentWorkItem }>('POST', `/work-items/${encodeURIComponent(id)}/move`, body)).workItem;
  }

  async note(id: string, note: string): Promise<void> {
    await this.request('POST', `/work-items/${encodeURIComponent(id)}/notes`, { note });
  }
}
