/** Module: seeding benchmark engines with many small images. */
import type { Engine } from '../src/dev/engine.js';
import { buildImageTar, loadImages, type ImageSpec } from '../src/dev/images.js';

/** `perHost` small distinct images (one layer, labels, one tag) loaded into each engine, `batch` per load (a big load under a loaded machine can pass the helper's 120 s answer deadline). */
export async function seed(engines: Engine[], perHost: number, batch = 100): Promise<void> {
  await Promise.all(
    engines.map(async (engine, h) => {
      const specs: ImageSpec[] = Array.from({ length: perHost }, (_, i) => ({
        layers: [{ files: { [`bench/${engine.name}/${i}.txt`]: `image ${i} on ${engine.name}\n`.repeat(1 + (i % 13)) } }],
        created: new Date(Date.UTC(2023, 0, 1) + (h * 100_000 + i) * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        labels: { bench: 'true', index: String(i), team: ['red', 'blue', 'green'][i % 3]! },
        tags: [`bench/${engine.name}-${i % 40}:${Math.floor(i / 40)}`],
      }));
      for (let i = 0; i < specs.length; i += batch) await loadImages(engine.socket, (await buildImageTar(specs.slice(i, i + batch))).tar);
    }),
  );
}
