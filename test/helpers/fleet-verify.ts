import type { Engine } from '../../src/dev/engine.js';
import { engineGet } from '../../src/dev/engine-api.js';
import type { FleetSeed, HostName } from './fleet-spec.js';

interface ImageSummary {
  Id: string;
  Created: number;
  RepoTags: string[] | null;
  Labels: Record<string, string> | null;
}

/**
 * Throws if the engines do not hold exactly what `seed` describes (images by
 * ID, their tags, Created, labels; the containers). Used by seedFleet itself
 * so a broken seeding fails in global setup rather than in some later test.
 */
export async function verifySeed(engines: Engine[], seed: FleetSeed): Promise<void> {
  const problems: string[] = [];
  for (const e of engines) {
    const h = e.name as HostName;
    const host = seed.hosts[h];
    if (!host) {
      problems.push(`${e.name}: not a fleet host`);
      continue;
    }
    const list = await engineGet<ImageSummary[]>(e.socket, '/images/json');
    const gotIds = list.map((i) => i.Id);
    const wantIds = host.images.map((k) => seed.ids[k]);
    if (JSON.stringify(gotIds) !== JSON.stringify(wantIds)) {
      problems.push(`${h}: /images/json ids ${JSON.stringify(gotIds)} != expected ${JSON.stringify(wantIds)}`);
    }
    for (const k of host.images) {
      const img = seed.images[k];
      const got = list.find((i) => i.Id === img.id);
      if (!got) continue;
      const want = img.tagsByHost[h]!;
      const gotTags = (got.RepoTags ?? []).filter((t) => t !== '<none>:<none>').sort();
      if (JSON.stringify(gotTags) !== JSON.stringify(want)) {
        problems.push(`${h}/${k}: tags ${JSON.stringify(got.RepoTags)} != ${JSON.stringify(want)}`);
      }
      if (got.Created !== img.createdUnix) problems.push(`${h}/${k}: Created ${got.Created} != ${img.createdUnix}`);
      if (JSON.stringify(sortObj(got.Labels ?? {})) !== JSON.stringify(sortObj(img.labels))) {
        problems.push(`${h}/${k}: labels ${JSON.stringify(got.Labels)} != ${JSON.stringify(img.labels)}`);
      }
    }
    const cs = await engineGet<Array<{ Id: string; Names: string[]; State: string; ImageID: string }>>(
      e.socket,
      '/containers/json?all=1',
    );
    const wantC = host.containers.map((c) => seed.containers[c]);
    if (cs.length !== wantC.length) problems.push(`${h}: ${cs.length} containers, expected ${wantC.length}`);
    for (const c of wantC) {
      const got = cs.find((x) => x.Id === c.id);
      if (!got) problems.push(`${h}: container ${c.name} missing`);
      else if (got.State !== 'created' || got.ImageID !== c.imageId || !got.Names.includes(`/${c.name}`)) {
        problems.push(`${h}: container ${c.name} is ${JSON.stringify(got)}`);
      }
    }
  }
  if (problems.length) throw new Error(`fleet seed does not match the engines:\n  ${problems.join('\n  ')}`);
}

function sortObj(o: Record<string, string>): Array<[string, string]> {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
