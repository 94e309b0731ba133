/**
 * Server memory under concurrent large responses (run by hand: `npm run bench:memory`).
 * Loads Patients of about 8 KB each, then sends `--connections` concurrent searches of
 * `_count=1000` (pages of up to MAX_PAGE_BYTES) and history pages, read slowly (`--slow-ms`, so
 * answers wait in socket buffers, which the heap limit does not bound), and samples the server's RSS.
 * It does this twice per round, on the same data, in the same run: with the default
 * MEMORY_BUDGET (256mb) and with MEMORY_BUDGET=1024mb, which at this concurrency bounds nothing.
 * Prints the median over `--rounds` of peak RSS and of requests per second for both.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median, startServer } from './lib/bench-util';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const ROUNDS = Number(args.get('rounds') ?? 3);
const CONNECTIONS = Number(args.get('connections') ?? 50);
const REQUESTS = Number(args.get('requests') ?? 200);
const PATIENTS = Number(args.get('patients') ?? 3000);
const HEAP_MB = args.get('heap-limit-mb');
const SLOW_MS = Number(args.get('slow-ms') ?? 500);

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

async function load(url: string): Promise<void> {
  const note = 'n'.repeat(8000);
  for (let start = 0; start < PATIENTS; start += 500) {
    const entry = Array.from({ length: Math.min(500, PATIENTS - start) }, (_, i) => ({
      resource: { resourceType: 'Patient', active: true, name: [{ family: `Mem${start + i}`, text: note }] },
      request: { method: 'POST', url: 'Patient' },
    }));
    const res = await fetch(`${url}/fhir`, { method: 'POST', headers: { 'Content-Type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }) });
    if (res.status !== 200) throw new Error(`loading failed: ${res.status} ${await res.text()}`);
  }
}

async function run(budget: string | undefined, dataDir: string): Promise<{ peakMb: number; perSecond: number }> {
  const env: Record<string, string> = budget ? { MEMORY_BUDGET: budget } : {};
  if (HEAP_MB) env.HEAP_LIMIT_MB = HEAP_MB;
  const server = await startServer(dataDir, env);
  const pid = server.child.pid as number;
  try {
    let peak = rssMb(pid);
    const sampler = setInterval(() => { peak = Math.max(peak, rssMb(pid)); }, 50);
    const paths = ['/fhir/Patient?_count=1000', '/fhir/Patient/_history?_count=1000', '/fhir/Patient?_count=1000&_sort=-_lastUpdated'];
    let next = 0;
    const started = Date.now();
    let failed = 0;
    await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
      while (next < REQUESTS) {
        const p = paths[next++ % paths.length];
        try {
          const res = await fetch(`${server.url}${p}`);
          // A slow reader: the page waits in the server's socket buffers, outside the JS heap.
          await new Promise((resolve) => setTimeout(resolve, SLOW_MS));
          const body = await res.arrayBuffer();
          if (res.status !== 200 || body.byteLength < 1000) failed++;
        } catch {
          failed++; // the server ran out of memory and died, or dropped the connection
        }
      }
    }));
    const perSecond = REQUESTS / ((Date.now() - started) / 1000);
    clearInterval(sampler);
    if (failed > 0) console.log(`  MEMORY_BUDGET=${budget ?? 'default'}: ${failed} of ${REQUESTS} requests failed${server.child.exitCode !== null ? ` (server exited ${server.child.exitCode})` : ''}`);
    return { peakMb: peak, perSecond };
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((resolve) => server.child.once('exit', resolve));
  }
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fhir-bench-memory-'));
  try {
    const seeded = await startServer(dataDir);
    await load(seeded.url);
    seeded.child.kill('SIGTERM');
    await new Promise((resolve) => seeded.child.once('exit', resolve));
    const bounded: { peakMb: number; perSecond: number }[] = [];
    const unbounded: { peakMb: number; perSecond: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      bounded.push(await run(undefined, dataDir));
      unbounded.push(await run('1024mb', dataDir));
      console.log(`round ${r + 1}: default budget peak ${bounded[r].peakMb.toFixed(0)} MB, ${bounded[r].perSecond.toFixed(1)}/s; `
        + `1024mb peak ${unbounded[r].peakMb.toFixed(0)} MB, ${unbounded[r].perSecond.toFixed(1)}/s`);
    }
    const m = (xs: { peakMb: number; perSecond: number }[], k: 'peakMb' | 'perSecond') => median(xs.map((x) => x[k]));
    console.log(`${PATIENTS} Patients of ~8 KB, ${CONNECTIONS} connections reading after ${SLOW_MS} ms, heap limit ${HEAP_MB ?? 1024} MB, ${REQUESTS} page requests of _count=1000 (pages up to 8 MB), median of ${ROUNDS}:`);
    console.log(`  MEMORY_BUDGET=256mb (default): peak RSS ${m(bounded, 'peakMb').toFixed(0)} MB, ${m(bounded, 'perSecond').toFixed(1)} pages/s`);
    console.log(`  MEMORY_BUDGET=1024mb:          peak RSS ${m(unbounded, 'peakMb').toFixed(0)} MB, ${m(unbounded, 'perSecond').toFixed(1)} pages/s`);
    console.log(`  peak RSS ratio (default / 1024mb, same run): ${(m(bounded, 'peakMb') / m(unbounded, 'peakMb')).toFixed(2)}`);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => { console.error(err); process.exitCode = 1; });
