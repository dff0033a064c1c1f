import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { fleetEngines } from '../helpers/provided.js';

/** Every GraphQL example in README.md is valid against the schema and runs on a real fleet. */
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const examples = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!);

let t: TestApp;
beforeAll(() => {
  t = createTestApp(fleetEngines().map((e) => ({ name: e.name, endpoint: e.endpoint })));
});
afterAll(() => t?.close());

it('has examples', () => {
  expect(examples.length).toBeGreaterThanOrEqual(4);
});

it.each(examples.map((q) => [q.split('\n')[0]!.slice(0, 60), q]))('runs and shows something: %s', async (_name, query) => {
  const res = await t.query<Record<string, unknown>>(query);
  expect(res.status).toBe(200);
  // Examples name nothing a fleet may lack: no error, and every list in the answer has items.
  expect(res.errors).toBeUndefined();
  const lists = Object.entries(res.data!).map(([field, v]) => [field, listOf(v)] as const).filter(([, l]) => l !== undefined);
  expect(lists.length).toBeGreaterThan(0);
  for (const [field, list] of lists) expect(list!.length, field).toBeGreaterThan(0);
});

/** A top-level list, a connection's nodes, or undefined for an object such as `fleet`. */
function listOf(v: unknown): unknown[] | undefined {
  if (Array.isArray(v)) return v;
  const nodes = (v as { nodes?: unknown } | null)?.nodes;
  return Array.isArray(nodes) ? nodes : undefined;
}
