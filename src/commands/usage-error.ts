/** A bad argument to a command (not to the configuration): the CLI prints it as one line and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
