/**
 * Module: images made locally, without any registry: `docker save`-format tarballs
 * built in memory (tar-stream) and loaded through the Engine API, plus small
 * wrappers for import / tag / untag / create-container / save+load.
 *
 * Tarball layout (what dockerd 20.10's loader needs — it reads manifest.json
 * and never looks at the legacy per-layer VERSION / json files or
 * `repositories`, so they are not written):
 *
 *   manifest.json                  [{ Config, RepoTags, Layers }] per image
 *   <configHex>.json               exact config bytes; image ID = sha256(bytes)
 *   <diffIdHex>/layer.tar          uncompressed layer; diff_id = sha256(bytes)
 *
 * Everything is deterministic: same spec => same bytes => same layer digests
 * and image ID on every engine and in every run.
 */
import { createHash } from 'node:crypto';
import { pack as tarPack, type Pack } from 'tar-stream';
import { engineRequest, EngineApiError, expectOk, parseJsonStream, engineGet } from './engine-api.js';

export interface LayerSpec {
  /** path inside the layer (no leading slash needed) -> content */
  files: Record<string, string | Buffer>;
}

export interface ImageSpec {
  layers: LayerSpec[];
  /** ISO UTC timestamp, e.g. "2024-03-20T10:15:30Z", optionally with up to 9 fraction digits ("…:30.123456789Z") */
  created: string;
  labels?: Record<string, string>;
  /** "repo:tag" references; may be [] for an untagged (dangling) image */
  tags?: string[];
}

/** mtime of every entry in every tar we build. */
const FIXED_MTIME = new Date(Date.UTC(2024, 0, 1, 0, 0, 0));

export const sha256hex = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

function collect(p: Pack): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    p.on('data', (c: unknown) => chunks.push(Buffer.from(c as Uint8Array)));
    p.on('error', reject);
    p.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

function entryHeader(name: string, type: 'file' | 'directory', mode: number) {
  return { name, type, mode, mtime: FIXED_MTIME, uid: 0, gid: 0, uname: 'root', gname: 'root' } as const;
}

/** A tar of the given files (plus their parent directories), sorted, with fixed owner/mode/mtime. */
export async function buildLayerTar(layer: LayerSpec): Promise<Buffer> {
  const files = Object.keys(layer.files)
    .map((k) => k.replace(/^\/+/, ''))
    .sort();
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  const p = tarPack();
  const done = collect(p);
  const entries = [
    ...[...dirs].map((d) => ({ path: d, dir: true })),
    ...files.map((f) => ({ path: f, dir: false })),
  ].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const e of entries) {
    if (e.dir) {
      p.entry(entryHeader(`${e.path}/`, 'directory', 0o755));
    } else {
      const raw = layer.files[e.path] ?? layer.files[`/${e.path}`]!;
      const buf = Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8');
      const mode = buf.subarray(0, 2).toString('latin1') === '#!' ? 0o755 : 0o644;
      p.entry({ ...entryHeader(e.path, 'file', mode), size: buf.length }, buf);
    }
  }
  p.finalize();
  return done;
}

export interface BuiltImage {
  /** "sha256:<hex>" */
  id: string;
  /** exact config JSON bytes */
  config: Buffer;
  /** "sha256:<hex>" per layer */
  diffIds: string[];
}

/** Config JSON bytes for a spec whose layers have the given diff_ids. */
function imageConfig(spec: ImageSpec, diffIds: string[]): Buffer {
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/.test(spec.created)) {
    throw new Error(`ImageSpec.created must be ISO UTC (…T12:34:56Z or …T12:34:56.123456789Z), got ${spec.created}`);
  }
  const config = {
    architecture: 'amd64',
    os: 'linux',
    created: spec.created,
    config: {
      Labels: spec.labels ?? {},
      Cmd: ['/bin/true'],
    },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map((d, i) => ({
      created: spec.created,
      created_by: `fleetgraph test layer ${i} ${d.slice(7, 19)}`,
    })),
  };
  return Buffer.from(JSON.stringify(config), 'utf8');
}

/** Build (without packing) one image: layer tars, config, id. */
export async function buildImage(spec: ImageSpec): Promise<BuiltImage & { layerTars: Buffer[] }> {
  const layerTars = await Promise.all(spec.layers.map((l) => buildLayerTar(l)));
  const diffIds = layerTars.map((t) => `sha256:${sha256hex(t)}`);
  const config = imageConfig(spec, diffIds);
  return { id: `sha256:${sha256hex(config)}`, config, diffIds, layerTars };
}

/**
 * A `docker save`-format tarball holding all the given images (shared layers
 * stored once). `ids[i]` is the image ID ("sha256:…") of `specs[i]`.
 */
export async function buildImageTar(specs: ImageSpec[]): Promise<{ tar: Buffer; ids: string[] }> {
  const built = await Promise.all(specs.map((s) => buildImage(s)));
  const p = tarPack();
  const done = collect(p);
  const manifest: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = [];
  const written = new Set<string>();
  const put = (name: string, buf: Buffer) => {
    if (written.has(name)) return;
    written.add(name);
    p.entry({ ...entryHeader(name, 'file', 0o644), size: buf.length }, buf);
  };
  built.forEach((img, i) => {
    const hex = img.id.slice('sha256:'.length);
    put(`${hex}.json`, img.config);
    const layers: string[] = [];
    img.layerTars.forEach((t, j) => {
      const name = `${img.diffIds[j]!.slice('sha256:'.length)}/layer.tar`;
      put(name, t);
      layers.push(name);
    });
    const tags = specs[i]!.tags ?? [];
    manifest.push({ Config: `${hex}.json`, RepoTags: tags.length ? tags : null, Layers: layers });
  });
  put('manifest.json', Buffer.from(JSON.stringify(manifest), 'utf8'));
  p.finalize();
  return { tar: await done, ids: built.map((b) => b.id) };
}

/** POST /images/load?quiet=1; throws on an HTTP error or an error message in the stream. */
export async function loadImages(socket: string, tar: Buffer): Promise<void> {
  const path = '/images/load?quiet=1';
  const res = await engineRequest(socket, 'POST', path, tar, { 'Content-Type': 'application/x-tar' });
  expectOk('POST', path, res);
  parseJsonStream(`POST ${path}`, res.body);
}

/** Split "repo:tag" (the tag is what follows the last ':' after the last '/'); no tag => "latest". */
export function splitRef(ref: string): { repo: string; tag: string } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repo: ref, tag: 'latest' };
}

function labelChange(k: string, v: string): string {
  return `LABEL ${JSON.stringify(k)}=${JSON.stringify(v)}`;
}

/**
 * POST /images/create?fromSrc=-&repo=…&tag=…&changes=LABEL k=v (one `changes`
 * per label) with a tiny one-file tar as body. `opts.tag` is a full "repo:tag"
 * reference. Returns the new image ID ("sha256:…").
 *
 * Note: an imported image's `created` is the engine's current time — it
 * cannot be chosen — so its ID differs from run to run.
 */
export async function importImage(
  socket: string,
  opts: { tag: string; label: Record<string, string> },
): Promise<string> {
  const { repo, tag } = splitRef(opts.tag);
  const body = await buildLayerTar({ files: { 'imported/origin.txt': `imported as ${opts.tag}\n` } });
  const q = new URLSearchParams({ fromSrc: '-', repo, tag });
  for (const [k, v] of Object.entries(opts.label)) q.append('changes', labelChange(k, v));
  const path = `/images/create?${q.toString()}`;
  const res = await engineRequest(socket, 'POST', path, body, { 'Content-Type': 'application/x-tar' });
  expectOk('POST', path, res);
  const msgs = parseJsonStream(`POST ${path}`, res.body);
  const id = msgs.map((m) => m['status']).find((s): s is string => typeof s === 'string' && s.startsWith('sha256:'));
  if (!id) throw new Error(`POST ${path}: no image id in answer: ${res.body.toString('utf8').slice(0, 500)}`);
  return id.trim();
}

/** POST /images/{idOrRef}/tag?repo=…&tag=… */
export async function tagImage(socket: string, idOrRef: string, repo: string, tag: string): Promise<void> {
  const path = `/images/${idOrRef}/tag?${new URLSearchParams({ repo, tag }).toString()}`;
  expectOk('POST', path, await engineRequest(socket, 'POST', path));
}

/**
 * DELETE /images/{ref}?noprune=1 — removes the tag `ref` only.
 *
 * dockerd deletes the image itself when `ref` is its last reference, so this
 * refuses (throws, changing nothing) if `ref` is the image's only tag; use
 * engineRequest directly for that case.
 */
export async function untagImage(socket: string, ref: string): Promise<void> {
  const img = await engineGet<{ Id: string; RepoTags: string[] | null; RepoDigests: string[] | null }>(
    socket,
    `/images/${ref}/json`,
  );
  const others = [...(img.RepoTags ?? []), ...(img.RepoDigests ?? [])].filter((r) => r !== ref);
  if (!(img.RepoTags ?? []).includes(ref)) {
    throw new Error(`untagImage: ${ref} is not a tag of ${img.Id} (tags: ${JSON.stringify(img.RepoTags)})`);
  }
  if (others.length === 0) {
    throw new Error(`untagImage: ${ref} is the only reference of ${img.Id}; dockerd would delete the image`);
  }
  const path = `/images/${ref}?noprune=1`;
  const res = expectOk('DELETE', path, await engineRequest(socket, 'DELETE', path));
  const records = JSON.parse(res.body.toString('utf8')) as Array<{ Untagged?: string; Deleted?: string }>;
  if (records.some((r) => r.Deleted)) {
    throw new Error(`untagImage: DELETE ${path} deleted more than the tag: ${JSON.stringify(records)}`);
  }
}

/** POST /containers/create?name=… with HostConfig.NetworkMode "none"; never started. Returns the container ID. */
export async function createContainer(socket: string, image: string, name: string): Promise<string> {
  const path = `/containers/create?${new URLSearchParams({ name }).toString()}`;
  const res = expectOk(
    'POST',
    path,
    await engineRequest(socket, 'POST', path, { Image: image, HostConfig: { NetworkMode: 'none' } }),
  );
  const { Id } = JSON.parse(res.body.toString('utf8')) as { Id: string };
  return Id;
}

/** GET /images/get?names=… from engine `from`, POST /images/load into engine `to` (both socket paths). */
export async function saveAndLoad(from: string, to: string, refs: string[]): Promise<void> {
  if (refs.length === 0) throw new Error('saveAndLoad: no refs');
  const q = new URLSearchParams();
  for (const r of refs) q.append('names', r);
  const path = `/images/get?${q.toString()}`;
  const res = await engineRequest(from, 'GET', path);
  if (res.status !== 200) throw new EngineApiError('GET', path, res.status, res.body.toString('utf8'));
  await loadImages(to, res.body);
}
