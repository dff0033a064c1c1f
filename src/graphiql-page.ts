import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { GraphiQLOptions, Plugin } from 'graphql-yoga';
import { renderGraphiQLPage } from './graphiql.js';

const brotli = promisify(brotliCompress);
const gzipP = promisify(gzip);

interface Page {
  etag: string;
  bodies: { identity: BodyInit; gzip: BodyInit; br: BodyInit };
}

export function isGraphiQLPage(request: Request): boolean {
  return request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html');
}

/** The encodings the client accepts (q > 0), lower-cased. */
function accepted(header: string | null): Set<string> {
  const out = new Set<string>();
  for (const part of (header ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)).find(Boolean);
    if (name && !(q && Number(q[1]) === 0)) out.add(name);
  }
  return out;
}

function etagMatches(header: string | null, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const tag = t.trim().replace(/^W\//, '');
    return tag === etag || tag === '*';
  });
}

async function build(html: string): Promise<Page> {
  const identity = Buffer.from(html, 'utf8');
  const [gz, br] = await Promise.all([
    // Made once, off the event loop (zlib's thread pool). Levels chosen for this page: gzip 6 and brotli 5
    // are within 5% of their level-9 sizes (9 MiB -> 2.3 / 1.9 MiB) in about 1.5 s; brotli 9 took 7 s here.
    gzipP(identity, { level: 6 }),
    brotli(identity, { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: identity.length } }),
  ]);
  const etag = `"${createHash('sha256').update(identity).digest('base64url').slice(0, 27)}"`;
  // Node's Buffers are valid bodies; the DOM typings only know ArrayBuffer-backed views.
  const body = (b: Buffer) => b as unknown as BodyInit;
  return { etag, bodies: { identity: body(identity), gzip: body(gz), br: body(br) } };
}

/**
 * Serves the GraphiQL page (the ~9 MiB of HTML and inlined scripts from @graphql-yoga/render-graphiql)
 * rendered and compressed once, then from memory: brotli or gzip as the browser accepts, with an ETag
 * so a reload is a 304 without a body. yoga's own GraphiQL handler renders and sends the page
 * uncompressed on every GET, which let a few clients pull gigabytes and grow memory by a gigabyte.
 * yoga's handler is off (`graphiql: false`); this one answers the same requests.
 */
export function useCachedGraphiQL(options: GraphiQLOptions, endpoint: string): Plugin {
  let page: Promise<Page> | undefined;
  const render = async () => build(await renderGraphiQLPage(options));
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (!isGraphiQLPage(request) || (url.pathname !== endpoint && url.pathname !== `${endpoint}/`)) return;
      page ??= render().catch((err: unknown) => {
        page = undefined;
        throw err;
      });
      return page.then((p) => {
        const headers: Record<string, string> = { etag: p.etag, 'cache-control': 'no-cache', vary: 'Accept-Encoding' };
        if (etagMatches(request.headers.get('if-none-match'), p.etag)) {
          endResponse(new fetchAPI.Response(null, { status: 304, headers }));
          return;
        }
        const encodings = accepted(request.headers.get('accept-encoding'));
        const encoding = encodings.has('br') ? 'br' : encodings.has('gzip') ? 'gzip' : 'identity';
        if (encoding !== 'identity') headers['content-encoding'] = encoding;
        endResponse(new fetchAPI.Response(p.bodies[encoding], { status: 200, headers: { ...headers, 'content-type': 'text/html; charset=utf-8' } }));
      });
    },
  };
}
