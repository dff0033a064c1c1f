/** Module: reading one engine answer (status, headers, capped body, JSON) into a value or a HostError. */
import type { IncomingMessage } from 'node:http';
import { HostError, statusError } from './errors.js';
import { MalformedJson, parseJsonYielding, type ItemMemo } from './json-chunks.js';

/** The detail of dockerd's refusal of an overlapping /system/df (API < 1.42): busy, so worth a retry. */
export const DISK_USAGE_BUSY = 'disk usage already running';

/**
 * An engine's refusal of the API version asked for as older than its minimum (Docker 29.0-29.2 refuse
 * anything below 1.44): the minimum, read from Docker's fixed message (two numbers, nothing else kept),
 * lets the client speak a version it accepts and ask again.
 */
export class ApiVersionTooOld extends HostError {
  constructor(
    host: string,
    readonly minApiVersion: string,
  ) {
    super(host, 'HOST_ERROR', 'API version below the engine minimum');
  }
}

const TOO_OLD = /^\{"message":"client version \d{1,2}\.\d{1,3} is too old\. Minimum supported API version is ([1-9]\d?)\.(\d{1,3}), /;

/**
 * The body of `res` as its chunks came in (never joined: json-chunks.ts decodes them piece by piece), at
 * most `maxBytes` of it; rejects with a HostError when it is cut short, too big or late.
 */
function readBody(host: string, res: IncomingMessage, maxBytes: number, signal: AbortSignal): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (err: HostError | null) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (!err) return resolve(chunks);
      reject(err);
      res.destroy();
    };
    const onAbort = () => settle(signal.reason instanceof HostError ? signal.reason : new HostError(host, 'HOST_TIMEOUT'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) settle(new HostError(host, 'HOST_BAD_RESPONSE', `response over ${maxBytes} bytes`));
      else chunks.push(chunk);
    });
    res.on('end', () => settle(null));
    res.on('error', () => settle(new HostError(host, 'HOST_UNREACHABLE', 'connection closed mid-response')));
    res.on('close', () => {
      if (!res.complete) settle(new HostError(host, 'HOST_UNREACHABLE', 'connection closed mid-response'));
    });
  });
}

/**
 * The engine's Api-Version header, which becomes part of every later request path (/v1.41/…): only
 * "major.minor" with small numbers is taken; anything else is a bad answer, never a path.
 */
export function apiVersionHeader(host: string, res: IncomingMessage): string | undefined {
  const header = res.headers['api-version'];
  if (header === undefined) return undefined;
  const match = typeof header === 'string' ? /^([1-9]\d?)\.(\d{1,3})$/.exec(header) : null;
  if (!match) throw new HostError(host, 'HOST_BAD_RESPONSE', 'invalid Api-Version header');
  return `${Number(match[1])}.${Number(match[2])}`;
}

/** Checks status, type and size of an engine response and parses it. Rejects with a HostError only. */
/** `memo`: the items of the last answer to the same call (json-chunks.ts ItemMemo), for a list answer. */
export async function readResponse(host: string, res: IncomingMessage, maxBytes: number, signal: AbortSignal, memo?: ItemMemo): Promise<unknown> {
  const status = res.statusCode ?? 0;
  if (status < 200 || status > 299) {
    // Drained (capped) so a keep-alive connection stays usable; what it says is never reported.
    const chunks = await readBody(host, res, maxBytes, signal).catch(() => undefined);
    const body = chunks && Buffer.concat(chunks);
    if (signal.aborted) throw signal.reason instanceof HostError ? signal.reason : new HostError(host, 'HOST_TIMEOUT');
    // Go's fixed reply to plain HTTP on a TLS port (not daemon data): the host needs TLS settings.
    if (status === 400 && body?.subarray(0, 64).toString('latin1').startsWith('Client sent an HTTP request to an HTTPS server'))
      throw new HostError(host, 'HOST_TLS_ERROR', 'the engine expects TLS');
    const tooOld = status === 400 && body && body.length < 300 ? TOO_OLD.exec(body.toString('latin1')) : null;
    if (tooOld) throw new ApiVersionTooOld(host, `${Number(tooOld[1])}.${Number(tooOld[2])}`);
    // dockerd's fixed refusal of an overlapping /system/df before API 1.42 (retried by getWithRetry).
    if (status === 500 && body && body.length < 200 && body.includes('a disk usage operation is already running'))
      throw new HostError(host, 'HOST_ERROR', DISK_USAGE_BUSY);
    throw statusError(host, status);
  }
  const type = String(res.headers['content-type'] ?? '');
  if (!/^application\/json\b/i.test(type)) {
    res.destroy();
    throw new HostError(host, 'HOST_BAD_RESPONSE', 'not JSON');
  }
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    res.destroy();
    throw new HostError(host, 'HOST_BAD_RESPONSE', `response over ${maxBytes} bytes`);
  }
  const body = await readBody(host, res, maxBytes, signal);
  try {
    // A big list is parsed in slices with yields between them (json-chunks.ts), so a host with
    // 200,000 images does not stop every other request for the seconds one JSON.parse takes.
    return await parseJsonYielding(body, signal, undefined, memo);
  } catch (err) {
    if (err instanceof MalformedJson) throw new HostError(host, 'HOST_BAD_RESPONSE', 'malformed JSON');
    throw err instanceof HostError ? err : new HostError(host, 'HOST_TIMEOUT');
  }
}

