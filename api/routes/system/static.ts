// Static assets: our CSS and JS from public/, htmx and idiomorph straight from node_modules
// (no CDN). Read once; served with a short cache and no sniffing.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Hono } from 'hono';
import type { AppEnv } from '../../context';
import { authorize } from '../../middleware/authorize';

const require = createRequire(import.meta.url);

// A Map, not an object: "constructor" or "__proto__" must be unknown names (404), not inherited properties.
const FILES = new Map<string, { path: string; type: string }>([
  ['htmx.min.js', { path: require.resolve('htmx.org/dist/htmx.min.js'), type: 'text/javascript; charset=utf-8' }],
  ['idiomorph-ext.min.js', { path: require.resolve('idiomorph/dist/idiomorph-ext.min.js'), type: 'text/javascript; charset=utf-8' }],
  ['app.js', { path: new URL('../../../public/app.js', import.meta.url).pathname, type: 'text/javascript; charset=utf-8' }],
  ['app.css', { path: new URL('../../../public/app.css', import.meta.url).pathname, type: 'text/css; charset=utf-8' }],
  ['outreach.css', { path: new URL('../../../public/outreach.css', import.meta.url).pathname, type: 'text/css; charset=utf-8' }],
  ['favicon.svg', { path: new URL('../../../public/favicon.svg', import.meta.url).pathname, type: 'image/svg+xml' }],
]);

export function staticRoutes(opts: { cache?: boolean } = {}) {
  const app = new Hono<AppEnv>();
  const loaded = new Map<string, Buffer>();
  const load = (name: string) => {
    const file = FILES.get(name)!;
    if (opts.cache === false) return readFileSync(file.path);
    let body = loaded.get(name);
    if (!body) loaded.set(name, (body = readFileSync(file.path)));
    return body;
  };
  app.get('/:name', authorize('public'), (c) => {
    const name = c.req.param('name');
    const file = FILES.get(name);
    if (!file) return c.notFound();
    c.header('Content-Type', file.type);
    c.header('Cache-Control', 'public, max-age=300');
    return c.body(new Uint8Array(load(name)));
  });
  return app;
}
