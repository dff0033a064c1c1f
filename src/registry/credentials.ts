import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { registryName } from './reference.js';

/**
 * Module: registry credentials, from the docker CLI's config (`auths` in `$DOCKER_CONFIG/config.json`,
 * default `~/.docker/config.json`) and from a `--registry-auth` file of the same shape. Entries are
 * `"host": { "auth": base64("user:password") }` or `{ "username", "password" }`. Credential helpers
 * (`credsStore`, `credHelpers`) and identity tokens are not read. Errors name the file and the entry,
 * never a value; the secrets live in a closure and print as "[credentials]".
 */

export class RegistryCredentials {
  readonly #secret: { username: string; password: string };
  constructor(username: string, password: string) {
    this.#secret = { username, password };
  }
  /** The `Authorization: Basic …` value; called only when a request is about to be sent. */
  basicHeader(): string {
    return `Basic ${Buffer.from(`${this.#secret.username}:${this.#secret.password}`).toString('base64')}`;
  }
  toJSON(): string {
    return '[credentials]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[credentials]';
  }
}

export type CredentialStore = ReadonlyMap<string, RegistryCredentials>;

const MAX_FILE_BYTES = 1024 * 1024;
const MAX_ENTRIES = 1000;

/** Thrown with a message that names the file and the entry only. */
export class CredentialsError extends Error {}

/** The `auths` of one docker-config-shaped JSON file; `optional` files that do not exist give nothing. */
export function readCredentialFile(path: string, optional: boolean): Map<string, RegistryCredentials> {
  const out = new Map<string, RegistryCredentials>();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    if (optional && code === 'ENOENT') return out;
    throw new CredentialsError(`${path}: cannot read it (${code})`);
  }
  if (text.length > MAX_FILE_BYTES) throw new CredentialsError(`${path}: over ${MAX_FILE_BYTES} bytes`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new CredentialsError(`${path}: not valid JSON`);
  }
  const auths = (raw as { auths?: unknown } | null)?.auths;
  if (auths === undefined) return out;
  if (typeof auths !== 'object' || auths === null || Array.isArray(auths)) throw new CredentialsError(`${path}: "auths" is not a mapping`);
  const entries = Object.entries(auths as Record<string, unknown>);
  if (entries.length > MAX_ENTRIES) throw new CredentialsError(`${path}: more than ${MAX_ENTRIES} auths entries`);
  for (const [key, value] of entries) {
    const where = `${path}: auths entry "${registryName(key)}"`;
    if (typeof value !== 'object' || value === null) throw new CredentialsError(`${where} is not a mapping`);
    const v = value as Record<string, unknown>;
    let username: unknown = v.username;
    let password: unknown = v.password;
    if (typeof v.auth === 'string' && v.auth !== '') {
      const decoded = Buffer.from(v.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new CredentialsError(`${where}: "auth" is not base64 of user:password`);
      username = decoded.slice(0, colon);
      password = decoded.slice(colon + 1);
    }
    // An entry with neither (e.g. one kept by a credential helper) has nothing to send.
    if (username === undefined && password === undefined) continue;
    if (typeof username !== 'string' || typeof password !== 'string' || username === '') throw new CredentialsError(`${where}: needs "auth" or "username" and "password"`);
    out.set(registryName(key), new RegistryCredentials(username, password));
  }
  return out;
}

/**
 * The credentials fleetgraph may send: the docker config's, then the `--registry-auth` file's (which wins
 * for a registry named in both).
 */
export function loadCredentials(authFile: string | undefined, env: NodeJS.ProcessEnv): Map<string, RegistryCredentials> {
  const dockerConfig = join(env.DOCKER_CONFIG || join(homedir(), '.docker'), 'config.json');
  const store = readCredentialFile(dockerConfig, true);
  if (authFile) for (const [k, v] of readCredentialFile(authFile, false)) store.set(k, v);
  return store;
}
