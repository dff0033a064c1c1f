import type { CredentialStore } from './credentials.js';
import { apiBase, hostOnly, isLoopbackHost, type RegistryTarget } from './reference.js';
import { parseChallenge, type Challenge } from './www-authenticate.js';

/**
 * Module: one question to a registry (Registry HTTP API v2, never a pull): which manifest digest does
 * this tag point at? `HEAD /v2/<repository>/manifests/<tag>`, accepting an index or manifest list first,
 * so a multi-platform tag answers with the digest of its index (the one `docker pull` records). Anonymous
 * first; on a 401 the challenge says how: Basic with the configured credentials, or the Docker token flow
 * (a token from the challenge's realm, for `repository:<name>:pull`, with the credentials if any).
 * Whatever happens, the answer is a value, never a thrown error, and no credential, token or realm URL
 * reaches it.
 */

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export type RemoteOutcome =
  | { kind: 'FOUND'; digest: string }
  | { kind: 'NOT_FOUND' }
  | { kind: 'UNAUTHORIZED'; reason: string }
  | { kind: 'RATE_LIMITED'; retryAfterMs: number }
  | { kind: 'ERROR'; reason: string };

export interface ClientOptions {
  /** Total deadline of one check: challenge, token and the authenticated request together. */
  timeoutMs: number;
  credentials: CredentialStore;
  /** Whether fleetgraph may contact this host[:port] (the allow-list); asked for a token realm too. */
  mayContact(hostPort: string): boolean;
  fetch?: typeof fetch;
}

const DIGEST = /^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$/;
const MAX_TOKEN_BODY = 64 * 1024;
const MAX_TOKEN_LENGTH = 16 * 1024;
const MAX_TOKENS = 1000;
const DEFAULT_RETRY_AFTER_MS = 60_000;
const MAX_RETRY_AFTER_MS = 24 * 3600_000;
const TOKEN_MIN_MS = 60_000;

/** Retry-After in ms (delta-seconds or an HTTP date), within 1 s .. 24 h; a minute when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number {
  let ms = DEFAULT_RETRY_AFTER_MS;
  if (header && /^\s*\d{1,9}\s*$/.test(header)) ms = Number(header) * 1000;
  else if (header && header.length < 100 && !Number.isNaN(Date.parse(header))) ms = Date.parse(header) - now;
  return Math.min(Math.max(ms, 1000), MAX_RETRY_AFTER_MS);
}

export class RegistryClient {
  private readonly tokens = new Map<string, { token: string; expires: number }>();
  private readonly fetch: typeof fetch;

  constructor(private readonly options: ClientOptions) {
    this.fetch = options.fetch ?? fetch;
  }

  async headManifest(t: RegistryTarget): Promise<RemoteOutcome> {
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    try {
      return await this.ask(t, signal);
    } catch (err) {
      if (signal.aborted) return { kind: 'ERROR', reason: `no answer within ${this.options.timeoutMs} ms` };
      if (err instanceof TokenError) return err.refused ? { kind: 'UNAUTHORIZED', reason: err.message } : { kind: 'ERROR', reason: err.message };
      return { kind: 'ERROR', reason: 'connection failed' };
    }
  }

  private async ask(t: RegistryTarget, signal: AbortSignal): Promise<RemoteOutcome> {
    const url = `${apiBase(t.registry)}/v2/${t.repository}/manifests/${encodeURIComponent(t.tag)}`;
    const tokenKey = `${t.registry}\n${t.repository}`;
    const cached = this.tokens.get(tokenKey);
    let auth = cached && cached.expires > Date.now() ? `Bearer ${cached.token}` : undefined;
    let res = await this.head(url, auth, signal);
    if (res.status === 401) {
      const challenge = parseChallenge(res.headers.get('www-authenticate'));
      const creds = this.options.credentials.get(t.registry);
      if (challenge?.scheme === 'basic') {
        if (!creds) return { kind: 'UNAUTHORIZED', reason: 'the registry asks for credentials and none are configured for it' };
        auth = creds.basicHeader();
      } else if (challenge?.scheme === 'bearer') {
        auth = `Bearer ${await this.token(t, tokenKey, challenge, signal)}`;
      } else return { kind: 'UNAUTHORIZED', reason: 'the registry asks for an authentication scheme fleetgraph does not speak' };
      res = await this.head(url, auth, signal);
      if (res.status === 401) return { kind: 'UNAUTHORIZED', reason: creds ? 'the registry refused the configured credentials' : 'the registry refused anonymous access' };
    }
    return outcomeOf(res);
  }

  private async head(url: string, authorization: string | undefined, signal: AbortSignal): Promise<Response> {
    const res = await this.fetch(url, {
      method: 'HEAD',
      headers: { accept: MANIFEST_ACCEPT, ...(authorization ? { authorization } : {}) },
      redirect: 'manual',
      signal,
    });
    await res.body?.cancel();
    return res;
  }

  /** The Docker token flow: GET realm?service=…&scope=repository:<name>:pull, Basic credentials if configured. */
  private async token(t: RegistryTarget, key: string, challenge: Challenge, signal: AbortSignal): Promise<string> {
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm ?? '');
    } catch {
      throw tokenError('the registry named no usable token realm');
    }
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') throw tokenError('the registry named no usable token realm');
    if (!this.options.mayContact(realm.host)) throw tokenError("the registry's token service is not in --registry-allow");
    if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
    realm.searchParams.set('scope', `repository:${t.repository}:pull`);
    const creds = this.options.credentials.get(t.registry);
    // Credentials travel over TLS, or to a loopback realm: never in clear text across a network.
    const sendCreds = creds && (realm.protocol === 'https:' || isLoopbackHost(hostOnly(realm.host)));
    const res = await this.fetch(realm, { headers: sendCreds ? { authorization: creds.basicHeader() } : {}, redirect: 'manual', signal });
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new TokenError(creds ? 'the token service refused the configured credentials' : 'the token service refused anonymous access', true);
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw tokenError(`the token service answered HTTP ${res.status}`);
    }
    const body = await readBounded(res, MAX_TOKEN_BODY);
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      throw tokenError('the token service answered something that is not JSON');
    }
    const token = typeof parsed.token === 'string' ? parsed.token : parsed.access_token;
    if (typeof token !== 'string' || token === '' || token.length > MAX_TOKEN_LENGTH || /[\s\u0000-\u001f]/.test(token)) throw tokenError('the token service answered without a usable token');
    const lifetime = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in * 1000 : TOKEN_MIN_MS;
    if (this.tokens.size >= MAX_TOKENS) this.tokens.delete(this.tokens.keys().next().value!);
    // Renewed a little early: a token that expires between our check and the registry's is a wasted request.
    this.tokens.set(key, { token, expires: Date.now() + Math.max(lifetime - 10_000, 1000) });
    return token;
  }
}

function outcomeOf(res: Response): RemoteOutcome {
  if (res.status === 200) {
    const digest = res.headers.get('docker-content-digest');
    return digest && DIGEST.test(digest) ? { kind: 'FOUND', digest } : { kind: 'ERROR', reason: 'the registry answered without a Docker-Content-Digest' };
  }
  if (res.status === 404) return { kind: 'NOT_FOUND' };
  if (res.status === 401 || res.status === 403) return { kind: 'UNAUTHORIZED', reason: `the registry answered HTTP ${res.status}` };
  if (res.status === 429) return { kind: 'RATE_LIMITED', retryAfterMs: retryAfterMs(res.headers.get('retry-after')) };
  return { kind: 'ERROR', reason: `the registry answered HTTP ${res.status}` };
}

/** A failure of the token flow, with a message fit for clients; `refused` when the credentials were. */
class TokenError extends Error {
  override name = 'TokenError';
  constructor(
    message: string,
    readonly refused = false,
  ) {
    super(message);
  }
}

const tokenError = (message: string) => new TokenError(message);

async function readBounded(res: Response, max: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw tokenError('the token service answered too much');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
