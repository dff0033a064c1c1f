import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { jsonBytesUpTo } from '../../src/answer-limit.js';

const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1, b: [null, 'x'] });

describe('jsonBytesUpTo', () => {
  it('counts exactly the bytes JSON.stringify produces', () => {
    const values: unknown[] = [
      null,
      {},
      [],
      { a: 1, b: 'two', c: [1, 2, 3], d: { e: null, f: true, g: false }, u: undefined },
      ['é', 'ü€𝄞', 'quote " and \\ and \n and \u0001', ''],
      nullProto,
      { data: { images: { nodes: [nullProto, nullProto] } }, errors: [new GraphQLError('boom', { path: ['a', 0], extensions: { code: 'X' } })] },
      { n: 1.5e300, m: -0, k: 123456789012 },
      { date: new Date(0) },
    ];
    for (const v of values) expect(jsonBytesUpTo(v, Infinity), JSON.stringify(v)).toBe(Buffer.byteLength(JSON.stringify(v)));
  });

  it('stops counting once past the limit', () => {
    const big = Array.from({ length: 100_000 }, (_, i) => ({ id: `item-${i}` }));
    const n = jsonBytesUpTo(big, 1000);
    expect(n).toBeGreaterThan(1000);
    expect(n).toBeLessThan(1100);
  });

  it('gives up when the request is aborted', () => {
    const big = Array.from({ length: 100_000 }, (_, i) => ({ id: `item-${i}` }));
    const c = new AbortController();
    c.abort();
    expect(() => jsonBytesUpTo(big, Infinity, c.signal)).toThrow();
  });
});
