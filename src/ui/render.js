/**
 * Builds the fleet page's tables from a FleetPage answer. Engine data is hostile: every string from it
 * goes into the page as a text node (textContent, or an attribute value), never as markup.
 */

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];

/** Decimal units with three significant digits, as `docker images` prints sizes (65B, 4.1kB, 72.8MB). */
export function humanSize(bytes) {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes)) return '?';
  let size = bytes;
  let unit = 0;
  while (size >= 1000 && unit < UNITS.length - 1) {
    size /= 1000;
    unit++;
  }
  return `${Number(size.toPrecision(3))}${UNITS[unit]}`;
}

/** An element with attributes (strings only) and children (nodes, or strings as text). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null && v !== false) node.setAttribute(k, String(v));
  for (const c of children) if (c !== undefined && c !== null) node.append(typeof c === 'string' || typeof c === 'number' ? String(c) : c);
  return node;
}

const shortId = (id) => String(id).replace(/^sha256:/, '').slice(0, 12);

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

/** Tags as a list of spans; drifting ones marked. Untagged: "<none>" (as text). */
function tagCell(repoTags, drifting) {
  if (!repoTags.length) return el('td', { class: 'untagged' }, '<none>');
  const td = el('td');
  for (const t of repoTags) {
    const drift = drifting.get(t);
    td.append(
      drift
        ? el('span', { class: 'tag drift', 'data-tag': t, title: `${t} points at different images: ${drift}` }, t, el('span', { class: 'badge' }, 'drift'))
        : el('span', { class: 'tag', 'data-tag': t }, t),
    );
  }
  return td;
}

function renderHosts(tbody, hosts) {
  fill(
    tbody,
    hosts.map((h) =>
      el(
        'tr',
        { 'data-host': h.name },
        el('th', { scope: 'row' }, h.name),
        el('td', { class: `status ${h.status === 'UP' ? 'up' : 'down'}`, 'data-status': h.status, title: h.error ? `${h.error.code}: ${h.error.message}` : undefined }, h.status),
        el('td', {}, h.engine?.version ?? '–'),
        el('td', {}, h.apiVersion ?? '–'),
        el('td', { class: 'num' }, h.status === 'UP' ? h.imageCount : '–'),
        el('td', { class: 'num' }, h.status === 'UP' ? humanSize(h.all.totalSize) : '–'),
        el('td', {}, h.stream === 'OFF' ? 'direct' : h.stream.toLowerCase()),
      ),
    ),
  );
}

function renderMatrix(table, note, hosts, groups, drifting, outdated) {
  const up = new Set(hosts.filter((h) => h.status === 'UP').map((h) => h.name));
  table.tHead.replaceChildren(
    el('tr', {}, el('th', {}, 'Image'), el('th', {}, 'ID'), el('th', { class: 'num' }, 'Size'), ...hosts.map((h) => el('th', { class: 'host', 'data-host': h.name }, h.name))),
  );
  fill(
    table.tBodies[0],
    groups.nodes.map((g) => {
      const on = new Set(g.hosts.map((h) => h.name));
      const drift = g.repoTags.some((t) => drifting.has(t));
      return el(
        'tr',
        { 'data-image-id': g.id, class: [drift ? 'drift' : '', outdated.has(g.id) ? 'outdated' : ''].join(' ').trim() || undefined },
        outdated.has(g.id) ? withBadge(tagCell(g.repoTags, drifting), outdated.get(g.id)) : tagCell(g.repoTags, drifting),
        el('td', { class: 'id', title: g.id }, shortId(g.id)),
        el('td', { class: 'num' }, humanSize(g.size)),
        ...hosts.map((h) =>
          on.has(h.name)
            ? el('td', { class: 'cell has', 'data-host': h.name, title: `on ${h.name}` }, '●')
            : el('td', { class: up.has(h.name) ? 'cell' : 'cell unknown', 'data-host': h.name, title: up.has(h.name) ? undefined : `${h.name} did not answer` }, up.has(h.name) ? '' : '?'),
        ),
      );
    }),
  );
  const shown = groups.nodes.length;
  note.textContent =
    shown === 0
      ? 'No image matches.'
      : `${groups.totalCount} distinct image(s)${shown < groups.totalCount ? `, the first ${shown} by reference shown; search to narrow` : ''}. ● the host holds the image.`;
}

/** The "outdated" marker of a matrix row: the registry has moved on from one of its tags on some host. */
function withBadge(td, title) {
  td.append(el('span', { class: 'badge outdated', title }, 'outdated'));
  return td;
}

/** image id → "tag: newer in the registry on host, …", from the outdated list. */
function outdatedMap(outdated) {
  const byId = new Map();
  for (const n of outdated.nodes) {
    const tags = n.updates.filter((u) => u.status === 'OUTDATED').map((u) => u.reference);
    byId.set(n.id, `${byId.has(n.id) ? `${byId.get(n.id)}; ` : ''}${tags.join(', ')} newer in the registry (on ${n.host.name})`);
  }
  return byId;
}

function renderOutdated(tbody, note, outdated) {
  fill(
    tbody,
    outdated.nodes.flatMap((n) =>
      n.updates
        .filter((u) => u.status === 'OUTDATED')
        .map((u) =>
          el(
            'tr',
            { 'data-host': n.host.name, 'data-image-id': n.id },
            el('td', {}, n.host.name),
            el('td', {}, u.reference),
            el('td', { class: 'id', title: u.localDigest ?? '' }, u.localDigest ? shortId(u.localDigest.split('@').pop()) : '–'),
            el('td', { class: 'id', title: u.remoteDigest ?? '' }, u.remoteDigest ? shortId(u.remoteDigest) : '–'),
          ),
        ),
    ),
  );
  note.textContent = outdated.totalCount
    ? `${outdated.totalCount} image summaries with a tag the registry has moved on from${outdated.totalCount > outdated.nodes.length ? `; the first ${outdated.nodes.length} are listed` : ''}.`
    : 'None known. Registries are asked only when the gateway runs with --check-updates.';
}

function renderDrift(list, drift) {
  list.replaceChildren(
    ...(drift.length
      ? drift.map((d) =>
          el(
            'li',
            { 'data-tag': d.tag },
            el('span', { class: 'drift' }, d.tag),
            ': ',
            ...d.variants.flatMap((v, i) => [i ? '; ' : '', el('code', { title: v.id }, shortId(v.id)), ` on ${v.hosts.map((h) => h.name).join(', ')}`]),
          ),
        )
      : [el('li', { class: 'none' }, 'None: every tag points at the same image on every host that has it.')]),
  );
}

/** A "tag → id on hosts; …" text for each drifting tag, for the matrix's tooltips. */
function driftMap(drift) {
  return new Map(drift.map((d) => [d.tag, d.variants.map((v) => `${shortId(v.id)} on ${v.hosts.map((h) => h.name).join(', ')}`).join('; ')]));
}

function renderReclaim(tbody, hosts) {
  const rows = hosts.map((h) =>
    h.status === 'UP'
      ? el('tr', { 'data-host': h.name }, el('th', { scope: 'row' }, h.name), el('td', { class: 'num' }, h.stats.unusedCount), el('td', { class: 'num' }, humanSize(h.stats.unusedSize)), el('td', { class: 'num' }, h.stats.danglingCount), el('td', { class: 'num' }, humanSize(h.stats.danglingSize)))
      : el('tr', { 'data-host': h.name }, el('th', { scope: 'row' }, h.name), el('td', { colspan: 4, class: 'down' }, `not read (${h.status})`)),
  );
  fill(tbody, rows);
}

function renderUnused(tbody, note, unused, dangling) {
  const byKey = new Map();
  for (const [list, kind] of [[unused, 'unused'], [dangling, 'dangling']]) {
    for (const n of list.nodes) {
      const key = `${n.host.name}\u0000${n.id}`;
      const row = byKey.get(key) ?? { ...n, unused: false, dangling: false };
      row[kind] = true;
      byKey.set(key, row);
    }
  }
  const rows = [...byKey.values()].sort((a, b) => b.size - a.size || a.host.name.localeCompare(b.host.name) || a.id.localeCompare(b.id));
  fill(
    tbody,
    rows.map((r) =>
      el(
        'tr',
        { 'data-host': r.host.name, 'data-image-id': r.id },
        el('td', {}, r.host.name),
        tagCell(r.repoTags, new Map()),
        el('td', { class: 'id', title: r.id }, shortId(r.id)),
        el('td', { class: 'num' }, humanSize(r.size)),
        el('td', {}, r.unused ? 'yes' : ''),
        el('td', {}, r.dangling ? 'yes' : ''),
      ),
    ),
  );
  const more = unused.totalCount > unused.nodes.length || dangling.totalCount > dangling.nodes.length;
  note.textContent = `${unused.totalCount} unused and ${dangling.totalCount} dangling image summaries${more ? `; the largest ${unused.nodes.length} and ${dangling.nodes.length} are listed` : ''}.`;
}

/** The whole page from one answer's data. */
export function render(data) {
  const $ = (id) => document.getElementById(id);
  const drifting = driftMap(data.tagDrift);
  renderHosts($('hosts').tBodies[0], data.hosts);
  renderMatrix($('matrix'), $('matrix-note'), data.hosts, data.imageGroups, drifting, outdatedMap(data.outdated));
  renderDrift($('drift'), data.tagDrift);
  renderReclaim($('reclaim').tBodies[0], data.hosts);
  renderUnused($('unused').tBodies[0], $('unused-note'), data.unused, data.dangling);
  renderOutdated($('outdated').tBodies[0], $('outdated-note'), data.outdated);
}

/** The answer's errors (a host down, a bad search), each as "CODE: message" text, once each; returns how many. */
export function renderErrors(list, errors) {
  const lines = new Map();
  for (const e of errors) {
    const code = typeof e?.extensions?.code === 'string' ? e.extensions.code : '';
    const text = `${code ? `${code}: ` : ''}${String(e?.message ?? 'error')}`;
    if (!lines.has(text) && lines.size < 50) lines.set(text, code);
  }
  list.replaceChildren(...[...lines].map(([text, code]) => el('li', { 'data-code': code || undefined }, text)));
  list.hidden = lines.size === 0;
  return lines.size;
}
