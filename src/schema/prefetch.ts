import { getOperationAST, Kind, type FieldNode, type FragmentDefinitionNode, type ValueNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import { apiAtLeast } from '../docker/normalize.js';
import { eachField } from './selection.js';

/**
 * Module: every engine call an operation will need starts when it starts, in parallel. Without this,
 * /system/df (for sharedSize) or a container list (for usedBy) started only once the image list had
 * come back and the fields under it resolved: one engine round after another. The operation's
 * selection tells which kinds of data each root field needs and for which hosts; the per-request
 * loaders are primed with them, so a resolver's later load() gets the call already under way, and a
 * request still makes at most one call per host per kind. A prefetch's failure is swallowed here: it
 * reaches the client only through the resolver that uses the data, as before.
 */

type Kind4 = 'images' | 'containers' | 'sharedSizes' | 'version';

/** Root fields that read image lists whatever they select. */
const IMAGE_ROOTS = new Set(['images', 'image', 'imageGroups', 'tagDrift', 'fleet']);
/** Host fields that read the host's image list. */
const HOST_IMAGE_FIELDS = ['status', 'error', 'apiVersion', 'imageCount', 'images', 'stats'];
/** Fields that read container lists (ImageSummary.containers only on engines that do not count). */
const CONTAINER_FIELDS = ['usedBy', 'inUse', 'unusedCount', 'unusedSize'];
/** ImageSummary fields read from the image list asked with `manifests=1`. */
const MANIFEST_FIELDS = ['manifests', 'platforms'];

interface Walked {
  names: Set<string>;
  filtersInUse: boolean;
  filtersPlatform: boolean;
}

function walk(field: FieldNode, fragments: Record<string, FragmentDefinitionNode>, vars: Record<string, unknown>, into: Walked): void {
  into.names.add(field.name.value);
  const filter = field.arguments?.find((a) => a.name.value === 'filter')?.value;
  if (filter && filterUses(filter, 'inUse', vars)) into.filtersInUse = true;
  if (filter && filterUses(filter, 'platform', vars)) into.filtersPlatform = true;
  eachField(field.selectionSet, fragments, (f) => walk(f, fragments, vars, into));
}

function filterUses(value: ValueNode, key: string, vars: Record<string, unknown>): boolean {
  if (value.kind === Kind.VARIABLE) {
    const v = vars[value.name.value];
    return typeof v === 'object' && v !== null && (v as Record<string, unknown>)[key] != null;
  }
  return value.kind === Kind.OBJECT && value.fields.some((f) => f.name.value === key && f.value.kind !== Kind.NULL);
}

/** The host names an argument lists, `all` when it is absent or null, undefined when it cannot tell. */
function hostsArg(field: FieldNode, name: string, vars: Record<string, unknown>, all: readonly string[]): readonly string[] | undefined {
  let value: unknown;
  const node = field.arguments?.find((a) => a.name.value === name)?.value;
  if (!node || node.kind === Kind.NULL) return all;
  if (node.kind === Kind.VARIABLE) value = vars[node.name.value];
  else if (node.kind === Kind.STRING) value = node.value;
  else if (node.kind === Kind.LIST) value = node.values.map((v) => (v.kind === Kind.STRING ? v.value : v.kind === Kind.VARIABLE ? vars[v.name.value] : undefined));
  if (value === undefined || value === null) return node.kind === Kind.VARIABLE ? all : undefined;
  const list = Array.isArray(value) ? value : [value];
  // A hidden or unknown name fails the field (UNKNOWN_HOST): nothing to start for it.
  if (!list.every((h): h is string => typeof h === 'string' && all.includes(h))) return undefined;
  return list;
}

function kindsOf(root: string, w: Walked, containersCounted: (host: string) => boolean): (host: string) => Kind4[] {
  const has = (names: readonly string[]) => names.some((n) => w.names.has(n));
  const images = IMAGE_ROOTS.has(root) || has(HOST_IMAGE_FIELDS);
  return (host) => {
    const kinds: Kind4[] = [];
    if (images) kinds.push('images');
    if (images && (has(CONTAINER_FIELDS) || w.filtersInUse || (w.names.has('containers') && !containersCounted(host)))) kinds.push('containers');
    if (images && w.names.has('sharedSize')) kinds.push('sharedSizes');
    if (w.names.has('engine')) kinds.push('version');
    return kinds;
  };
}

/** Primes the request's loaders for the operation about to execute. */
export function prefetch(ctx: Context, fields: readonly FieldNode[], fragments: Record<string, FragmentDefinitionNode>, vars: Record<string, unknown>): void {
  // Engines of API 1.51+ count an image's containers in the image list itself.
  const counted = (host: string) => apiAtLeast(ctx.deps.source.negotiatedApiVersion(host), '1.51');
  const walked: Array<{ field: FieldNode; w: Walked }> = [];
  for (const field of fields) {
    const w: Walked = { names: new Set(), filtersInUse: false, filtersPlatform: false };
    eachField(field.selectionSet, fragments, (f) => walk(f, fragments, vars, w));
    walked.push({ field, w });
  }
  // Decided before the first engine call: every image list of the request then carries manifests (one list call per host).
  if (ctx.imageDetail && walked.some(({ field, w }) => w.filtersPlatform || MANIFEST_FIELDS.some((n) => w.names.has(n)) || (field.arguments ?? []).some((a) => a.name.value === 'filter' && filterUses(a.value, 'platform', vars)))) {
    ctx.imageDetail.manifests = true;
  }
  for (const { field, w } of walked) {
    const root = field.name.value;
    const hosts = root === 'host' ? hostsArg(field, 'name', vars, ctx.visibleHosts) : hostsArg(field, root === 'hosts' ? 'names' : 'hosts', vars, ctx.visibleHosts);
    if (!hosts) continue;
    const kinds = kindsOf(root, w, counted);
    for (const host of hosts) for (const kind of kinds(host)) ctx.loaders[kind].load(host).catch(() => undefined);
  }
}

export function usePrefetch(): Plugin<Context> {
  return {
    onExecute({ args }) {
      const op = getOperationAST(args.document, args.operationName);
      if (!op || op.operation !== 'query') return;
      const fragments: Record<string, FragmentDefinitionNode> = {};
      for (const d of args.document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
      const roots: FieldNode[] = [];
      eachField(op.selectionSet, fragments, (f) => roots.push(f));
      prefetch(args.contextValue as Context, roots, fragments, (args.variableValues ?? {}) as Record<string, unknown>);
    },
  };
}
