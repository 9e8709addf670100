/// <reference lib="dom" />
// The agent pages in a real browser: an admin defines a kind and registers an
// agent from /agents (its token and secret shown once), the shipped client
// connects with them and its card turns Idle without a reload; on its page a
// command is sent and its answer shown, a bad payload is refused in words,
// pausing and resuming reach the agent, a configuration is written in YAML
// (a mistake said with its line), assigned and acknowledged, and its versions
// diffed; the agent leaving turns it Offline, live. A viewer sees no admin forms.
import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../client/agent/http-agent';
import { startWebServer, type RunningWeb } from '../../api/server';
import { json, userWithRole } from '../helpers/app';
import { launchChromium, signedInPage } from '../helpers/browser';
import { missionEnv, type MissionEnv } from '../helpers/missions';

let env: MissionEnv;
let web: RunningWeb;
let browser: Browser;
let client: AgentClient | undefined;
const consoleErrors: string[] = [];
const shots = process.env.MC_SCREENSHOTS;

beforeAll(async () => {
  env = await missionEnv();
  web = await startWebServer(env.t.deps, { port: 0, host: '127.0.0.1' });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await client?.stop().catch(() => {});
  await browser?.close();
  await web?.close();
  await env?.close();
});

const shot = async (page: Page, name: string) => { if (shots) await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true }); };

describe('the agent pages', () => {
  it('register an agent, follow it live, command, pause, configure it and see it leave', async () => {
    const page = await signedInPage(browser, web.url, consoleErrors);
    await page.goto(`${web.url}/agents`);
    await expect.poll(() => page.locator('#agents-start-title').textContent()).toBe('No agents yet');

    // A kind of agent: the commands' example list is already there to edit.
    const definitionForm = page.locator('form', { has: page.getByRole('button', { name: 'Define', exact: true }) });
    await definitionForm.getByLabel('Name').fill('Reporter <b>kind</b>');
    await definitionForm.getByLabel('Capabilities').fill('diagnostics, reports');
    await definitionForm.getByRole('button', { name: 'Define', exact: true }).click();
    await expect.poll(() => page.locator('#definition-new').textContent()).toContain('Defined Reporter <b>kind</b>');
    expect(await page.locator('#definition-new b').count()).toBe(0);
    expect(await page.locator('select#ra-definition').count()).toBe(1);

    // Register one: the credentials are shown once, in the answer.
    const registerForm = page.locator('form', { has: page.getByRole('button', { name: 'Register', exact: true }) });
    // The new kind is chosen already in the register form's list (replaced out of band).
    expect(await registerForm.locator('#ra-definition option:checked').textContent()).toContain('Reporter <b>kind</b>');
    await registerForm.getByLabel('Name').fill('reporter-1');
    await registerForm.getByLabel('Heartbeat every (seconds)').fill('1');
    await registerForm.getByRole('button', { name: 'Register', exact: true }).click();
    await page.getByLabel('Agent token').waitFor();
    const token = await page.getByLabel('Agent token').inputValue();
    const signingSecret = await page.getByLabel('Signing secret').inputValue();
    expect(token).toMatch(/^mca_/);
    await shot(page, 'agents-registered');

    // The shipped client connects with them; the card turns Idle without a reload.
    let diagnostics = 0;
    const applied: number[] = [];
    client = new AgentClient({ url: web.url, token, signingSecret, version: '4.5.6', heartbeatIntervalMs: 1000, logger: { info: () => {}, warn: () => {} } })
      .onCommand('COLLECT_DIAGNOSTICS', () => ({ uptime: ++diagnostics }))
      .onConfiguration((cfg) => void applied.push(cfg.version));
    await client.start();
    await client.reportMetrics({ cpu: 12.5 });
    const card = page.locator('.agent-card', { hasText: 'reporter-1' });
    await expect.poll(() => card.locator('.agent-status').textContent(), { timeout: 15_000 }).toContain('Idle');
    await expect.poll(() => card.textContent()).toContain('version 4.5.6');
    await shot(page, 'agents-fleet');

    // Its page: a command answered, and a bad payload refused in words.
    await card.getByRole('link', { name: 'reporter-1' }).click();
    await page.waitForURL(/\/agents\/[0-9a-f-]{36}$/);
    await page.getByLabel('Command', { exact: true }).selectOption('COLLECT_DIAGNOSTICS');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await expect.poll(() => page.locator('#command-result').textContent()).toContain('COLLECT_DIAGNOSTICS succeeded');
    expect(await page.locator('#command-result pre').textContent()).toContain('"uptime": 1');
    await expect.poll(() => page.locator('#agent-commands').textContent()).toContain('succeeded');
    await page.getByLabel('Payload (JSON)').fill('{"extra": true}');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await expect.poll(() => page.locator('#command-result').textContent()).toContain('Not sent.');
    expect(diagnostics).toBe(1);
    await page.getByLabel('Payload (JSON)').fill('{oops');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await expect.poll(() => page.locator('#command-result').textContent()).toContain('Payload');
    expect(diagnostics).toBe(1);

    // Paused: the agent is told, and its status says so; resumed, it is Idle again.
    await page.getByLabel('Reason').fill('maintenance');
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => page.locator('#agent-overview .agent-status').first().textContent()).toContain('Paused');
    await expect.poll(() => page.locator('#agent-overview').textContent()).toContain('“maintenance”');
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => page.locator('#agent-overview .agent-status').first().textContent(), { timeout: 15_000 }).toContain('Idle');

    // A configuration in YAML: a mistake is said with its line, then one is made, assigned and acknowledged.
    await page.getByLabel('Configuration name').fill('Nightly');
    await page.getByLabel('YAML', { exact: true }).fill('region: eu\nbatch: [1\n');
    await page.getByRole('button', { name: 'Create and assign' }).click();
    await expect.poll(() => page.locator('#configuration-edit [role=alert]').textContent()).toMatch(/line \d+, column \d+/);
    expect(await page.getByLabel('Configuration name').inputValue()).toBe('Nightly'); // kept
    await page.getByLabel('YAML', { exact: true }).fill('region: eu\nbatch: 10\n');
    await page.getByRole('button', { name: 'Create and assign' }).click();
    await expect.poll(() => page.locator('#configuration').textContent(), { timeout: 15_000 }).toContain('applied');
    await page.getByLabel('New version (YAML)').fill('region: us\nbatch: 10\n');
    await page.getByLabel('Note').fill('move west');
    await page.getByRole('button', { name: 'Save version' }).click();
    await expect.poll(() => page.locator('#configuration').textContent(), { timeout: 15_000 }).toContain('applied v2');
    await page.getByText('Changes from v1').click();
    expect(await page.locator('#configuration .diff').textContent()).toContain('region: us');
    expect(applied).toEqual([1, 2]);
    await shot(page, 'agent-page');

    // It leaves: Offline, without a reload.
    await client.stop();
    client = undefined;
    await expect.poll(() => page.locator('#agent-overview .agent-status').first().textContent(), { timeout: 15_000 }).toContain('Offline');
    await expect.poll(() => page.locator('#agent-events').textContent()).toContain('goodbye');
    expect(consoleErrors).toEqual([]);
  });

  it('shows a viewer the fleet and the agent without the admin forms, and the commands above their role disabled', async () => {
    const kind = await json(await env.admin.request('POST', '/api/agent-definitions', {
      name: 'Viewer-test kind', status: 'active', commands: [{ type: 'COLLECT_DIAGNOSTICS', role: 'OPERATOR' }],
    }));
    expect((await env.admin.request('POST', '/api/agents', { name: 'seen-by-viewer', definitionId: kind.definition.id })).status).toBe(201);
    const viewer = await userWithRole(env.t, 'VIEWER');
    const page = await signedInPage(browser, web.url, consoleErrors, viewer);
    await page.goto(`${web.url}/agents`);
    await page.locator('.agent-card', { hasText: 'seen-by-viewer' }).waitFor();
    expect(await page.getByRole('button', { name: 'Register', exact: true }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Define', exact: true }).count()).toBe(0);
    await page.getByRole('link', { name: 'seen-by-viewer' }).click();
    await page.waitForURL(/\/agents\/[0-9a-f-]{36}$/);
    expect(await page.getByRole('button', { name: 'Pause' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Rotate token' }).count()).toBe(0);
    expect(await page.locator('#send-command').count()).toBe(0); // every command of the kind needs OPERATOR
    expect(consoleErrors).toEqual([]);
  });
});
