/**
 * Module: the same-second batch every test engine gets on top of the standard fleet (fleet.ts).
 */
import { buildImageTar, loadImages, type ImageSpec, type LayerSpec } from '../../src/dev/images.js';

/**
 * The same-second batch: on each host, images whose configs say they were created within ONE second
 * (SAME_SECOND), at nanosecond offsets that include an exact tie, 1 ns apart and the whole second itself.
 * `/images/json` reports all of them with the same `Created` (Unix seconds) while the engine's
 * before/since filters compare the full-precision times, as on a host where CI imports or builds
 * many images in a second. Loaded (not imported) so the times are exact and the IDs deterministic;
 * a per-host label makes each host's batch its own images (no tag drift, one host each). Tags are
 * `same-second/<host>:<n>`; every image has the label SAME_SECOND_LABEL=<n>.
 */
export const SAME_SECOND = '2024-08-08T08:08:08';
export const SAME_SECOND_LABEL = 'fleetgraph.test.same-second';
export const SAME_SECOND_FRACTIONS = ['', '.000000001', '.1', '.123456788', '.123456789', '.123456789', '.5', '.999999999'] as const;

export function sameSecondSpecs(host: string): ImageSpec[] {
  const layer: LayerSpec = { files: { 'batch/host.txt': `${host}\n` } };
  return SAME_SECOND_FRACTIONS.map((fraction, n) => ({
    layers: [layer],
    created: `${SAME_SECOND}${fraction}Z`,
    labels: { [SAME_SECOND_LABEL]: String(n), 'fleetgraph.test.host': host },
    tags: [`same-second/${host}:${n}`],
  }));
}

/** Loads each engine's same-second batch (one /images/load per engine); returns the IDs per host, in batch order. */
export async function seedSameSecond(engines: ReadonlyArray<{ name: string; socket: string }>): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  await Promise.all(
    engines.map(async (e) => {
      const { tar, ids } = await buildImageTar(sameSecondSpecs(e.name));
      await loadImages(e.socket, tar);
      out[e.name] = ids;
    }),
  );
  return out;
}
