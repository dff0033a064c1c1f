import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

/**
 * Module: a static answer (the GraphiQL page, the fleet page's files) compressed once and then served from
 * memory: brotli or gzip as the browser accepts, with an ETag so a reload is a 304 without a body. Pages
 * load without costing memory or CPU per request.
 */

const brotli = promisify(brotliCompress);
const gzipP = promisify(gzip);

export interface Asset {
  etag: string;
  contentType: string;
  bodies: { identity: BodyInit; gzip: BodyInit; br: BodyInit };
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

export async function compressAsset(text: string, contentType: string): Promise<Asset> {
  const identity = Buffer.from(text, 'utf8');
  const [gz, br] = await Promise.all([
    // Made once, off the event loop (zlib's thread pool). Levels chosen for the GraphiQL page: gzip 6 and
    // brotli 5 are within 5% of their level-9 sizes (9 MiB -> 2.3 / 1.9 MiB) in about 1.5 s; brotli 9 took 7 s.
    gzipP(identity, { level: 6 }),
    brotli(identity, { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: identity.length } }),
  ]);
  const etag = `"${createHash('sha256').update(identity).digest('base64url').slice(0, 27)}"`;
  // Node's Buffers are valid bodies; the DOM typings only know ArrayBuffer-backed views.
  const body = (b: Buffer) => b as unknown as BodyInit;
  return { etag, contentType, bodies: { identity: body(identity), gzip: body(gz), br: body(br) } };
}

/** The answer to `request` for `asset`: 304 when the browser's copy is current, else the best encoding. */
export function assetResponse(request: Request, asset: Asset, ResponseClass: typeof Response, extraHeaders: Record<string, string> = {}): Response {
  const headers: Record<string, string> = { ...extraHeaders, etag: asset.etag, 'cache-control': 'no-cache', vary: 'Accept-Encoding' };
  if (etagMatches(request.headers.get('if-none-match'), asset.etag)) return new ResponseClass(null, { status: 304, headers });
  const encodings = accepted(request.headers.get('accept-encoding'));
  const encoding = encodings.has('br') ? 'br' : encodings.has('gzip') ? 'gzip' : 'identity';
  if (encoding !== 'identity') headers['content-encoding'] = encoding;
  return new ResponseClass(asset.bodies[encoding], { status: 200, headers: { ...headers, 'content-type': asset.contentType } });
}
