/**
 * Module: the one place where dockerode (and its docker-modem) is bent to the gateway's needs; nothing
 * else reaches into their internals. dockerode stays as designed for what it does well (one modem per
 * host over our own keep-alive agent, `modem.dial` with `abortSignal` for deadlines); what is bent here:
 *  - a read-only guard: only GET ever leaves the process, whoever holds the client;
 *  - docker-modem's per-call debug dump, which walked the agent and its sockets on every request;
 *  - the dial options of a GET whose every status comes back as a stream, so that error bodies are read
 *    (capped) by response.ts and never quoted.
 */
import type http from 'node:http';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { inspect } from 'node:util';
import Docker from 'dockerode';

export class ReadOnlyViolation extends Error {
  override name = 'ReadOnlyViolation';
}

type Callback = (err: unknown, data: unknown) => void;
type DialOptions = { method?: string; path?: string; [k: string]: unknown };
type BuildRequest = (options: DialOptions, context: unknown, data: unknown, callback: Callback) => void;
type GuardedAgent = http.Agent & { addRequest(req: ClientRequest, options: unknown): void };
/** What docker-modem has but its types leave out (or declare private). */
type ModemInternals = { dial(options: DialOptions, callback: Callback): void; buildRequest: BuildRequest; agent?: GuardedAgent };

const internals = (docker: Docker) => docker.modem as unknown as ModemInternals;

/** A dockerode client over `options` (transport.ts), read-only and with a one-line debug dump. */
export function createDocker(options: Docker.DockerOptions): Docker {
  const docker = new Docker(options);
  guardReadOnly(internals(docker));
  return docker;
}

/** The keep-alive agent the client's modem dials through (its connections; an SSH agent's session). */
export function modemAgent(docker: Docker): http.Agent | undefined {
  return internals(docker).agent;
}

const ANY_STATUS: Record<number, true> = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [i + 100, true]));

/**
 * One GET of `path` (already pinned to an API version by the caller, if any) with `query`. The callback
 * gets the response as a stream whatever its status; `signal` aborts the call.
 */
export function dialGet(docker: Docker, path: string, query: Record<string, string>, signal: AbortSignal, callback: (err: unknown, res: IncomingMessage | null) => void): void {
  docker.modem.dial({ path: `${path}?`, method: 'GET', options: { ...query }, isStream: true, abortSignal: signal, statusCodes: ANY_STATUS }, (err, data) =>
    callback(err, (data as IncomingMessage | null) ?? null),
  );
}

function refusal(method: string, path: unknown): ReadOnlyViolation {
  return new ReadOnlyViolation(`fleetgraph is read-only: refused ${method} ${String(path ?? '')}`);
}

/**
 * Only GET leaves the process. Refused at every level a caller of this client could use (dockerode
 * methods and modem.dial, modem.buildRequest, an http.request over its agent), before a byte is sent.
 */
function guardReadOnly(modem: ModemInternals): void {
  const dial = modem.dial.bind(modem);
  modem.dial = (options, callback) => {
    const method = String(options.method ?? 'GET').toUpperCase();
    if (method !== 'GET') return callback(refusal(method, options.path), null);
    dial(options, callback);
  };
  const buildRequest = modem.buildRequest.bind(modem);
  modem.buildRequest = (options, context, data, callback) => {
    const method = String(options.method ?? 'GET').toUpperCase();
    if (method !== 'GET') return callback(refusal(method, options.path), null);
    // docker-modem formats `util.inspect(options, { showHidden: true, depth: null })` for its debug log on
    // every call, even with debug off: with the keep-alive agent (and its sockets) inside, that walk was
    // most of the gateway's CPU under many small queries. Inspecting these options now prints one line.
    Object.defineProperty(options, inspect.custom, { value: () => `${method} ${String(options.path ?? '')}`, enumerable: false });
    buildRequest(options, context, data, callback);
  };
  const agent = modem.agent;
  if (agent) {
    const addRequest = agent.addRequest.bind(agent);
    agent.addRequest = (req, options) => {
      const method = String(req.method ?? 'GET').toUpperCase();
      // As the agent itself reports a failed connection: the request errors without ever getting a socket.
      if (method !== 'GET') return (req as ClientRequest & { onSocket(s: null, err: Error): void }).onSocket(null, refusal(method, req.path));
      addRequest(req, options);
    };
  }
}
