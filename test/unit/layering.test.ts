import { readdirSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

/** inventory/ is pure logic over the domain's shapes: it knows nothing of engines (docker/) or the API (schema/). */
it('src/inventory imports nothing from docker/ or schema/', () => {
  const dir = new URL('../../src/inventory/', import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  expect(files.length).toBeGreaterThan(5);
  for (const f of files) {
    const imports = [...readFileSync(new URL(f, dir), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
    expect(imports.filter((i) => /^\.\.\/(docker|schema)\//.test(i)), f).toEqual([]);
  }
});
