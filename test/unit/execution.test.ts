import { describe, expect, it } from 'vitest';
import { createFakeApp, fakeSource } from '../helpers/fake-source.js';

/** The compiled executor (graphql-jit) keeps the answers graphql-js gave for requests it cannot start. */
describe('compiled execution', () => {
  it.each([['ten'], [2 ** 40], [1.5]])('a variable that does not coerce (%s): 400, BAD_USER_INPUT, no data', async (n) => {
    const t = createFakeApp(fakeSource({ hosts: ['a'] }));
    const res = await t.app.fetch('http://fleetgraph/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'query Q($n: Int) { images(first: $n) { totalCount } }', variables: { n } }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { data?: unknown; errors: Array<{ message: string; extensions: unknown }> };
    expect(body.data).toBeUndefined();
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0]!.message).toContain('$n');
    expect(body.errors[0]!.extensions).toEqual({ code: 'BAD_USER_INPUT' });
  });
});
