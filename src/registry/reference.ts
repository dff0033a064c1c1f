import { canonicalName, parseReference } from '../inventory/reference.js';
import { referenceProblem } from '../inventory/reference-syntax.js';

/**
 * Module: which registry, repository and tag a local repo tag names, normalised as Docker does
 * (`nginx` = `docker.io/library/nginx:latest`), and which of an image's RepoDigests belongs to it.
 * Parsing is src/inventory/reference.ts's (the same code the reference filter uses); the grammar check
 * is reference-syntax.ts's, so a name Docker would refuse is never sent to a registry.
 */

/** One (registry, repository, tag): the unit a registry is asked about, and the cache key. */
export interface RegistryTarget {
  /** Registry host as references name it: `docker.io`, `127.0.0.1:5000`, `ghcr.io`. */
  registry: string;
  /** Repository path on that registry: `library/nginx`. */
  repository: string;
  tag: string;
  /** The canonical reference, `docker.io/library/nginx:1.25`. */
  canonical: string;
}

/** The Docker Hub's API host: `docker.io` is a name, the registry answers at registry-1.docker.io. */
export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_API = 'registry-1.docker.io';

/** The target a repo tag names, or undefined when it is not a tagged name (e.g. a digest-only reference). */
export function targetOf(repoTag: string): RegistryTarget | undefined {
  if (referenceProblem(repoTag) !== undefined) return undefined;
  const r = parseReference(repoTag);
  if (r.tag === undefined || r.digest !== undefined) return undefined;
  if (/^(?:sha256:)?[a-f0-9]{64}$/.test(repoTag)) return undefined;
  return { registry: r.domain, repository: r.path, tag: r.tag, canonical: `${canonicalName(r)}:${r.tag}` };
}

export const targetKey = (t: RegistryTarget) => t.canonical;

/**
 * The digest this image was pushed or pulled as in the target's repository: the RepoDigests entry of
 * the same (canonical) repository, wherever it sits in the list. Several (an image pulled by an index and
 * pushed as a manifest) are all returned: any of them may be what the tag points at.
 */
export function localDigests(repoDigests: readonly string[], target: RegistryTarget): string[] {
  const repo = `${target.registry}/${target.repository}`;
  const out: string[] = [];
  for (const rd of repoDigests) {
    const at = rd.indexOf('@');
    if (at < 0) continue;
    const r = parseReference(rd.slice(0, at));
    if (`${r.domain}/${r.path}` === repo) out.push(rd.slice(at + 1));
  }
  return out;
}

/** Where the registry's API answers: `http://` for loopback registries (as dockerd treats them), else `https://`. */
export function apiBase(registry: string): string {
  const host = registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
  return `${isLoopbackHost(hostOnly(host)) ? 'http' : 'https'}://${host}`;
}

/** `host` of `host:port` (and of `[v6]:port`). */
export function hostOnly(hostPort: string): string {
  if (hostPort.startsWith('[')) return hostPort.slice(1, hostPort.indexOf(']'));
  const colon = hostPort.lastIndexOf(':');
  return colon >= 0 ? hostPort.slice(0, colon) : hostPort;
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Normalises a registry name as the docker config's `auths` keys and `--registry-allow` spell it:
 * `https://index.docker.io/v1/`, `index.docker.io`, `registry-1.docker.io` and `docker.io` are all the Hub.
 */
export function registryName(raw: string): string {
  const host = raw.trim().replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '').toLowerCase();
  return host === 'index.docker.io' || host === DOCKER_HUB_API ? DOCKER_HUB : host;
}
