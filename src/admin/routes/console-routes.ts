import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { productRoot } from '../../common/index.js';

/**
 * The web console under /console/: the files of `console/` at the top of the repository (beside `src/` and `dist/`,
 * so `npm start` from a clean clone serves them with no build step), and Preact, its hooks and htm straight from
 * node_modules as ES modules. The pages are static and hold no secret: the token is asked by the login page and
 * carried by each API call, so these routes are open; everything they show comes from the token-guarded API.
 */

/** Where the console's files are, from src/admin/routes or dist/admin/routes alike. */
export const CONSOLE_DIR = join(productRoot(), 'console');

/** The bare names the pages import, mapped by the page's import map to the vendored modules. */
const VENDOR: Record<string, string> = {
  'preact.mjs': 'preact',
  'hooks.mjs': 'preact/hooks',
  'htm.mjs': 'htm',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

const IMPORT_MAP = JSON.stringify({
  imports: { preact: '/console/vendor/preact.mjs', 'preact/hooks': '/console/vendor/hooks.mjs', htm: '/console/vendor/htm.mjs' },
});

/** The shell page with the import map filled in, and a CSP that allows only our own scripts and that map. */
async function shell(): Promise<{ html: string; csp: string }> {
  const template = await readFile(join(CONSOLE_DIR, 'index.html'), 'utf8');
  const hash = createHash('sha256').update(IMPORT_MAP).digest('base64');
  return {
    html: template.replace('<!--import-map-->', `<script type="importmap">${IMPORT_MAP}</script>`),
    csp: `default-src 'self'; script-src 'self' 'sha256-${hash}'; style-src 'self'; img-src 'self' data:; connect-src 'self'; `
      + `frame-ancestors 'none'; base-uri 'none'; form-action 'none'`,
  };
}

/** A file under the console folder, or undefined for a name outside it, a hidden one or a type not served. */
function consoleFile(rel: string): string | undefined {
  if (!/^[A-Za-z0-9_/-]+(\.[A-Za-z0-9]+)+$/.test(rel) || rel.includes('..')) return undefined;
  if (TYPES[extname(rel)] === undefined) return undefined;
  const full = normalize(join(CONSOLE_DIR, rel));
  return full.startsWith(CONSOLE_DIR.endsWith(sep) ? CONSOLE_DIR : CONSOLE_DIR + sep) ? full : undefined;
}

function send(reply: FastifyReply, type: string, body: string | Buffer): FastifyReply {
  return reply.type(type).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').send(body);
}

export function consoleRoutes(): FastifyPluginAsync {
  return async (app) => {
    const hide = { schema: { hide: true } };
    const notFound = (reply: FastifyReply) => reply.code(404).send({ code: 'ERR_ADMIN_REQUEST', message: 'no such console file' });

    app.get('/console', hide, async (_req, reply) => reply.redirect('/console/'));

    app.get('/console/', hide, async (_req, reply) => {
      const { html, csp } = await shell();
      return send(reply.header('content-security-policy', csp), TYPES['.html']!, html);
    });

    app.get('/console/*', hide, async (req, reply) => {
      const rel = (req.params as { '*': string })['*'];
      if (rel.startsWith('vendor/')) {
        const name = VENDOR[rel.slice('vendor/'.length)];
        if (name === undefined) return notFound(reply);
        return send(reply, TYPES['.mjs']!, await readFile(fileURLToPath(import.meta.resolve(name))));
      }
      const file = consoleFile(rel);
      if (file === undefined) return notFound(reply);
      try {
        return send(reply, TYPES[extname(file)]!, await readFile(file));
      } catch {
        return notFound(reply);
      }
    });
  };
}
