import type { ContainerRecord } from '../inventory/types.js';
import type { Context } from '../context.js';
import type { GraphQLResolveInfo } from 'graphql';
import type { FieldCost } from '../query-cost.js';
import { containersOf } from '../inventory/container-index.js';
import { builder } from './builder.js';
import { withHostDetail } from './partial.js';
import { HostType, ImageSummaryType } from './refs.js';

type HostContainer = { host: string; container: ContainerRecord };

const ContainerSummaryType = builder.objectRef<HostContainer>('ContainerSummary').implement({
  description: 'A container (running or not) on a host, as in the Engine API container list.',
  fields: (t) => ({
    id: t.id({ description: 'Container ID.', resolve: (c) => c.container.id }),
    names: t.stringList({ description: 'Container names, without the leading "/".', resolve: (c) => c.container.names }),
    image: t.string({ description: 'The image reference the container was created from, as given.', resolve: (c) => c.container.image }),
    imageId: t.id({ description: 'ID of the image the container uses.', resolve: (c) => c.container.imageId }),
    state: t.string({ description: 'created, running, paused, restarting, removing, exited or dead.', resolve: (c) => c.container.state }),
    status: t.string({ description: 'Human-readable status, e.g. "Up 2 hours" or "Created".', resolve: (c) => c.container.status }),
    created: t.field({ type: 'SafeInt', description: 'Creation time in Unix seconds.', resolve: (c) => c.container.created }),
    createdAt: t.field({ type: 'DateTime', description: 'Creation time.', resolve: (c) => new Date(c.container.created * 1000) }),
    host: t.field({ type: HostType, description: 'The host the container is on.', resolve: (c) => ({ name: c.host }) }),
  }),
});

/** The containers on the image's host that use it; null (and a partial error) when the host's list failed. */
function usersOf(host: string, imageId: string, ctx: Context, info: GraphQLResolveInfo): HostContainer[] | null | Promise<HostContainer[] | null> {
  return withHostDetail(ctx, info, 'containers', host, (containers) => containers && containersOf(containers, imageId).map((container) => ({ host, container })));
}

builder.objectFields(ImageSummaryType, (t) => ({
  usedBy: t.field({
    type: [ContainerSummaryType],
    nullable: true,
    // A container uses one image, so over a list of images usedBy returns each container once: one per image on average.
    extensions: { cost: { list: 1 } satisfies FieldCost },
    description:
      "Containers (running or stopped) that use this image on its host, from the host's container list (one call per host per request, only when selected). Null when that list could not be read.",
    resolve: (p, _a, ctx, info) => usersOf(p.host, p.image.id, ctx, info),
  }),
  inUse: t.boolean({
    nullable: true,
    description: 'Whether at least one container (running or stopped) uses this image. Null when the host container list could not be read.',
    resolve: (p, _a, ctx, info) => withHostDetail(ctx, info, 'containers', p.host, (containers) => (containers === null ? null : containersOf(containers, p.image.id).length > 0)),
  }),
}));
