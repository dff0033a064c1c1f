import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printSchema } from 'graphql';
import { schema } from '../src/schema/index.js';

/** Writes schema/schema.graphql, or with --check fails when the file differs from the code's schema. */
const target = fileURLToPath(new URL('../../schema/schema.graphql', import.meta.url));
const sdl = `${printSchema(schema)}\n`;
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing file: stale
  }
  if (current !== sdl) {
    process.stderr.write('schema/schema.graphql is stale: run `npm run schema:print` and commit the result\n');
    process.exit(1);
  }
  process.stdout.write('schema/schema.graphql is up to date\n');
} else {
  writeFileSync(target, sdl);
  process.stdout.write(`wrote ${target}\n`);
}
