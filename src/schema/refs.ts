import type { HostImage } from '../inventory/types.js';
import type { Page } from '../inventory/paginate.js';
import { builder } from './builder.js';
import { directNodes } from './direct-nodes.js';

/**
 * Object refs shared across type files (Host and ImageSummary point at each other). Each type is
 * implemented in its own file; this module only names them, so imports never go in a circle.
 */
export interface HostRef {
  name: string;
}

export const HostType = builder.objectRef<HostRef>('Host');
export const ImageSummaryType = builder.objectRef<HostImage>('ImageSummary');

export const ImageSummaryConnection = builder.connectionObject(
  {
    type: ImageSummaryType,
    name: 'ImageSummaryConnection',
    description: 'A page of image summaries, merged across hosts in the requested order.',
    fields: (t) => ({
      // The relay plugin's own nodes field, but written straight to JSON text where it can be (direct-nodes.ts).
      nodes: t.field({
        type: [ImageSummaryType],
        // Every ImageSummaryConnection is a Page (paginate.ts): its edges are an array.
        resolve: (parent, _args, ctx, info) => directNodes((parent as unknown as Page<HostImage>).edges.map((e) => e.node), ctx, info),
      }),
      totalCount: t.int({
        description: 'How many summaries match the query on the hosts that answered, across all pages.',
        resolve: (parent) => parent.totalCount,
      }),
    }),
  },
  { name: 'ImageSummaryEdge' },
);
