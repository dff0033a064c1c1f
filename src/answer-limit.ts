import { GraphQLError } from 'graphql';
import { processRegularResult, type Plugin } from 'graphql-yoga';
import { answerBytes, PrewrittenJson, type AnswerBytes } from './answer-text.js';

/** Answers up to this many bytes are written as one buffer (see useAnswerLimit). */
const JOIN_BYTES = 4 * 1024 * 1024;

/** How often (in JSON values) the size count looks at whether the client is still there. */
const ABORT_CHECK_EVERY = 4096;

class Over extends Error {}

/**
 * Counts the bytes JSON.stringify would produce for `value` without building the text, and stops as
 * soon as the count passes `max` (or the request is aborted). Values are what an execution result
 * holds: plain objects, arrays, strings, numbers, booleans, null, and errors with toJSON().
 */
export function jsonBytesUpTo(value: unknown, max: number, signal?: AbortSignal): number {
  let bytes = 0;
  let seen = 0;
  const add = (n: number) => {
    bytes += n;
    if (bytes > max) throw new Over();
  };
  const walk = (v: unknown): void => {
    if (++seen % ABORT_CHECK_EVERY === 0) signal?.throwIfAborted();
    if (v === null || v === undefined) return add(4);
    switch (typeof v) {
      case 'string':
        // Plain text counts its UTF-8 bytes and quotes; text with characters JSON escapes is measured exactly.
        return add(/["\\\u0000-\u001f]/.test(v) ? Buffer.byteLength(JSON.stringify(v)) : Buffer.byteLength(v) + 2);
      case 'number':
      case 'boolean':
      case 'bigint':
        return add(String(v).length);
      case 'object': {
        if (v instanceof PrewrittenJson) return add(v.length);
        const json = (v as { toJSON?: () => unknown }).toJSON;
        if (typeof json === 'function') return walk(json.call(v));
        if (Array.isArray(v)) {
          add(2);
          for (let i = 0; i < v.length; i++) {
            if (i > 0) add(1);
            walk(v[i]);
          }
          return;
        }
        add(2);
        let comma = 0;
        // Result objects may have no prototype; for-in over them sees own keys only.
        for (const k in v) {
          const item = (v as Record<string, unknown>)[k];
          if (item === undefined || typeof item === 'function') continue;
          // "key": and the comma before every key but the first.
          add(Buffer.byteLength(k) + 3 + comma);
          comma = 1;
          walk(item);
        }
        return;
      }
      default:
        return;
    }
  };
  try {
    walk(value);
  } catch (err) {
    if (err instanceof Over) return bytes;
    throw err;
  }
  return bytes;
}

/** The compiled operation's serialiser that graphql-jit puts on its results (yoga uses it to write the answer). */
type Stringified = { stringify?: (r: unknown) => string; errors?: unknown; extensions?: unknown };

const JSON_TYPES = ['application/graphql-response+json', 'application/json'];

/**
 * The media type yoga's result processors pick for a regular (not streamed) answer to `request`: the
 * last of JSON_TYPES that matches an Accept entry, walked as graphql-yoga's use-result-processor.ts and
 * accept.ts do (entries in reverse order, utf-8 only; `*` matches). Undefined when none matches.
 */
export function acceptedJsonType(request: Request): string | undefined {
  let chosen: string | undefined;
  const asked = (request.headers.get('accept') || '*/*').replace(/\s/g, '').toLowerCase().split(',');
  for (const entry of asked.reverse()) {
    const [type = '', ...params] = entry.split(';');
    if ((params.find((p) => p.includes('charset=')) ?? 'charset=utf-8') !== 'charset=utf-8') continue;
    const [pre, suf] = type.split('/');
    for (const candidate of JSON_TYPES) {
      const [cPre, cSuf] = candidate.split('/');
      if ((pre === '*' || pre === cPre) && (suf === '*' || suf === cSuf)) chosen = candidate;
    }
  }
  return chosen;
}

/**
 * Caps the answer's size: an execution result whose JSON would pass `maxBytes` is replaced by a single
 * RESPONSE_TOO_LARGE error. A result without errors or extensions (what yoga would write as it is) is
 * written here instead, once: answer-text.ts builds its UTF-8 bytes in slices with yields between them
 * (counting them against the cap as it goes), and the answer's Response carries those bytes, so yoga
 * neither stringifies, measures nor encodes the text again (the same status and Content-Type yoga gives
 * a regular answer). When yoga picked another processor (e.g. SSE), the text is built once and yoga's
 * `stringify` returns it. Other results are measured by jsonBytesUpTo before any text is built. The
 * result tree itself is bounded beforehand by the cost limit. A client that has gone away gets no
 * serialisation at all, and one that leaves while its answer is being built stops it at the next slice.
 */
/** A result whose answer bytes exist already (the answer cache's, answer-cache.ts): written as they are. */
export const PREBUILT = Symbol('fleetgraph.prebuiltAnswer');
export type Prebuilt = { [PREBUILT]: AnswerBytes; stringify: () => string };

/** The bytes useAnswerLimit built for a request's answer, for plugins after it (the answer cache keeps them). */
const built = new WeakMap<Request, AnswerBytes>();
export const builtAnswer = (request: Request): AnswerBytes | undefined => built.get(request);

export function useAnswerLimit(maxBytes: number): Plugin {
  const tooLarge = () => ({
    errors: [
      new GraphQLError(`the answer is over ${maxBytes} bytes; ask for fewer fields, or pages (first/after)`, {
        extensions: { code: 'RESPONSE_TOO_LARGE', max: maxBytes },
      }),
    ],
  });
  const aborted = () => ({ errors: [new GraphQLError('request aborted', { extensions: { code: 'REQUEST_ABORTED' } })] });
  return {
    async onResultProcess({ request, result, setResult, resultProcessor, setResultProcessor }) {
      if (Symbol.asyncIterator in (result as object)) return;
      if (request.signal.aborted) return setResult(aborted());
      const plain = result as Stringified;
      if (!Array.isArray(result) && plain.errors === undefined && plain.extensions === undefined) {
        const type = resultProcessor === processRegularResult ? acceptedJsonType(request) : undefined;
        if (type) {
          let body = (result as Partial<Prebuilt>)[PREBUILT];
          if (!body) {
            try {
              body = await answerBytes(result, maxBytes, request.signal);
            } catch {
              return setResult(aborted());
            }
            if (!body) return setResult(tooLarge());
            // Up to JOIN_BYTES, one buffer: the server writes it in one call (a copy costs less than a
            // write per 16 KiB piece, each a syscall), and the answer cache keeps it so, joined once.
            if (body.parts.length > 1 && body.length <= JOIN_BYTES) body = { parts: [Buffer.concat(body.parts, body.length)], length: body.length };
            built.set(request, body);
          }
          const { parts, length } = body;
          // One piece is the body as it is; several are written one after the other (an async iterable
          // body, which yoga's server adapter writes piece by piece, minding backpressure), the length known.
          const bodyInit = (parts.length === 1 ? parts[0]! : { async *[Symbol.asyncIterator]() { yield* parts; } }) as unknown as BodyInit;
          const headers = { 'Content-Type': `${type}; charset=utf-8`, 'Content-Length': String(length) };
          setResultProcessor((_result, fetchAPI) => new fetchAPI.Response(bodyInit, { status: 200, headers }), type);
          return;
        }
        const text = (plain.stringify ?? JSON.stringify)(result);
        // UTF-8 takes at most 3 bytes per UTF-16 unit: most answers need no byte count at all.
        if (text.length > maxBytes || (text.length * 3 > maxBytes && Buffer.byteLength(text) > maxBytes)) setResult(tooLarge());
        else plain.stringify = () => text;
        return;
      }
      let bytes: number;
      try {
        bytes = jsonBytesUpTo(result, maxBytes, request.signal);
      } catch {
        return setResult(aborted());
      }
      if (bytes > maxBytes) setResult(tooLarge());
    },
  };
}
