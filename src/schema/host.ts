import { HostError, type HostErrorCode } from '../docker/errors.js';
import type { FieldCost } from '../query-cost.js';
import { builder } from './builder.js';
import { ImageFilterInput, ImageOrderInput } from './image-inputs.js';
import { resolveImageConnection, type ImageListArgs } from './image-summary.js';
import { chooseHosts, hostImages } from './host-selection.js';
import { orPartial } from './partial.js';
import { HostType, ImageSummaryConnection, ImageSummaryType } from './refs.js';

const statusOf = (code: HostErrorCode) => code.replace(/^HOST_/, '') as HostStatusValue;
type HostStatusValue = 'UP' | 'UNREACHABLE' | 'TIMEOUT' | 'BAD_RESPONSE' | 'TLS_ERROR' | 'AUTH_ERROR' | 'KEY_UNTRUSTED' | 'CIRCUIT_OPEN' | 'ERROR';

export const HostStatusEnum = builder.enumType('HostStatus', {
  description: "Whether fleetgraph could read the host's inventory in this request, and if not, why.",
  values: {
    UP: { description: 'The engine answered.' },
    UNREACHABLE: { description: 'No connection (refused, no such socket, host down, connection dropped).' },
    TIMEOUT: { description: 'The engine did not answer within the host deadline.' },
    BAD_RESPONSE: { description: 'The engine answered with something that is not valid Engine API data.' },
    TLS_ERROR: { description: 'The TLS handshake failed (untrusted CA, missing or rejected client certificate).' },
    AUTH_ERROR: { description: 'The engine or SSH server refused our credentials.' },
    KEY_UNTRUSTED: {
      description: "The SSH server's host key is not in the gateway's known_hosts (or differs from it, or is revoked there), so the connection was closed before any credential was sent.",
    },
    CIRCUIT_OPEN: { description: 'The host failed repeatedly and is skipped until it is probed again.' },
    ERROR: { description: 'The engine answered with an error.' },
  } satisfies Record<HostStatusValue, { description: string }>,
});

// A plain object, not the HostError itself: graphql-js treats an Error returned by a resolver as a thrown one.
const HostErrorInfo = builder.objectRef<{ code: string; message: string; at: Date }>('HostError').implement({
  description: 'Why a host could not be read.',
  fields: (t) => ({
    code: t.string({ description: 'Stable code, as in the GraphQL error extensions.code (HOST_UNREACHABLE, HOST_TIMEOUT, …).', resolve: (e) => e.code }),
    message: t.string({ description: 'Human-readable explanation. Never contains addresses, paths or credentials.', resolve: (e) => e.message }),
    at: t.field({ type: 'DateTime', description: 'When the failure was observed.', resolve: (e) => e.at }),
  }),
});

const EngineInfo = builder
  .objectRef<{ version: string; apiVersion: string; minApiVersion: string | null; os: string; arch: string; kernelVersion: string | null }>('EngineInfo')
  .implement({
    description: "The engine's /version answer.",
    fields: (t) => ({
      version: t.exposeString('version', { description: 'Engine version, e.g. 20.10.24.' }),
      apiVersion: t.exposeString('apiVersion', { description: 'Highest Engine API version the engine speaks, e.g. 1.41.' }),
      minApiVersion: t.exposeString('minApiVersion', { nullable: true, description: 'Oldest Engine API version the engine accepts.' }),
      os: t.exposeString('os'),
      arch: t.exposeString('arch'),
      kernelVersion: t.exposeString('kernelVersion', { nullable: true }),
    }),
  });

HostType.implement({
  description: 'A Docker engine in the fleet, by the name it was configured with.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The configured host name.' }),
    status: t.field({
      type: HostStatusEnum,
      description: 'Whether the host answered in this request (its image list is read once per request either way).',
      resolve: async (h, _a, ctx) => {
        const r = await hostImages(ctx, h.name);
        return r instanceof HostError ? statusOf(r.code) : 'UP';
      },
    }),
    error: t.field({
      type: HostErrorInfo,
      nullable: true,
      description: 'Why the host could not be read in this request; null when it answered.',
      resolve: async (h, _a, ctx) => {
        const r = await hostImages(ctx, h.name);
        return r instanceof HostError ? { code: r.code, message: r.message, at: r.at } : null;
      },
    }),
    engine: t.field({
      type: EngineInfo,
      nullable: true,
      description: "The engine's version information (one /version call per host per request). Null when the host failed; the error says why.",
      resolve: (h, _a, ctx, info) => orPartial(ctx, info, ctx.loaders.version.load(h.name), null),
    }),
    apiVersion: t.string({
      nullable: true,
      description:
        "The Engine API version fleetgraph speaks with this host: the lower of the engine's highest and fleetgraph's (as the docker CLI negotiates). Null until the host has answered.",
      resolve: (h, _a, ctx) => ctx.loaders.apiVersion.load(h.name),
    }),
    imageCount: t.int({
      nullable: true,
      description: 'Number of images on the host (top-level images, as `docker images` lists them). Null when the host failed.',
      resolve: async (h, _a, ctx, info) => (await orPartial(ctx, info, ctx.loaders.images.load(h.name), null))?.length ?? null,
    }),
    images: t.connection(
      {
        type: ImageSummaryType,
        description: 'The images on this host, as a connection (the same arguments as Query.images).',
        args: {
          filter: t.arg({ type: ImageFilterInput }),
          orderBy: t.arg({ type: [ImageOrderInput] }),
        },
        resolve: (h, args, ctx, info) => resolveImageConnection(ctx, [h.name], args as ImageListArgs, info),
      },
      ImageSummaryConnection,
    ),
  }),
});

builder.queryFields((t) => ({
  hosts: t.field({
    type: [HostType],
    description: 'The configured hosts (or those named), in configuration order.',
    extensions: { cost: { list: 'hosts' } satisfies FieldCost },
    args: { names: t.arg.stringList({ description: 'Host names; default all. Unknown names are an error.' }) },
    resolve: (_r, args, ctx) => chooseHosts(ctx, args.names, 'names').map((name) => ({ name })),
  }),
  host: t.field({
    type: HostType,
    nullable: true,
    description: 'One host by name, or null when there is no such host.',
    args: { name: t.arg.string({ required: true }) },
    resolve: (_r, args, ctx) => (ctx.visibleHosts.includes(args.name) ? { name: args.name } : null),
  }),
}));
