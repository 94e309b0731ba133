/** Helpers shared by the benchmark scripts (run by hand, never in CI). */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    }).on('error', reject);
  });
}

export async function waitFor(url: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try { if ((await fetch(url)).ok) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not come up`);
}

export const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

export const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/**
 * Starts the real server (the compiled dist/src/main.js) on a data directory; resolves when ready.
 * Benchmarks of the FHIR core run it with AUDIT=off unless they say otherwise: the audit trail
 * adds a write to every read, and what that and consent enforcement cost is bench-access's
 * subject, measured against the same server without them.
 */
export async function startServer(dataDir: string, env: Record<string, string> = {}): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  // As npm start runs it: with the heap ceiling of HEAP_LIMIT_MB.
  // BENCH_CPU_PROF=dir writes a CPU profile of each server to dir when it stops.
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [`--max-old-space-size=${env.HEAP_LIMIT_MB ?? process.env.HEAP_LIMIT_MB ?? 1024}`, ...profile, path.join(__dirname, '../../src/main.js')], {
    env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn', AUDIT: 'off', ...env }, stdio: 'inherit',
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/readyz`);
  return { url, child };
}

/** 14 digits whose last is a Luhn check digit, written 91-XXXX-XXXX-XXXX as ABHA numbers are. */
export function abhaNumber(n: number): string {
  const body = `91${String(n).padStart(11, '0')}`;
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  const digits = body + String((10 - (sum % 10)) % 10);
  return `${digits.slice(0, 2)}-${digits.slice(2, 6)}-${digits.slice(6, 10)}-${digits.slice(10)}`;
}
