/**
 * Module: test apps over counting proxies of the shared fleet, for the files that count what the engines
 * received: one CountingProxy per provided engine (started in beforeAll, in fleetEngines() order) and
 * apps whose hosts go through them; apps and proxies are closed in afterAll.
 */
import { afterAll, beforeAll } from 'vitest';
import type { ConfigInput } from '../../src/config.js';
import { createTestApp, type TestApp } from './app.js';
import { startCountingProxy, type CountingProxy } from './counting-proxy.js';
import { fleetEngines } from './provided.js';

export interface ProxiedFleet {
  /** One per fleet engine, in fleetEngines() order; filled before the file's first test. */
  readonly proxies: readonly CountingProxy[];
  /** A test app over the proxies (closed after the file's last test). */
  app(input?: ConfigInput, env?: NodeJS.ProcessEnv): TestApp;
  /** Requests the engines received through all proxies since the last reset. */
  engineCalls(): number;
  reset(): void;
}

/** Registers the hooks: call it at the top level of a test file. */
export function proxiedFleet(): ProxiedFleet {
  const proxies: CountingProxy[] = [];
  const apps: TestApp[] = [];
  beforeAll(async () => {
    for (const e of fleetEngines()) proxies.push(await startCountingProxy(e.socket));
  });
  afterAll(async () => {
    apps.forEach((a) => a.close());
    await Promise.all(proxies.map((p) => p.close()));
  });
  return {
    proxies,
    app(input = {}, env = {}) {
      const t = createTestApp(
        fleetEngines().map((e, i) => ({ name: e.name, endpoint: proxies[i]!.endpoint })),
        input,
        {},
        env,
      );
      apps.push(t);
      return t;
    },
    engineCalls: () => proxies.reduce((n, p) => n + p.requests.length, 0),
    reset: () => proxies.forEach((p) => p.reset()),
  };
}
