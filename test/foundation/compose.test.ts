// No Docker engine runs here, so the compose file is checked by reading it:
// the services exist and are wired to each other as the README says.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

type Service = {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string }> | string[];
  ports?: string[];
  profiles?: string[];
};
const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const s = compose.services;

describe('docker-compose.yml', () => {
  it('runs PostgreSQL, Temporal, its Web UI, the worker and the web server as separate services', () => {
    expect(Object.keys(s).filter((k) => !s[k]!.profiles).sort()).toEqual(['postgres', 'temporal', 'temporal-ui', 'web', 'worker']);
  });

  it("sketches a tenant on a namespace and a database of its own, in the `tenant` profile only", () => {
    const tenant = Object.keys(s).filter((k) => s[k]!.profiles?.includes('tenant')).sort();
    expect(tenant).toEqual(['temporal-namespace-acme', 'web-acme', 'worker-acme']);
    expect(s['temporal-namespace-acme']!.command!.join(' ')).toMatch(/temporal operator namespace create --namespace acme/);
    for (const name of ['worker-acme', 'web-acme']) {
      const env = s[name]!.environment!;
      expect(env.TEMPORAL_NAMESPACE).toBe('acme');
      expect(String(env.DATABASE_URL)).toMatch(/@postgres:5432\/mission_control_acme$/);
      expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233'); // the same cluster, merged from the main services' settings
      expect(s[name]!.depends_on).toHaveProperty('temporal-namespace-acme');
    }
    expect(s['web-acme']!.ports).toEqual(['3001:3000']);
    const init = readFileSync(new URL('../../deploy/postgres-init/10-tenant-databases.sql', import.meta.url), 'utf8');
    expect(init).toMatch(/create database mission_control_acme;/);
    expect((s.postgres as { volumes?: string[] }).volumes).toContain('./deploy/postgres-init:/docker-entrypoint-initdb.d:ro');
  });

  it('persists Temporal to the PostgreSQL service', () => {
    expect(s.temporal!.image).toMatch(/^temporalio\/auto-setup:/);
    expect(s.temporal!.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgres' });
    expect(s.temporal!.depends_on).toHaveProperty('postgres');
    expect(s['temporal-ui']!.environment!.TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  it('gives Temporal the dynamic config that raises the visibility rate limit', () => {
    const mount = (s.temporal as { volumes?: string[] }).volumes?.find((v) => v.startsWith('./deploy/temporal-dynamic-config.yaml:'));
    expect(mount).toBeDefined();
    expect(mount!.split(':')[1]).toBe(`/etc/temporal/${s.temporal!.environment!.DYNAMIC_CONFIG_FILE_PATH}`);
    const config = parse(readFileSync(new URL('../../deploy/temporal-dynamic-config.yaml', import.meta.url), 'utf8')) as Record<string, { value: unknown }[]>;
    expect(config['frontend.namespaceRPS.visibility']![0]!.value).toBeGreaterThanOrEqual(100);
  });

  it('builds the worker and the web server from the Dockerfile and points both at postgres and temporal', () => {
    for (const name of ['worker', 'web'] as const) {
      const svc = s[name]!;
      expect(svc.build).toBe('.');
      expect(String(svc.environment!.DATABASE_URL)).toMatch(/@postgres:5432\/mission_control$/);
      expect(svc.environment!.TEMPORAL_ADDRESS).toBe('temporal:7233');
      expect(svc.environment!.TEMPORAL_TASK_QUEUE).toBe('mission-control');
      expect(Object.keys(svc.depends_on as object).sort()).toEqual(['postgres', 'temporal']);
    }
    expect(s.worker!.command!.join(' ')).toContain('worker.ts');
    expect(s.web!.command!.join(' ')).toContain('api/server.ts');
    expect(s.web!.environment!.HOST).toBe('0.0.0.0');
    expect(s.web!.ports).toContain('3000:3000');
  });

  it('has a Dockerfile that installs with npm ci and starts the web server by default', () => {
    const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20/m);
    expect(dockerfile).toContain('npm ci');
    expect(dockerfile).toMatch(/CMD .*api\/server\.ts/);
  });
});
