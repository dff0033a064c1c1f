import { GraphQLError } from 'graphql';
import { Repeater, SlidingBuffer } from 'graphql-yoga';
import type { Context } from '../context.js';
import { HostError } from '../docker/errors.js';
import type { HostImage } from '../docker/normalize.js';
import { referenceProblem } from '../inventory/reference-syntax.js';
import type { EngineEvent } from '../live/events.js';
import { isLive } from '../live/hub.js';
import { builder } from './builder.js';
import { chooseHosts } from './host-selection.js';
import { HostType, ImageSummaryType } from './refs.js';

/** Bounds of the subscription's inputs and of what waits for a slow subscriber. */
const MAX_HOSTS = 100;
const MAX_ACTIONS = 32;
const MAX_ACTION_LENGTH = 64;
/** Events kept for a subscriber that reads slower than they come: the oldest go first. */
const SUBSCRIBER_BUFFER = 1000;

interface ImageEventShape {
  host: string;
  action: string;
  imageId: string | null;
  reference: string | null;
  time: Date;
}

const ID = /^(sha256:)?[a-f0-9]{64}$/;

/** How long ImageEvent.image waits before asking a host again whose list answered with an error. */
const LIST_RETRY_MS = 200;

/** A name the engine gave that is an image reference (not an ID, and not e.g. Podman's archive path). */
const asReference = (name: string | undefined): string | null => (name && !ID.test(name) && referenceProblem(name) === undefined ? name : null);

function shapeOf(e: EngineEvent): ImageEventShape {
  // Podman (and the containerd store for some actions) report bare hex IDs: the same form as ImageSummary.id.
  // Podman's loadfromarchive names no image (ID "") and the server-side archive path, which is never passed on.
  const imageId = e.id === '' ? null : /^[a-f0-9]{64}$/.test(e.id) ? `sha256:${e.id}` : e.id;
  // Classic-store untag/delete/import name the image by its ID only: there is then no reference to report.
  const reference = asReference(e.name) ?? asReference(e.id);
  return { host: e.host, action: e.action, imageId, reference, time: new Date(Number(e.timeNano / 1_000_000n)) };
}

async function imageAfter(ctx: Context, e: ImageEventShape): Promise<HostImage | null> {
  const source = ctx.deps.source;
  try {
    // Mirror: the reload this event asked for, so the image is as it is after the event.
    if (isLive(source)) await source.whenCurrent(e.host);
    const images = await source.images(e.host).catch(async (err: unknown) => {
      // Podman 4.3 answers 500 to a list made while another request changes its storage (seen beside an
      // import): the engine is there, so once more, a moment later, before saying null.
      if (!(err instanceof HostError) || err.code !== 'HOST_ERROR') throw err;
      await new Promise((resolve) => setTimeout(resolve, LIST_RETRY_MS));
      return source.images(e.host);
    });
    if (e.imageId === null && e.reference === null) return null;
    const hit = images.find((i) => i.id === e.imageId || (e.reference !== null && i.repoTags.includes(e.reference)));
    return hit ? { host: e.host, image: hit } : null;
  } catch {
    return null;
  }
}

const ImageEventType = builder.objectRef<ImageEventShape>('ImageEvent').implement({
  description: "One image event from a host's engine (its /events stream).",
  fields: (t) => ({
    host: t.field({ type: HostType, description: 'The host the event happened on.', resolve: (e) => ({ name: e.host }) }),
    action: t.exposeString('action', {
      description: 'The action as the engine names it: tag, untag, delete, import, load, pull, save, … (Podman 4.3: tag, untag, delete, loadfromarchive; an import is a tag of the new image).',
    }),
    imageId: t.exposeString('imageId', {
      nullable: true,
      description:
        'The image the event is about, as the engine reports it (an image ID "sha256:…"; on the containerd store some events name a reference instead); null when the engine names no image (Podman\'s loadfromarchive).',
    }),
    reference: t.string({
      nullable: true,
      description: 'The reference the event names (e.g. the new tag of a tag event); null when the engine names only the image ID (classic-store untag, delete, import).',
      resolve: (e) => e.reference,
    }),
    time: t.field({ type: 'DateTime', description: 'When the engine recorded the event.', resolve: (e) => e.time }),
    image: t.field({
      type: ImageSummaryType,
      nullable: true,
      description: 'The image as the host lists it after the event; null once it is gone (delete, last untag) or when the host cannot be read.',
      resolve: (e, _a, ctx) => imageAfter(ctx, e),
    }),
  }),
});

builder.subscriptionType({ description: 'Live events from the fleet: over SSE (POST /graphql with Accept: text/event-stream) or WebSocket (graphql-ws protocol on /graphql).' });

builder.subscriptionField('imageEvents', (t) =>
  t.field({
    type: ImageEventType,
    description:
      "Image events of the hosts this request may see (or those named), as they happen. All subscribers share one event stream per host. Events the engine dropped (it keeps 256, and drops events for a slow reader) are not replayed here: query the inventory after a gap.",
    args: {
      hosts: t.arg.stringList({ description: `Host names (at most ${MAX_HOSTS}); default all visible hosts. Unknown names are an error.` }),
      actions: t.arg.stringList({ description: `Only these actions (at most ${MAX_ACTIONS}), e.g. ["tag", "untag", "delete"]; default all.` }),
    },
    subscribe: (_root, args, ctx) => {
      const live = ctx.deps.live;
      if (!live) throw new GraphQLError('event subscriptions are not available on this server', { extensions: { code: 'LIVE_UNAVAILABLE' } });
      if ((args.hosts?.length ?? 0) > MAX_HOSTS) throw new GraphQLError(`hosts: at most ${MAX_HOSTS}`, { extensions: { code: 'BAD_USER_INPUT', argument: 'hosts' } });
      const actions = args.actions ?? null;
      if (actions && (actions.length > MAX_ACTIONS || actions.some((a) => a.length > MAX_ACTION_LENGTH)))
        throw new GraphQLError(`actions: at most ${MAX_ACTIONS}, each at most ${MAX_ACTION_LENGTH} characters`, { extensions: { code: 'BAD_USER_INPUT', argument: 'actions' } });
      const hosts = chooseHosts(ctx, args.hosts);
      return new Repeater<ImageEventShape>(async (push, stop) => {
        const offs = hosts.map((h) =>
          live.stream(h).subscribe({
            event: (e) => {
              if (e.type === 'image' && (!actions || actions.includes(e.action))) void push(shapeOf(e));
            },
          }),
        );
        await stop;
        for (const off of offs) off();
      }, new SlidingBuffer(SUBSCRIBER_BUFFER));
    },
    resolve: (e) => e,
  }),
);
