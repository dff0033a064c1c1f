import { z } from 'zod';

/**
 * Engine API JSON -> our backing shapes. Engines disagree on details (Docker before API 1.43 reports
 * untagged images as `<none>:<none>` / `<none>@<none>`; -1 means "not calculated"; Podman omits
 * VirtualSize, adds fields and may return IDs without the `sha256:` prefix). All of that is settled here,
 * once, so the schema never sees a sentinel.
 */

const nullableStrings = z
  .array(z.string())
  .nullish()
  .transform((v) => v ?? []);

const engineImageSchema = z
  .object({
    Id: z.string().min(1),
    ParentId: z.string().nullish(),
    RepoTags: nullableStrings,
    RepoDigests: nullableStrings,
    Created: z.number().int(),
    Size: z.number().int().nonnegative(),
    SharedSize: z.number().int().nullish(),
    VirtualSize: z.number().int().nullish(),
    Labels: z.record(z.string(), z.string()).nullish(),
    Containers: z.number().int().nullish(),
  })
  .passthrough();

export const engineImageListSchema = z.array(engineImageSchema);

export interface ImageRecord {
  id: string;
  parentId: string | null;
  repoTags: string[];
  repoDigests: string[];
  /** Unix seconds. */
  created: number;
  size: number;
  sharedSize: number | null;
  virtualSize: number | null;
  labels: Readonly<Record<string, string>>;
  /** Containers using the image, as the engine reported it; null when the engine did not calculate it. */
  containers: number | null;
}

/** A summary and the host it came from: the backing shape of ImageSummary. */
export interface HostImage {
  host: string;
  image: ImageRecord;
}

const notCalculated = (n: number | null | undefined): number | null => (n === undefined || n === null || n < 0 ? null : n);

function withAlgorithm(id: string): string {
  return /^[a-f0-9]{64}$/.test(id) ? `sha256:${id}` : id;
}

export function normalizeImage(raw: z.infer<typeof engineImageSchema>): ImageRecord {
  return {
    id: withAlgorithm(raw.Id),
    parentId: raw.ParentId ? withAlgorithm(raw.ParentId) : null,
    repoTags: raw.RepoTags.filter((t) => t !== '<none>:<none>'),
    repoDigests: raw.RepoDigests.filter((d) => d !== '<none>@<none>'),
    created: raw.Created,
    size: raw.Size,
    sharedSize: notCalculated(raw.SharedSize),
    virtualSize: raw.VirtualSize === undefined || raw.VirtualSize === null ? null : raw.VirtualSize,
    labels: raw.Labels ?? {},
    containers: notCalculated(raw.Containers),
  };
}

/** Throws a ZodError when the body is not an image list; the caller maps that to HOST_BAD_RESPONSE. */
export function normalizeImageList(body: unknown): ImageRecord[] {
  return engineImageListSchema.parse(body).map(normalizeImage);
}

const engineContainerSchema = z
  .object({
    Id: z.string().min(1),
    Names: nullableStrings,
    Image: z.string().nullish(),
    ImageID: z.string().nullish(),
    State: z.string().nullish(),
    Status: z.string().nullish(),
    Created: z.number().int(),
  })
  .passthrough();

export interface ContainerRecord {
  id: string;
  names: string[];
  image: string;
  imageId: string;
  state: string;
  status: string;
  created: number;
}

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

export interface EngineVersion {
  version: string;
  apiVersion: string;
  minApiVersion: string | null;
  os: string;
  arch: string;
  kernelVersion: string | null;
}

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

const engineDfSchema = z
  .object({
    Images: z
      .array(z.object({ Id: z.string(), SharedSize: z.number().int().nullish(), Containers: z.number().int().nullish() }).passthrough())
      .nullish(),
  })
  .passthrough();

/** `/system/df` -> image ID -> shared size (null where the engine still did not calculate it). */
export function normalizeDfSharedSizes(body: unknown): Map<string, number | null> {
  const df = engineDfSchema.parse(body);
  return new Map((df.Images ?? []).map((i) => [withAlgorithm(i.Id), notCalculated(i.SharedSize)]));
}

/** Compares dotted API versions ("1.41" < "1.43"). */
export function apiAtLeast(version: string | undefined, wanted: string): boolean {
  if (!version) return false;
  const [a1 = 0, a2 = 0] = version.split('.').map(Number);
  const [b1 = 0, b2 = 0] = wanted.split('.').map(Number);
  return a1 > b1 || (a1 === b1 && a2 >= b2);
}
