import { UsageError } from './usage-error.js';
import { humanSize, table } from './format.js';

/**
 * Module: `fleetgraph query`, one GraphQL operation in-process, printed as the answer's JSON or as tables:
 * each top-level list (or connection's `nodes`, such as `images`) as rows with one column per selected
 * leaf, nested fields joined by "." (host.name -> HOST.NAME), lists joined by ",", sizes in docker's units.
 */

/** `--variables`: a JSON object, or a usage error. */
export function parseVariables(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError('--variables: not valid JSON (e.g. \'{"first": 5}\')');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError('--variables: expected a JSON object');
  return value as Record<string, unknown>;
}

/** Byte counts in the schema: size, sharedSize, virtualSize, totalSize, uniqueSize, danglingSize, … */
const isSizeField = (key: string) => /(^s|S)ize$/.test(key);

function cell(key: string, value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'number' && isSizeField(key)) return humanSize(value);
  if (Array.isArray(value)) return value.map((v) => cell(key, v)).join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** One row's leaves, keyed by their dotted path; lists of objects are joined per leaf. */
function flatten(value: unknown, prefix: string, into: Map<string, string>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, into);
    return;
  }
  if (Array.isArray(value) && value.some((v) => v !== null && typeof v === 'object')) {
    const parts = value.map((v) => {
      const m = new Map<string, string>();
      flatten(v, '', m);
      return [...m.values()].join(' ');
    });
    into.set(prefix, parts.join(','));
    return;
  }
  into.set(prefix, cell(prefix.slice(prefix.lastIndexOf('.') + 1), value));
}

function rowsTable(items: unknown[]): string {
  const rows = items.map((item) => {
    const m = new Map<string, string>();
    flatten(item, '', m);
    return m;
  });
  const columns = [...new Set(rows.flatMap((r) => [...r.keys()]))];
  return table(
    columns.map((c) => c.toUpperCase() || 'VALUE'),
    rows.map((r) => columns.map((c) => r.get(c) ?? '')),
  );
}

/** The answer's data as tables, one per top-level field, each under its field name when there are several. */
export function dataTables(data: Record<string, unknown>): string {
  const fields = Object.entries(data);
  return fields
    .map(([field, value]) => {
      const nodes = (value as { nodes?: unknown } | null)?.nodes;
      const list = Array.isArray(value) ? value : Array.isArray(nodes) ? nodes : undefined;
      const body = list ? rowsTable(list) : rowsTable([value]);
      return fields.length > 1 ? `${field}:\n${body}` : body;
    })
    .join('\n');
}
