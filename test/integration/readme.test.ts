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

it.each(examples.map((q) => [q.split('\n')[0]!.slice(0, 60), q]))('runs: %s', async (_name, query) => {
  const res = await t.query(query);
  expect(res.status).toBe(200);
  // The examples name images this fleet may not have (before/since): only such per-host answers may fail.
  for (const e of res.errors ?? []) expect(e.extensions?.code).toBe('REFERENCE_NOT_FOUND');
  expect(res.data).toBeTruthy();
});
