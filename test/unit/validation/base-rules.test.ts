import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import type { ElementDefinitionConstraint } from 'fhir/r4';
import { baseRules, CORE } from '../../../src/validation/base-rules/model';
import fhirpath from 'fhirpath';
import r4Model from 'fhirpath/fhir-context/r4';
import { absenceGuard, compileInvariant, fhirPathOnly, NATIVE, type Env } from '../../../src/validation/base-rules/invariants';
import { coreDefinitions } from '../../../src/validation/profiles/definitions';
import { narrativeProblems } from '../../../src/validation/narrative';
import { validateBase } from '../../../src/validation/base-validator';
import { profileRegistry } from '../../../src/validation/profiles/registry';
import { PROFILES_DIR } from '../../../src/main';

/**
 * The base rules' own machinery: the native forms of R4 invariants are proven equal to the spec's
 * FHIRPath on real and mutated values, dom-3 (which strict FHIRPath cannot run as R4 writes it)
 * is pinned down case by case, and Synthea's 9,108 valid R4 resources draw no error.
 */
const SHARED = path.resolve(__dirname, '../../../../../shared');
type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The R4 constraint and the type it sits on, for a native key. */
function constraintOf(key: string): { constraint: ElementDefinitionConstraint; path: string } {
  for (const sd of coreDefinitions().values()) {
    for (const e of sd.snapshot?.element ?? []) {
      const c = (e.constraint ?? []).find((k) => k.key === key);
      if (c && sd.derivation === 'specialization') return { constraint: c, path: e.path };
    }
  }
  throw new Error(`no constraint ${key}`);
}

/** Values of the shape each native invariant judges, gathered from real resources, then mutated. */
const SHAPES: Record<string, (v: Json) => boolean> = {
  'ref-1': (v) => 'reference' in v || 'display' in v,
  'per-1': (v) => typeof v.start === 'string' || typeof v.end === 'string',
  'qty-3': (v) => typeof v.value === 'number' && !('resourceType' in v),
  'cpt-2': (v) => typeof v.system === 'string' && ['phone', 'email', 'fax', 'url', 'sms', 'pager', 'other'].includes(v.system as string),
  'att-1': (v) => 'contentType' in v || 'data' in v,
  'dom-2': (v) => typeof v.resourceType === 'string',
  'dom-4': (v) => typeof v.resourceType === 'string',
  'dom-5': (v) => typeof v.resourceType === 'string',
};

function* mutations(key: string, v: Json): Generator<Json> {
  yield v;
  for (const k of Object.keys(v)) { const c = { ...v }; delete c[k]; yield c; }
  if (key === 'ref-1') { yield { ...v, reference: '#c1' }; yield { ...v, reference: '#zz' }; yield { ...v, reference: '#' }; }
  if (key === 'per-1') {
    yield { ...v, start: v.end, end: v.start };
    yield { start: '2026-01-02T00:00:00+05:30', end: '2026-01-01T20:00:00Z' };
    yield { start: '2026-01-02', end: '2026-01-01T20:00:00Z' };
    yield { start: '2026-01-01T10:00:00.123Z', end: '2026-01-01T10:00:00.120Z' };
  }
  if (key === 'qty-3') { yield { value: 1, code: 'mg' }; yield { value: 1, system: 'http://unitsofmeasure.org' }; }
  if (key === 'cpt-2') { yield { value: '+91' }; yield { system: 'phone' }; }
  if (key === 'att-1') { yield { data: 'AAAA' }; yield { data: 'AAAA', contentType: 'text/plain' }; }
  if (key.startsWith('dom-')) {
    const c = { resourceType: 'Organization', id: 'c1', name: 'x' };
    yield { ...v, contained: [c] };
    yield { ...v, contained: [{ ...c, contained: [{ ...c, id: 'c2' }] }] };
    yield { ...v, contained: [{ ...c, meta: { versionId: '1' } }] };
    yield { ...v, contained: [{ ...c, meta: { lastUpdated: '2026-01-01T00:00:00Z' } }] };
    yield { ...v, contained: [{ ...c, meta: { security: [{ code: 'R' }] } }] };
  }
}

function* objects(v: unknown, depth = 0): Generator<Json> {
  if (depth > 40) return;
  if (Array.isArray(v)) { for (const i of v) yield* objects(i, depth + 1); return; }
  if (!isObject(v)) return;
  yield v;
  for (const c of Object.values(v)) yield* objects(c, depth + 1);
}

function corpus(): Json[] {
  const out: Json[] = [];
  const dirs = [path.join(SHARED, 'synthea'), path.join(SHARED, 'abdm-ig/examples/ndhm.in-6.5.0'), path.join(SHARED, 'fhir-test-cases/files')];
  for (const dir of dirs.filter((d) => fs.existsSync(d))) {
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.json')).slice(0, 12)) {
      try {
        const json = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Json;
        out.push(...(Array.isArray(json.entry) ? (json.entry as { resource?: Json }[]).map((e) => e.resource).filter(isObject) : [json]));
      } catch { /* a deliberately broken test file */ }
    }
  }
  return out;
}

describe('validation: R4 base rules (base-rules/)', () => {
  it('each native invariant agrees with the spec\'s own FHIRPath on real and mutated values', function () {
    this.timeout(120_000);
    const resources = corpus();
    if (resources.length === 0) {
      console.log(`    skipped: no real resources to compare on (${SHARED}: synthea/, abdm-ig/examples/, fhir-test-cases/ are absent)`);
      this.skip();
    }
    const disagreements: string[] = [];
    let compared = 0;
    for (const key of Object.keys(NATIVE).filter((k) => k !== 'dom-3')) {
      const { constraint, path: at } = constraintOf(key);
      const spec = fhirPathOnly(constraint, at);
      let ofKey = 0;
      for (const resource of resources) {
        const root = { ...resource, contained: [{ resourceType: 'Organization', id: 'c1', name: 'x' }] };
        const env: Env = { resource: root, rootResource: root };
        for (const value of objects(resource)) {
          if (!SHAPES[key](value) || ofKey > 3000) continue;
          for (const m of mutations(key, value)) {
            const native = NATIVE[key](m, env);
            if (native === undefined) continue; // handed to the FHIRPath: nothing to compare
            const expected = spec(m, env);
            compared++;
            ofKey++;
            if (native !== expected) disagreements.push(`${key} ${JSON.stringify(m).slice(0, 160)}: native ${native}, FHIRPath ${expected}`);
          }
        }
      }
      assert.ok(ofKey > 5, `${key}: compared ${ofKey}`);
    }
    assert.deepEqual(disagreements.slice(0, 10), []);
    assert.ok(compared > 200, `compared ${compared}`);
  });

  it('each compiled invariant (native form, absence guard, or FHIRPath) agrees with the spec\'s FHIRPath on every element of real resources', function () {
    this.timeout(180_000);
    const resources = corpus();
    if (resources.length === 0) {
      console.log(`    skipped: no real resources to compare on (${SHARED}: synthea/, abdm-ig/examples/, fhir-test-cases/ are absent)`);
      this.skip();
    }
    const disagreements: string[] = [];
    let compared = 0;
    let guarded = 0;
    const byType = new Map<string, { c: ElementDefinitionConstraint; path: string; compiled: ReturnType<typeof compileInvariant>; spec: ReturnType<typeof fhirPathOnly> }[]>();
    for (const sd of coreDefinitions().values()) {
      if (sd.kind !== 'resource' || sd.derivation !== 'specialization') continue;
      const list = [];
      for (const e of sd.snapshot?.element ?? []) {
        for (const c of e.constraint ?? []) {
          if (!c.expression || ['ele-1', 'ext-1', 'txt-1', 'dom-3'].includes(c.key) || !e.path.startsWith(sd.type)) continue;
          list.push({ c, path: e.path, compiled: compileInvariant(c, e.path), spec: fhirPathOnly(c, e.path) });
        }
      }
      byType.set(sd.type, list);
    }
    for (const resource of resources) {
      const env: Env = { resource, rootResource: resource };
      for (const { c, path: at, compiled, spec } of byType.get(String(resource.resourceType)) ?? []) {
        const values = at.includes('.') ? fhirpath.evaluate(resource, at.slice(at.indexOf('.') + 1).replace(/\[x\]$/, ''), undefined, r4Model) as unknown[] : [resource];
        for (const value of values) {
          if (!isObject(value)) continue;
          const expected = spec(value, env);
          if (expected === undefined) continue;
          compared++;
          if (absenceGuard(c.expression as string).length > 0) guarded++;
          const got = compiled.evaluate(value, env);
          if (got !== expected) disagreements.push(`${c.key} at ${at} on ${String(resource.resourceType)}: compiled ${String(got)}, FHIRPath ${String(expected)}`);
        }
      }
    }
    assert.deepEqual([...new Set(disagreements)].slice(0, 10), []);
    assert.ok(compared > 1000 && guarded > 500, `compared ${compared}, guarded ${guarded}`);
  });

  it('absence guards: read only off disjuncts and implications that hold when the element is absent', () => {
    assert.deepEqual(absenceGuard('dataAbsentReason.empty() or value.empty()'), ['dataAbsentReason', 'value']);
    assert.deepEqual(absenceGuard('value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()'), ['value', 'component']);
    assert.deepEqual(absenceGuard('duration.exists() implies duration >= 0'), ['duration']);
    for (const none of ['(identifier.count() + name.count()) > 0', 'a.count().empty() or b', 'a.empty() xor b.empty()', 'a.exists() implies b.exists() implies c',
      'name.exists() or telecom.exists()', 'x.where(a).count().empty() or y', 'a.empty() or b implies c']) {
      assert.deepEqual(absenceGuard(none), [], none);
    }
  });

  it('dom-3: a contained resource must be referenced from the resource, or refer to its container', () => {
    const dom3 = NATIVE['dom-3'];
    const org = { resourceType: 'Organization', id: 'o', name: 'x' };
    const env = { resource: {}, rootResource: {} };
    assert.equal(dom3({ resourceType: 'Patient' }, env), true);
    assert.equal(dom3({ resourceType: 'Patient', contained: [org] }, env), false);
    assert.equal(dom3({ resourceType: 'Patient', contained: [org], managingOrganization: { reference: '#o' } }, env), true);
    assert.equal(dom3({ resourceType: 'Patient', contained: [org], extension: [{ url: 'x', valueCanonical: '#o' }] }, env), true, 'a canonical counts');
    assert.equal(dom3({ resourceType: 'Patient', contained: [{ ...org, partOf: { reference: '#' } }] }, env), true, 'a contained resource may point at its container');
    assert.equal(dom3({ resourceType: 'Patient', contained: [org, { ...org, id: 'p' }], managingOrganization: { reference: '#o' } }, env), false, 'every one of them');
  });

  it('every resource and data type compiles; the invariants that cannot run say so, and are few', () => {
    const all = baseRules().compileAll();
    assert.ok(all.length > 400, `${all.length} invariants`);
    const unsupported = all.filter((i) => i.unsupported).map((i) => i.key);
    assert.ok(unsupported.length < 10, unsupported.join(', '));
    assert.ok(baseRules().rules(`${CORE}Observation`)?.required.some((r) => r.rule.path === 'Observation.status'));
  });

  it('the narrative: well-formed XHTML in its namespace, allowed elements and attributes only', () => {
    const div = (inner: string) => `<div xmlns="http://www.w3.org/1999/xhtml">${inner}</div>`;
    assert.deepEqual(narrativeProblems(div('<p>Asha <b>Devi</b></p><table><tr><td colspan="2">x</td></tr></table>')), []);
    const errors = (x: string) => narrativeProblems(x).filter((p) => p.severity === 'error').map((p) => p.message);
    assert.equal(errors('<div><p>x</p></div>').length, 1, 'no namespace');
    assert.match(errors(div('<script>x</script>'))[0], /<script> is not an element/);
    assert.match(errors(div('<p onmouseover="x()">x</p>'))[0], /event attribute/);
    assert.match(errors(div('<a href="javascript:x()">x</a>'))[0], /may not run script/);
    assert.match(errors(div('<p>x'))[0], /never closed|does not close/);
    assert.match(errors(div('<form><input/></form>'))[0], /<form> is not an element/);
    assert.equal(errors(div('<img src="#photo"/>x')).length, 0);
  });

  it('Synthea: 9,108 valid R4 resources, no false errors (read from ../shared when present)', function () {
    this.timeout(120_000);
    const dir = path.join(SHARED, 'synthea');
    if (!fs.existsSync(dir)) {
      console.log(`      (skipped: Synthea is not at ${path.relative(process.cwd(), dir)})`);
      this.skip();
    }
    const terminology = profileRegistry([PROFILES_DIR]).terminology;
    let checked = 0;
    const errors: string[] = [];
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.json'))) {
      for (const e of (JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { entry: { resource: Json }[] }).entry) {
        checked++;
        for (const i of validateBase(e.resource, { terminology })) {
          if (i.severity === 'error' || i.severity === 'fatal') errors.push(`${f} ${String(e.resource.resourceType)} ${i.expression?.[0]}: ${i.diagnostics}`);
        }
      }
    }
    assert.equal(checked, 9108);
    assert.deepEqual(errors.slice(0, 10), []);
  });
});
