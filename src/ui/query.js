/** The fleet page's operations (also read by the unit tests, which run them against the schema). */

/** Pages of the lists (the matrix says when there are more): bounded, well inside the gateway's cost limit. */
const GROUPS = 500;
const UNUSED = 200;
/** Events come in bursts (a tag is several events, a load many): one refresh per burst. */
export const DEBOUNCE_MS = 300;

export const FLEET_QUERY = `query FleetPage($filter: ImageFilter, $unused: ImageFilter!, $dangling: ImageFilter!, $outdated: ImageFilter!) {
  hosts {
    name status error { code message } apiVersion engine { version } stream imageCount
    all: stats { totalSize }
    stats(filter: $filter) { unusedCount unusedSize danglingCount danglingSize }
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
  outdated: images(filter: $outdated, first: ${UNUSED}, orderBy: [{ field: REFERENCE, direction: ASC }]) {
    totalCount nodes { id host { name } updates { reference status localDigest remoteDigest } }
  }
}`;

/**
 * What tells the page to read again. In mirror mode the event also selects `image`, whose resolver waits for
 * the mirror's reload after the event, so the page's next query sees the change; in direct mode every query
 * reads the engines, and leaving `image` out spares the gateway an engine call per event.
 */
export function fleetSubscription(mirror) {
  return `subscription FleetPageEvents { imageEvents { action host { name }${mirror ? ' image { id }' : ''} } }`;
}

/**
 * The query's variables for the search box's filter (null: everything). `outdated` reads registry update checks,
 * which the gateway makes only with --check-updates (otherwise every tag is UNKNOWN and the list is empty).
 */
export function fleetVariables(filter) {
  const f = filter ?? {};
  return { filter, unused: { ...f, inUse: false }, dangling: { ...f, dangling: true }, outdated: { ...f, updateStatus: ['OUTDATED'] } };
}
