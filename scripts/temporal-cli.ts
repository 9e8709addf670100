// Finds the Temporal CLI, or builds the pinned version once per machine into
// a cache folder every clone shares (DESIGN.md, "Running it").
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isMain } from '../lib/is-main';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const MODULE = 'github.com/temporalio/cli/cmd/temporal';

export function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'mission-control', `temporal-${TEMPORAL_CLI_VERSION}`);
}

function onPath(name: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const found = r.stdout.trim();
  return r.status === 0 && found ? found : undefined;
}

export class TemporalCliMissing extends Error {}

/** Returns the path of a working `temporal` binary, building it if needed. */
export async function ensureTemporalCli(opts: { explicit?: string; log?: (line: string) => void } = {}): Promise<string> {
  const log = opts.log ?? ((line: string) => console.log(line));
  if (opts.explicit) {
    if (!existsSync(opts.explicit)) throw new TemporalCliMissing(`TEMPORAL_CLI points at ${opts.explicit}, which does not exist.`);
    return opts.explicit;
  }
  const fromPath = onPath('temporal');
  if (fromPath) return fromPath;
  const cached = path.join(cacheDir(), 'temporal');
  if (existsSync(cached)) return cached;

  const go = onPath('go');
  if (!go) {
    throw new TemporalCliMissing(
      [
        'The Temporal CLI was not found, and Go is not installed to build it.',
        'Install one of:',
        '  - the Temporal CLI: https://docs.temporal.io/cli#install (put `temporal` on PATH or set TEMPORAL_CLI), or',
        `  - Go 1.22+, then run \`npm start\` again: it builds ${MODULE}@${TEMPORAL_CLI_VERSION} into ${cacheDir()}.`,
        'Or point TEMPORAL_ADDRESS at a Temporal server you already run.',
      ].join('\n'),
    );
  }
  await mkdir(cacheDir(), { recursive: true });
  log(`Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with Go into ${cacheDir()} (once per machine; the first build takes a few minutes)…`);
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(go, ['install', `${MODULE}@${TEMPORAL_CLI_VERSION}`], {
      env: { ...process.env, GOBIN: cacheDir(), CGO_ENABLED: process.env.CGO_ENABLED ?? '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const ticker = setInterval(() => log(`  …still building the Temporal CLI (${Math.round((Date.now() - started) / 1000)} s)`), 30_000);
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (err) => {
      clearInterval(ticker);
      reject(err);
    });
    child.on('close', (code) => {
      clearInterval(ticker);
      if (code === 0) resolve();
      else
        reject(
          new TemporalCliMissing(
            `Building the Temporal CLI failed (go install exited with ${code}). Last output:\n${output}\n` +
              'Install the Temporal CLI yourself (https://docs.temporal.io/cli#install) and put it on PATH or set TEMPORAL_CLI.',
          ),
        );
    });
  });
  log(`Built the Temporal CLI in ${Math.round((Date.now() - started) / 1000)} s.`);
  return cached;
}

// `tsx scripts/temporal-cli.ts`: provision the CLI ahead of time (CI does) and print its path.
if (isMain(import.meta.url)) {
  ensureTemporalCli({ explicit: process.env.TEMPORAL_CLI || undefined })
    .then((cli) => console.log(cli))
    .catch((err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
