/**
 * Module: mirror mode's answer cache. In mirror mode an answer depends only on the operation, its
 * variables, the hosts the request may see and what the mirror holds; the mirror's generation
 * (LiveInventory.generation) changes with anything it serves, stream states included. So the UTF-8
 * bytes of an error-free answer (as useAnswerLimit built them, written as they are) are kept, keyed by (visible hosts,
 * operation name, variables, document text), for as long as the generation stays the same, and a
 * repeated query (a dashboard's) is written from it without parsing, validating or executing anything. Direct mode has no cache (every query reads engines).
 *
 * Hand-written rather than @graphql-yoga/plugin-response-cache (envelop's response cache), which keys on a
 * custom function and could have taken the generation, but: its ETag/If-None-Match path answers 304 for
 * any entry still in its LRU, also one of an older generation, unless the cache store is rewritten too; it
 * rewrites every document (aliased __typename and id on every selection set) and walks and copies every
 * result object after execution to collect entities for mutation invalidation, which a read-only API
 * never uses (4000 extra copies on the uncached wire query); and its stored results carry
 * extensions.http headers, which send every hit through the answer-size walk (answer-limit.ts).
 *
 * Never cached: anything but a plain query (subscriptions, @live, any directive but @skip/@include),
 * answers with errors (partial hosts, HOST_STALE, limits) or extensions, fields that change with time
 * or outside the mirror (TIME_DEPENDENT, and the updateStatus filter), and an answer whose generation
 * moved on while it was computed. Bounded by entries and by bytes (least recently used goes first).
 */
import { TypeInfo, getOperationAST, visit, visitWithTypeInfo, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { builtAnswer, PREBUILT, type Prebuilt } from '../answer-limit.js';
import type { AnswerBytes } from '../answer-text.js';
import type { HostVisibility } from '../visibility.js';
import type { LiveInventory } from './hub.js';

/**
 * Fields whose value changes with time or with state the mirror's generation does not follow:
 * inventoryAge (seconds, grows), HostError.at, the negotiated API version (the host client's), and
 * registry update checks (answers reused for an interval, then asked again).
 */
export const TIME_DEPENDENT = new Set(['Host.inventoryAge', 'Host.apiVersion', 'HostError.at', 'ImageSummary.updates', 'FleetStats.outdatedCount']);
/** Filter fields that ask registries (see TIME_DEPENDENT). */
const TIME_DEPENDENT_ARGS = ['updateStatus'];

export const ANSWER_CACHE_ENTRIES = 256;
export const ANSWER_CACHE_BYTES = 64 * 1024 * 1024;

/** A kept answer: its UTF-8 bytes as useAnswerLimit built them (one buffer up to 4 MiB, else pieces of ~16 KiB), written as they are. */
export type CachedAnswer = AnswerBytes;

/** Answers by key, for one generation at a time; least recently used evicted past either bound. */
export class AnswerCache {
  private readonly entries = new Map<string, CachedAnswer>();
  private held = 0;
  private forGeneration = -1;

  constructor(
    private readonly generation: () => number,
    readonly maxEntries = ANSWER_CACHE_ENTRIES,
    readonly maxBytes = ANSWER_CACHE_BYTES,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** What the entries hold: bytes and keys. */
  get bytes(): number {
    return this.held;
  }

  private static weight(key: string, answer: CachedAnswer): number {
    return answer.length + key.length;
  }

  /** Entries of an older generation are dropped first, so nothing outdated is held or served. */
  private current(): number {
    const g = this.generation();
    if (g !== this.forGeneration) {
      this.entries.clear();
      this.held = 0;
      this.forGeneration = g;
    }
    return g;
  }

  get(key: string): CachedAnswer | undefined {
    this.current();
    const answer = this.entries.get(key);
    if (answer === undefined) return undefined;
    // Most recently used last.
    this.entries.delete(key);
    this.entries.set(key, answer);
    return answer;
  }

  /** Keeps `answer` if it was computed at the current generation (`generation`: when its request began); returns what it kept. */
  set(key: string, generation: number, answer: CachedAnswer): CachedAnswer | undefined {
    if (this.current() !== generation) return undefined;
    const weight = AnswerCache.weight(key, answer);
    if (weight > this.maxBytes / 4) return undefined;
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.entries.delete(key);
      this.held -= AnswerCache.weight(key, old);
    }
    while (this.entries.size > 0 && (this.entries.size >= this.maxEntries || this.held + weight > this.maxBytes)) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, CachedAnswer];
      this.entries.delete(oldestKey);
      this.held -= AnswerCache.weight(oldestKey, oldest);
    }
    this.entries.set(key, answer);
    this.held += weight;
    return answer;
  }
}

const cacheable = new WeakMap<DocumentNode, boolean>();

/** Whether answers to this operation may be cached (memoised per parsed document, as yoga keeps them). */
export function isCacheableOperation(document: DocumentNode, operationName: string | null | undefined, schema: GraphQLSchema): boolean {
  let ok = cacheable.get(document);
  if (ok !== undefined) return ok;
  const operation = getOperationAST(document, operationName);
  ok = operation?.operation === 'query';
  if (ok) {
    const typeInfo = new TypeInfo(schema);
    visit(
      document,
      visitWithTypeInfo(typeInfo, {
        Directive(node) {
          if (node.name.value !== 'skip' && node.name.value !== 'include') ok = false;
        },
        Field(node) {
          const parent = typeInfo.getParentType();
          if (parent && TIME_DEPENDENT.has(`${parent.name}.${node.name.value}`)) ok = false;
        },
        ObjectField(node) {
          if (TIME_DEPENDENT_ARGS.includes(node.name.value)) ok = false;
        },
      }),
    );
  }
  cacheable.set(document, ok);
  return ok;
}

interface Pending {
  key: string;
  generation: number;
  variablesOk: boolean;
  /** Set once execution began with an operation that may be cached. */
  checked: boolean;
}

/** A cached answer as an execution result: useAnswerLimit writes its bytes as they are (PREBUILT); another processor (SSE) gets its text. */
function cachedResult(answer: CachedAnswer): ExecutionResult {
  const text = () => Buffer.concat(answer.parts, answer.length).toString('utf8');
  const result: Prebuilt = { [PREBUILT]: answer, stringify: text };
  // Nothing in the answer path reads the data of an error-free result; parsed only if something does.
  Object.defineProperty(result, 'data', { get: () => (JSON.parse(text()) as ExecutionResult).data, enumerable: false });
  return result as unknown as ExecutionResult;
}

/**
 * The plugin: looks up before the request is parsed (onParams), decides at execution whether the
 * operation may be cached, and keeps the answer's final bytes (after the size cap, partial and stale
 * errors), as useAnswerLimit built them, when it goes out. Must come after useAnswerLimit.
 */
export function useAnswerCache(source: LiveInventory, visibility: HostVisibility, cache = new AnswerCache(() => source.generation())): Plugin {
  const pending = new WeakMap<Request, Pending>();
  return {
    onParams({ params, request, setResult }) {
      if (typeof params.query !== 'string' || params.extensions) return;
      const hosts = visibility.visibleHosts(request.headers.get('authorization'));
      if (!hosts) return;
      const generation = source.generation();
      const variables = JSON.stringify(params.variables ?? {});
      const key = JSON.stringify([hosts, params.operationName ?? null, variables, params.query]);
      const answer = cache.get(key);
      if (answer !== undefined) {
        setResult(cachedResult(answer));
        return;
      }
      pending.set(request, { key, generation, variablesOk: !TIME_DEPENDENT_ARGS.some((a) => variables.includes(`"${a}"`)), checked: false });
    },
    onExecute({ args }) {
      const request = (args.contextValue as { request?: Request }).request;
      const entry = request && pending.get(request);
      if (entry) entry.checked = entry.variablesOk && isCacheableOperation(args.document, args.operationName, args.schema);
    },
    onResultProcess({ request, result }) {
      const entry = pending.get(request);
      if (!entry?.checked) return;
      pending.delete(request);
      if (request.signal.aborted || Array.isArray(result) || Symbol.asyncIterator in (result as object)) return;
      const plain = result as ExecutionResult & { stringify?: (r: unknown) => string };
      if (plain.errors !== undefined || plain.extensions !== undefined || plain.data === undefined || plain.data === null) return;
      // The bytes useAnswerLimit wrote (a JSON answer); for another processor (SSE), its text.
      let answer = builtAnswer(request);
      if (!answer) {
        const body = Buffer.from((plain.stringify ?? JSON.stringify)(result));
        answer = { parts: [body], length: body.length };
      }
      cache.set(entry.key, entry.generation, answer);
    },
  };
}
