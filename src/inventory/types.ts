/**
 * Module: the domain's shapes, as the engines' answers are normalised into (docker/normalize.ts) and as
 * inventory/ and schema/ read them. Neutral ground: nothing here knows about engines or GraphQL.
 */

/** One image as one host reports it (the Engine API's ImageSummary, settled: no sentinels). */
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
  /** The OCI descriptor of the image's target (API 1.48+, containerd image store); null or absent otherwise. */
  descriptor?: OciDescriptorRecord | null;
  /**
   * The image's manifests (API 1.47+ with `manifests=1`, containerd image store). Absent: not asked for;
   * null: asked for, but the engine cannot say (older API, classic store).
   */
  manifests?: readonly ManifestRecord[] | null;
}

/** An OCI content descriptor (media type, digest, size). */
export interface OciDescriptorRecord {
  mediaType: string;
  digest: string;
  size: number;
}

/** An OCI platform. */
export interface PlatformRecord {
  os: string;
  architecture: string;
  variant: string | null;
}

export const MANIFEST_KINDS = ['IMAGE', 'ATTESTATION', 'UNKNOWN'] as const;
export type ManifestKind = (typeof MANIFEST_KINDS)[number];

/** One manifest of an image (Engine API ImageManifestSummary). Image-only fields are null for other kinds. */
export interface ManifestRecord {
  id: string;
  kind: ManifestKind;
  descriptor: OciDescriptorRecord;
  available: boolean;
  size: { total: number; content: number };
  platform: PlatformRecord | null;
  /** How many containers use this manifest (ImageData.Containers); null when not an image manifest. */
  containers: number | null;
  unpackedSize: number | null;
  /** The image manifest an attestation is for (AttestationData.For). */
  attestationFor: string | null;
}

/** A summary and the host it came from: the backing shape of ImageSummary. */
export interface HostImage {
  host: string;
  image: ImageRecord;
}

/** One container, as in the Engine API container list. */
export interface ContainerRecord {
  id: string;
  names: string[];
  image: string;
  imageId: string;
  state: string;
  status: string;
  created: number;
}

/** An engine's /version answer. */
export interface EngineVersion {
  version: string;
  apiVersion: string;
  minApiVersion: string | null;
  os: string;
  arch: string;
  kernelVersion: string | null;
}
