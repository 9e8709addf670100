// Checks a port before a component binds it, so a clash is one clear line.
import net from 'node:net';

export class PortInUseError extends Error {}

export async function assertPortFree(port: number, host: string, what: string, envVar: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') {
        reject(new PortInUseError(
          `Port ${port} on ${host} (${what}) is ${err.code === 'EACCES' ? 'not allowed' : 'already in use'}. ` +
          `Stop whatever is using it, or set ${envVar} to another port.`,
        ));
      } else reject(err);
    });
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve()));
  });
}

/** A free port chosen by the OS (tests). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port: 0, host }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
