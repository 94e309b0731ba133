import { createHash } from 'node:crypto';
import type { Issue } from '../../fhir/errors';
import { narrativeProblems } from '../narrative';
import type { Terminology } from '../profiles/terminology';
import type { Env, Invariant } from './invariants';
import { CORE, type BaseRules, type ElementRule, type ObjectRule, type TypeRef } from './model';

/**
 * Applies R4's base rules (model.ts) to one resource, walking it once with the type of every value
 * known: required elements (a primitive counts when its value or its `_element` is present),
 * finite maxima, ele-1 and ext-1 on every element and extension, every invariant of every element
 * and data type, required and extensible bindings, base64 content, Attachment size and hash
 * against its data, and the narrative's XHTML. Contained resources, Bundle entries and resources
 * inside Parameters are walked as resources of their own type, with %resource and %rootResource
 * set as FHIRPath defines them (fhirpath.html#vars).
 *
 * It assumes what the JSON rules and the schema already checked (no nulls, known keys, JSON
 * types), and it never throws on a value of an unexpected shape: that shape was reported there.
 */
type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export interface WalkOptions {
  terminology?: Terminology;
  /** Stop after this many issues (a hostile document could list millions). */
  maxIssues?: number;
}

interface State {
  rules: BaseRules;
  terminology?: Terminology;
  out: Issue[];
  max: number;
  /** Invariants already reported as not evaluable, once each per walk. */
  unevaluable: Set<string>;
  /** Bindings already reported as not checkable, once each per walk. */
  unchecked: Set<string>;
}

export function baseRuleIssues(rules: BaseRules, resource: Json, at: string, options: WalkOptions = {}): Issue[] {
  const state: State = { rules, terminology: options.terminology, out: [], max: options.maxIssues ?? 500, unevaluable: new Set(), unchecked: new Set() };
  walkResource(state, resource, at, undefined);
  return state.out;
}

function push(state: State, issue: Issue): void {
  if (state.out.length < state.max) state.out.push(issue);
}

function walkResource(state: State, resource: Json, at: string, container: Env | undefined): void {
  const type = resource.resourceType;
  if (typeof type !== 'string') return;
  const rule = state.rules.resource(type);
  if (!rule) return;
  const env: Env = { resource, rootResource: container ? container.rootResource : resource };
  walkObject(state, rule, resource, at, env, true);
}

function runInvariants(state: State, invariants: Invariant[], value: unknown, at: string, env: Env): void {
  for (const inv of invariants) {
    if (inv.unsupported) { unevaluable(state, inv, at, inv.unsupported); continue; }
    const ok = inv.evaluate(value, env);
    if (ok === undefined) unevaluable(state, inv, at, 'its evaluation failed');
    else if (!ok) push(state, { severity: inv.severity, code: 'invariant', diagnostics: `${inv.key}: ${inv.human}`, expression: [at] });
  }
}

function unevaluable(state: State, inv: Invariant, at: string, why: string): void {
  if (state.unevaluable.has(inv.key)) return;
  state.unevaluable.add(inv.key);
  push(state, { severity: 'warning', code: 'not-supported', diagnostics: `${inv.key} could not be checked (${why}): ${inv.expression.slice(0, 120)}`, expression: [at] });
}

/** Whether the object has a key besides `id` (ele-1: an element has a value or children). */
function hasChildren(value: Json): boolean {
  for (const key in value) if (key !== 'id') return true;
  return false;
}

function present(value: Json, keys: string[]): boolean {
  for (const k of keys) if (value[k] !== undefined) return true;
  return false;
}

function walkObject(state: State, rule: ObjectRule, value: Json, at: string, env: Env, isResource: boolean): void {
  if (!isResource && !hasChildren(value)) {
    push(state, { severity: 'error', code: 'invariant', diagnostics: 'ele-1: All FHIR elements must have a @value or children', expression: [at] });
  }
  if (rule.invariants.length > 0) runInvariants(state, rule.invariants, value, at, env);
  for (const { rule: element, keys } of rule.required) {
    if (!present(value, keys)) {
      push(state, { severity: 'error', code: 'required', diagnostics: `${element.path}: minimum required = ${element.min}, but only found 0`, expression: [`${at}.${element.name}`] });
    }
  }
  for (const { rule: element, keys } of rule.bounded) {
    const count = keys.filter((k) => !k.startsWith('_')).reduce((n, k) => n + (Array.isArray(value[k]) ? (value[k] as unknown[]).length : value[k] === undefined ? 0 : 1), 0);
    if (count > element.max) push(state, { severity: 'error', code: 'structure', diagnostics: `${element.path}: maximum allowed = ${element.max}, but found ${count}`, expression: [`${at}.${element.name}`] });
  }
  for (const key in value) {
    const entry = rule.byKey.get(key);
    if (!entry) continue; // unknown keys are the schema's to report
    const child = value[key];
    const many = Array.isArray(child);
    const items = many ? child as unknown[] : [child];
    const base = `${at}.${entry.shadow ? key.slice(1) : key}`;
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (item === null || item === undefined) continue;
      const here = many ? `${base}[${i}]` : base;
      if (entry.shadow) { walkPrimitiveElement(state, item, here, env); continue; }
      walkValue(state, entry.rule, entry.type, item, here, env, key);
    }
  }
}

/** The `_name` half of a primitive: an Element (id, extensions) that, without a value, must hold an extension. */
function walkPrimitiveElement(state: State, item: unknown, at: string, env: Env): void {
  if (!isObject(item)) return;
  if (item.extension === undefined) {
    push(state, { severity: 'error', code: 'invariant', diagnostics: 'ele-1: All FHIR elements must have a @value or children', expression: [at] });
  }
  const element = state.rules.rules(`${CORE}Element`);
  if (element) walkObject(state, element, item, at, env, true);
}

function walkValue(state: State, rule: ElementRule, type: TypeRef | undefined, item: unknown, at: string, env: Env, key: string): void {
  if (rule.inline) {
    if (isObject(item)) walkObject(state, rule.inline, item, at, env, false);
    return;
  }
  if (!type) return;
  if (type.resource) {
    if (isObject(item)) walkResource(state, item, at, key === 'contained' ? env : undefined);
    return;
  }
  if (type.primitive) {
    primitiveChecks(state, type, item, at);
  } else if (isObject(item)) {
    if (type.code === 'Extension') extensionChecks(state, item, at);
    if (type.compiled === undefined) type.compiled = state.rules.rules(type.url) ?? null;
    const typeRule = type.compiled;
    if (typeRule) walkObject(state, typeRule, item, at, env, false);
    if (type.code === 'Attachment') attachmentChecks(state, item, at);
  }
  if (rule.invariants.length > 0) runInvariants(state, rule.invariants, item, at, env);
  if (rule.binding && state.terminology) bindingChecks(state, rule, item, at);
}

function primitiveChecks(state: State, type: TypeRef, item: unknown, at: string): void {
  if (type.code === 'base64Binary' && typeof item === 'string' && !BASE64.test(item.replace(/\s+/g, ''))) {
    push(state, { severity: 'error', code: 'value', diagnostics: `The value at ${at} is not valid Base64`, expression: [at] });
  }
  if (type.code === 'xhtml' && typeof item === 'string') {
    for (const p of narrativeProblems(item)) push(state, { severity: p.severity, code: p.severity === 'error' ? 'invariant' : 'informational', diagnostics: `txt-1: ${p.message}`, expression: [at] });
  }
}

function extensionChecks(state: State, ext: Json, at: string): void {
  const hasValue = Object.keys(ext).some((k) => k.startsWith('value') && k.length > 5 && /[A-Z]/.test(k[5]));
  const hasChildren = Array.isArray(ext.extension) && ext.extension.length > 0;
  if (hasValue === hasChildren) {
    push(state, { severity: 'error', code: 'invariant', diagnostics: 'ext-1: Must have either extensions or value[x], not both', expression: [at] });
  }
}

/** Attachment.size and .hash describe .data (datatypes.html#Attachment): they must match it. */
function attachmentChecks(state: State, attachment: Json, at: string): void {
  if (typeof attachment.data !== 'string') return;
  const compact = attachment.data.replace(/\s+/g, '');
  if (!BASE64.test(compact)) return; // reported as a base64Binary value
  const bytes = Buffer.from(compact, 'base64');
  if (typeof attachment.size === 'number' && attachment.size !== bytes.length) {
    push(state, { severity: 'error', code: 'value', diagnostics: `Attachment.size is ${attachment.size}, but the data holds ${bytes.length} bytes`, expression: [`${at}.size`] });
  }
  if (typeof attachment.hash === 'string') {
    const sha1 = createHash('sha1').update(bytes).digest('base64');
    if (attachment.hash.replace(/\s+/g, '') !== sha1) {
      push(state, { severity: 'error', code: 'value', diagnostics: 'Attachment.hash is not the base64 SHA-1 of the data', expression: [`${at}.hash`] });
    }
  }
}

function bindingChecks(state: State, rule: ElementRule, item: unknown, at: string): void {
  const binding = rule.binding as NonNullable<ElementRule['binding']>;
  const terminology = state.terminology as Terminology;
  if (!terminology.enumerable(binding.valueSet)) return; // listed by the start-up report, not per value
  for (const issue of terminology.checkBinding(item, binding.valueSet, binding.strength, at)) push(state, issue);
}
