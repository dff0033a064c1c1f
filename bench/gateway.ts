/**
 * Module: the gateway under benchmark, in its own process (forked by bench/fleet.ts with an IPC
 * channel), so what it measures is the gateway's own event loop, CPU and memory, not the bench's.
 * argv[2] is the ConfigInput as JSON. Messages: 'reset' starts a measuring window; 'report' answers
 * the window's event-loop delay max/p99, CPU ms, longest CPU stretch between timer ticks, and the
 * process's peak RSS so far; 'memory' answers heap used, RSS and external bytes after a full collection.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadConfig } from '../src/config.js';
import { startServer } from '../src/server.js';

// The cost limit counts an unpaginated list as maxImages items; the benchmarks' maxImages (1e6) would put
// every whole-fleet query over the default limit, so the bench raises it.
const input = JSON.parse(process.argv[2]!) as Parameters<typeof loadConfig>[0];
const config = loadConfig({ ...input, limits: { maxCost: 1_000_000_000, ...input.limits } });
const server = await startServer(config);
const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();
let cpu = process.cpuUsage();
// The longest stretch of the gateway's own CPU time between two ticks of a 1 ms timer: an upper bound on
// its longest synchronous block that, unlike the event-loop delay, does not grow when the machine is busy
// and the process waits for a core.
let lastTick = process.cpuUsage();
let blockCpuMax = 0;
setInterval(() => {
  const now = process.cpuUsage();
  blockCpuMax = Math.max(blockCpuMax, (now.user + now.system - lastTick.user - lastTick.system) / 1000);
  lastTick = now;
}, 1).unref();

process.on('message', (msg: unknown) => {
  if (msg === 'reset') {
    delay.reset();
    cpu = process.cpuUsage();
    blockCpuMax = 0;
    process.send!({ reset: true });
  } else if (msg === 'report') {
    const used = process.cpuUsage(cpu);
    process.send!({
      delayMaxMs: delay.max / 1e6,
      delayP99Ms: delay.percentile(99) / 1e6,
      cpuMs: (used.user + used.system) / 1000,
      blockCpuMaxMs: blockCpuMax,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    });
  } else if (msg === 'memory') {
    // After a full collection (forked with --expose-gc): what is still held, not garbage not yet collected.
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    process.send!({ heapUsedBytes: m.heapUsed, rssBytes: m.rss, externalBytes: m.external + m.arrayBuffers });
  } else if (msg === 'stop') {
    void server.close().then(() => process.exit(0));
  }
});
process.send!({ url: server.url });
