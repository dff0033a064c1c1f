import { GraphQLError } from 'graphql';

/**
 * The one place where engine/transport failures become client-facing errors. Clients get a stable code
 * and the host's *name*; never a socket path, address, port, certificate path or the daemon's raw text
 * (which often embeds them).
 */
export const HOST_ERROR_CODES = [
  'HOST_UNREACHABLE',
  'HOST_TIMEOUT',
  'HOST_BAD_RESPONSE',
  'HOST_TLS_ERROR',
  'HOST_AUTH_ERROR',
  'HOST_KEY_UNTRUSTED',
  'HOST_CIRCUIT_OPEN',
  'HOST_ERROR',
] as const;
export type HostErrorCode = (typeof HOST_ERROR_CODES)[number];

const MESSAGES: Record<HostErrorCode, string> = {
  HOST_UNREACHABLE: 'the engine could not be reached',
  HOST_TIMEOUT: 'the engine did not answer within the deadline',
  HOST_BAD_RESPONSE: 'the engine sent a response that is not valid Engine API data',
  HOST_TLS_ERROR: 'the TLS handshake with the engine failed',
  HOST_AUTH_ERROR: 'the engine refused our credentials',
  HOST_KEY_UNTRUSTED: "the SSH server's host key is not trusted, so the connection was not used",
  HOST_CIRCUIT_OPEN: 'the host failed repeatedly and is paused; it will be probed again shortly',
  HOST_ERROR: 'the engine answered with an error',
};

export class HostError extends Error {
  override name = 'HostError';
  readonly at: Date;
  constructor(
    readonly host: string,
    readonly code: HostErrorCode,
    /** Safe, fixed detail (status code, which check failed); never raw daemon text. */
    readonly detail?: string,
    options?: { cause?: unknown },
  ) {
    super(`host "${host}": ${MESSAGES[code]}${detail ? ` (${detail})` : ''}`, options);
    this.at = new Date();
  }
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOENT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EPIPE', 'EACCES', 'ENOTSOCK', 'ECONNABORTED', 'UND_ERR_SOCKET']);

/** OpenSSL verification failures that name no CERT in their code. */
const TLS_VERIFY_CODES = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT']);

/** An engine's HTTP error status, without anything its body said. */
export function statusError(host: string, status: number): HostError {
  if (status === 401 || status === 403) return new HostError(host, 'HOST_AUTH_ERROR', `HTTP ${status}`);
  return new HostError(host, 'HOST_ERROR', `HTTP ${status}`);
}

/**
 * What a failed engine call is, told apart once (EngineSource.get): the host's fault (transport, status,
 * a body that is not Engine API data) becomes a HostError; a JavaScript error of our own (TypeError,
 * RangeError, … — a bug, even when Node gave it a code) is returned unchanged, so it is logged with its
 * stack and masked to clients instead of blaming the host.
 */
export function hostFailure(host: string, err: unknown): unknown {
  if (err instanceof HostError) return err;
  if (err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError) return err;
  if ((err as { code?: unknown } | undefined)?.code === 'EOPENBREAKER') return new HostError(host, 'HOST_CIRCUIT_OPEN');
  return toHostError(host, err);
}

/** Maps whatever dockerode, docker-modem, node:net, tls or ssh2 threw to a HostError. */
function toHostError(host: string, err: unknown): HostError {
  if (err instanceof HostError) return err;
  const e = err as { code?: unknown; name?: string; statusCode?: number; level?: string; message?: string; hostKey?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (e?.name === 'TimeoutError') return new HostError(host, 'HOST_TIMEOUT', undefined, { cause: err });
  if (typeof e?.statusCode === 'number') return statusError(host, e.statusCode);
  // ssh-agent.ts refused the server's host key; `hostKey` is its fixed verdict ('changed', 'revoked', …)
  if (code === 'ERR_SSH_HOST_KEY') return new HostError(host, 'HOST_KEY_UNTRUSTED', typeof e?.hostKey === 'string' ? e.hostKey : undefined, { cause: err });
  if (code && (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.includes('CERT') || TLS_VERIFY_CODES.has(code) || code === 'EPROTO'))
    return new HostError(host, 'HOST_TLS_ERROR', code, { cause: err });
  if (e?.level === 'client-authentication') return new HostError(host, 'HOST_AUTH_ERROR', 'ssh authentication', { cause: err });
  if (e?.level === 'client-socket' || e?.level === 'client-timeout') return new HostError(host, 'HOST_UNREACHABLE', 'ssh', { cause: err });
  if (code && UNREACHABLE.has(code)) return new HostError(host, 'HOST_UNREACHABLE', code, { cause: err });
  if (/handshake|certificate|ssl|tls/i.test(e?.message ?? '')) return new HostError(host, 'HOST_TLS_ERROR', undefined, { cause: err });
  return new HostError(host, 'HOST_ERROR', undefined, { cause: err });
}

/** The GraphQL error for one failed host, attached at the path of the field that needed it. */
export function hostGraphQLError(error: HostError, path?: ReadonlyArray<string | number>): GraphQLError {
  return new GraphQLError(error.message, {
    path,
    extensions: { code: error.code, host: error.host },
  });
}
