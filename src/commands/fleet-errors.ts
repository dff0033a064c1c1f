/** An operation's answer as the CLI reads it. */
export interface GraphQLResult {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;
}

/** Each error on one line for stderr: `fleetgraph: host "a": … [HOST_TIMEOUT]`. */
export function errorLines(result: GraphQLResult): string {
  return (result.errors ?? []).map((e) => `fleetgraph: ${e.message}${typeof e.extensions?.code === 'string' ? ` [${e.extensions.code}]` : ''}\n`).join('');
}
