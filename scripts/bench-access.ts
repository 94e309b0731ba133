/**
 * What enforcement costs (run by hand: `npm run bench:access -- --duration 5 --rounds 3`).
 * One data directory, four servers over it, measured in the same run with autocannon, rounds
 * interleaved so machine noise hits them alike:
 *   off                 — loopback, no authentication, AUDIT=off (nothing enforced, nothing recorded)
 *   auth                — bearer tokens (a system token: everything visible), AUDIT=off
 *   auth+consent        — a practitioner's token: every request decided against their consents
 *   auth+consent+audit  — the same, with an AuditEvent stored (and waited for) per request
 * Requests: read Observation by id, and search a patient's observations, for patients the
 * practitioner holds consents for. Prints medians of the rounds and each as a ratio of `off`.
 *   --duration S (5)  --rounds N (3)  --connections C (10)  --patients N (200)  --consents N (20)
 */
import autocannon from 'autocannon';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jose from 'node-jose';
import { median, startServer } from './lib/bench-util';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const DURATION = Number(args.get('duration') ?? 5);
const ROUNDS = Number(args.get('rounds') ?? 3);
const CONNECTIONS = Number(args.get('connections') ?? 10);
const PATIENTS = Number(args.get('patients') ?? 200);
const CONSENTS = Number(args.get('consents') ?? 20);
const OBS_PER_PATIENT = 5;
const ISSUER = 'https://issuer.bench.local';
const AUDIENCE = 'https://gateway.bench.local/fhir';

async function keys(dir: string): Promise<{ jwksFile: string; mint(claims: Record<string, unknown>): Promise<string> }> {
  const store = jose.JWK.createKeyStore();
  const key = await store.generate('EC', 'P-256', { alg: 'ES256', use: 'sig', kid: 'bench' });
  const jwksFile = path.join(dir, 'jwks.json');
  fs.writeFileSync(jwksFile, JSON.stringify(store.toJSON(false)));
  return {
    jwksFile,
    async mint(claims) {
      const now = Math.floor(Date.now() / 1000);
      const payload = { iss: ISSUER, aud: AUDIENCE, sub: 'bench', iat: now, exp: now + 3600, ...claims };
      return (await jose.JWS.createSign({ format: 'compact', fields: { typ: 'JWT' } }, key).update(JSON.stringify(payload)).final()) as unknown as string;
    },
  };
}

function dataset(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [{ resourceType: 'Practitioner', id: 'dr-bench', identifier: [{ system: 'https://doctor.ndhm.gov.in', value: '71-0000-0000-0001' }] }];
  for (let p = 0; p < PATIENTS; p++) {
    out.push({ resourceType: 'Patient', id: `pt-${p}`, name: [{ family: 'Sharma', given: ['Asha'] }], gender: 'female', birthDate: '1990-05-14' });
    for (let o = 0; o < OBS_PER_PATIENT; o++) {
      out.push({
        resourceType: 'Observation', id: `ob-${p}-${o}`, status: 'final', subject: { reference: `Patient/pt-${p}` },
        code: { coding: [{ system: 'http://loinc.org', code: '718-7', display: 'Hemoglobin' }] },
        effectiveDateTime: `2025-0${1 + (o % 9)}-15`, valueQuantity: { value: 12 + o / 10, unit: 'g/dL', system: 'http://unitsofmeasure.org', code: 'g/dL' },
      });
    }
  }
  for (let c = 0; c < CONSENTS; c++) {
    out.push({
      resourceType: 'Consent', id: `consent-${c}`, status: 'active',
      scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
      patient: { reference: `Patient/pt-${c}` },
      performer: [{ reference: 'Practitioner/dr-bench' }],
      policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
      provision: {
        type: 'permit', period: { start: '2025-01-01T00:00:00Z', end: '2099-01-01T00:00:00Z' }, dataPeriod: { start: '2024-01-01', end: '2025-12-31' },
        purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'CAREMGT' }],
        class: [{ system: 'https://abdm-fhir-gateway.github.io/fhir/CodeSystem/abdm-hi-types', code: 'DiagnosticReport' }],
      },
    });
  }
  return out;
}

interface Target { name: string; url: string; token?: string }

async function rate(target: Target, paths: string[]): Promise<{ rps: number; bad: number }> {
  const headers: Record<string, string> = target.token ? { authorization: `Bearer ${target.token}` } : {};
  const r = await autocannon({
    url: target.url, connections: CONNECTIONS, duration: DURATION,
    requests: paths.map((p) => ({ method: 'GET' as const, path: p, headers })),
  });
  return { rps: r.requests.average, bad: r.non2xx + r.errors + r.timeouts };
}

async function main(): Promise<void> {
  const children: ChildProcess[] = [];
  process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-access-'));
  const dataDir = path.join(dir, 'data');
  const issuer = await keys(dir);
  const open = await startServer(dataDir, { AUDIT: 'off' });
  children.push(open.child);
  const tx = await fetch(`${open.url}/fhir`, {
    method: 'POST', headers: { 'Content-Type': 'application/fhir+json', Prefer: 'return=minimal' },
    body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: dataset().map((resource) => ({ resource, request: { method: 'PUT', url: `${String(resource.resourceType)}/${String(resource.id)}` } })) }),
  });
  if (tx.status !== 200) throw new Error(`load failed: ${tx.status} ${await tx.text()}`);
  const auth = { JWKS_FILE: issuer.jwksFile, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE };
  const withAuth = await startServer(dataDir, { ...auth, AUDIT: 'off' });
  const withAudit = await startServer(dataDir, { ...auth, AUDIT: 'on' });
  children.push(withAuth.child, withAudit.child);
  const system = await issuer.mint({ scope: 'system/*.rs' });
  const doctor = await issuer.mint({ scope: 'user/*.rs', fhirUser: 'Practitioner/dr-bench' });
  const targets: Target[] = [
    { name: 'off', url: open.url },
    { name: 'auth', url: withAuth.url, token: system },
    { name: 'auth+consent', url: withAuth.url, token: doctor },
    { name: 'auth+consent+audit', url: withAudit.url, token: doctor },
  ];
  const consented = Array.from({ length: CONSENTS }, (_, c) => c);
  const workloads: Record<string, string[]> = {
    'read Observation': consented.flatMap((c) => Array.from({ length: OBS_PER_PATIENT }, (_, o) => `/fhir/Observation/ob-${c}-${o}`)),
    'search a patient\'s observations': consented.map((c) => `/fhir/Observation?subject=Patient/pt-${c}`),
  };
  // Every target must answer the workload with 200s and see the consented data, or the comparison is void.
  for (const t of targets) {
    const res = await fetch(`${t.url}${workloads['search a patient\'s observations'][0]}`, { headers: t.token ? { authorization: `Bearer ${t.token}` } : {} });
    const body = (await res.json()) as { entry?: unknown[] };
    if (res.status !== 200 || (body.entry ?? []).length !== OBS_PER_PATIENT) throw new Error(`${t.name}: ${res.status}, ${(body.entry ?? []).length} entries`);
  }
  const results = new Map<string, number[]>();
  let bad = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const [workload, paths] of Object.entries(workloads)) {
      for (const t of targets) {
        const r = await rate(t, paths);
        bad += r.bad;
        const k = `${workload}|${t.name}`;
        results.set(k, [...(results.get(k) ?? []), r.rps]);
      }
    }
    console.error(`round ${round + 1}/${ROUNDS} done`);
  }
  console.log(`\n${PATIENTS} patients, ${PATIENTS * OBS_PER_PATIENT} observations; the practitioner holds ${CONSENTS} consents; ${CONNECTIONS} connections, ${DURATION} s per run, median of ${ROUNDS} rounds${bad ? `; ${bad} non-2xx/errors` : ''}\n`);
  console.log('| workload | ' + targets.map((t) => t.name).join(' | ') + ' |');
  console.log('|---|' + targets.map(() => '---|').join(''));
  for (const workload of Object.keys(workloads)) {
    const base = median(results.get(`${workload}|off`) ?? [0]);
    const cells = targets.map((t) => {
      const m = median(results.get(`${workload}|${t.name}`) ?? [0]);
      return t.name === 'off' ? `${Math.round(m)} req/s` : `${Math.round(m)} req/s (${(m / base).toFixed(2)}×)`;
    });
    console.log(`| ${workload} | ${cells.join(' | ')} |`);
  }
  for (const c of children) c.kill('SIGTERM');
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
