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
