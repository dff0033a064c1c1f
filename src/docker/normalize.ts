/**
 * Module: Engine API JSON -> our backing shapes. Engines disagree on details (Docker before API 1.43 reports
 * untagged images as `<none>:<none>` / `<none>@<none>`; -1 means "not calculated"; Podman omits
 * VirtualSize, adds fields and may return IDs without the `sha256:` prefix). All of that is settled here,
 * once, so the schema never sees a sentinel.
 */
import { z, ZodError } from 'zod';
import type { ContainerRecord, EngineVersion, ImageRecord } from '../inventory/types.js';
import { checkEngineImage, type EngineImage } from './image-shape.js';
import { normalizeDescriptor, normalizeManifests } from './manifests.js';

// The shapes below are the domain's (src/inventory/types.ts); re-exported for the modules that took them from here.
export type { ContainerRecord, EngineVersion, HostImage, ImageRecord } from '../inventory/types.js';

/**
 * Engine numbers are checked here against what the schema can carry, so a value GraphQL cannot
 * serialise fails its host (HOST_BAD_RESPONSE) instead of nulling the whole answer: sizes are 53-bit
 * safe integers (SafeInt), counts 32-bit (Int), and times whole Unix seconds in years 0001-9999
 * (what createdAt can print; Docker reports an unset time as year 1).
 */
const unixSeconds = () => z.number().int().min(-62_135_596_800).max(253_402_300_799);

const nullableStrings = z
  .array(z.string())
  .nullish()
  .transform((v) => v ?? []);



const notCalculated = (n: number | null | undefined): number | null => (n === undefined || n === null || n < 0 ? null : n);

function withAlgorithm(id: string): string {
  return id.length === 64 && /^[a-f0-9]{64}$/.test(id) ? `sha256:${id}` : id;
}

/** The engine's list itself when it holds no sentinel (the usual case): no copy per image. */
function without(list: string[] | null | undefined, sentinel: string): string[] {
  if (!list || list.length === 0) return [];
  return list.includes(sentinel) ? list.filter((x) => x !== sentinel) : list;
}

/** `manifests`: whether `manifests=1` was asked (then absent Manifests is null, "cannot say"; else left out). */
export function normalizeImage(raw: EngineImage, manifests = false): ImageRecord {
  const record: ImageRecord = {
    id: withAlgorithm(raw.Id),
    parentId: raw.ParentId ? withAlgorithm(raw.ParentId) : null,
    repoTags: without(raw.RepoTags, '<none>:<none>'),
    repoDigests: without(raw.RepoDigests, '<none>@<none>'),
    created: raw.Created,
    size: raw.Size,
    sharedSize: notCalculated(raw.SharedSize),
    virtualSize: raw.VirtualSize === undefined || raw.VirtualSize === null ? null : raw.VirtualSize,
    labels: raw.Labels ?? {},
    containers: notCalculated(raw.Containers),
  };
  // Only containerd-store engines send these; the usual image costs two checks, nothing more.
  if (raw.Descriptor !== undefined && raw.Descriptor !== null) record.descriptor = normalizeDescriptor(raw.Descriptor);
  if (manifests || raw.Manifests !== undefined) record.manifests = normalizeManifests(raw.Manifests);
  return record;
}

/** Items normalised between two yields to the event loop. */
const CHUNK = 500;

/**
 * Throws a ZodError when the body is not an image list; the caller maps that to HOST_BAD_RESPONSE.
 * A host with 200,000 images would still hold the event loop for a long time in one go, so the list
 * is checked in chunks with a yield (setImmediate) between them, and other requests run in between.
 */
export function normalizeImageList(body: unknown): Promise<ImageRecord[]> {
  return normalizeList(body, false);
}

/** The list as answered to `manifests=1`: every image's manifests, or null where the engine cannot say. */
export function normalizeImageListWithManifests(body: unknown): Promise<ImageRecord[]> {
  return normalizeList(body, true);
}

/**
 * Each engine item's record, by the item's value, with and without manifests: an item an answer shares
 * with the one before (json-chunks.ts ItemMemo) is checked and normalised once. Records are never changed.
 */
const records = [new WeakMap<object, ImageRecord>(), new WeakMap<object, ImageRecord>()] as const;

async function normalizeList(body: unknown, manifests: boolean): Promise<ImageRecord[]> {
  // (zod's own array check would copy 200,000 items in one go; a non-array still gets its ZodError.)
  const items: unknown[] = Array.isArray(body) ? body : z.array(z.unknown()).parse(body);
  const known = records[manifests ? 1 : 0];
  const out: ImageRecord[] = [];
  for (let start = 0; start < items.length; start += CHUNK) {
    if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const end = Math.min(items.length, start + CHUNK);
    for (let i = start; i < end; i++) {
      const item = items[i];
      let record = typeof item === 'object' && item !== null ? known.get(item) : undefined;
      if (!record) {
        record = normalizeImage(checkEngineImage(item, i), manifests);
        if (typeof item === 'object' && item !== null) known.set(item, record);
      }
      out.push(record);
    }
  }
  return out;
}

const engineContainerSchema = z
  .object({
    Id: z.string().min(1),
    Names: nullableStrings,
    Image: z.string().nullish(),
    ImageID: z.string().nullish(),
    State: z.string().nullish(),
    Status: z.string().nullish(),
    Created: unixSeconds(),
  })
  .passthrough();


export function normalizeContainerList(body: unknown): ContainerRecord[] {
  return z
    .array(engineContainerSchema)
    .parse(body)
    .map((c) => ({
      id: c.Id,
      names: c.Names.map((n) => n.replace(/^\//, '')),
      image: c.Image ?? '',
      imageId: c.ImageID ? withAlgorithm(c.ImageID) : '',
      state: c.State ?? '',
      status: c.Status ?? '',
      created: c.Created,
    }));
}

const engineVersionSchema = z
  .object({
    Version: z.string(),
    ApiVersion: z.string(),
    MinAPIVersion: z.string().nullish(),
    Os: z.string(),
    Arch: z.string(),
    KernelVersion: z.string().nullish(),
  })
  .passthrough();


export function normalizeVersion(body: unknown): EngineVersion {
  const v = engineVersionSchema.parse(body);
  return {
    version: v.Version,
    apiVersion: v.ApiVersion,
    minApiVersion: v.MinAPIVersion ?? null,
    os: v.Os,
    arch: v.Arch,
    kernelVersion: v.KernelVersion ?? null,
  };
}

/** A /system/df answer that is not as the Engine API documents it (EngineSource says HOST_BAD_RESPONSE). */
const badDf = (path: Array<string | number>) => new ZodError([{ code: 'custom', path, message: 'not as the Engine API documents it' }]);
const isIntIn = (v: unknown, min: number, max: number) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const isAbsent = (v: unknown) => v === undefined || v === null;

/**
 * `/system/df` -> image ID -> shared size (null where the engine still did not calculate it). Checked by
 * hand, as image-shape.ts checks the image list: what the former zod schema accepted (an object whose
 * Images, if any, are objects with a string Id, a safe integer or no SharedSize and a count of -1 up
 * to 2^31-1 or no Containers; other fields pass), without zod's copy of every item (~5 µs each, in one
 * synchronous block per host: the longest one of an every-field answer on engines before API 1.42).
 */
export function normalizeDfSharedSizes(body: unknown): Map<string, number | null> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badDf([]);
  const images = (body as { Images?: unknown }).Images;
  const sizes = new Map<string, number | null>();
  if (isAbsent(images)) return sizes;
  if (!Array.isArray(images)) throw badDf(['Images']);
  for (let i = 0; i < images.length; i++) {
    const o = images[i] as Record<string, unknown> | null;
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw badDf(['Images', i]);
    if (typeof o.Id !== 'string') throw badDf(['Images', i, 'Id']);
    if (!isAbsent(o.SharedSize) && !isIntIn(o.SharedSize, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)) throw badDf(['Images', i, 'SharedSize']);
    if (!isAbsent(o.Containers) && !isIntIn(o.Containers, -1, 2 ** 31 - 1)) throw badDf(['Images', i, 'Containers']);
    sizes.set(withAlgorithm(o.Id), notCalculated(o.SharedSize as number | null | undefined));
  }
  return sizes;
}

/** Compares dotted API versions ("1.41" < "1.43"). */
export function apiAtLeast(version: string | undefined, wanted: string): boolean {
  if (!version) return false;
  const [a1 = 0, a2 = 0] = version.split('.').map(Number);
  const [b1 = 0, b2 = 0] = wanted.split('.').map(Number);
  return a1 > b1 || (a1 === b1 && a2 >= b2);
}
