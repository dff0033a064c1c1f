import type { ContainerRecord } from './types.js';

/**
 * Module: a host's containers by image ID, built once per container list (the list object is shared by
 * every resolver of a request, so a WeakMap keyed by it holds one index per list). usedBy, inUse and
 * containers each scanned the whole list per image: 4000 images × N containers per field.
 */
const indexes = new WeakMap<readonly ContainerRecord[], Map<string, ContainerRecord[]>>();
const NONE: readonly ContainerRecord[] = Object.freeze([]);

export function containersOf(list: readonly ContainerRecord[], imageId: string): readonly ContainerRecord[] {
  let index = indexes.get(list);
  if (!index) {
    index = new Map();
    for (const c of list) {
      const users = index.get(c.imageId);
      if (users) users.push(c);
      else index.set(c.imageId, [c]);
    }
    indexes.set(list, index);
  }
  return index.get(imageId) ?? NONE;
}
