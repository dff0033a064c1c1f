/** Module: the one polling loop of the dev engines and the test helpers (engines, sshd, spawned servers all wait through it). */

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** What {@link waitFor} rejects with when time runs out (a check that throws rejects with its own error). */
export class WaitTimeout extends Error {
  override name = 'WaitTimeout';
}

/**
 * Calls `check` every `stepMs` until it returns true; rejects with a {@link WaitTimeout} naming `what`
 * (and `describe()`, e.g. a log tail) after `timeoutMs`. A check that throws ends the wait with its error,
 * so a check can give up early (the process it waits for has exited).
 */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, describe: () => string = () => '', stepMs = 100): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(stepMs);
  }
  if (await check()) return;
  throw new WaitTimeout(`timed out waiting for ${what} (${timeoutMs} ms)\n${describe()}`);
}

/** waitFor as a verdict: true when `check` held in time, false on timeout; other errors still reject. */
export function waitedFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 100): Promise<boolean> {
  return waitFor(what, check, timeoutMs, undefined, stepMs).then(
    () => true,
    (err: unknown) => {
      if (err instanceof WaitTimeout) return false;
      throw err;
    },
  );
}

/** Resolves true when `p` settles within `ms`, false otherwise; leaves no timer behind. */
export function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
