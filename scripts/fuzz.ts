/**
 * Long fuzz runs over real HTTP (run by hand: `npm run build && node dist/scripts/fuzz.js --count 100000`).
 * Starts the server on a fresh embedded store (`--mongo-url URL` for a fresh MongoDB database instead),
 * `--store bridge` serves in this process on the MongoDB wire bridge of the tests, the engine CI has;
 * its RSS then includes the fuzzer's), or targets a running server (`--url http://host:port`, with `--pid` to
 * watch its memory), sends the seeded hostile requests of test/fuzz/, and prints requests sent,
 * status classes, the 5xx count (must be 0), the first failures, and the server's RSS at start,
 * peak and end. Bounded by `--count` and `--seconds`. Exits 1 on any failure.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fuzz, type Answer, type FuzzReport } from '../test/fuzz/drive';
import type { FuzzRequest } from '../test/fuzz/generate';
import { seedRequests } from '../test/fuzz/setup';
import { startServer } from './lib/bench-util';
import { createApp } from '../src/app';
import { applyServerTimeouts } from '../src/main';
import { createLogger } from '../src/logger';
import { testDeps } from '../test/helpers/deps';
import { mongoTarget, stopBridge } from '../test/support/mongo';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const COUNT = Number(args.get('count') ?? 100_000);
const SECONDS = Number(args.get('seconds') ?? 900);
const SEED = Number(args.get('seed') ?? 20260115);
const CONCURRENCY = Number(args.get('concurrency') ?? 4);
/** Per request; the bridge (a Python mock of MongoDB) can take minutes over a large chain search. */
const TIMEOUT_MS = Number(args.get('timeout-s') ?? (args.get('store') === 'bridge' ? 600 : 60)) * 1000;

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function sender(base: URL) {
  return (req: FuzzRequest): Promise<Answer> => new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...req.headers };
    if (req.body !== undefined) headers['Content-Length'] = Buffer.byteLength(req.body);
    const r = http.request({ host: base.hostname, port: base.port, method: req.method, path: req.path, headers, agent, timeout: TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    r.on('timeout', () => r.destroy(new Error('timed out')));
    r.on('error', reject);
    r.end(req.body);
  });
}

/** Resident set size of a process in MB (Linux /proc), or undefined where that is not readable. */
function rssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

function line(report: FuzzReport, startedMs: number): string {
  const secs = (Date.now() - startedMs) / 1000;
  return `${report.requests} requests in ${secs.toFixed(0)} s (${(report.requests / secs).toFixed(0)}/s)  ${JSON.stringify(report.classes)}  5xx: ${report.serverErrors}`;
}

async function main(): Promise<void> {
  let pid = args.has('pid') ? Number(args.get('pid')) : undefined;
  let stop = (): void => undefined;
  let url = args.get('url');
  if (!url && args.get('store') === 'bridge') {
    const found = await mongoTarget();
    if (typeof found === 'string') throw new Error(found);
    process.env.TEST_STORE = 'mongodb';
    const deps = testDeps({ config: { audit: true } });
    // Server-side errors are printed, so a 5xx can be traced to its cause.
    deps.logger = createLogger('error');
    const server = http.createServer(createApp(deps));
    applyServerTimeouts(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    pid = process.pid;
    stop = () => { server.closeAllConnections(); server.close(); void deps.store.close().then(stopBridge); };
  } else if (!url) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fhir-fuzz-'));
    const mongo = args.get('mongo-url');
    const storeEnv: Record<string, string> = mongo ? { STORE: 'mongodb', MONGO_URL: mongo } : {};
    const server = await startServer(dataDir, { LOG_LEVEL: 'error', AUDIT: args.get('audit') ?? 'on', ...storeEnv });
    url = server.url;
    pid = server.child.pid;
    stop = () => { server.child.kill('SIGTERM'); fs.rmSync(dataDir, { recursive: true, force: true }); };
  }
  const base = new URL(url);
  const send = sender(base);
  try {
    for (const req of seedRequests()) {
      const answer = await send(req);
      if (answer.status >= 300) throw new Error(`seeding ${req.path} failed: ${answer.status}`);
    }
    const rssStart = rssMb(pid);
    let rssPeak = rssStart ?? 0;
    const sampler = setInterval(() => { rssPeak = Math.max(rssPeak, rssMb(pid) ?? 0); }, 250);
    const started = Date.now();
    let shown = 0;
    console.log(`fuzzing ${base.origin}${args.has('mongo-url') ? ' on MongoDB' : ''} (pid ${pid ?? '?'}): seed ${SEED}, up to ${COUNT} requests or ${SECONDS} s, ${CONCURRENCY} at a time`);
    const report = await fuzz({ seed: SEED, count: COUNT, send, concurrency: CONCURRENCY, deadlineMs: SECONDS * 1000,
      onProgress: (done, r) => {
        // Failures are shown as they happen, so a long run that is stopped early still names them.
        for (const f of r.failures.slice(shown)) console.log(`  FAILURE #${f.index} (${f.why}): ${f.request}\n    -> ${f.status} ${f.body}`);
        shown = r.failures.length;
        if (done % 10_000 === 0) console.log(`  ${line(r, started)}  rss ${rssMb(pid) ?? '?'} MB`);
      } });
    clearInterval(sampler);
    const rssEnd = rssMb(pid);
    console.log(line(report, started));
    console.log(`server RSS: start ${rssStart ?? '?'} MB, peak ${rssPeak || '?'} MB, end ${rssEnd ?? '?'} MB`);
    const read = await send({ method: 'GET', path: '/fhir/metadata', headers: {} });
    console.log(`plain read afterwards: ${read.status}`);
    for (const f of report.failures.slice(shown)) console.log(`FAILURE #${f.index} (${f.why}): ${f.request}\n  -> ${f.status} ${f.body}`);
    if (report.failures.length > 0 || report.serverErrors > 0 || read.status !== 200) process.exitCode = 1;
  } finally {
    agent.destroy();
    stop();
  }
}

main().catch((err: unknown) => { console.error(err); process.exitCode = 1; });
