import type { GraphiQLOptions, Plugin } from 'graphql-yoga';
import { renderGraphiQLPage } from './graphiql.js';
import { assetResponse, compressAsset, type Asset } from './served-asset.js';

export function isGraphiQLPage(request: Request): boolean {
  return request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html');
}

/**
 * Serves the GraphiQL page (the ~9 MiB of HTML and inlined scripts from @graphql-yoga/render-graphiql)
 * rendered and compressed once, then from memory (served-asset.ts). yoga's own GraphiQL handler renders
 * and sends the page uncompressed on every GET, which let a few clients pull gigabytes and grow memory by
 * a gigabyte. yoga's handler is off (`graphiql: false`); this one answers the same requests.
 */
export function useCachedGraphiQL(options: GraphiQLOptions, endpoint: string): Plugin {
  let page: Promise<Asset> | undefined;
  const render = async () => compressAsset(await renderGraphiQLPage(options), 'text/html; charset=utf-8');
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (!isGraphiQLPage(request) || (url.pathname !== endpoint && url.pathname !== `${endpoint}/`)) return;
      page ??= render().catch((err: unknown) => {
        page = undefined;
        throw err;
      });
      return page.then((p) => endResponse(assetResponse(request, p, fetchAPI.Response)));
    },
  };
}
