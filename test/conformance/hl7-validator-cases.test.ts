import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { OperationOutcome } from 'fhir/r4';
import { api, FHIR_JSON } from '../helpers/api';

/**
 * The HL7 reference validator's own R4 test cases (HL7 fhir-test-cases, validator/, the offline
 * selection under ../shared/fhir-test-cases), run through our `$validate` and compared with the
 * reference validator's expected outcome (validation.html). "Valid" means no issue of severity
 * error or fatal. Base step: the resource alone. Profile step: the same resource against the
 * case's StructureDefinition, with its supporting conformance resources loaded as an IG, as the
 * reference validator loads them.
 *
 * Where our verdict differs and we judge ours right, the case is in EXCEPTIONS with the reason
 * and the spec section. The table must stay exact: an exception that no longer differs fails too.
 */
const ROOT = path.resolve(__dirname, '../../../../shared/fhir-test-cases');
const MIN_BASE_AGREEMENT = 0.97;
const MIN_PROFILE_AGREEMENT = 0.90;

interface Expected { valid: boolean; errorCount?: number; issues?: { severity: string; text: string; expression?: string }[] }
interface Case { name: string; file: string; resourceType: string | null; expected: Expected; profile: { source: string; supporting?: string[]; expected: Expected } | null }

/** `step:name` → why our verdict is the right one where it differs from the reference validator's. */
const EXCEPTIONS: Record<string, string> = {};

/** The reference validator writes comments and type filters into its expressions; the location is what is left. */
const plain = (expression: string): string => expression.replace(/\/\*.*?\*\//g, '').replace(/\.ofType\(\w+\)/g, '');
const isError = (i: OperationOutcome['issue'][number]) => i.severity === 'error' || i.severity === 'fatal';

describe('conformance: the HL7 reference validator R4 test cases through $validate (read from ../shared when present)', function () {
  this.timeout(300_000);
  let cases: Case[] = [];
  before(function () {
    if (!fs.existsSync(path.join(ROOT, 'cases.json'))) {
      console.log(`      (skipped: the HL7 validator test cases are not at ${path.relative(process.cwd(), ROOT)})`);
      this.skip();
    }
    cases = (JSON.parse(fs.readFileSync(path.join(ROOT, 'cases.json'), 'utf8')) as { cases: Case[] }).cases;
  });

  /** Our verdict on one file: the $validate answer (a 4xx on unparseable input counts as invalid). */
  async function verdict(http: ReturnType<typeof api>['http'], c: Case, profile?: string): Promise<{ valid: boolean; issues: string[]; at: string[] }> {
    const text = fs.readFileSync(path.join(ROOT, 'files', c.file), 'utf8');
    let type = c.resourceType;
    try { type = (JSON.parse(text) as { resourceType?: string }).resourceType ?? type; } catch { /* sent as it is: the server must refuse it */ }
    const url = `/fhir/${type ?? 'Basic'}/$validate${profile ? `?profile=${encodeURIComponent(profile)}` : ''}`;
    const res = await http.post(url).set('Content-Type', FHIR_JSON).send(text);
    assert.ok(res.status < 500, `${c.name}: ${res.status} ${JSON.stringify(res.body)}`);
    const outcome = res.body as OperationOutcome;
    assert.equal(outcome.resourceType, 'OperationOutcome', c.name);
    const issues = outcome.issue.map((i) => `${i.severity} ${i.code} ${i.expression?.[0] ?? ''}: ${i.diagnostics ?? ''}`);
    const at = outcome.issue.filter(isError).map((i) => i.expression?.[0] ?? '');
    return { valid: res.status === 200 && !outcome.issue.some(isError), issues, at };
  }

  function report(step: string, results: { name: string; agree: boolean; ours: boolean; issues: string[] }[], minimum: number): void {
    const differing = results.filter((r) => !r.agree).map((r) => `${step}:${r.name}`);
    const unexplained = differing.filter((k) => EXCEPTIONS[k] === undefined);
    const stale = Object.keys(EXCEPTIONS).filter((k) => k.startsWith(`${step}:`) && !differing.includes(k));
    const agreement = results.filter((r) => r.agree).length / results.length;
    console.log(`      ${step} step: ${results.filter((r) => r.agree).length} of ${results.length} agree (${(agreement * 100).toFixed(1)}%)`);
    const detail = results.filter((r) => !r.agree && EXCEPTIONS[`${step}:${r.name}`] === undefined)
      .map((r) => `${r.name}: ours ${r.ours ? 'valid' : 'invalid'}\n    ${r.issues.join('\n    ')}`).join('\n');
    assert.deepEqual(unexplained, [], `differences without a reason in EXCEPTIONS:\n${detail}`);
    assert.deepEqual(stale, [], 'exceptions that no longer differ: remove them');
    assert.ok(agreement >= minimum, `${step} agreement ${agreement} is below ${minimum}`);
  }

  it(`base step: agreement ≥ ${MIN_BASE_AGREEMENT * 100}% with the reference validator, every difference explained`, async () => {
    const t = api();
    try {
      const results = [];
      const wrongPlace: string[] = [];
      for (const c of cases) {
        const ours = await verdict(t.http, c);
        results.push({ name: c.name, agree: ours.valid === c.expected.valid, ours: ours.valid, issues: ours.issues });
        // A refusal for the right reason: some error of ours is where (or within, or around) one of the reference's.
        const theirs = (c.expected.issues ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal').map((i) => plain(i.expression ?? ''));
        if (!c.expected.valid && !ours.valid && !theirs.some((e) => ours.at.some((o) => o.startsWith(e) || e.startsWith(o)))) {
          wrongPlace.push(`${c.name}: reference ${theirs.join(', ')}; ours ${ours.at.join(', ')}`);
        }
      }
      report('base', results, MIN_BASE_AGREEMENT);
      assert.deepEqual(wrongPlace, [], 'refused, but not where the reference validator finds the problem');
    } finally {
      t.close();
    }
  });

  it(`profile step: agreement ≥ ${MIN_PROFILE_AGREEMENT * 100}%, each profile loaded with its supporting files as an IG`, async () => {
    const results = [];
    for (const c of cases.filter((k) => k.profile)) {
      const step = c.profile as NonNullable<Case['profile']>;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hl7-case-'));
      for (const f of [step.source, ...(step.supporting ?? [])]) fs.copyFileSync(path.join(ROOT, 'files', f), path.join(dir, path.basename(f)));
      const url = (JSON.parse(fs.readFileSync(path.join(ROOT, 'files', step.source), 'utf8')) as { url: string }).url;
      const t = api({ config: { igDirs: [dir] } });
      try {
        const ours = await verdict(t.http, c, url);
        results.push({ name: c.name, agree: ours.valid === step.expected.valid, ours: ours.valid, issues: ours.issues });
      } finally {
        t.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    report('profile', results, MIN_PROFILE_AGREEMENT);
  });
});
