import { UsageError } from './usage-error.js';
import { compilePattern, referenceMatches } from '../inventory/reference.js';
import { humanDuration, humanSize, table } from './format.js';

/**
 * Module: `fleetgraph images`, the fleet's `docker images`: one query over every host, rows as the docker
 * CLI makes them (a row per repository:tag, `<none>` where there is none), with a HOST column first.
 */

/** The query's answer for one image summary. */
export interface ImageNode {
  host: { name: string };
  id: string;
  repoTags: string[];
  repoDigests: string[];
  created: number;
  createdAt: string;
  size: number;
  labels: Array<{ key: string; value: string }>;
  /** Only with --outdated. */
  updates?: Array<{ reference: string; status: string; localDigest: string | null; remoteDigest: string | null }>;
}

export const IMAGES_QUERY = `query FleetImages($filter: ImageFilter) {
  images(filter: $filter, orderBy: [{ field: CREATED, direction: DESC }, { field: HOST }]) {
    nodes { host { name } id repoTags repoDigests created createdAt size labels { key value } }
  }
}`;

/** `--outdated`: only images with a tag the registry has moved on from, and (in the table) only those tags. */
export const OUTDATED_QUERY = IMAGES_QUERY.replace('labels { key value } }', 'labels { key value } updates { reference status localDigest remoteDigest } }');

type ImageFilter = { reference?: string[]; label?: string[]; dangling?: boolean; before?: string; since?: string; updateStatus?: string[] };

const FILTER_KEYS = ['reference', 'label', 'dangling', 'before', 'since'] as const;

/**
 * `docker images --filter` entries (`reference=fleet/*`, `label=tier=web`, `dangling=true`, `before=app:1`,
 * `since=…`) as the API's ImageFilter: references and labels may repeat (any reference, every label, as
 * Docker), the others once. Anything else is a usage error naming the entry.
 */
export function imageFilter(entries: readonly string[]): ImageFilter {
  const filter: ImageFilter = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const key = eq < 0 ? entry : entry.slice(0, eq);
    const value = eq < 0 ? '' : entry.slice(eq + 1);
    const bad = (why: string): never => {
      throw new UsageError(`--filter "${entry}": ${why}`);
    };
    if (!(FILTER_KEYS as readonly string[]).includes(key)) bad(`unknown filter "${key}" (${FILTER_KEYS.join(', ')})`);
    if (eq < 0 || value === '') bad(`expected ${key}=value`);
    if (key === 'reference' || key === 'label') (filter[key] ??= []).push(value);
    else if (key === 'dangling') {
      if (filter.dangling !== undefined) bad('dangling is given twice');
      // the docker CLI's words for it (Go's strconv.ParseBool, as the engine reads it)
      if (/^(1|t|true|TRUE|True)$/.test(value)) filter.dangling = true;
      else if (/^(0|f|false|FALSE|False)$/.test(value)) filter.dangling = false;
      else bad('dangling takes true or false');
    } else {
      const k = key as 'before' | 'since';
      if (filter[k] !== undefined) bad(`${k} is given twice`);
      filter[k] = value;
    }
  }
  return filter;
}

/** `repo:tag` split at the last colon after the last slash (a registry may have a port). */
function splitTag(ref: string): [string, string] {
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, '<none>'];
}

/** The docker CLI's rows for one image: a row per tag; a repository known only by digest gets `<none>`. */
export function imageRows(node: ImageNode): Array<{ repository: string; tag: string }> {
  const rows = node.repoTags.map((t) => {
    const [repository, tag] = splitTag(t);
    return { repository, tag };
  });
  const tagged = new Set(rows.map((r) => r.repository));
  const digestOnly = [...new Set(node.repoDigests.map((d) => d.slice(0, d.indexOf('@'))))].filter((r) => r && !tagged.has(r));
  rows.push(...digestOnly.map((repository) => ({ repository, tag: '<none>' })));
  return rows.length ? rows : [{ repository: '<none>', tag: '<none>' }];
}

/** The short ID `docker images` shows: 12 hex digits without "sha256:". */
export const shortId = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

/**
 * With reference filters the engine lists an image under the references that matched only (its other tags
 * are left out of RepoTags), so `docker images --filter reference=fleet/*` shows no row for the image's
 * `registry.local:5000/fleet/tools:1`. The API returns whole summaries; the table trims them as the engine does.
 */
function matchingRefs(node: ImageNode, references: readonly string[]): ImageNode {
  if (references.length === 0) return node;
  const patterns = references.map((r) => compilePattern(r));
  const keep = (ref: string) => patterns.some((p) => referenceMatches(p, [ref]));
  return { ...node, repoTags: node.repoTags.filter(keep), repoDigests: node.repoDigests.filter(keep) };
}

/** With --outdated, an image's rows are its OUTDATED tags only. */
function outdatedRefs(node: ImageNode): ImageNode {
  if (!node.updates) return node;
  const outdated = new Set(node.updates.filter((u) => u.status === 'OUTDATED').map((u) => u.reference));
  return { ...node, repoTags: node.repoTags.filter((t) => outdated.has(t)), repoDigests: [] };
}

export function imagesTable(nodes: readonly ImageNode[], references: readonly string[] = [], now = Date.now()): string {
  return table(
    ['HOST', 'REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'],
    nodes.flatMap((n) =>
      imageRows(outdatedRefs(matchingRefs(n, references))).map((r) => [n.host.name, r.repository, r.tag, shortId(n.id), `${humanDuration(now - n.created * 1000)} ago`, humanSize(n.size)]),
    ),
  );
}

/** `--format json`: one object per image summary, with its host's name. */
export function imagesJson(nodes: readonly ImageNode[]): string {
  return `${JSON.stringify(
    nodes.map((n) => ({ host: n.host.name, id: n.id, repoTags: n.repoTags, repoDigests: n.repoDigests, createdAt: n.createdAt, size: n.size, labels: Object.fromEntries(n.labels.map((l) => [l.key, l.value])), ...(n.updates ? { updates: n.updates } : {}) })),
    null,
    2,
  )}\n`;
}
