/**
 * The fleet page's script: it asks POST /graphql (the public API, nothing private) for the hosts, the
 * images × hosts matrix, tag drift and what could be reclaimed, and re-asks when the imageEvents
 * subscription (SSE) reports a change. Everything the engines say is put into the page as text
 * (render.js), never as markup. A bearer token, when the gateway wants one, is asked for and kept in
 * sessionStorage (this tab only).
 */
import { FLEET_QUERY, DEBOUNCE_MS, fleetSubscription, fleetVariables } from './query.js';
import { render, renderErrors } from './render.js';

const ENDPOINT = '/graphql';
const TOKEN_KEY = 'fleetgraph.token';
const $ = (id) => document.getElementById(id);

let token = sessionStorage.getItem(TOKEN_KEY) ?? '';
/** The search box's filter, or null for everything. */
let filter = null;
/** Only the newest refresh may change the page. */
let generation = 0;
let debounce;

function post(body, accept, signal) {
  const headers = { 'content-type': 'application/json', accept, 'x-graphql-yoga-csrf': 'fleetgraph-ui' };
  if (token) headers.authorization = `Bearer ${token}`;
  return fetch(ENDPOINT, { method: 'POST', headers, body: JSON.stringify(body), signal, credentials: 'omit', cache: 'no-store' });
}

function setStatus(state, text) {
  const s = $('status');
  s.dataset.state = state;
  s.textContent = text;
}

async function refresh() {
  const mine = ++generation;
  setStatus('loading', 'Loading…');
  let res;
  let body;
  try {
    res = await post({ operationName: 'FleetPage', query: FLEET_QUERY, variables: fleetVariables(filter) }, 'application/graphql-response+json, application/json');
    if (res.status === 401) {
      if (mine === generation) askToken(token ? 'That token was refused.' : '');
      return;
    }
    body = await res.json();
  } catch {
    if (mine === generation) setStatus('error', `The gateway did not answer${res ? ` (HTTP ${res.status})` : ''}.`);
    return;
  }
  if (mine !== generation) return;
  const errors = renderErrors($('errors'), Array.isArray(body?.errors) ? body.errors : []);
  if (!body?.data) {
    setStatus('error', `The query failed (HTTP ${res.status}).`);
    return;
  }
  render(body.data);
  $('content').hidden = false;
  setStatus('ready', `Updated at ${new Date().toLocaleTimeString()}${errors ? ` with ${errors} error(s)` : ''}.`);
  startLive(body.data.hosts.some((h) => h.stream !== 'OFF'));
}

function scheduleRefresh() {
  clearTimeout(debounce);
  debounce = setTimeout(refresh, DEBOUNCE_MS);
}

function askToken(message) {
  token = '';
  sessionStorage.removeItem(TOKEN_KEY);
  stopLive();
  $('content').hidden = true;
  $('token').hidden = false;
  $('token-error').textContent = message;
  setStatus('token', 'A bearer token is required.');
  $('token-input').focus();
}

$('token').addEventListener('submit', (e) => {
  e.preventDefault();
  const value = $('token-input').value.trim();
  if (!value) return;
  token = value;
  sessionStorage.setItem(TOKEN_KEY, value);
  $('token-input').value = '';
  $('token').hidden = true;
  void refresh();
});

function applySearch() {
  const text = $('search-text').value.trim();
  const kind = $('search-kind').value === 'label' ? 'label' : 'reference';
  const next = text ? { [kind]: [text] } : null;
  if (JSON.stringify(next) === JSON.stringify(filter)) return;
  filter = next;
  void refresh();
}

$('search').addEventListener('submit', (e) => {
  e.preventDefault();
  applySearch();
});
// Clearing the box (its × or emptying it) shows everything again.
$('search-text').addEventListener('input', () => {
  if ($('search-text').value === '') applySearch();
});

// ---- live updates: the imageEvents subscription over SSE (fetch, since EventSource cannot send a token) ----

let live = null;
let retryMs = 1000;
let connectedBefore = false;

function setLive(state, text) {
  const l = $('live');
  l.dataset.state = state;
  l.textContent = text;
}

function stopLive() {
  live?.abort();
  live = null;
  setLive('off', 'not live');
}

function startLive(mirror) {
  if (live) return;
  const controller = new AbortController();
  live = controller;
  setLive('connecting', 'connecting…');
  void (async () => {
    try {
      const res = await post({ operationName: 'FleetPageEvents', query: fleetSubscription(mirror) }, 'text/event-stream', controller.signal);
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      // "live" once the first bytes come (yoga opens the stream with a comment, after the subscription has
      // started on the server), not at the headers.
      const opened = () => {
        setLive('on', 'live');
        retryMs = 1000;
        // Events missed while the stream was down are not replayed: read the inventory again.
        if (connectedBefore) scheduleRefresh();
        connectedBefore = true;
      };
      await readEvents(res.body, opened, (event) => {
        if (event === 'next') scheduleRefresh();
      });
    } catch {
      // reconnect below, unless stopped on purpose
    }
    if (live !== controller || controller.signal.aborted) return;
    live = null;
    setLive('reconnecting', 'reconnecting…');
    setTimeout(() => startLive(mirror), retryMs);
    retryMs = Math.min(retryMs * 2, 30_000);
  })();
}

/** Calls onOpen() at the first bytes, then onEvent(name, data) per server-sent event until the stream ends or says "complete". */
async function readEvents(stream, onOpen, onEvent) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let first = true;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    if (first) onOpen();
    first = false;
    buffer += value;
    // One event is small (an action and a host name); anything this long is not ours.
    if (buffer.length > 1 << 20) throw new Error('event too long');
    let end;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
      let event = 'message';
      const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      if (event === 'complete') return;
      onEvent(event, data.join('\n'));
    }
  }
}

void refresh();
