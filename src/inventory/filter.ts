import type { GraphQLError } from 'graphql';
import { badInput } from '../docker/errors.js';
import type { ContainerRecord, ImageRecord } from '../docker/normalize.js';
import { BadPatternError, referenceMatches, resolveReference, validatePattern } from './reference.js';

/**
 * ImageFilter, applied in memory to each host's one image list, with the meaning of Docker's own
 * `/images/json?filters=` where Docker has the filter (dangling, label, reference, before, since).
 * Any number of differently filtered lists in one request still cost one engine call per host.
 */
export interface ImageFilter {
  dangling?: boolean | null;
  label?: readonly string[] | null;
  labelNot?: readonly string[] | null;
  reference?: readonly string[] | null;
  before?: string | null;
  since?: string | null;
  createdBefore?: Date | null;
  createdAfter?: Date | null;
  inUse?: boolean | null;
  ids?: readonly string[] | null;
}

/** Checks the arguments before any engine is called; errors name the argument. */
export function validateFilter(filter: ImageFilter | null | undefined, argument = 'filter'): void {
  if (!filter) return;
  filter.reference?.forEach((pattern, i) => {
    try {
      validatePattern(pattern);
    } catch (err) {
      if (err instanceof BadPatternError) throw badInput(`${argument}.reference[${i}]: "${pattern}" is not a valid pattern`, `${argument}.reference`);
      throw err;
    }
  });
  for (const key of ['label', 'labelNot'] as const) {
    filter[key]?.forEach((entry, i) => {
      if (!entry || entry.startsWith('=')) throw badInput(`${argument}.${key}[${i}]: expected key or key=value`, `${argument}.${key}`);
    });
  }
  filter.ids?.forEach((id, i) => {
    if (!/^(sha256:)?[a-f0-9]{1,64}$/.test(id)) throw badInput(`${argument}.ids[${i}]: "${id}" is not an image ID or ID prefix`, `${argument}.ids`);
  });
  for (const key of ['before', 'since'] as const) {
    if (filter[key] === '') throw badInput(`${argument}.${key}: an image reference is required`, `${argument}.${key}`);
  }
}

/** Docker's MatchKVList: every `key` must be present, every `key=value` equal. */
export function labelsMatch(entries: readonly string[], labels: Readonly<Record<string, string>>): boolean {
  return entries.every((entry) => {
    const eq = entry.indexOf('=');
    const key = eq < 0 ? entry : entry.slice(0, eq);
    if (!Object.prototype.hasOwnProperty.call(labels, key)) return false;
    return eq < 0 || labels[key] === entry.slice(eq + 1);
  });
}

export function needsContainers(filter: ImageFilter | null | undefined): boolean {
  return filter?.inUse !== undefined && filter?.inUse !== null;
}

/** Resolves `ids` prefixes against every ID in the lists; an ambiguous prefix is an error. */
export function resolveIdPrefixes(filter: ImageFilter | null | undefined, allIds: Iterable<string>, argument = 'filter'): Set<string> | undefined {
  if (!filter?.ids) return undefined;
  const ids = [...new Set(allIds)];
  const out = new Set<string>();
  filter.ids.forEach((given, i) => {
    const prefix = given.startsWith('sha256:') ? given : `sha256:${given}`;
    const hits = ids.filter((id) => id.startsWith(prefix));
    if (hits.length > 1) throw badInput(`${argument}.ids[${i}]: "${given}" is ambiguous (${hits.length} images)`, `${argument}.ids`);
    if (hits[0]) out.add(hits[0]);
  });
  return out;
}

export interface HostFilterResult {
  images: ImageRecord[];
  /** A before/since reference that does not resolve on this host: the host contributes no images. */
  error?: GraphQLError;
}

/** Filters one host's images. `containers` is needed only when needsContainers(filter). */
export function filterHostImages(
  host: string,
  images: readonly ImageRecord[],
  filter: ImageFilter | null | undefined,
  ids: Set<string> | undefined,
  containers?: readonly ContainerRecord[],
  argument = 'filter',
): HostFilterResult {
  if (!filter) return { images: [...images] };
  const bounds: { before?: number; since?: number } = {};
  for (const key of ['before', 'since'] as const) {
    const ref = filter[key];
    if (!ref) continue;
    const hits = resolveReference(ref, images);
    const distinct = [...new Set(hits)];
    if (distinct.length !== 1) {
      const why = distinct.length === 0 ? `no image "${ref}" on host "${host}"` : `"${ref}" is ambiguous on host "${host}"`;
      return { images: [], error: badInput(`${argument}.${key}: ${why}`, `${argument}.${key}`, { code: 'REFERENCE_NOT_FOUND', host }) };
    }
    bounds[key] = images.find((i) => i.id === distinct[0])!.created;
  }
  const used = containers ? new Set(containers.map((c) => c.imageId)) : undefined;
  const createdBefore = filter.createdBefore ? filter.createdBefore.getTime() / 1000 : undefined;
  const createdAfter = filter.createdAfter ? filter.createdAfter.getTime() / 1000 : undefined;
  const out = images.filter((img) => {
    if (filter.dangling === true && img.repoTags.length > 0) return false;
    // Docker's dangling=false drops only images with neither tags nor digests.
    if (filter.dangling === false && img.repoTags.length === 0 && img.repoDigests.length === 0) return false;
    if (filter.label?.length && !labelsMatch(filter.label, img.labels)) return false;
    if (filter.labelNot?.length && filter.labelNot.some((entry) => labelsMatch([entry], img.labels))) return false;
    if (filter.reference?.length && !filter.reference.some((p) => referenceMatches(p, [...img.repoTags, ...img.repoDigests]))) return false;
    if (bounds.before !== undefined && !(img.created < bounds.before)) return false;
    if (bounds.since !== undefined && !(img.created > bounds.since)) return false;
    if (createdBefore !== undefined && !(img.created < createdBefore)) return false;
    if (createdAfter !== undefined && !(img.created > createdAfter)) return false;
    if (used && filter.inUse !== null && filter.inUse !== undefined && used.has(img.id) !== filter.inUse) return false;
    if (ids && !ids.has(img.id)) return false;
    return true;
  });
  return { images: out };
}
