/** The fleet page's operations (also read by the unit tests, which run them against the schema). */

/** Pages of the lists (the matrix says when there are more): bounded, well inside the gateway's cost limit. */
const GROUPS = 500;
const UNUSED = 200;
/** Events come in bursts (a tag is several events, a load many): one refresh per burst. */
export const DEBOUNCE_MS = 300;

export const FLEET_QUERY = `query FleetPage($filter: ImageFilter, $unused: ImageFilter!, $dangling: ImageFilter!) {
  hosts {
    name status error { code message } apiVersion engine { version } stream
    stats(filter: $filter) { imageCount totalSize unusedCount unusedSize danglingCount danglingSize }
  }
  imageGroups(filter: $filter, first: ${GROUPS}, orderBy: [{ field: REFERENCE, direction: ASC }]) {
    totalCount nodes { id repoTags size hosts { name } }
  }
  tagDrift(filter: $filter) { tag variants { id hosts { name } } }
  unused: images(filter: $unused, first: ${UNUSED}, orderBy: [{ field: SIZE, direction: DESC }]) {
    totalCount nodes { id repoTags size host { name } }
  }
  dangling: images(filter: $dangling, first: ${UNUSED}, orderBy: [{ field: SIZE, direction: DESC }]) {
    totalCount nodes { id repoTags size host { name } }
  }
}`;

export const FLEET_SUBSCRIPTION = 'subscription FleetPageEvents { imageEvents { action host { name } } }';

/** The query's variables for the search box's filter (null: everything). */
export function fleetVariables(filter) {
  const f = filter ?? {};
  return { filter, unused: { ...f, inUse: false }, dangling: { ...f, dangling: true } };
}
