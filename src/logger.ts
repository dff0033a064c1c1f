import pino from 'pino';

/**
 * Structured logs (JSON lines on stderr). Only the CLI creates one; library code takes it as an
 * optional dependency, so tests stay quiet. What is logged: start-up, shutdown, circuit-breaker
 * changes per host and unexpected errors (server-side only: clients never see their details).
 */
export type Logger = pino.Logger;

export function createLogger(level = 'info'): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: true }));
}
