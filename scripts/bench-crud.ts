/**
 * CRUD benchmark (run by hand: `npm run bench:crud -- --duration 5 --rounds 3`).
 * Starts the real server on a fresh embedded store, then measures over HTTP with autocannon:
 * create (POST Patient), read by id (GET Patient/{id}), and in the same run the same read body
 * from a bare express handler and a bare node:http server. Targets are interleaved within each
 * round so machine noise hits them alike; medians across rounds are printed.
 */
import autocannon from 'autocannon';
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, median, startServer, waitFor } from './lib/bench-util';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const DURATION = Number(args.get('duration') ?? 5);
const ROUNDS = Number(args.get('rounds') ?? 3);
const CONNECTIONS = (args.get('connections') ?? '1,10,50').split(',').map(Number);
const POOL = 1000;

const patient = (n: number) => ({
  resourceType: 'Patient',
  identifier: [
    { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, system: 'https://healthid.abdm.gov.in', value: `91-${String(1000 + (n % 9000))}-5678-${String(1000 + (n % 8999))}` },
    { system: 'https://healthid.abdm.gov.in/abha-address', value: `asha.sharma${n}@abdm` },
  ],
  active: true,
  name: [{ use: 'official', text: 'Asha Sharma', family: 'Sharma', given: ['Asha', 'Devi'], prefix: ['Smt.'] }],
  telecom: [{ system: 'phone', value: '+91-98200-12345', use: 'mobile' }, { system: 'email', value: `asha${n}@example.in`, use: 'home' }],
  gender: 'female',
  birthDate: '1990-05-14',
  address: [{ use: 'home', line: ['Flat 12, Shanti Apartments', 'Karve Road'], city: 'Pune', district: 'Pune', state: 'Maharashtra', postalCode: '411004', country: 'IN' }],
  maritalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'M', display: 'Married' }] },
  communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'mr-IN', display: 'Marathi (India)' }] }, preferred: true }],
  contact: [{ relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0131', code: 'N' }] }], name: { family: 'Sharma', given: ['Ravi'] }, telecom: [{ system: 'phone', value: '+91-98200-54321' }] }],
});

interface Stats { rps: number; p50: number; p99: number; bad: number }

async function load(url: string, connections: number, requests: autocannon.Request[]): Promise<Stats> {
  const r = await autocannon({ url, connections, duration: DURATION, requests });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, bad: r.non2xx + r.errors + r.timeouts };
}

async function main(): Promise<void> {
  const children: ChildProcess[] = [];
  const cleanup = (): void => { for (const c of children) c.kill('SIGKILL'); };
  process.on('exit', cleanup);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-crud-'));
  // Audit on by default, as the server ships; --audit off measures the store alone.
  const server = await startServer(dataDir, { AUDIT: args.get('audit') ?? 'on' });
  children.push(server.child);
  const fhir = server.url;

  const ids: string[] = [];
  for (let i = 0; i < POOL; i++) {
    const res = await fetch(`${fhir}/fhir/Patient`, { method: 'POST', headers: { 'Content-Type': 'application/fhir+json' }, body: JSON.stringify(patient(i)) });
    ids.push(((await res.json()) as { id: string }).id);
  }
  const sample = await (await fetch(`${fhir}/fhir/Patient/${ids[0]}`)).text();
  const bodyFile = path.join(dataDir, 'body.json');
  fs.writeFileSync(bodyFile, sample);
  const bare: Record<string, string> = {};
  for (const kind of ['express', 'http']) {
    const port = await freePort();
    children.push(fork(path.join(__dirname, 'lib/bare-server.js'), [kind, String(port), bodyFile], { stdio: 'inherit' }));
    bare[kind] = `http://127.0.0.1:${port}`;
    await waitFor(`${bare[kind]}/fhir/Patient/x`);
  }

  let next = 0;
  const readRequest: autocannon.Request[] = [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/fhir/Patient/${ids[next++ % ids.length]}` }) }];
  const createBody = JSON.stringify(patient(7));
  const targets: { name: string; url: string; requests: autocannon.Request[] }[] = [
    { name: 'create (FHIR)', url: fhir, requests: [{ method: 'POST', path: '/fhir/Patient', headers: { 'content-type': 'application/fhir+json' }, body: createBody }] },
    { name: 'read (FHIR)', url: fhir, requests: readRequest },
    { name: 'read (bare express)', url: bare.express, requests: readRequest },
    { name: 'read (bare node:http)', url: bare.http, requests: readRequest },
  ];
  const results = new Map<string, Stats[]>();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const c of CONNECTIONS) {
      for (const t of targets) {
        const s = await load(t.url, c, t.requests);
        const k = `${t.name}|${c}`;
        results.set(k, [...(results.get(k) ?? []), s]);
        process.stderr.write(`round ${round} ${t.name} c=${c}: ${s.rps.toFixed(0)} req/s\n`);
      }
    }
  }

  console.log(`\nMedians of ${ROUNDS} rounds × ${DURATION}s; ${os.cpus().length} cores shared by load generator and servers; body ${sample.length} bytes.`);
  console.log('target                   conn    req/s   p50 ms   p99 ms   non-2xx/errors');
  let bad = 0;
  for (const c of CONNECTIONS) {
    for (const t of targets) {
      const list = results.get(`${t.name}|${c}`) ?? [];
      const errors = list.reduce((n, s) => n + s.bad, 0);
      bad += errors;
      console.log(`${t.name.padEnd(24)} ${String(c).padStart(4)} ${median(list.map((s) => s.rps)).toFixed(0).padStart(8)} ${median(list.map((s) => s.p50)).toFixed(1).padStart(8)} ${median(list.map((s) => s.p99)).toFixed(1).padStart(8)} ${String(errors).padStart(8)}`);
    }
    const m = (name: string): number => median((results.get(`${name}|${c}`) ?? []).map((s) => s.rps));
    console.log(`  ratio read FHIR / bare express = ${(m('read (FHIR)') / m('read (bare express)')).toFixed(2)}, / node:http = ${(m('read (FHIR)') / m('read (bare node:http)')).toFixed(2)}`);
  }
  // A clean stop (SIGTERM) first, so a server started with BENCH_CPU_PROF writes its profile.
  await new Promise((resolve) => { server.child.once('exit', resolve); server.child.kill('SIGTERM'); });
  cleanup();
  fs.rmSync(dataDir, { recursive: true, force: true });
  process.exit(bad > 0 ? 1 : 0);
}

main().catch((err: unknown) => { console.error(err); process.exit(1); });
