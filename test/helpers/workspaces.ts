// A second workspace for the isolation tests (no route makes one yet), and the two
// comparisons they share: an answer with its ids masked, and pages that must not leak.
import { expect } from 'vitest';
import { apiClient, signIn, userWithRole, type ApiClient, type Browser, type TestApp } from './app';

/** Workspace B, made directly in the database, with its own admin's token and session. */
export async function secondWorkspace(t: TestApp, name: string): Promise<{ id: string; admin: ApiClient; browser: Browser }> {
  const id = (await t.db.owner<{ id: string }[]>`insert into workspaces (name) values (${name}) returning id`)[0]!.id;
  const b = await userWithRole(t, 'ADMIN', id);
  return { id, admin: apiClient(t, b.token), browser: await signIn(t, b.username, b.password) };
}

export type Answer = { status: number; location: string | null; trigger: string | null; body: string };

/** An answer with every id in `ids` replaced by its name (pairs may repeat a name), so that two answers compare whatever ids they were about. */
export async function maskedAnswer(res: Response, ids: Record<string, string> | [string, string][], body: (s: string) => string = (s) => s): Promise<Answer> {
  const pairs = Array.isArray(ids) ? ids : Object.entries(ids);
  const mask = (s: string | null) => s && pairs.reduce((out, [name, id]) => out.replaceAll(id, `:${name}`), s);
  return { status: res.status, location: mask(res.headers.get('location')), trigger: mask(res.headers.get('hx-trigger')), body: body(mask(await res.text())!) };
}

/** Every page answers 200 and shows none of the marks (another workspace's ids and names). */
export async function expectNoLeaks(pages: Promise<Response>[], marks: string[]): Promise<void> {
  for (const res of await Promise.all(pages)) {
    const text = await res.text();
    expect(res.status).toBe(200);
    for (const mark of marks) expect(text).not.toContain(mark);
  }
}
