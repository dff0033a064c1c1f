/**
 * Module: the shape check of one /images/json item, written by hand. zod cost ~6 µs per image and
 * allocated a copy of every item (perf-notes.md: the largest single item of a request's CPU profile);
 * this check reads each field once and allocates nothing unless it fails. It accepts exactly what the
 * former zod schema accepted (test/unit/image-shape.test.ts holds that schema as its oracle) and throws a
 * ZodError, which EngineSource maps to HOST_BAD_RESPONSE like any other bad engine shape.
 */
import { ZodError } from 'zod';

/** An image list item after the check (extra fields pass through unread). */
export interface EngineImage {
  Id: string;
  ParentId?: string | null;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Created: number;
  Size: number;
  SharedSize?: number | null;
  VirtualSize?: number | null;
  Labels?: Record<string, string> | null;
  Containers?: number | null;
  /** Checked in detail by manifests.ts (containerd image store only). */
  Manifests?: unknown;
  Descriptor?: unknown;
}

/** Engine numbers the schema can carry (see normalize.ts): sizes 53-bit, counts Int, times years 1-9999. */
const MIN_SECONDS = -62_135_596_800;
const MAX_SECONDS = 253_402_300_799;
const MAX_COUNT = 2 ** 31 - 1;

const isInt = (v: unknown, min: number, max: number): boolean => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const absent = (v: unknown): boolean => v === undefined || v === null;

function isStringList(v: unknown): boolean {
  if (absent(v)) return true;
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') return false;
  return true;
}

function isLabels(v: unknown): boolean {
  if (absent(v)) return true;
  if (typeof v !== 'object' || Array.isArray(v)) return false;
  for (const key in v) if (Object.prototype.hasOwnProperty.call(v, key) && typeof (v as Record<string, unknown>)[key] !== 'string') return false;
  return true;
}

/** The first field of `item` that is not as the Engine API documents it, or undefined when all are. */
function badField(item: unknown): string | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return '';
  const o = item as Record<string, unknown>;
  if (typeof o.Id !== 'string' || o.Id.length === 0) return 'Id';
  if (!absent(o.ParentId) && typeof o.ParentId !== 'string') return 'ParentId';
  if (!isStringList(o.RepoTags)) return 'RepoTags';
  if (!isStringList(o.RepoDigests)) return 'RepoDigests';
  if (!isInt(o.Created, MIN_SECONDS, MAX_SECONDS)) return 'Created';
  if (!isInt(o.Size, 0, Number.MAX_SAFE_INTEGER)) return 'Size';
  if (!absent(o.SharedSize) && !isInt(o.SharedSize, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)) return 'SharedSize';
  if (!absent(o.VirtualSize) && !isInt(o.VirtualSize, 0, Number.MAX_SAFE_INTEGER)) return 'VirtualSize';
  if (!isLabels(o.Labels)) return 'Labels';
  if (!absent(o.Containers) && !isInt(o.Containers, -1, MAX_COUNT)) return 'Containers';
  if (!absent(o.Manifests) && !Array.isArray(o.Manifests)) return 'Manifests';
  if (!absent(o.Descriptor) && (typeof o.Descriptor !== 'object' || Array.isArray(o.Descriptor))) return 'Descriptor';
  return undefined;
}

/** Returns the item typed, or throws a ZodError naming the item and field. */
export function checkEngineImage(item: unknown, index: number): EngineImage {
  const field = badField(item);
  if (field === undefined) return item as EngineImage;
  throw new ZodError([{ code: 'custom', path: field ? [index, field] : [index], message: 'not as the Engine API documents it' }]);
}
