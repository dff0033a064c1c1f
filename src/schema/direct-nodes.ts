/**
 * Module: a connection's `nodes` written straight to JSON text, without a result object per image.
 *
 * On a 4000-image answer of the wire fields, graphql-jit's per-item code (a new object per image, label
 * and host) and the walk that then turns those objects into JSON text cost about as much as parsing the
 * engines' answers, and most of the garbage collection (bench/profile.ts). When the selection under
 * `nodes` is plain (fields only, no fragments, directives or arguments, each response key once) and
 * every field selected is one whose resolver reads only its parent (PURE_FIELDS) or, besides, the
 * request's per-host answers once they are in (CONTEXT_FIELDS), the list is written here instead: each field's value comes from the field's own resolver, each leaf through its scalar's
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
import type { Path } from 'graphql/jsutils/Path.js';
import type { Plugin } from 'graphql-yoga';
import { PrewrittenJson } from '../answer-text.js';
import type { Context } from '../context.js';
import type { HostImage } from '../inventory/types.js';

/** Fields whose resolvers read their parent only (no context, loaders or arguments): safe to call here. */
const PURE_FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  ImageSummary: new Set(['id', 'parentId', 'repoTags', 'repoDigests', 'created', 'createdAt', 'size', 'virtualSize', 'labels', 'host']),
  Label: new Set(['key', 'value']),
  Host: new Set(['name']),
  ContainerSummary: new Set(['id', 'names', 'image', 'imageId', 'state', 'status', 'created', 'createdAt', 'host']),
};

/**
 * Fields whose resolvers also read the request's per-host answers (container lists, shared sizes) through
 * orPartialSettled: synchronous once those are in (listImages waits for them), a promise otherwise (then
 * the executor answers). They read `info` only for the path of a failed host's partial error, so each call
 * gets its own path, as from the executor. Their text depends on the request: it is never kept (`written`).
 */
const CONTEXT_FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  ImageSummary: new Set(['sharedSize', 'containers', 'inUse', 'usedBy']),
};

/** Bytes per piece of the written list (as answer-text.ts writes its pieces). */
const PIECE_BYTES = 16 * 1024;
/** Time written between two yields to the event loop (checked every 32 items), so another request waits at most about this. */
const YIELD_MS = 2;

/** Thrown (one instance, no stack) where the text cannot be written exactly: the ordinary list is answered instead. */
const BAIL = Object.freeze({ bail: true });

/** Writes `value`, whose response path is `path` (given only where something below needs it). */
type Write = (value: unknown, ctx: Context, info: GraphQLResolveInfo, path: Path | undefined) => string;
interface Compiled {
  write: Write;
  /** Something below reads its response path. */
  needsPath: boolean;
  /** Something below reads the request's answers (CONTEXT_FIELDS). */
  contextual: boolean;
}

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

function compileValue(type: GraphQLOutputType, node: FieldNode): Compiled | undefined {
  if (isNonNullType(type)) {
    const inner = compileValue(type.ofType, node);
    if (!inner) return undefined;
    const write = inner.write;
    return {
      ...inner,
      write: (v, ctx, info, path) => {
        if (v === null || v === undefined || typeof (v as { then?: unknown }).then === 'function') throw BAIL;
        return write(v, ctx, info, path);
      },
    };
  }
  let compiled: Compiled | undefined;
  if (isListType(type)) {
    const item = compileValue(type.ofType, node);
    if (!item) return undefined;
    const write = item.write;
    const needsPath = item.needsPath;
    compiled = {
      ...item,
      write: (v, ctx, info, path) => {
        if (!Array.isArray(v)) throw BAIL;
        let s = '[';
        for (let i = 0; i < v.length; i++) s += (i > 0 ? ',' : '') + write(v[i], ctx, info, needsPath ? { prev: path, key: i, typename: undefined } : undefined);
        return s + ']';
      },
    };
  } else if (isLeafType(type)) {
    if (node.selectionSet) return undefined;
    compiled = { write: leaf(type), needsPath: false, contextual: false };
  } else if (isObjectType(type)) {
    compiled = compileObject(type, node);
  }
  if (!compiled) return undefined;
  const inner = compiled.write;
  return {
    ...compiled,
    write: (v, ctx, info, path) => {
      if (v === null || v === undefined) return 'null';
      if (typeof (v as { then?: unknown }).then === 'function') throw BAIL;
      return inner(v, ctx, info, path);
    },
  };
}

function compileObject(type: GraphQLObjectType, node: FieldNode): Compiled | undefined {
  const selections = node.selectionSet?.selections;
  if (!selections?.length) return undefined;
  const keys = new Set<string>();
  const parts: Array<{ prefix: string; write: Write }> = [];
  const pure = PURE_FIELDS[type.name];
  const context = CONTEXT_FIELDS[type.name];
  let needsPath = false;
  let contextual = false;
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
    const withInfo = context?.has(name) === true;
    const def = pure?.has(name) || withInfo ? type.getFields()[name] : undefined;
    const value = def && compileValue(def.type, sel);
    if (!value) return undefined;
    const resolve = def.resolve;
    const writeValue = value.write;
    const typename = type.name;
    let write: Write;
    if (withInfo) {
      if (!resolve) return undefined;
      // The field's own path, as the executor gives it: its partial errors say where they belong.
      write = (p, ctx, info, path) => {
        const at: Path = { prev: path, key, typename };
        return writeValue(resolve(p, {}, ctx, { __proto__: info, path: at } as unknown as GraphQLResolveInfo), ctx, info, at);
      };
    } else if (resolve) {
      write = value.needsPath
        ? (p, ctx, info, path) => writeValue(resolve(p, {}, ctx, info), ctx, info, { prev: path, key, typename })
        : (p, ctx, info) => writeValue(resolve(p, {}, ctx, info), ctx, info, undefined);
    } else {
      // No resolver: the parent's property, as graphql's default resolver reads it (a method is left to it).
      write = (p, ctx, info, path) => {
        const v = (p as Record<string, unknown>)[name];
        if (typeof v === 'function') throw BAIL;
        return writeValue(v, ctx, info, value.needsPath ? { prev: path, key, typename } : undefined);
      };
    }
    needsPath ||= withInfo || value.needsPath;
    contextual ||= withInfo || value.contextual;
    parts.push({ prefix, write });
  }
  return {
    needsPath,
    contextual,
    write: (p, ctx, info, path) => {
      let s = '';
      for (let i = 0; i < parts.length; i++) s += parts[i]!.prefix + parts[i]!.write(p, ctx, info, path);
      return s + '}';
    },
  };
}

/** The writer of one item of the list `info` resolves, or undefined when its selection is not plain. */
const plans = new WeakMap<FieldNode, Compiled | null>();
function planOf(info: GraphQLResolveInfo): Compiled | undefined {
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
  const plan = planOf(info);
  if (!plan) return nodes;
  const { write, needsPath, contextual } = plan;
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
  let slice = performance.now();
  try {
    for (let i = 0; i < nodes.length; i++) {
      if (i > 0) {
        piece.push(COMMA);
        pieceBytes++;
        if (i % 32 === 0 && performance.now() - slice >= YIELD_MS) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          slice = performance.now();
        }
      }
      const node = nodes[i]!;
      const path = needsPath ? { prev: info.path, key: i, typename: undefined } : undefined;
      let bytes: Buffer;
      if (contextual) bytes = Buffer.from(write(node, ctx, info, path), 'utf8');
      else {
        const last = written.get(node.image);
        if (last !== undefined && last.write === write && last.host === node.host) bytes = last.bytes;
        else {
          bytes = Buffer.from(write(node, ctx, info, path), 'utf8');
          written.set(node.image, { write, host: node.host, bytes });
        }
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
