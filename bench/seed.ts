/**
 * Seeding the benchmark's engines fast, without any registry: ONE `docker save`-format tar per engine, loaded
 * with one `POST /images/load`. Its M images have distinct configs (so distinct IDs, tags, labels and created
 * times) but share a small pool of LAYERS tiny layers, so dockerd unpacks LAYERS layers instead of M (one layer
 * per image took ~16 min for 4 × 1000 here; unpacking the layer is what costs, not registering the image).
 * The sizes still differ (LAYERS distinct values), so an order by size has work to do.
 */
import { buildImageTar, loadImages, type ImageSpec } from '../src/dev/images.js';
import http from 'node:http';
import { rawGet } from './engine-calls.js';

const LAYERS = 13;

export function benchSpecs(host: string, h: number, perHost: number): ImageSpec[] {
  return Array.from({ length: perHost }, (_, i) => ({
    layers: [{ files: { [`bench/${i % LAYERS}.txt`]: `bench layer ${i % LAYERS}\n`.repeat(1 + 50 * (i % LAYERS)) } }],
    created: new Date(Date.UTC(2023, 0, 1) + (h * 100_000 + i) * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    labels: { bench: 'true', host, index: String(i), team: ['red', 'blue', 'green'][i % 3]! },
    tags: [`bench/${host}-${i % 40}:${Math.floor(i / 40)}`],
  }));
}

/** Loads `perHost` images into every engine (in parallel) and checks each engine lists exactly their IDs. */
export async function seed(engines: ReadonlyArray<{ name: string; socket: string }>, perHost: number): Promise<void> {
  await Promise.all(
    engines.map(async (engine, h) => {
      const { tar, ids } = await buildImageTar(benchSpecs(engine.name, h, perHost));
      await loadImages(engine.socket, tar);
      const listed = (await rawGet(engine.socket, '/images/json', new http.Agent())) as Array<{ Id: string }>;
      const want = new Set(ids);
      const got = new Set(listed.map((i) => i.Id));
      if (want.size !== perHost || got.size !== want.size || [...want].some((id) => !got.has(id))) {
        throw new Error(`seed: ${engine.name} lists ${got.size} images, expected the ${want.size} loaded`);
      }
    }),
  );
}
