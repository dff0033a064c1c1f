import pino from 'pino';
import { currentRequestId } from './request-id.js';

/**
 * Structured logs (JSON lines on stderr). Only the CLI creates one; library code takes it as an
 * optional dependency, so tests stay quiet. What is logged: start-up, shutdown, circuit-breaker
 * changes per host, unexpected errors (server-side only: clients never see their details) and, at
 * debug level, one line per HTTP request. A line written while a request is handled carries its
 * `requestId` (request-id.ts), the id also sent back in its X-Request-Id header.
 */
export type Logger = pino.Logger;

export function createLogger(level = 'info'): Logger {
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin: () => {
        const requestId = currentRequestId();
        return requestId ? { requestId } : {};
      },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}
