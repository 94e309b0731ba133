import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import type { CodeSystem, StructureDefinition, ValueSet } from 'fhir/r4';
import type { Issue } from '../../../src/fhir/errors';
import { PROFILES_DIR } from '../../../src/main';
import { ValidationEngine } from '../../../src/validation/profiles/engine';
import { ProfileRegistry } from '../../../src/validation/profiles/registry';
import { SHARED, EXAMPLES, IG, NRCES, OURS, VS, SCT, leaves, edit } from './national-support';

/**
 * Our stand-ins for the NRCeS billing and insurance (NHCX) profiles: Invoice, ChargeItem and the
 * InvoiceRecord document, claims, coverage eligibility, insurance plans, payments, tasks and their
 * collection Bundles, with the NRCeS claim extensions, the NRCeS code systems and the value sets
 * these profiles bind to. The IG has examples only for the invoice side, so each profile here is
 * exercised with a small resource of our own, through the NRCeS URL.
 */
const CS = 'https://nrces.in/ndhm/fhir/r4/CodeSystem/';

const PROFILES = ['ChargeItem', 'Invoice', 'InvoiceRecord', 'Claim', 'ClaimResponse', 'Coverage', 'CoverageEligibilityRequest', 'CoverageEligibilityResponse',
  'InsurancePlan', 'PaymentNotice', 'PaymentReconciliation', 'Task', 'ClaimBundle', 'ClaimResponseBundle', 'CoverageEligibilityRequestBundle',
  'CoverageEligibilityResponseBundle', 'InsurancePlanBundle', 'TaskBundle'];
const EXTENSIONS = ['Claim-Condition', 'Claim-Exclusion', 'Claim-SupportingInfoRequirement'];
const VALUE_SETS = ['adjudication-reason', 'benefit-type', 'benefitcategory', 'care-team-qualification', 'care-team-role', 'chargeitem-types', 'claim-exclusion',
  'claim-type', 'coverage-type', 'diagnostic-code', 'diagnostic-type', 'form-code', 'insuranceplan-type', 'invoice-types', 'payment-type', 'plan-type',
  'price-components', 'productorservice', 'program-code', 'reason-code', 'related-claim-relationship-code', 'supportinginfo-category', 'supportinginfo-code',
  'task-codes', 'task-input-type-code', 'task-output-value'];
const CODE_SYSTEMS = ['adjudication-reason', 'benefit-type', 'billing-codes', 'claim-exclusion', 'coverage-type', 'form-code', 'identifier-type-code',
  'insuranceplan-type', 'payment-type', 'plan-type', 'price-components', 'program-code', 'reason-code', 'related-claim-relationship-code',
  'supportinginfo-category', 'supportinginfo-code', 'task-codes', 'task-input-type-code', 'task-output-value'];

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const errors = (issues: Issue[]) => issues.filter((i) => i.severity === 'error').map((i) => `${i.code} ${i.expression?.[0]}`);
const coded = (system: string, code: string, display: string) => ({ coding: [{ system, code, display }] });
const money = (value: number) => ({ value, currency: 'INR' });

/** A small conforming resource per profile (references by `Type/id`, so their type is known). */
const RESOURCES: Record<string, () => Json> = {
  ChargeItem: () => ({
    resourceType: 'ChargeItem', status: 'billable', code: coded(`${CS}ndhm-billing-codes`, '00', 'Consultation'),
    subject: { reference: 'Patient/p1' }, quantity: { value: 1 }, productCodeableConcept: { text: 'OPD consultation' },
  }),
  Invoice: () => ({
    resourceType: 'Invoice', status: 'issued', identifier: [{ system: 'https://hip.example.in/invoices', value: 'INV-2026-0001' }],
    type: coded(`${CS}ndhm-billing-codes`, '01', 'Pharmacy'), subject: { reference: 'Patient/p1' }, date: '2026-11-20T10:00:00+05:30',
    lineItem: [{
      chargeItemReference: { reference: 'ChargeItem/c1' },
      priceComponent: [{ type: 'base', code: coded(`${CS}ndhm-price-components`, '00', 'MRP'), amount: money(120) }],
    }],
    totalNet: money(120), totalGross: money(120),
  }),
  InvoiceRecord: () => ({
    resourceType: 'Composition', status: 'final', type: { text: 'Invoice Record' }, subject: { reference: 'Patient/p1' }, date: '2026-11-20T10:00:00+05:30',
    author: [{ reference: 'Practitioner/d1' }], title: 'Pharmacy invoice', section: [{ title: 'Invoice', entry: [{ reference: 'Invoice/i1', type: 'Invoice' }] }],
  }),
  Claim: () => ({
    resourceType: 'Claim', identifier: [{ system: 'https://hip.example.in/claims', value: 'CLM-0001' }], status: 'active',
    type: coded('http://terminology.hl7.org/CodeSystem/claim-type', 'institutional', 'Institutional'), use: 'preauthorization',
    patient: { reference: 'Patient/p1' }, created: '2026-11-20', insurer: { reference: 'Organization/ins1' }, provider: { reference: 'Organization/h1' },
    priority: coded('http://terminology.hl7.org/CodeSystem/processpriority', 'normal', 'Normal'),
    diagnosis: [{ sequence: 1, diagnosisCodeableConcept: coded('http://hl7.org/fhir/sid/icd-10', 'K35.8', 'Acute appendicitis, other and unspecified'),
      type: [coded(SCT, '89100005', 'Final diagnosis (discharge) (contextual qualifier) (qualifier value)')] }],
    insurance: [{ sequence: 1, focal: true, coverage: { reference: 'Coverage/cov1' } }],
    item: [{ sequence: 1, productOrService: coded(SCT, '80146002', 'Appendectomy (procedure)'), unitPrice: money(50000) }],
  }),
  ClaimResponse: () => ({
    resourceType: 'ClaimResponse', status: 'active', type: coded('http://terminology.hl7.org/CodeSystem/claim-type', 'institutional', 'Institutional'),
    use: 'preauthorization', patient: { reference: 'Patient/p1' }, created: '2026-11-21', insurer: { reference: 'Organization/ins1' },
    request: { reference: 'Claim/clm1' }, outcome: 'complete',
    addItem: [{ productOrService: coded(SCT, '80146002', 'Appendectomy (procedure)'), adjudication: [{ category: { text: 'eligible' } }] }],
  }),
  Coverage: () => ({
    resourceType: 'Coverage', status: 'active', beneficiary: { reference: 'Patient/p1' }, payor: [{ reference: 'Organization/ins1' }],
  }),
  CoverageEligibilityRequest: () => ({
    resourceType: 'CoverageEligibilityRequest', identifier: [{ system: 'https://hip.example.in/eligibility', value: 'CER-0001' }], status: 'active',
    priority: coded('http://terminology.hl7.org/CodeSystem/processpriority', 'normal', 'Normal'), purpose: ['validation'],
    patient: { reference: 'Patient/p1' }, created: '2026-11-20', enterer: { reference: 'Practitioner/d1' }, provider: { reference: 'Organization/h1' },
    insurer: { reference: 'Organization/ins1' }, facility: { reference: 'Location/l1' }, insurance: [{ coverage: { reference: 'Coverage/cov1' } }],
  }),
  CoverageEligibilityResponse: () => ({
    resourceType: 'CoverageEligibilityResponse', status: 'active', purpose: ['validation'], patient: { reference: 'Patient/p1' }, created: '2026-11-20',
    requestor: { reference: 'Organization/h1' }, request: { reference: 'CoverageEligibilityRequest/cer1' }, outcome: 'complete',
    insurer: { reference: 'Organization/ins1' }, insurance: [{ coverage: { reference: 'Coverage/cov1' }, inforce: true }],
  }),
  InsurancePlan: () => ({
    resourceType: 'InsurancePlan', identifier: [{ system: 'https://insurer.example.in/products', value: 'HLTH-01' }], status: 'active',
    type: [coded(`${CS}ndhm-insuranceplan-type`, '01', 'Hospitalisation Indemnity Policy')], name: 'Family health cover',
    period: { start: '2026-01-01' }, ownedBy: { reference: 'Organization/ins1' },
    extension: [{ url: `${NRCES}Claim-Exclusion`, extension: [{ url: 'category', valueCodeableConcept: coded(`${CS}ndhm-claim-exclusion`, 'Excl01', 'Pre-Existing Diseases') }, { url: 'statement', valueString: 'Pre-existing diseases are covered after 36 months' }] }],
    coverage: [{
      type: coded(SCT, '737481003', 'Inpatient care management (procedure)'),
      extension: [{ url: `${NRCES}Claim-Condition`, extension: [{ url: 'claim-condition', valueString: 'At least 24 hours of hospitalisation' }] }],
      benefit: [{ type: coded(SCT, '737481003', 'Inpatient care management (procedure)') }],
    }],
  }),
  PaymentNotice: () => ({
    resourceType: 'PaymentNotice', status: 'active', created: '2026-11-25', payment: { reference: 'PaymentReconciliation/pr1' },
    recipient: { reference: 'Organization/h1' }, amount: money(45000),
  }),
  PaymentReconciliation: () => ({
    resourceType: 'PaymentReconciliation', status: 'active', created: '2026-11-25', paymentDate: '2026-11-25', paymentAmount: money(45000),
    paymentIssuer: { reference: 'Organization/ins1' }, request: { reference: 'Task/t1' },
  }),
  Task: () => ({
    resourceType: 'Task', status: 'requested', intent: 'order', code: coded(`${CS}ndhm-task-codes`, 'deliver', 'deliver'),
    focus: { reference: 'Claim/clm1' }, insurance: [{ reference: 'Coverage/cov1' }],
  }),
};
const bundleOf = (...resources: Json[]) => ({
  resourceType: 'Bundle', type: 'collection', timestamp: '2026-11-20T10:00:00+05:30',
  entry: resources.map((resource, i) => ({ fullUrl: `urn:uuid:5a1e0000-0000-4000-8000-00000000000${i}`, resource })),
});
RESOURCES.ClaimBundle = () => bundleOf(RESOURCES.Claim());
RESOURCES.ClaimResponseBundle = () => bundleOf(RESOURCES.ClaimResponse());
RESOURCES.CoverageEligibilityRequestBundle = () => bundleOf(RESOURCES.CoverageEligibilityRequest());
RESOURCES.CoverageEligibilityResponseBundle = () => bundleOf(RESOURCES.CoverageEligibilityResponse());
RESOURCES.InsurancePlanBundle = () => bundleOf(RESOURCES.InsurancePlan());
RESOURCES.TaskBundle = () => bundleOf(RESOURCES.Task());

/** One key rule of each profile broken alone, with the errors it must give. */
const BROKEN: [string, string, (r: Json) => void, string[]][] = [
  ['ChargeItem', 'no quantity', (r) => { delete r.quantity; }, ['required ChargeItem.quantity']],
  ['ChargeItem', 'two codings for what is charged', (r) => { r.code.coding.push({ ...r.code.coding[0], code: '03', display: 'OPD' }); }, ['structure ChargeItem.code.coding']],
  ['ChargeItem', 'no product', (r) => { delete r.productCodeableConcept; }, ['required ChargeItem.product']],
  ['Invoice', 'a price component without its display', (r) => { delete r.lineItem[0].priceComponent[0].code.coding[0].display; },
    ['required Invoice.lineItem[0].priceComponent[0].code.coding[0].display']],
  ['Invoice', 'no gross total', (r) => { delete r.totalGross; }, ['required Invoice.totalGross']],
  ['Invoice', 'two identifiers', (r) => { r.identifier.push({ value: 'INV-2' }); }, ['structure Invoice.identifier']],
  ['InvoiceRecord', 'another type text', (r) => { r.type.text = 'Pharmacy Bill'; }, ['value Composition.type.text']],
  ['InvoiceRecord', 'an entry that is not an Invoice (closed slicing)', (r) => { r.section[0].entry[0].type = 'ChargeItem'; }, ['structure Composition.section[0].entry[0]']],
  ['InvoiceRecord', 'two Invoices in the section', (r) => { r.section[0].entry.push({ reference: 'Invoice/i2', type: 'Invoice' }); }, ['structure Composition.section[0].entry']],
  ['Claim', 'no insurer', (r) => { delete r.insurer; }, ['required Claim.insurer']],
  ['Claim', 'no diagnosis', (r) => { delete r.diagnosis; }, ['required Claim.diagnosis']],
  ['Claim', 'a diagnosis type coding without a system', (r) => { delete r.diagnosis[0].type[0].coding[0].system; }, ['required Claim.diagnosis[0].type[0].coding[0].system']],
  ['ClaimResponse', 'a request that is not a Claim', (r) => { r.request = { reference: 'Patient/p1' }; }, ['structure ClaimResponse.request']],
  ['ClaimResponse', 'an added product without a display', (r) => { delete r.addItem[0].productOrService.coding[0].display; },
    ['required ClaimResponse.addItem[0].productOrService.coding[0].display']],
  ['Coverage', 'a beneficiary that is not a Patient', (r) => { r.beneficiary = { reference: 'Organization/ins1' }; }, ['structure Coverage.beneficiary']],
  ['CoverageEligibilityRequest', 'no facility', (r) => { delete r.facility; }, ['required CoverageEligibilityRequest.facility']],
  ['CoverageEligibilityRequest', 'no enterer', (r) => { delete r.enterer; }, ['required CoverageEligibilityRequest.enterer']],
  ['CoverageEligibilityResponse', 'no requestor', (r) => { delete r.requestor; }, ['required CoverageEligibilityResponse.requestor']],
  ['InsurancePlan', 'no period', (r) => { delete r.period; }, ['required InsurancePlan.period']],
  ['InsurancePlan', 'two plan types', (r) => { r.type.push(r.type[0]); }, ['structure InsurancePlan.type']],
  ['InsurancePlan', 'a plan without a type', (r) => { r.plan = [{ identifier: [{ value: 'GOLD' }] }]; }, ['required InsurancePlan.plan[0].type']],
  ['PaymentNotice', 'a payment that is not a PaymentReconciliation', (r) => { r.payment = { reference: 'Claim/clm1' }; }, ['structure PaymentNotice.payment']],
  ['PaymentReconciliation', 'a request that is not a Task', (r) => { r.request = { reference: 'Claim/clm1' }; }, ['structure PaymentReconciliation.request']],
  ['Task', 'insurance that is neither a Coverage nor a ClaimResponse', (r) => { r.insurance = [{ reference: 'Claim/clm1' }]; }, ['structure Task.insurance[0]']],
  ['ClaimBundle', 'not a collection', (r) => { r.type = 'batch'; }, ['value Bundle.type']],
  ['ClaimBundle', 'no Claim', (r) => { r.entry[0].resource = RESOURCES.Coverage(); }, ['required Bundle.entry']],
  ['ClaimResponseBundle', 'no ClaimResponse', (r) => { r.entry[0].resource = RESOURCES.Claim(); }, ['required Bundle.entry']],
  ['CoverageEligibilityRequestBundle', 'two requests', (r) => { r.entry.push({ fullUrl: 'urn:uuid:5a1e0000-0000-4000-8000-000000000009', resource: RESOURCES.CoverageEligibilityRequest() }); },
    ['structure Bundle.entry']],
  ['CoverageEligibilityResponseBundle', 'no entries', (r) => { r.entry = []; }, ['required Bundle.entry']],
  ['InsurancePlanBundle', 'not a collection', (r) => { r.type = 'document'; }, ['value Bundle.type']],
  ['TaskBundle', 'two Tasks', (r) => { r.entry.push({ fullUrl: 'urn:uuid:5a1e0000-0000-4000-8000-000000000009', resource: RESOURCES.Task() }); }, ['structure Bundle.entry']],
];

describe('profiles/: the billing and insurance (NHCX) stand-ins, their extensions and terminology', () => {
  let registry: ProfileRegistry;
  let engine: ValidationEngine;
  before(function () {
    this.timeout(30_000);
    registry = new ProfileRegistry([PROFILES_DIR]);
    engine = new ValidationEngine(registry, [PROFILES_DIR], 'error');
  });
  const check = (resource: Json, name: string): string[] => {
    const issues = registry.validate(resource, `${NRCES}${name}`, 'x');
    assert.equal(issues[0]?.code, 'informational', `${name} is checked by our stand-in`);
    assert.match(issues[0].diagnostics, new RegExp(`${OURS}ABDM${name}'`));
    return errors(issues);
  };

  it('every profile of the set compiles and stands in for its NRCeS profile', () => {
    for (const name of PROFILES) {
      assert.deepEqual(registry.resolve(`${NRCES}${name}`), { url: `${OURS}ABDM${name}`, standInFor: `${NRCES}${name}` }, name);
      assert.ok(registry.checker(`${OURS}ABDM${name}`), name);
    }
    for (const name of EXTENSIONS) assert.equal(engine.checker(`${NRCES}${name}`)?.type, 'Extension', name);
  });

  it('every value set and code system of the set loads; the code systems are complete', () => {
    for (const x of VALUE_SETS) {
      const file = JSON.parse(fs.readFileSync(path.join(PROFILES_DIR, `ValueSet-abdm-${x}.json`), 'utf8')) as ValueSet;
      assert.equal(file.url, `${VS}abdm-${x}`);
      const expansion = registry.terminology.expand(`${VS}abdm-${x}`);
      assert.ok(expansion, x);
      // Those drawn by filter from SNOMED CT list only their enumerated codes here (the hierarchy is not held).
      if (!file.compose?.include.some((i) => i.filter?.length)) assert.ok(expansion.codes.size + expansion.systems.size > 0, x);
    }
    for (const x of CODE_SYSTEMS) {
      const file = JSON.parse(fs.readFileSync(path.join(PROFILES_DIR, `CodeSystem-ndhm-${x}.json`), 'utf8')) as CodeSystem;
      assert.equal(file.url, `${CS}ndhm-${x}`);
      // A value set taking the whole system lists its codes only if the registry holds the complete code system.
      const probe = `urn:test:all-of-${x}`;
      registry.terminology.add({ resourceType: 'ValueSet', status: 'active', url: probe, compose: { include: [{ system: file.url }] } });
      const codes = registry.terminology.expand(probe);
      assert.equal(codes?.systems.size, 0, x);
      assert.deepEqual([...codes?.codes ?? []].sort(), (file.concept ?? []).map((c) => `${file.url}|${c.code}`).sort(), x);
    }
    // The invoice value sets carry exactly the billing codes NRCeS lists.
    assert.deepEqual([...registry.terminology.expand(`${VS}abdm-invoice-types`)?.codes ?? []].map((c) => c.split('|')[1]).sort(), ['00', '01', '02', '03', '99']);
  });

  it('a conforming resource of our own passes each profile, through the NRCeS URL', () => {
    for (const name of PROFILES) assert.deepEqual(check(RESOURCES[name](), name), [], name);
  });

  it('one key rule broken alone gives the expected error at the right FHIRPath', () => {
    for (const name of PROFILES) assert.ok(BROKEN.some(([n]) => n === name), `${name} has a broken-rule case`);
    for (const [name, what, mutate, expected] of BROKEN) {
      const resource = RESOURCES[name]();
      mutate(resource);
      assert.deepEqual(check(resource, name), expected, `${name}: ${what}`);
    }
  });

  it('codes outside the extensible bindings are warnings, not errors', () => {
    const item = RESOURCES.ChargeItem();
    item.code = coded('https://hip.example.in/tariff', 'T-17', 'Dressing');
    const issues = registry.validate(item, `${NRCES}ChargeItem`, 'x');
    assert.deepEqual(errors(issues), []);
    assert.deepEqual(issues.filter((i) => i.severity === 'warning').map((i) => `${i.code} ${i.expression?.[0]}`), ['code-invalid ChargeItem.code.coding[0]']);
  });

  it('the collection Bundles hold their resource to our profile of it (with the validation engine)', () => {
    assert.deepEqual(errors(engine.validate(RESOURCES.ClaimBundle(), `${NRCES}ClaimBundle`, 'x')), []);
    const bundle = RESOURCES.ClaimBundle();
    delete bundle.entry[0].resource.insurer;
    assert.deepEqual(errors(engine.validate(bundle, `${NRCES}ClaimBundle`, 'x')), ['required Bundle.entry[0].resource.insurer']);
  });

  it('the NRCeS claim extensions: their parts, values and places are checked', () => {
    const plan = RESOURCES.InsurancePlan();
    assert.deepEqual(errors(engine.extensions(plan)), []);
    const requirement = (parts: Json[]) => ({ url: `${NRCES}Claim-SupportingInfoRequirement`, extension: parts });
    const category = { url: 'category', valueCodeableConcept: coded(`${CS}ndhm-supportinginfo-category`, 'POI', 'Proof of identity') };
    const code = { url: 'code', valueCodeableConcept: coded(`${CS}ndhm-identifier-type-code`, 'ADN', 'Adhaar number') };
    const cases: [string, (p: Json) => void, string[]][] = [
      ['a complete requirement on the plan', (p) => { p.extension.push(requirement([category, code])); }, []],
      ['a requirement without its code', (p) => { p.extension.push(requirement([category])); }, ['required InsurancePlan.extension[1].extension', 'required InsurancePlan.extension[1].extension']],
      ['a requirement code without a display', (p) => { p.extension.push(requirement([category, { url: 'code', valueCodeableConcept: { coding: [{ system: `${CS}ndhm-identifier-type-code`, code: 'ADN' }] } }])); },
        ['required InsurancePlan.extension[1].extension[1].valueCodeableConcept.coding[0].display']],
      ['a claim condition as a code, not text', (p) => { p.coverage[0].extension[0].extension[0] = { url: 'claim-condition', valueCode: 'x' }; },
        ['structure InsurancePlan.coverage[0].extension[0].extension[0].valueCode']],
      ['a claim condition on the plan itself (not one of its contexts)', (p) => { p.extension.push(p.coverage[0].extension[0]); }, ['structure InsurancePlan.extension[1]']],
      ['an exclusion with a value of its own', (p) => { p.extension[0].valueString = 'x'; }, ['structure InsurancePlan.extension[0].valueString']],
    ];
    for (const [what, mutate, expected] of cases) {
      const p = RESOURCES.InsurancePlan();
      mutate(p);
      assert.deepEqual(errors(engine.extensions(p)), expected, what);
    }
  });

  describe('against the official NRCeS 6.5.0 definitions and examples (read from ../shared when present)', () => {
    let official: ProfileRegistry;
    before(function () {
      if (!fs.existsSync(EXAMPLES)) {
        console.log(`      (skipped: the NRCeS IG is not at ${path.relative(process.cwd(), SHARED)})`);
        this.skip();
      }
      this.timeout(30_000);
      official = new ProfileRegistry(IG);
    });

    it('our code systems restate every NRCeS code and display, and our value sets the same codes and filters', () => {
      const terminology = IG[1];
      for (const x of CODE_SYSTEMS) {
        const theirs = JSON.parse(fs.readFileSync(path.join(terminology, `CodeSystem-ndhm-${x}.json`), 'utf8')) as CodeSystem;
        const ours = JSON.parse(fs.readFileSync(path.join(PROFILES_DIR, `CodeSystem-ndhm-${x}.json`), 'utf8')) as CodeSystem;
        assert.equal(ours.url, theirs.url);
        assert.deepEqual(ours.concept?.map((c) => [c.code, c.display]), theirs.concept?.map((c) => [c.code, c.display]), x);
      }
      const strip = (vs: ValueSet) => JSON.stringify(vs.compose, (k, v) => (k === 'designation' ? undefined : v));
      for (const x of VALUE_SETS) {
        const theirs = JSON.parse(fs.readFileSync(path.join(terminology, `ValueSet-ndhm-${x}.json`), 'utf8')) as ValueSet;
        const ours = JSON.parse(fs.readFileSync(path.join(PROFILES_DIR, `ValueSet-abdm-${x}.json`), 'utf8')) as ValueSet;
        assert.equal(strip(ours), strip(theirs), x);
        assert.ok(ours.description?.includes(theirs.url as string), `${x} names the value set it was written from`);
      }
    });

    it('the official invoice examples conform to our profiles and to the official ones', () => {
      let checked = 0;
      for (const file of fs.readdirSync(EXAMPLES).filter((f) => /^(Invoice|ChargeItem|Bundle-InvoiceRecord)-/.test(f))) {
        const top = JSON.parse(fs.readFileSync(path.join(EXAMPLES, file), 'utf8')) as Json;
        for (const r of [top, ...(top.entry ?? []).map((e: Json) => e.resource)]) {
          for (const url of (r.meta?.profile ?? []) as string[]) {
            if (!PROFILES.some((n) => url === `${NRCES}${n}`)) continue;
            checked++;
            assert.deepEqual(errors(registry.validate(r, url, 'x')), [], `${file} ${r.resourceType} (ours)`);
            assert.deepEqual(errors(official.validate(r, url, 'x')), [], `${file} ${r.resourceType} (official)`);
          }
        }
      }
      assert.equal(checked, 13); // 5 ChargeItems and 2 Invoices alone, and the invoice document's Composition, Invoice and 4 ChargeItems
    });

    it('our stand-ins and the official profiles agree on every single-element removal or change of our own resources', function () {
      // The IG has no examples for the insurance profiles, so the claim compliesWithProfile makes
      // is tested on ours: one element removed, or one string changed, is an error for our
      // stand-in exactly when it is for the official profile. Both are checked by a validation
      // engine, which knows the resource type of each NRCeS target profile (a bare registry does
      // not, so it lets any type through an official reference).
      this.timeout(600_000);
      const ours = engine;
      const theirs = new ValidationEngine(official, IG, 'error');
      const hasError = (e: ValidationEngine, r: unknown, url: string) => e.validate(r, url, 'x').some((i) => i.severity === 'error');
      let compared = 0;
      const disagreements: string[] = [];
      const variants: [string, Json][] = PROFILES.map((name) => [name, RESOURCES[name]()]);
      for (const [name, what, mutate] of BROKEN) {
        const r = RESOURCES[name]();
        mutate(r);
        variants.push([`${name} (${what})`, r]);
      }
      for (const [label, resource] of variants) {
        const url = `${NRCES}${label.split(' ')[0]}`;
        assert.equal(hasError(ours, resource, url), hasError(theirs, resource, url), label);
        for (const at of leaves(resource)) {
          for (const how of ['remove', 'change'] as const) {
            const edited = edit(resource, at, how);
            compared++;
            const rejected = hasError(ours, edited, url);
            if (rejected !== hasError(theirs, edited, url)) disagreements.push(`${label} ${how} ${at.join('.')}: ours ${rejected ? 'rejects' : 'accepts'}`);
          }
        }
      }
      assert.ok(compared > 1000, `compared ${compared}`);
      assert.deepEqual(disagreements, []);
    });

    it('with the official IG loaded the official definitions win, and our extension definitions keep the NRCeS URLs', () => {
      const withIg = new ProfileRegistry([PROFILES_DIR, ...IG]);
      for (const name of PROFILES) assert.deepEqual(withIg.resolve(`${NRCES}${name}`), { url: `${NRCES}${name}` }, name);
      for (const name of EXTENSIONS) {
        const ours = JSON.parse(fs.readFileSync(path.join(PROFILES_DIR, `StructureDefinition-ABDMExt-${name}.json`), 'utf8')) as StructureDefinition;
        assert.equal(ours.url, `${NRCES}${name}`);
        assert.equal(ours.kind, 'complex-type');
      }
    });
  });
});
