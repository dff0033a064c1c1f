import type { GraphiQLOptions } from 'graphql-yoga';

/**
 * Module: the GraphiQL page, from @graphql-yoga/render-graphiql (served from the installed package, never a CDN),
 * with one fix of ours.
 *
 * GraphiQL restores its tabs from localStorage, then looks for the tab whose (query, variables,
 * headers) equal the page's initial ones and adds a new tab when none does. With `defaultTabs` set,
 * yoga starts it with no initial query at all, so after every reload GraphiQL found no match and added a
 * blank "<untitled>" tab and made it active. The page now starts GraphiQL with the stored active tab's
 * own contents (and drops a stale `?query=`, which would win over them), so it finds that tab and adds none.
 */
const RESTORE_ACTIVE_TAB = `<script>
function fleetgraphRenderGraphiQL(render, root, opts) {
  try {
    var state = JSON.parse(localStorage.getItem('graphiql:tabState') || 'null');
    var tab = state && Array.isArray(state.tabs) ? state.tabs[state.activeTabIndex] : undefined;
    if (tab && typeof tab === 'object') {
      var url = new URL(location.href);
      if (url.searchParams.has('query')) { url.searchParams.delete('query'); history.replaceState({}, '', url); }
      opts = Object.assign({}, opts, { query: tab.query || undefined, variables: tab.variables || undefined, initialHeaders: tab.headers || undefined });
    }
  } catch (e) { /* no usable stored tabs: GraphiQL opens its default tabs */ }
  return render(root, opts);
}
</script>`;

const CALL = 'YogaGraphiQL.renderYogaGraphiQL(';

export async function renderGraphiQLPage(options: GraphiQLOptions): Promise<string> {
  const html = (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options);
  const at = html.indexOf(CALL);
  // A yoga release that renders the page differently must fail the e2e test, not quietly lose the fix.
  if (at < 0 || html.indexOf(CALL, at + 1) >= 0) throw new Error('GraphiQL page: the render call to patch was not found exactly once');
  const script = html.indexOf('<script>');
  return `${html.slice(0, script)}${RESTORE_ACTIVE_TAB}${html.slice(script, at)}fleetgraphRenderGraphiQL(YogaGraphiQL.renderYogaGraphiQL, ${html.slice(at + CALL.length)}`;
}
