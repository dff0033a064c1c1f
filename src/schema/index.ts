import { lexicographicSortSchema } from 'graphql';
import { builder } from './builder.js';
import './refs.js';
import './image-inputs.js';
import './image-summary.js';
import './images-query.js';
import './host.js';
import './container.js';
import './image-group.js';
import './stats.js';
import './host-live.js';
import './subscription.js';

/** The schema, sorted so the printed SDL is stable. Only app.ts and the schema printer import this. */
export const schema = lexicographicSortSchema(builder.toSchema());
