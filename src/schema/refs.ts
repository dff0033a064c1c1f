import type { HostImage } from '../inventory/types.js';
import { builder } from './builder.js';

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
      totalCount: t.int({
        description: 'How many summaries match the query on the hosts that answered, across all pages.',
        resolve: (parent) => parent.totalCount,
      }),
    }),
  },
  { name: 'ImageSummaryEdge' },
);
