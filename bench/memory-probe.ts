/**
 * Module: loaded into the gateway by bench/abuse.ts (`node --expose-gc --import memory-probe.js cli.js serve …`),
 * never by the gateway itself. On SIGUSR2 it runs a full garbage collection and prints one line,
 * `memory-probe heapUsed=<bytes> rss=<bytes>`: what the heap still holds once garbage is gone. RSS alone
 * cannot tell a leak from memory V8 and malloc keep for reuse after a peak.
 */
const gc = (globalThis as { gc?: () => void }).gc;
process.on('SIGUSR2', () => {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  process.stderr.write(`memory-probe heapUsed=${m.heapUsed} rss=${m.rss}\n`);
});
