// GET /api/openapi.json: the JSON API as an OpenAPI 3.1 document, read from
// the app's own routes, so that it names every route the app serves and the
// bodies its validators check.
import { isJsonPath } from '../../api/context';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, json, type TestApp } from '../helpers/app';
import { declaredRoutes } from '../helpers/route-walk';

let t: TestApp;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let doc: any;
beforeAll(async () => {
  t = await createTestApp();
  const res = await t.app.request('/api/openapi.json');
  expect(res.status).toBe(200);
  doc = await json(res);
});
afterAll(() => t?.close());

const isJson = isJsonPath; // the app's own rule: /api, /health and /metrics

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 and needs no credentials to read', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'Mission Control API', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('has every JSON route the app serves, with the access it declares, and nothing else', () => {
    const served = declaredRoutes(t).filter((r) => isJson(r.path)).map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
    const documented = Object.entries(doc.paths as Record<string, Record<string, { 'x-mission-control-access': string }>>)
      .flatMap(([path, ops]) => Object.entries(ops).map(([m, op]) => ({ key: `${m} ${path}`, access: op['x-mission-control-access'] })));
    expect(served.length).toBeGreaterThan(100);
    // declaredRoutes leaves out the public ones (the health probes, this document): they are documented as public.
    expect(documented.filter((d) => d.access !== 'public').map((d) => d.key).sort()).toEqual([...new Set(served)].sort());
    expect(documented.filter((d) => d.access === 'public').map((d) => d.key)).toEqual(expect.arrayContaining(['get /health/live', 'get /health/ready', 'get /api/openapi.json']));
    expect(doc.paths['/api/leads/{id}/score-override'].post['x-mission-control-access']).toBe('ADMIN');
    expect(doc.paths['/api/agent/heartbeat'].post['x-mission-control-access']).toBe('agent');
  });

  it('says what each body, query and path parameter must be, from the validators themselves', () => {
    const create = doc.paths['/api/campaigns'].post;
    const body = create.requestBody.content['application/json'].schema;
    expect(body).toMatchObject({ type: 'object', required: expect.arrayContaining(['name']) });
    expect(body.properties.channels.items.enum).toEqual(['EMAIL', 'FACEBOOK', 'INSTAGRAM', 'LINKEDIN']);
    expect(body.additionalProperties).toBe(false);
    const list = doc.paths['/api/leads'].get.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`);
    expect(list).toEqual(expect.arrayContaining(['query:campaignId', 'query:status', 'query:score', 'query:limit']));
    const one = doc.paths['/api/runs/{workflowId}'].get.parameters.find((p: { name: string }) => p.name === 'workflowId');
    expect(one).toMatchObject({ in: 'path', required: true, schema: { type: 'string', pattern: expect.any(String) } });
  });
});
