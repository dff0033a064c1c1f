import type { Logger } from './logger.js';
import { HostError } from './docker/errors.js';
import type { InventorySource } from './docker/source.js';

/**
 * Module: each host's first reachability, logged once at start-up so that a newcomer sees at once which hosts
 * answer (name, Engine API version, image count, time) and which do not (the same coded error a query
 * would get). It runs beside the listener, never before it: a slow host cannot delay serving.
 */
export async function logFirstReachability(source: InventorySource, logger: Pick<Logger, 'info' | 'warn' | 'error'>): Promise<void> {
  await Promise.all(
    source.hostNames().map(async (host) => {
      const started = performance.now();
      try {
        const images = await source.images(host);
        const ms = Math.round(performance.now() - started);
        const apiVersion = source.negotiatedApiVersion(host);
        logger.info({ host, apiVersion, images: images.length, ms }, `host "${host}" is up: Engine API ${apiVersion ?? 'unknown'}, ${images.length} image(s), ${ms} ms`);
      } catch (err) {
        if (err instanceof HostError) logger.warn({ host, code: err.code }, `host "${host}" is not answering: ${err.message} [${err.code}]`);
        else logger.error({ host, err }, `host "${host}": unexpected error while probing it`);
      }
    }),
  );
}
