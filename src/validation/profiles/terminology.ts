import type { CodeSystem, CodeSystemConcept, ValueSet, ValueSetExpansionContains } from 'fhir/r4';
import type { Issue } from '../../fhir/errors';

/**
 * The ValueSets and CodeSystems the validator knows (R4's own, the IGs' ones), held in memory and
 * expanded once per ValueSet. A ValueSet that includes a whole large external system (LOINC,
 * SNOMED CT, ICD-10) cannot be enumerated here: for those the system URI and the code's syntax
 * are checked, and the issue says so.
 */
const SYNTAX: Record<string, { name: string; pattern: RegExp }> = {
  'http://loinc.org': { name: 'LOINC', pattern: /^(\d{1,8}-\d|LA\d{1,8}-\d|LP\d{1,8}-\d)$/ },
  'http://snomed.info/sct': { name: 'SNOMED CT', pattern: /^\d{6,18}$/ },
  'http://hl7.org/fhir/sid/icd-10': { name: 'ICD-10', pattern: /^[A-Z]\d{2}(\.[0-9A-Z]{1,4})?$/ },
};

interface Expansion {
  codes: Set<string>;
  /** The codes without their systems, built on first need (a bare `code` value is looked up here). */
  bare?: Set<string>;
  /** Systems included whole: any code of them is in the set. */
  systems: Set<string>;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function allCodes(concepts: CodeSystemConcept[] | undefined, out: string[] = []): string[] {
  for (const c of concepts ?? []) { out.push(c.code); allCodes(c.concept, out); }
  return out;
}

function below(concepts: CodeSystemConcept[] | undefined, code: string): string[] {
  for (const c of concepts ?? []) {
    if (c.code === code) return [c.code, ...allCodes(c.concept)];
    const found = below(c.concept, code);
    if (found.length) return found;
  }
  return [];
}

function bareCodes(expansion: Expansion): Set<string> {
  expansion.bare ??= new Set([...expansion.codes].map((k) => k.slice(k.indexOf('|') + 1)));
  return expansion.bare;
}

export class Terminology {
  private readonly valueSets = new Map<string, ValueSet>();
  private readonly codeSystems = new Map<string, CodeSystem>();
  private readonly expansions = new Map<string, Expansion | undefined>();

  add(resource: ValueSet | CodeSystem): void {
    if (!resource.url) return;
    if (resource.resourceType === 'ValueSet') this.valueSets.set(resource.url, resource);
    else this.codeSystems.set(resource.url, resource);
    this.expansions.clear();
  }

  /** A held ValueSet by canonical URL (a version suffix is ignored). */
  valueSet(url: string): ValueSet | undefined {
    return this.valueSets.get(url.split('|')[0]);
  }

  /** The codes of a ValueSet, or undefined when it (or something it needs) is not held. */
  expand(url: string, depth = 0): Expansion | undefined {
    const hit = this.expansions.get(url);
    if (hit !== undefined) return hit;
    const canonical = url.split('|')[0];
    if (this.expansions.has(canonical)) return this.expansions.get(canonical);
    const vs = this.valueSets.get(canonical);
    let result: Expansion | undefined;
    if (vs && depth < 8) result = this.compute(vs, depth);
    this.expansions.set(canonical, result);
    if (result !== undefined) this.expansions.set(url, result); // versioned URLs are looked up as written
    return result;
  }

  private compute(vs: ValueSet, depth: number): Expansion | undefined {
    const out: Expansion = { codes: new Set(), systems: new Set() };
    if (vs.expansion?.contains) {
      const walk = (list: ValueSetExpansionContains[] | undefined): void => {
        for (const c of list ?? []) { if (c.code) out.codes.add(`${c.system ?? ''}|${c.code}`); walk(c.contains); }
      };
      walk(vs.expansion.contains);
      return out;
    }
    for (const inc of vs.compose?.include ?? []) {
      for (const nested of inc.valueSet ?? []) {
        const n = this.expand(nested, depth + 1);
        if (!n) return undefined;
        n.codes.forEach((c) => out.codes.add(c));
        n.systems.forEach((s) => out.systems.add(s));
      }
      if (!inc.system) continue;
      if (inc.concept?.length) {
        for (const c of inc.concept) out.codes.add(`${inc.system}|${c.code}`);
      } else if (inc.filter?.length) {
        const cs = this.codeSystems.get(inc.system);
        // A filter over a code system held only as a placeholder (SNOMED CT, LOINC: content
        // not-present, no concepts) cannot be listed: the system is taken whole (its codes' syntax is checked),
        // and the codes the ValueSet lists elsewhere still count.
        if (!cs?.concept?.length || (cs.content !== 'complete' && cs.content !== 'fragment')) { out.systems.add(inc.system); continue; }
        for (const f of inc.filter) {
          if (f.property !== 'concept' || !['is-a', 'descendent-of', '='].includes(f.op)) return undefined;
          const codes = f.op === '=' ? [f.value] : below(cs.concept, f.value).filter((c) => f.op === 'is-a' || c !== f.value);
          for (const c of codes) out.codes.add(`${inc.system}|${c}`);
        }
      } else {
        const cs = this.codeSystems.get(inc.system);
        if (cs?.concept?.length && cs.content === 'complete') for (const c of allCodes(cs.concept)) out.codes.add(`${inc.system}|${c}`);
        else out.systems.add(inc.system);
      }
    }
    for (const exc of vs.compose?.exclude ?? []) for (const c of exc.concept ?? []) out.codes.delete(`${exc.system ?? ''}|${c.code}`);
    return out;
  }

  /** Whether a ValueSet's codes can be listed here (else a binding to it cannot be checked). */
  enumerable(url: string): boolean {
    return this.expand(url) !== undefined;
  }

  /** A coded value against a binding; `at` is the value's FHIRPath. */
  checkBinding(value: unknown, valueSet: string, strength: 'required' | 'extensible', at: string): Issue[] {
    const codings: { system?: string; code?: string; at: string }[] = [];
    if (typeof value === 'string') codings.push({ code: value, at });
    else if (isObject(value) && Array.isArray(value.coding)) {
      (value.coding as Json[]).forEach((c, i) => codings.push({ system: c.system as string, code: c.code as string, at: `${at}.coding[${i}]` }));
    } else if (isObject(value) && typeof value.code === 'string') codings.push({ system: value.system as string | undefined, code: value.code, at });
    else if (isObject(value) && typeof value.value === 'number') return []; // a Quantity's unit binding is not checked
    if (codings.length === 0) return [];
    const expansion = this.expand(valueSet);
    if (!expansion) {
      return [{ severity: 'information', code: 'not-supported', diagnostics: `ValueSet ${valueSet} is not available to this validator; the binding was not checked`, expression: [at] }];
    }
    const issues: Issue[] = [];
    // A bare code (the `code` datatype) has no system: it is in the set if some system there has it,
    // or if the set takes a whole system whose codes cannot be listed here.
    const inSet = codings.filter((c) => c.code !== undefined && (c.system === undefined
      ? expansion.systems.size > 0 || bareCodes(expansion).has(c.code as string)
      : expansion.codes.has(`${c.system}|${c.code}`) || expansion.systems.has(c.system)));
    for (const c of inSet) {
      const syntax = c.system !== undefined && expansion.systems.has(c.system) ? SYNTAX[c.system] : undefined;
      if (syntax && !syntax.pattern.test(c.code as string)) {
        issues.push({ severity: 'error', code: 'code-invalid', diagnostics: `'${c.code}' is not a well-formed ${syntax.name} code (only the syntax of ${syntax.name} codes is checked here)`, expression: [c.at] });
      }
    }
    if (inSet.length === 0) {
      const shown = codings.map((c) => `${c.system ?? ''}|${c.code ?? ''}`).join(', ').slice(0, 200);
      issues.push({
        severity: strength === 'required' ? 'error' : 'warning', code: 'code-invalid',
        diagnostics: `${shown} is not in the ${strength} ValueSet ${valueSet}`, expression: [codings[0].at],
      });
    }
    return issues;
  }
}
