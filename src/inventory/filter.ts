import type { GraphQLError } from 'graphql';
import { badInput } from './errors.js';
import type { ContainerRecord, ImageRecord, PlatformRecord } from './types.js';
import { BadPatternError, compilePattern, matchCompiled, matchForms, resolveReference, type CompiledPattern } from './reference.js';

/**
 * ImageFilter, applied in memory to each host's one image list, with the meaning of Docker's own
 * `/images/json?filters=` where Docker has the filter (dangling, label, reference, before, since;
 * createdBefore is Docker's `until` with a fixed time). Any number of differently filtered lists in
 * one request still cost one list call per host.
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
  /** Update states (registry/updates.ts); applied after the inventory's own conditions, by the schema. */
  updateStatus?: readonly string[] | null;
  /** "os/architecture[/variant]": images with an available image manifest of that platform. */
  platform?: string | null;
}

/** Every list in a filter is bounded: a pattern costs its length times every tag of every image on every host. */
export const MAX_FILTER_ENTRIES = 100;
export const MAX_FILTER_ENTRY_LENGTH = 1024;

const LIST_KEYS = ['label', 'labelNot', 'reference', 'ids'] as const;
const KEY_ORDER = ['dangling', 'label', 'labelNot', 'reference', 'before', 'since', 'createdBefore', 'createdAfter', 'inUse', 'ids', 'updateStatus', 'platform'] as const;

/** os/architecture[/variant] as OCI and docker write them (lower case, no spaces). */
const PLATFORM = /^([a-z0-9_.-]{1,64})\/([a-z0-9_.-]{1,64})(?:\/([a-z0-9_.-]{1,64}))?$/;

/** A filter validated and prepared once per request: patterns compiled, times in nanoseconds, a stable key. */
export interface CompiledFilter {
  readonly filter: ImageFilter;
  /** Equal for equal filters (whatever the field order), for per-request memoisation. */
  readonly key: string;
  readonly reference?: CompiledPattern[];
  /** `ids` entries as "sha256:" prefixes. */
  readonly idPrefixes?: string[];
  readonly createdBefore?: bigint;
  readonly createdAfter?: bigint;
  readonly platform?: PlatformRecord;
  readonly needsContainers: boolean;
}

export function filterKey(filter: ImageFilter): string {
  return JSON.stringify(KEY_ORDER.map((k) => filter[k] ?? null));
}

const toNanos = (d: Date) => BigInt(d.getTime()) * 1_000_000n;

/** Checks the arguments before any engine is called (errors name the argument), and compiles them. */
export function compileFilter(filter: ImageFilter | null | undefined, argument = 'filter'): CompiledFilter | undefined {
  if (!filter) return undefined;
  for (const key of LIST_KEYS) {
    const list = filter[key];
    if (list && list.length > MAX_FILTER_ENTRIES) {
      throw badInput(`${argument}.${key}: at most ${MAX_FILTER_ENTRIES} entries (got ${list.length})`, `${argument}.${key}`, { limit: MAX_FILTER_ENTRIES });
    }
    list?.forEach((entry, i) => {
      if (entry.length > MAX_FILTER_ENTRY_LENGTH) {
        throw badInput(`${argument}.${key}[${i}]: at most ${MAX_FILTER_ENTRY_LENGTH} characters`, `${argument}.${key}`, { limit: MAX_FILTER_ENTRY_LENGTH });
      }
    });
  }
  for (const key of ['before', 'since'] as const) {
    const ref = filter[key];
    if (ref === '') throw badInput(`${argument}.${key}: an image reference is required`, `${argument}.${key}`);
    if (ref && ref.length > MAX_FILTER_ENTRY_LENGTH) throw badInput(`${argument}.${key}: at most ${MAX_FILTER_ENTRY_LENGTH} characters`, `${argument}.${key}`);
  }
  const reference = filter.reference?.map((pattern, i) => {
    try {
      return compilePattern(pattern);
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
  const idPrefixes = filter.ids?.map((id, i) => {
    if (!/^(sha256:)?[a-f0-9]{1,64}$/.test(id)) throw badInput(`${argument}.ids[${i}]: "${id}" is not an image ID or ID prefix`, `${argument}.ids`);
    return id.startsWith('sha256:') ? id : `sha256:${id}`;
  });
  let platform: PlatformRecord | undefined;
  if (filter.platform !== undefined && filter.platform !== null) {
    const m = PLATFORM.exec(filter.platform.toLowerCase());
    if (!m) throw badInput(`${argument}.platform: expected os/architecture[/variant], e.g. linux/arm64`, `${argument}.platform`);
    platform = { os: m[1]!, architecture: m[2]!, variant: m[3] ?? null };
  }
  return {
    filter,
    key: filterKey(filter),
    ...(platform ? { platform } : {}),
    ...(reference?.length ? { reference } : {}),
    ...(idPrefixes ? { idPrefixes } : {}),
    ...(filter.createdBefore ? { createdBefore: toNanos(filter.createdBefore) } : {}),
    ...(filter.createdAfter ? { createdAfter: toNanos(filter.createdAfter) } : {}),
    needsContainers: filter.inUse !== undefined && filter.inUse !== null,
  };
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

/**
 * An available image manifest of that platform (os and architecture equal; the variant too when the
 * filter names one). An image whose engine cannot list its manifests (API before 1.47, classic store)
 * has no such manifest as far as the gateway knows, so it does not match.
 */
export function hasPlatform(img: ImageRecord, p: PlatformRecord): boolean {
  return (img.manifests ?? []).some(
    (m) => m.kind === 'IMAGE' && m.available && m.platform !== null && m.platform.os === p.os && m.platform.architecture === p.architecture && (p.variant === null || m.platform.variant === p.variant),
  );
}

export interface HostFilterResult {
  images: ImageRecord[];
  /** A before/since reference that does not resolve on this host: the host contributes no images. */
  error?: GraphQLError;
  /** Per `ids` entry, the IDs on this host it is a prefix of (ambiguity is judged across the listed hosts). */
  idHits?: string[][];
}

/** What a host's filter needs besides its image list: full-precision creation times of a few images. */
export interface HostFilterPlan extends HostFilterResult {
  /** Images in `images` whose creation second equals a time bound's: only full precision decides them. */
  unsure: Set<string>;
  refs: { before?: string; since?: string };
  /** IDs whose full-precision creation times finishHostFilter needs; empty when `images` is the answer. */
  needPrecise: string[];
}

const NS = 1_000_000_000n;
type Verdict = 'yes' | 'no' | 'unsure';

/** `t < x` (or `t > x` when `after`) for t in [a1, a2] and x in [b1, b2]. */
function compare(a1: bigint, a2: bigint, b1: bigint, b2: bigint, after: boolean): Verdict {
  if (after) return a1 > b2 ? 'yes' : a2 <= b1 ? 'no' : 'unsure';
  return a2 < b1 ? 'yes' : a1 >= b2 ? 'no' : 'unsure';
}

/**
 * Filters one host's images as far as whole seconds allow. The engine compares full-precision
 * creation times (nanoseconds, from the image config) while /images/json gives Unix seconds, so an
 * image created in the same second as a before/since reference or a createdBefore/createdAfter time
 * stays `unsure` until finishHostFilter has its precise time. `containers` only when cf.needsContainers.
 */
/** Images checked between two yields to the event loop. */
const FILTER_STEP = 2000;

export async function planHostFilter(
  host: string,
  images: readonly ImageRecord[],
  cf: CompiledFilter,
  containers?: readonly ContainerRecord[],
  formsCache: WeakMap<ImageRecord, string[]> = new WeakMap(),
  argument = 'filter',
): Promise<HostFilterPlan> {
  const { filter } = cf;
  const refs: { before?: string; since?: string } = {};
  const bounds: Array<{ after: boolean; b1: bigint; b2: bigint; ref?: string }> = [];
  for (const key of ['before', 'since'] as const) {
    const ref = filter[key];
    if (!ref) continue;
    const distinct = [...new Set(resolveReference(ref, images))];
    if (distinct.length !== 1) {
      const why = distinct.length === 0 ? `no image "${ref}" on host "${host}"` : `"${ref}" is ambiguous on host "${host}"`;
      const error = badInput(`${argument}.${key}: ${why}`, `${argument}.${key}`, { code: 'REFERENCE_NOT_FOUND', host });
      return { images: [], error, unsure: new Set(), refs, needPrecise: [] };
    }
    refs[key] = distinct[0]!;
    const second = BigInt(Math.floor(images.find((i) => i.id === distinct[0])!.created)) * NS;
    bounds.push({ after: key === 'since', b1: second, b2: second + NS - 1n, ref: distinct[0]! });
  }
  if (cf.createdBefore !== undefined) bounds.push({ after: false, b1: cf.createdBefore, b2: cf.createdBefore });
  if (cf.createdAfter !== undefined) bounds.push({ after: true, b1: cf.createdAfter, b2: cf.createdAfter });

  const used = containers && cf.needsContainers ? new Set(containers.map((c) => c.imageId)) : undefined;
  const idHits = cf.idPrefixes?.map((prefix) => images.filter((i) => i.id.startsWith(prefix)).map((i) => i.id));
  const forms = (img: ImageRecord) => {
    let out = formsCache.get(img);
    if (!out) formsCache.set(img, (out = [...img.repoTags, ...img.repoDigests].flatMap(matchForms)));
    return out;
  };
  const unsure = new Set<string>();
  const keep = (img: ImageRecord): boolean => {
    if (filter.dangling === true && img.repoTags.length > 0) return false;
    // Docker's dangling=false drops only images with neither tags nor digests.
    if (filter.dangling === false && img.repoTags.length === 0 && img.repoDigests.length === 0) return false;
    if (filter.label?.length && !labelsMatch(filter.label, img.labels)) return false;
    if (filter.labelNot?.length && filter.labelNot.some((entry) => labelsMatch([entry], img.labels))) return false;
    if (used && used.has(img.id) !== filter.inUse) return false;
    if (cf.idPrefixes && !cf.idPrefixes.some((p) => img.id.startsWith(p))) return false;
    if (cf.reference && !cf.reference.some((p) => forms(img).some((f) => matchCompiled(p, f)))) return false;
    if (cf.platform && !hasPlatform(img, cf.platform)) return false;
    const a1 = BigInt(Math.floor(img.created)) * NS;
    let verdict: Verdict = 'yes';
    for (const b of bounds) {
      const v = b.ref === img.id ? 'no' : compare(a1, a1 + NS - 1n, b.b1, b.b2, b.after);
      if (v === 'no') return false;
      if (v === 'unsure') verdict = 'unsure';
    }
    if (verdict === 'unsure') unsure.add(img.id);
    return true;
  };
  // In steps with a yield between them: 100 reference patterns over a 200,000-image host take seconds.
  const out: ImageRecord[] = [];
  for (let start = 0; start < images.length; start += FILTER_STEP) {
    if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const end = Math.min(images.length, start + FILTER_STEP);
    for (let i = start; i < end; i++) if (keep(images[i]!)) out.push(images[i]!);
  }
  const needPrecise = unsure.size ? [...new Set([...unsure, ...Object.values(refs)])] : [];
  return { images: out, unsure, refs, needPrecise, ...(idHits ? { idHits } : {}) };
}

/**
 * Decides the unsure images of a plan with full-precision creation times (nanoseconds; null for an
 * image that is gone since the list was read). Docker's comparisons are strict: an image created in
 * the same nanosecond as the reference is neither before nor since it.
 */
export function finishHostFilter(
  host: string,
  plan: HostFilterPlan,
  cf: CompiledFilter,
  created: ReadonlyMap<string, bigint | null>,
  argument = 'filter',
): HostFilterResult {
  const result = (images: ImageRecord[], error?: GraphQLError): HostFilterResult => ({ images, ...(error ? { error } : {}), ...(plan.idHits ? { idHits: plan.idHits } : {}) });
  if (plan.error || plan.unsure.size === 0) return result(plan.images, plan.error);
  const bounds: Array<{ after: boolean; x: bigint }> = [];
  for (const key of ['before', 'since'] as const) {
    const ref = plan.refs[key];
    if (ref === undefined) continue;
    const x = created.get(ref);
    if (x === undefined || x === null) {
      return result([], badInput(`${argument}.${key}: no image "${String(cf.filter[key])}" on host "${host}"`, `${argument}.${key}`, { code: 'REFERENCE_NOT_FOUND', host }));
    }
    bounds.push({ after: key === 'since', x });
  }
  if (cf.createdBefore !== undefined) bounds.push({ after: false, x: cf.createdBefore });
  if (cf.createdAfter !== undefined) bounds.push({ after: true, x: cf.createdAfter });
  return result(
    plan.images.filter((img) => {
      if (!plan.unsure.has(img.id)) return true;
      const t = created.get(img.id);
      if (t === undefined || t === null) return false;
      return bounds.every((b) => (b.after ? t > b.x : t < b.x));
    }),
  );
}

/** Both steps, for callers that have every image's precise time at hand (or only seconds: pass none). */
export async function filterHostImages(
  host: string,
  images: readonly ImageRecord[],
  cf: CompiledFilter | undefined,
  containers?: readonly ContainerRecord[],
  created?: ReadonlyMap<string, bigint | null>,
): Promise<HostFilterResult> {
  if (!cf) return { images: [...images] };
  const plan = await planHostFilter(host, images, cf, containers);
  return finishHostFilter(host, plan, cf, created ?? secondsOnly(images, plan.needPrecise));
}

/** Creation times at the precision /images/json has, for a source that cannot tell more. */
export function secondsOnly(images: readonly ImageRecord[], ids: readonly string[]): Map<string, bigint> {
  const want = new Set(ids);
  return new Map(images.filter((i) => want.has(i.id)).map((i) => [i.id, BigInt(Math.floor(i.created)) * NS]));
}
