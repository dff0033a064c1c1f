/**
 * Module: a connection's `nodes` written straight to JSON text, without a result object per image.
 *
 * On a 4000-image answer of the wire fields, graphql-jit's per-item code (a new object per image, label
 * and host) and the walk that then turns those objects into JSON text cost about as much as parsing the
 * engines' answers, and most of the garbage collection (bench/profile.ts). When the selection under
 * `nodes` is plain (fields only, no fragments, directives or arguments, each response key once) and
 * every field selected is one whose resolver reads only its parent (PURE_FIELDS), the list is written
 * here instead: each field's value comes from the field's own resolver, each leaf through its scalar's
 * own serialize, the keys in selection order under their aliases, so the text is what graphql-jit and
 * JSON.stringify would have produced. The resolver then answers an empty list, and useDirectNodes puts
 * the written text (a PrewrittenJson) at that place of the result after execution. Anything this
 * cannot write exactly (a null where the schema says non-null, a promise, a serialize that throws, an
 * answer over the byte cap) gives the ordinary list back, and graphql-jit does as it always did,
 * errors included.
 *
 * Only operations that are queries without any directive use it (no @live, @defer, @stream, @skip or
 * @include: their results are read or repeated elsewhere); a PrewrittenJson also turns into the very
 * objects (toJSON) for any consumer that stringifies the result itself (SSE, graphql-ws, the size count).
 */
import {
  getOperationAST,
  GraphQLID,
  GraphQLString,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  responsePathAsArray,
  visit,
  BREAK,
  type DocumentNode,
  type FieldNode,
  type GraphQLLeafType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLResolveInfo,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { PrewrittenJson } from '../answer-text.js';
import type { Context } from '../context.js';
import type { HostImage } from '../inventory/types.js';

/** Fields whose resolvers read their parent only (no context, loaders or arguments): safe to call here. */
const PURE_FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  ImageSummary: new Set(['id', 'parentId', 'repoTags', 'repoDigests', 'created', 'createdAt', 'size', 'virtualSize', 'labels', 'host']),
  Label: new Set(['key', 'value']),
  Host: new Set(['name']),
};

/** Bytes per piece of the written list (as answer-text.ts writes its pieces). */
const PIECE_BYTES = 16 * 1024;
/** Items written between two yields to the event loop (~0.5 ms of work). */
const YIELD_ITEMS = 500;

/** Thrown (one instance, no stack) where the text cannot be written exactly: the ordinary list is answered instead. */
const BAIL = Object.freeze({ bail: true });

type Write = (value: unknown, ctx: Context, info: GraphQLResolveInfo) => string;

const jsonOf = (serialized: unknown): string => {
  // graphql-js refuses a scalar that serialises to null or undefined (an error for the field).
  if (serialized === null || serialized === undefined) throw BAIL;
  const text = JSON.stringify(serialized);
  if (text === undefined) throw BAIL;
  return text;
};

function leaf(type: GraphQLLeafType): Write {
  if (type === GraphQLString || type === GraphQLID) return (v) => (typeof v === 'string' ? JSON.stringify(v) : jsonOf(type.serialize(v)));
  return (v) => jsonOf(type.serialize(v));
}

function compileValue(type: GraphQLOutputType, node: FieldNode): Write | undefined {
  if (isNonNullType(type)) {
    const inner = compileValue(type.ofType, node);
    if (!inner) return undefined;
    return (v, ctx, info) => {
      if (v === null || v === undefined || typeof (v as { then?: unknown }).then === 'function') throw BAIL;
      return inner(v, ctx, info);
    };
  }
  let write: Write | undefined;
  if (isListType(type)) {
    const item = compileValue(type.ofType, node);
    if (!item) return undefined;
    write = (v, ctx, info) => {
      if (!Array.isArray(v)) throw BAIL;
      let s = '[';
      for (let i = 0; i < v.length; i++) s += (i > 0 ? ',' : '') + item(v[i], ctx, info);
      return s + ']';
    };
  } else if (isLeafType(type)) {
    if (node.selectionSet) return undefined;
    write = leaf(type);
  } else if (isObjectType(type)) {
    write = compileObject(type, node);
  }
  if (!write) return undefined;
  const inner = write;
  return (v, ctx, info) => {
    if (v === null || v === undefined) return 'null';
    if (typeof (v as { then?: unknown }).then === 'function') throw BAIL;
    return inner(v, ctx, info);
  };
}

function compileObject(type: GraphQLObjectType, node: FieldNode): Write | undefined {
  const selections = node.selectionSet?.selections;
  if (!selections?.length) return undefined;
  const keys = new Set<string>();
  const parts: Array<{ prefix: string; write: Write }> = [];
  const pure = PURE_FIELDS[type.name];
  for (const sel of selections) {
    if (sel.kind !== Kind.FIELD || sel.directives?.length || sel.arguments?.length) return undefined;
    const key = sel.alias?.value ?? sel.name.value;
    if (keys.has(key)) return undefined;
    keys.add(key);
    const prefix = `${parts.length > 0 ? ',' : '{'}${JSON.stringify(key)}:`;
    if (sel.name.value === '__typename') {
      const name = JSON.stringify(type.name);
      parts.push({ prefix, write: () => name });
      continue;
    }
    const name = sel.name.value;
    const def = pure?.has(name) ? type.getFields()[name] : undefined;
    const value = def && compileValue(def.type, sel);
    if (!value) return undefined;
    const resolve = def.resolve;
    // No resolver: the parent's property, as graphql's default resolver reads it (a method is left to it).
    const write: Write = resolve
      ? (p, ctx, info) => value(resolve(p, {}, ctx, info), ctx, info)
      : (p, ctx, info) => {
          const v = (p as Record<string, unknown>)[name];
          if (typeof v === 'function') throw BAIL;
          return value(v, ctx, info);
        };
    parts.push({ prefix, write });
  }
  return (p, ctx, info) => {
    let s = '';
    for (let i = 0; i < parts.length; i++) s += parts[i]!.prefix + parts[i]!.write(p, ctx, info);
    return s + '}';
  };
}

/** The writer of one item of the list `info` resolves, or undefined when its selection is not plain. */
const plans = new WeakMap<FieldNode, Write | null>();
function planOf(info: GraphQLResolveInfo): Write | undefined {
  if (info.fieldNodes.length !== 1) return undefined;
  const node = info.fieldNodes[0]!;
  let plan = plans.get(node);
  if (plan === undefined) {
    let list = info.returnType;
    if (isNonNullType(list)) list = list.ofType;
    plan = (isListType(list) && compileValue(list.ofType, node)) || null;
    plans.set(node, plan);
  }
  return plan ?? undefined;
}

/** A request's written lists, with where each goes in the result (response keys and list indices). */
export class DirectNodes {
  readonly splices: Array<{ path: Array<string | number>; json: PrewrittenJson }> = [];
  constructor(readonly maxBytes: number) {}
}

/**
 * `nodes` of a connection: the text of the list when it can be written exactly (then an empty list, to be
 * replaced by useDirectNodes), else the list itself.
 */
/**
 * The bytes last written for an image record (records are never changed, and an unchanged engine item
 * keeps its record: json-chunks.ts ItemMemo), with the writer and host they were written by. Bytes, not
 * text: a piece joined from cached strings cost several times more to encode again on every request.
 */
const written = new WeakMap<object, { write: Write; host: string; bytes: Buffer }>();
const OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');

/**
 * `nodes` of a connection: the text of the list when it can be written exactly (then an empty list, to be
 * replaced by useDirectNodes), else the list itself.
 */
export async function directNodes(nodes: HostImage[], ctx: Context, info: GraphQLResolveInfo): Promise<HostImage[]> {
  const direct = ctx.directNodes;
  if (!direct || nodes.length === 0 || ctx.partialErrors.size > 0) return nodes;
  const write = planOf(info);
  if (!write) return nodes;
  const parts: Buffer[] = [];
  let length = 0;
  let piece: Buffer[] = [OPEN];
  let pieceBytes = 1;
  const flush = () => {
    parts.push(piece.length === 1 ? piece[0]! : Buffer.concat(piece, pieceBytes));
    length += pieceBytes;
    piece = [];
    pieceBytes = 0;
    if (length > direct.maxBytes) throw BAIL;
  };
  try {
    for (let i = 0; i < nodes.length; i++) {
      if (i > 0) {
        piece.push(COMMA);
        pieceBytes++;
        if (i % YIELD_ITEMS === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      }
      const node = nodes[i]!;
      const last = written.get(node.image);
      let bytes: Buffer;
      if (last !== undefined && last.write === write && last.host === node.host) bytes = last.bytes;
      else {
        bytes = Buffer.from(write(node, ctx, info), 'utf8');
        written.set(node.image, { write, host: node.host, bytes });
      }
      piece.push(bytes);
      pieceBytes += bytes.length;
      if (pieceBytes >= PIECE_BYTES) flush();
    }
    piece.push(CLOSE);
    pieceBytes++;
    flush();
  } catch {
    return nodes;
  }
  direct.splices.push({ path: responsePathAsArray(info.path), json: new PrewrittenJson(parts, length) });
  return [];
}

/** Whether a document's operation is a query without any directive (cached per parsed document). */
const plainDocuments = new WeakMap<DocumentNode, boolean>();
function plainQuery(document: DocumentNode, operationName: string | null | undefined): boolean {
  let plain = plainDocuments.get(document);
  if (plain === undefined) {
    plain = true;
    visit(document, {
      Directive() {
        plain = false;
        return BREAK;
      },
    });
    plainDocuments.set(document, plain);
  }
  return plain && getOperationAST(document, operationName)?.operation === 'query';
}

/** Puts each written list at its place in `data` (where the resolver answered an empty list). */
export function splice(data: unknown, direct: DirectNodes): void {
  for (const { path, json } of direct.splices) {
    let at = data as Record<string | number, unknown> | null | undefined;
    for (let i = 0; i < path.length - 1 && at; i++) at = at[path[i]!] as Record<string | number, unknown> | null | undefined;
    const last = path[path.length - 1]!;
    const placeholder = at && typeof at === 'object' ? at[last] : undefined;
    if (Array.isArray(placeholder) && placeholder.length === 0) at![last] = json;
  }
}

/** Turns direct `nodes` on for plain queries, and splices the written lists into their results. */
export function useDirectNodes(maxBytes: number): Plugin<Context> {
  return {
    onExecute({ args }) {
      if (!plainQuery(args.document, args.operationName)) return;
      const direct = new DirectNodes(maxBytes);
      (args.contextValue as Context).directNodes = direct;
      return {
        onExecuteDone({ result }) {
          if (Symbol.asyncIterator in result || direct.splices.length === 0) return;
          splice(result.data, direct);
        },
      };
    },
  };
}
