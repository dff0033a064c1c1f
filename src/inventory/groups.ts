import type { HostImage } from './types.js';
import { makeOrdering, firstTag, type OrderDirection, type Ordering } from './order.js';
import { canonicalName, familiarName, parseReference } from './reference.js';

/**
 * Cross-host views of one request's image lists: one group per distinct image, tags that point at
 * different images on different hosts, and totals where each distinct image is counted once.
 */
export interface ImageGroup {
  /** The smallest of `ids`. */
  id: string;
  /** Every image ID of the group, sorted: one, unless classic-store and containerd-store hosts both hold it. */
  ids: string[];
  /** Per-host summaries, in host order. */
  images: HostImage[];
}

/** The content digests an image is known by: its ID, its repo digests' digests and its descriptor's. */
function digestsOf(image: HostImage['image']): string[] {
  const out = [image.id];
  for (const ref of image.repoDigests) {
    const at = ref.lastIndexOf('@');
    if (at >= 0) out.push(ref.slice(at + 1));
  }
  if (image.descriptor) out.push(image.descriptor.digest);
  return out;
}

/**
 * One group per distinct image. The classic store's ID is the digest of the image config; the
 * containerd store's is the digest of the index (or manifest) it was pulled as, so the same image has
 * two IDs in a mixed fleet. Summaries are the same image when they share any content digest: an ID,
 * or the digest of a repo digest (a classic host records the index digest it pulled there) or of the
 * descriptor. Digests name content, so two different images never share one.
 */
export function groupImages(items: readonly HostImage[]): ImageGroup[] {
  const parent = items.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  const owner = new Map<string, number>();
  items.forEach((item, i) => {
    for (const digest of digestsOf(item.image)) {
      const j = owner.get(digest);
      if (j === undefined) owner.set(digest, i);
      else {
        const [a, b] = [find(i), find(j)];
        if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
      }
    }
  });
  const byRoot = new Map<number, HostImage[]>();
  items.forEach((item, i) => {
    const root = find(i);
    const list = byRoot.get(root);
    if (list) list.push(item);
    else byRoot.set(root, [item]);
  });
  return [...byRoot.values()].map((images) => {
    const ids = [...new Set(images.map((i) => i.image.id))].sort();
    return { id: ids[0]!, ids, images: images.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0)) };
  });
}

const union = (lists: ReadonlyArray<readonly string[]>): string[] => [...new Set(lists.flat())].sort();

export const groupTags = (g: ImageGroup): string[] => union(g.images.map((i) => i.image.repoTags));
export const groupDigests = (g: ImageGroup): string[] => union(g.images.map((i) => i.image.repoDigests));
export const groupHosts = (g: ImageGroup): string[] => [...new Set(g.images.map((i) => i.host))];
/** The same image has the same content everywhere; hosts may still account for it differently, so take the largest. */
export const groupSize = (g: ImageGroup): number => Math.max(...g.images.map((i) => i.image.size));
export const groupCreated = (g: ImageGroup): number => Math.min(...g.images.map((i) => i.image.created));

export const IMAGE_GROUP_ORDER_FIELDS = ['CREATED', 'SIZE', 'REFERENCE', 'HOST_COUNT', 'ID'] as const;
export type ImageGroupOrderField = (typeof IMAGE_GROUP_ORDER_FIELDS)[number];
export interface ImageGroupOrder {
  field: ImageGroupOrderField;
  direction: OrderDirection;
}

export function groupOrdering(terms: readonly ImageGroupOrder[] | null | undefined): Ordering<ImageGroup> {
  return makeOrdering<ImageGroup, ImageGroupOrderField>(terms?.length ? terms : [{ field: 'CREATED', direction: 'DESC' }], ['ID'], (g, field) => {
    switch (field) {
      case 'CREATED':
        return groupCreated(g);
      case 'SIZE':
        return groupSize(g);
      case 'REFERENCE':
        return firstTag(groupTags(g));
      case 'HOST_COUNT':
        return groupHosts(g).length;
      case 'ID':
        return g.id;
    }
  });
}

export interface TagDrift {
  /** The tag in familiar form (as Docker prints it). */
  tag: string;
  variants: Array<{ id: string; hosts: string[] }>;
}

/**
 * Tags whose image differs between hosts. Tags are compared in canonical form, so "nginx:latest" on
 * Docker and "docker.io/library/nginx:latest" on Podman are the same tag.
 */
export function findTagDrift(items: readonly HostImage[]): TagDrift[] {
  const byTag = new Map<string, { tag: string; ids: Map<string, Set<string>> }>();
  for (const { host, image } of items) {
    for (const tag of image.repoTags) {
      const ref = parseReference(tag);
      const key = `${canonicalName(ref)}:${ref.tag ?? 'latest'}`;
      let entry = byTag.get(key);
      if (!entry) byTag.set(key, (entry = { tag: `${familiarName(ref)}:${ref.tag ?? 'latest'}`, ids: new Map() }));
      let hosts = entry.ids.get(image.id);
      if (!hosts) entry.ids.set(image.id, (hosts = new Set()));
      hosts.add(host);
    }
  }
  return [...byTag.values()]
    .filter((e) => e.ids.size > 1)
    .map((e) => ({
      tag: e.tag,
      variants: [...e.ids.entries()].map(([id, hosts]) => ({ id, hosts: [...hosts].sort() })).sort((a, b) => (a.id < b.id ? -1 : 1)),
    }))
    .sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
}

export interface ImageTotals {
  count: number;
  size: number;
}

export function totals(items: readonly HostImage[]): ImageTotals {
  return { count: items.length, size: items.reduce((sum, i) => sum + i.image.size, 0) };
}

/** Each distinct image ID once (its size as groupSize), however many hosts hold it. */
export function uniqueTotals(items: readonly HostImage[]): ImageTotals {
  const groups = groupImages(items);
  return { count: groups.length, size: groups.reduce((sum, g) => sum + groupSize(g), 0) };
}
