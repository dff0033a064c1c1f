import { describe, expect, it } from 'vitest';
import { checksTable, verdict, type Check } from '../../bench/checks.js';

const met = (metric: string): Check => ({ metric, value: '1', target: '1', ok: true });

describe('benchmark verdict', () => {
  it('is PASS only when every printed target is met', () => {
    expect(verdict([met('a'), met('b')])).toBe('PASS');
  });

  it('is FAIL naming the missed target, e.g. a latency over its printed target', () => {
    const latency: Check = { metric: 'latency p50 / p99 / max ms', value: '12 / 80 / 9000', target: 'max under the host deadline + 1 s', ok: false };
    expect(verdict([met('5xx responses'), latency])).toBe('FAIL (missed: latency p50 / p99 / max ms)');
  });

  it('prints every check with its state', () => {
    const table = checksTable([met('a'), { ...met('b'), ok: false }]);
    expect(table.split('\n')).toEqual(['| metric | value | target | |', '| --- | --- | --- | --- |', '| a | 1 | 1 | met |', '| b | 1 | 1 | **missed** |']);
  });
});
