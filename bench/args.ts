/** Module: the benchmarks' command-line flags (`--name value`), read the same way by every script. */

/** The value after `--name`, or `fallback` when the flag is not given. */
export function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
}

/** flag() as a number. */
export function numberFlag(name: string, fallback: number): number {
  return Number(flag(name, String(fallback)));
}
