import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

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

/**
 * Caps the answer's size: an execution result whose JSON would pass `maxBytes` is replaced by a single
 * RESPONSE_TOO_LARGE error. A result without errors or extensions (what yoga would write as it is) is
 * serialised here, once, and measured; yoga then writes that same text (the result's `stringify`, which
 * yoga calls, returns it) instead of walking the tree a second time (~10% of the gateway's CPU on 10000
 * images). Other results are measured by jsonBytesUpTo before any text is built. The result tree itself
 * is bounded beforehand by the cost limit. A client that has gone away gets no serialisation at all.
 */
export function useAnswerLimit(maxBytes: number): Plugin {
  const tooLarge = () => ({
    errors: [
      new GraphQLError(`the answer is over ${maxBytes} bytes; ask for fewer fields, or pages (first/after)`, {
        extensions: { code: 'RESPONSE_TOO_LARGE', max: maxBytes },
      }),
    ],
  });
  return {
    onResultProcess({ request, result, setResult }) {
      if (Symbol.asyncIterator in (result as object)) return;
      if (request.signal.aborted) {
        setResult({ errors: [new GraphQLError('request aborted', { extensions: { code: 'REQUEST_ABORTED' } })] });
        return;
      }
      const plain = result as Stringified;
      if (!Array.isArray(result) && plain.errors === undefined && plain.extensions === undefined) {
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
        setResult({ errors: [new GraphQLError('request aborted', { extensions: { code: 'REQUEST_ABORTED' } })] });
        return;
      }
      if (bytes > maxBytes) setResult(tooLarge());
    },
  };
}
