import { fail } from './config-hosts.js';
import { CredentialsError, loadCredentials, type CredentialStore } from './registry/credentials.js';

/** A registry as references name it: a host name or IPv4/[IPv6] address, with an optional port. */
export const REGISTRY_HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[a-fA-F0-9:]+\])(?::[0-9]{1,5})?$/;

export interface UpdateSettings {
  enabled: boolean;
  intervalMs: number;
  timeoutMs: number;
  /** Registries that may be contacted (host[:port]); empty = any. */
  allow: string[];
  /** Read only when enabled: the docker config's auths, then --registry-auth's. */
  credentials: CredentialStore;
}

/** The update-check settings, with the credentials read only when checks are on (not even the docker config otherwise). */
export function updateSettings(
  enabled: boolean,
  auth: { authFile: string | undefined; fromFlag: boolean },
  rest: Omit<UpdateSettings, 'enabled' | 'credentials'>,
  env: NodeJS.ProcessEnv,
): UpdateSettings {
  let credentials: CredentialStore = new Map();
  if (enabled) {
    try {
      credentials = loadCredentials(auth.authFile, env);
    } catch (err) {
      if (err instanceof CredentialsError) fail(auth.fromFlag ? '--registry-auth' : 'registry credentials', err.message);
      throw err;
    }
  }
  return { enabled, ...rest, credentials };
}
