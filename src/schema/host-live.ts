import { isLive } from '../live/hub.js';
import type { StreamState } from '../live/events.js';
import { builder } from './builder.js';
import { HostType } from './refs.js';

/** Host fields about the mirror (--mirror): how current the served inventory is. */
export const HostStreamEnum = builder.enumType('HostStream', {
  description: "The state of the host's engine event stream, which keeps the mirrored inventory current.",
  values: {
    CONNECTED: { description: 'Events are arriving: the mirror follows the engine.' },
    RECONNECTING: { description: 'The stream broke and is being reopened; the mirror is served as last read.' },
    DOWN: { description: 'The stream failed repeatedly; the mirror is served as last read (stale).' },
    OFF: { description: 'No mirror: every query reads the engine (direct mode).' },
  } satisfies Record<StreamState, { description: string }>,
});

builder.objectFields(HostType, (t) => ({
  stream: t.field({
    type: HostStreamEnum,
    description: "The host's event stream in mirror mode; OFF in direct mode.",
    resolve: (h, _a, ctx) => (isLive(ctx.deps.source) ? ctx.deps.source.freshness(h.name).stream : 'OFF'),
  }),
  inventoryAge: t.float({
    nullable: true,
    description:
      "Seconds since this host's inventory was last read in full from the engine (mirror mode; between reads, events keep it current while stream is CONNECTED). Null in direct mode, where every query reads the engine, and before the first read.",
    resolve: (h, _a, ctx) => (isLive(ctx.deps.source) ? ctx.deps.source.freshness(h.name).inventoryAge : null),
  }),
}));
