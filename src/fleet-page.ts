import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'graphql-yoga';
import { assetResponse, compressAsset, type Asset } from './served-asset.js';

/**
 * Module: the fleet page at `/` (src/ui/: plain HTML, CSS and three small ES modules, no build step), served
 * from memory like GraphiQL. The page only calls the public API (POST /graphql and its SSE subscription),
 * so it holds no data itself and loads without a token; its script asks for one when the API answers 401.
 */

/** URL path -> file in src/ui/ and its type. Nothing else is served from there. */
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/ui/fleet.js': { file: 'fleet.js', type: 'text/javascript; charset=utf-8' },
  '/ui/render.js': { file: 'render.js', type: 'text/javascript; charset=utf-8' },
  '/ui/query.js': { file: 'query.js', type: 'text/javascript; charset=utf-8' },
  '/ui/fleet.css': { file: 'fleet.css', type: 'text/css; charset=utf-8' },
};

/**
 * Everything from the gateway itself, no inline script or style, no framing, no form posts elsewhere.
 * `data:` images only for the empty favicon the page declares (so the browser does not ask for one).
 */
export const FLEET_PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS = {
  'content-security-policy': FLEET_PAGE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/**
 * src/ui/ beside this module when run from the sources; from dist/src/ (built) it is ../../src/ui/,
 * since tsc does not copy non-TypeScript files.
 */
function uiDir(): string {
  for (const rel of ['./ui/', '../../src/ui/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  throw new Error('fleet page: src/ui/index.html not found beside the gateway');
}

export function useFleetPage(): Plugin {
  const assets = new Map<string, Promise<Asset>>();
  const load = (path: string, spec: { file: string; type: string }) => {
    let asset = assets.get(path);
    if (!asset) {
      asset = readFile(`${uiDir()}${spec.file}`, 'utf8')
        .then((text) => compressAsset(text, spec.type))
        .catch((err: unknown) => {
          assets.delete(path);
          throw err;
        });
      assets.set(path, asset);
    }
    return asset;
  };
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return;
      const spec = Object.hasOwn(FILES, url.pathname) ? FILES[url.pathname] : undefined;
      if (!spec) return;
      return load(url.pathname, spec).then((asset) => {
        const res = assetResponse(request, asset, fetchAPI.Response, SECURITY_HEADERS);
        endResponse(request.method === 'HEAD' ? new fetchAPI.Response(null, { status: res.status, headers: res.headers }) : res);
      });
    },
  };
}
