/**
 * Module: a benchmark's targets as data. Every target the report prints is a check, and the verdict is
 * the conjunction of all of them, so no printed target can be left out of PASS/FAIL.
 */
export interface Check {
  metric: string;
  /** What was measured, as printed. */
  value: string;
  /** The target, as printed. */
  target: string;
  ok: boolean;
}

export function checksTable(checks: readonly Check[]): string {
  const rows = checks.map((c) => `| ${c.metric} | ${c.value} | ${c.target} | ${c.ok ? 'met' : '**missed**'} |`);
  return ['| metric | value | target | |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

export function verdict(checks: readonly Check[]): string {
  const missed = checks.filter((c) => !c.ok).map((c) => c.metric);
  return missed.length === 0 ? 'PASS' : `FAIL (missed: ${missed.join('; ')})`;
}
