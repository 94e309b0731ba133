import { strict as assert } from 'node:assert';
import { asOfType, loadSearchParameters } from '../../src/search/parameters';

/** R4's `as` in search expressions read as ofType() (HL7 FHIR-29653), so every repeat is indexed. */
describe('search parameter expressions: `as` over a repeating element (search.html#table)', () => {
  it('rewrites both spellings of as into ofType, and nothing else', () => {
    assert.equal(asOfType('(Observation.component.value as Quantity) | (Observation.component.value as SampledData)'),
      '(Observation.component.value.ofType(Quantity)) | (Observation.component.value.ofType(SampledData))');
    assert.equal(asOfType('value.as(CodeableConcept)'), 'value.ofType(CodeableConcept)');
    assert.equal(asOfType("Patient.name.where(use = 'official')"), "Patient.name.where(use = 'official')");
  });

  it('the official definitions are loaded that way, components included', () => {
    const params = loadSearchParameters();
    assert.equal(params.get('Observation', 'component-value-quantity')?.expression,
      '(Observation.component.value.ofType(Quantity)) | (Observation.component.value.ofType(SampledData))');
    const composite = params.get('Observation', 'component-code-value-quantity');
    assert.ok(composite?.components.some((c) => c.expression.includes('ofType(Quantity)')), JSON.stringify(composite?.components.map((c) => c.expression)));
    const all = ['Observation', 'ActivityDefinition', 'RiskAssessment'].flatMap((t) => ['component-value-quantity', 'context-quantity', 'probability']
      .map((code) => params.get(t, code)?.expression ?? ''));
    assert.ok(all.every((e) => !/ as [A-Z]/.test(e)), all.join('\n'));
  });
});
