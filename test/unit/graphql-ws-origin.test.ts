import type http from 'node:http';
import { describe, expect, it } from 'vitest';
import { originAllowed } from '../../src/graphql-ws.js';

const upgrade = (headers: Record<string, string>) => ({ headers }) as unknown as http.IncomingMessage;

describe('WebSocket upgrade Origin check (cross-site WebSocket hijacking)', () => {
  const cors = ['https://app.example'];
  it.each([
    ['no Origin (not a browser)', {}, true],
    ['the gateway itself', { origin: 'http://gw.local:4000', host: 'gw.local:4000' }, true],
    ['a configured CORS origin', { origin: 'https://app.example', host: 'gw.local:4000' }, true],
    ['another origin', { origin: 'https://evil.example', host: 'gw.local:4000' }, false],
    ['same host name, other port', { origin: 'http://gw.local:8080', host: 'gw.local:4000' }, false],
    ['a CORS origin on another scheme', { origin: 'http://app.example', host: 'gw.local:4000' }, false],
    ['"null" (sandboxed page, file://)', { origin: 'null', host: 'gw.local:4000' }, false],
    ['an Origin with no Host to compare', { origin: 'http://gw.local:4000' }, false],
  ] as const)('%s', (_what, headers, allowed) => {
    expect(originAllowed(upgrade(headers), cors)).toBe(allowed);
  });
});
