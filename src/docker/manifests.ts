/**
 * Module: an image summary's multi-platform fields, Engine API JSON -> our shapes. `Manifests` (API
 * 1.47+, only with `manifests=1`) and `Descriptor` (1.48+) are filled only by engines with the containerd
 * image store; the classic store and older APIs leave them out, which becomes null ("cannot say").
 * Checked with zod, which is fine here: only containerd-store images carry them, a few per host.
 */
import { z } from 'zod';
import type { ManifestKind, ManifestRecord, OciDescriptorRecord, PlatformRecord } from '../inventory/types.js';

/** An image index lists one manifest per platform plus their attestations; more than this is no image we know. */
export const MAX_MANIFESTS_PER_IMAGE = 256;

const bytes = () => z.number().int().min(0).safe();

const descriptorSchema = z.object({ mediaType: z.string(), digest: z.string().min(1), size: bytes() }).passthrough();

const platformSchema = z
  .object({ os: z.string().nullish(), architecture: z.string().nullish(), variant: z.string().nullish() })
  .passthrough()
  .nullish();

const manifestSchema = z
  .object({
    ID: z.string().min(1),
    Descriptor: descriptorSchema,
    Available: z.boolean(),
    Size: z.object({ Total: bytes(), Content: bytes() }).passthrough(),
    Kind: z.string(),
    ImageData: z
      .object({
        Platform: platformSchema,
        Containers: z.array(z.string()).max(2 ** 31 - 1).nullish(),
        Size: z.object({ Unpacked: bytes() }).passthrough(),
      })
      .passthrough()
      .nullish(),
    AttestationData: z.object({ For: z.string() }).passthrough().nullish(),
  })
  .passthrough();

const manifestsSchema = z.array(manifestSchema).max(MAX_MANIFESTS_PER_IMAGE);

const KINDS: Record<string, ManifestKind> = { image: 'IMAGE', attestation: 'ATTESTATION' };

function descriptor(d: z.infer<typeof descriptorSchema>): OciDescriptorRecord {
  return { mediaType: d.mediaType, digest: d.digest, size: d.size };
}

function platform(p: z.infer<typeof platformSchema>): PlatformRecord | null {
  if (!p || !p.os || !p.architecture) return null;
  return { os: p.os, architecture: p.architecture, variant: p.variant || null };
}

/** `Descriptor` of an image summary; null when absent. Throws a ZodError (HOST_BAD_RESPONSE) when malformed. */
export function normalizeDescriptor(raw: unknown): OciDescriptorRecord | null {
  return raw === undefined || raw === null ? null : descriptor(descriptorSchema.parse(raw));
}

/** `Manifests` of an image summary; null when absent. Throws a ZodError (HOST_BAD_RESPONSE) when malformed or too long. */
export function normalizeManifests(raw: unknown): ManifestRecord[] | null {
  if (raw === undefined || raw === null) return null;
  return manifestsSchema.parse(raw).map((m) => {
    const image = m.ImageData ?? null;
    return {
      id: m.ID,
      // An engine newer than this code may add kinds: UNKNOWN, not an error.
      kind: KINDS[m.Kind] ?? 'UNKNOWN',
      descriptor: descriptor(m.Descriptor),
      available: m.Available,
      size: { total: m.Size.Total, content: m.Size.Content },
      platform: image ? platform(image.Platform) : null,
      containers: image ? (image.Containers ?? []).length : null,
      unpackedSize: image ? image.Size.Unpacked : null,
      attestationFor: m.AttestationData?.For ?? null,
    };
  });
}

/** "os/architecture[/variant]", as docker writes platforms. */
export function platformString(p: PlatformRecord): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}
