// After `npm install`: the npm registry mirror this project is developed
// against lacks some platform binaries that packages list as optional (for
// example @swc/core's macOS and Windows builds). npm then leaves them out of
// package-lock.json, and `npm ci` refuses the lock as out of sync. This adds
// a stub entry (version, os, cpu; never fetched on other platforms) for each
// exact-version optional dependency the lock is missing. Idempotent.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';

const LOCK = new URL('../package-lock.json', import.meta.url);

function platformOf(name) {
  const os = /darwin/.test(name) ? 'darwin' : /win32/.test(name) ? 'win32' : /freebsd/.test(name) ? 'freebsd' : /android/.test(name) ? 'android' : 'linux';
  const cpu = /arm64|aarch64/.test(name) ? 'arm64' : /ia32/.test(name) ? 'ia32' : /-arm-|armv7|gnueabihf/.test(name) ? 'arm' : /ppc64/.test(name) ? 'ppc64' : /s390x/.test(name) ? 's390x' : /riscv64/.test(name) ? 'riscv64' : 'x64';
  return { os, cpu };
}

try {
  if (!existsSync(LOCK)) process.exit(0);
  const lock = JSON.parse(readFileSync(LOCK, 'utf8'));
  const packages = lock.packages ?? {};
  const added = [];
  for (const [path, entry] of Object.entries(packages)) {
    for (const [dep, spec] of Object.entries(entry.optionalDependencies ?? {})) {
      if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(spec)) continue; // only exact versions can be stubbed faithfully
      const base = path === '' ? 'node_modules/' : `${path}/node_modules/`;
      const key = packages[`${base}${dep}`] || packages[`node_modules/${dep}`] ? null : `node_modules/${dep}`;
      if (!key) continue;
      const { os, cpu } = platformOf(dep);
      packages[key] = { version: spec, cpu: [cpu], optional: true, os: [os] };
      added.push(`${dep}@${spec}`);
    }
  }
  if (added.length) {
    lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
    writeFileSync(LOCK, `${JSON.stringify(lock, null, 2)}\n`);
    console.log(`complete-lockfile: added ${added.length} optional platform package(s) the registry does not serve: ${added.join(', ')}`);
  }
} catch (err) {
  console.warn(`complete-lockfile: skipped (${err.message})`);
}
