// Start-up edges a new user meets: bad configuration, a port in use, and the
// logger keeping secrets out of its lines.
import net from 'node:net';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { assertPortFree, PortInUseError } from '../../lib/ports';

describe('configuration', () => {
  it('has defaults for everything, and names each bad variable', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ PORT: 3000, HOST: '127.0.0.1', TEMPORAL_TASK_QUEUE: 'mission-control', MC_PG_PORT: 5433 });
    expect(() => loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud' })).toThrow(/PORT:[\s\S]*LOG_LEVEL:/);
  });
});

describe('a port already in use', () => {
  it('is one clear sentence naming the component and the variable to change', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as net.AddressInfo;
    try {
      const err = await assertPortFree(port, '127.0.0.1', 'web server', 'PORT').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PortInUseError);
      expect((err as Error).message).toBe(`Port ${port} on 127.0.0.1 (web server) is already in use. Stop whatever is using it, or set PORT to another port.`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    await expect(assertPortFree(port, '127.0.0.1', 'web server', 'PORT')).resolves.toBeUndefined();
  });
});

describe('the logger', () => {
  it('redacts passwords, tokens, secrets, cookies and authorization headers', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const log = createLogger({ level: 'info', format: 'json', destination: sink });
    log.info({ password: 'hunter2-password', token: 'mc_secret_token_value', user: { password: 'p4ssw0rd-nested', secret: 's3cret' }, req: { headers: { authorization: 'Bearer mc_abc', cookie: 'mc_session=xyz' } } }, 'sign in');
    const text = lines.join('');
    expect(text).toContain('sign in');
    for (const secret of ['hunter2-password', 'mc_secret_token_value', 'p4ssw0rd-nested', 's3cret', 'Bearer mc_abc', 'mc_session=xyz']) expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
  });
});
