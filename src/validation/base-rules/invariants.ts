import fhirpath from 'fhirpath';
import r4Model from 'fhirpath/fhir-context/r4';
import type { ElementDefinitionConstraint } from 'fhir/r4';
import { narrativeProblems } from '../narrative';

/**
 * One invariant of R4 (validation.html#invariants), compiled once. Most run as the spec's own
 * FHIRPath (fhirpath.js, compiled at start-up with the element's type as its base, never parsed
 * per resource). The ones found on nearly every resource or data type run as native code instead
 * (NATIVE below), each proven equal to its FHIRPath on real and mutated data by a test; a native
 * check may answer `undefined` to hand an unusual case to the FHIRPath.
 *
 * `evaluate` answers true (holds), false (broken), or undefined: the invariant could not be
 * evaluated (an unsupported function, an evaluation error), which the walker reports as a warning
 * naming the invariant, never as a silent pass.
 */
export interface Env {
  /** %resource: the resource the value is part of (a Bundle entry's own resource, not the Bundle). */
  resource: unknown;
  /** %rootResource: the container of a contained resource, else %resource. */
  rootResource: unknown;
}

export interface Invariant {
  key: string;
  severity: 'error' | 'warning';
  human: string;
  expression: string;
  evaluate(value: unknown, env: Env): boolean | undefined;
  /** Why it cannot be evaluated at all, when its FHIRPath does not compile. */
  unsupported?: string;
}

type Json = Record<string, unknown>;
type Native = (value: Json, env: Env) => boolean | undefined;

const has = (v: Json, key: string): boolean => v[key] !== undefined || v[`_${key}`] !== undefined;
/** Contained resources that are objects (a null or a number in the list is reported by the JSON rules). */
const contained = (v: Json): Json[] => (Array.isArray(v.contained)
  ? (v.contained as unknown[]).filter((c): c is Json => typeof c === 'object' && c !== null && !Array.isArray(c)) : []);

/** Every string value below `v` (keys `resourceType` and `id` are names, not pointers). */
function collectStrings(v: unknown, visit: (s: string) => void, depth = 0): void {
  if (depth > 64) return;
  if (typeof v === 'string') { visit(v); return; }
  if (Array.isArray(v)) { for (const item of v) collectStrings(item, visit, depth + 1); return; }
  if (typeof v === 'object' && v !== null) {
    for (const [k, child] of Object.entries(v)) if (k !== 'id' && k !== 'resourceType') collectStrings(child, visit, depth + 1);
  }
}

function refersToContainer(c: Json): boolean {
  let found = false;
  const walk = (v: unknown, depth: number): void => {
    if (found || depth > 64 || typeof v !== 'object' || v === null) return;
    if (Array.isArray(v)) { for (const i of v) walk(i, depth + 1); return; }
    const o = v as Json;
    if (o.reference === '#') { found = true; return; }
    for (const child of Object.values(o)) walk(child, depth + 1);
  };
  walk(c, 0);
  return found;
}

/** A dateTime with seconds and a zone compares as an instant; any other precision goes to FHIRPath. */
const FULL_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Native forms of the spec's FHIRPath, by invariant key (their expressions are R4's, unchanged). */
export const NATIVE: Record<string, Native> = {
  // reference.startsWith('#').not() or (reference.substring(1) in %rootResource.contained.id)
  'ref-1': (v, env) => {
    const ref = v.reference;
    // '#' alone points at the container resource (references.html#contained).
    if (typeof ref !== 'string' || !ref.startsWith('#') || ref === '#') return true;
    const root = env.rootResource as Json | undefined;
    return contained(root ?? {}).some((c) => c.id === ref.slice(1));
  },
  // start.hasValue().not() or end.hasValue().not() or (start <= end)
  'per-1': (v) => {
    const { start, end } = v;
    if (typeof start !== 'string' || typeof end !== 'string') return true;
    if (!FULL_INSTANT.test(start) || !FULL_INSTANT.test(end)) return undefined;
    return Date.parse(start) <= Date.parse(end);
  },
  'qty-3': (v) => !has(v, 'code') || has(v, 'system'),
  'cpt-2': (v) => !has(v, 'value') || has(v, 'system'),
  'att-1': (v) => !has(v, 'data') || has(v, 'contentType'),
  'dom-2': (v) => contained(v).every((c) => c.contained === undefined),
  // dom-3: every contained resource is referenced from the resource ('#id' in a reference,
  // canonical, uri or url anywhere in it), or itself refers to its container ('#'). R4 writes it
  // with `descendants().as(canonical)`, which strict FHIRPath engines refuse on a collection, so
  // this native form is the only one run (its own tests pin it down).
  'dom-3': (v) => {
    const list = contained(v);
    if (list.length === 0) return true;
    const pointers = new Set<string>();
    collectStrings(v, (s) => { if (s.startsWith('#')) pointers.add(s); });
    return list.every((c) => pointers.has(`#${String(c.id)}`) || refersToContainer(c));
  },
  'dom-4': (v) => contained(v).every((c) => (c.meta as Json | undefined)?.versionId === undefined && (c.meta as Json | undefined)?.lastUpdated === undefined),
  'dom-5': (v) => contained(v).every((c) => (c.meta as Json | undefined)?.security === undefined),
};

/** htmlChecks() (txt-1, txt-2) is not FHIRPath fhirpath.js can run: the narrative module judges the XHTML. */
const HTML_CHECKS: Record<string, (div: string) => boolean> = {
  'txt-1': (div) => narrativeProblems(div).every((p) => p.severity !== 'error'),
  'txt-2': (div) => /[^\s]/.test(div.replace(/<[^>]*>/g, '').replace(/&nbsp;|&#160;/g, '')),
};

const silent = { traceFn: () => undefined };

/** The top-level parts of `expression` split on ` ${word} ` (outside parentheses and strings). */
function topLevel(expression: string, word: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const ch = expression[i];
    if (ch === "'" && expression[i - 1] !== '\\') quoted = !quoted;
    if (quoted) continue;
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (depth === 0 && expression.startsWith(` ${word} `, i)) { parts.push(expression.slice(start, i)); start = i + word.length + 2; i = start - 1; }
  }
  parts.push(expression.slice(start));
  return parts.map((p) => p.trim());
}

/** `name.a.b.empty()` or `name.a.where(…).empty()`: true whenever `name` is absent. */
const EMPTY_PATH = /^([A-Za-z][A-Za-z0-9]*)(\.[A-Za-z][A-Za-z0-9]*)*(\.where\((.*)\))?\.empty\(\)$/;
const EXISTS = /^([A-Za-z][A-Za-z0-9]*)\.exists\(\)$/;

/** Balanced parentheses and quotes: the `where(…)` captured is one call, not `where(a).count(b`. */
function balanced(text: string): boolean {
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "'" && text[i - 1] !== '\\') quoted = !quoted;
    if (quoted) continue;
    if (text[i] === '(') depth++;
    if (text[i] === ')' && --depth < 0) return false;
  }
  return depth === 0 && !quoted;
}

/**
 * Element names whose absence alone makes the invariant hold, read off its FHIRPath: any
 * top-level disjunct of the form `name….empty()` (`A.empty() or …`, as most R4 invariants are
 * written), or the antecedent of a top-level `name.exists() implies …`. Navigating from nothing
 * gives nothing, and `where` over nothing is nothing, so such a disjunct is true when `name` is
 * absent; the FHIRPath is then not run at all. Expressions with `xor`, or with `implies` anywhere
 * else, get no guard.
 */
export function absenceGuard(expression: string): string[] {
  if (/ xor /.test(expression)) return [];
  const implications = topLevel(expression, 'implies');
  if (implications.length === 2) {
    const m = EXISTS.exec(implications[0]);
    return m && !/ implies /.test(implications[1]) ? [m[1]] : [];
  }
  if (implications.length > 1 || / implies /.test(expression)) return [];
  return topLevel(expression, 'or').flatMap((part) => {
    const m = EMPTY_PATH.exec(part);
    return m && (m[4] === undefined || balanced(m[4])) ? [m[1]] : [];
  });
}

/** Whether an object holds nothing under `name` (nor `_name`, nor a choice `nameX`). */
function absent(value: Json, name: string): boolean {
  for (const key in value) {
    if (key === name || key === `_${name}`) return false;
    if (key.length > name.length && key.startsWith(name) && key.charCodeAt(name.length) >= 65 && key.charCodeAt(name.length) <= 90) return false;
  }
  return true;
}

export function compileInvariant(c: ElementDefinitionConstraint, path: string): Invariant {
  const base = { key: c.key, severity: c.severity === 'error' ? 'error' as const : 'warning' as const, human: c.human, expression: c.expression as string };
  const html = HTML_CHECKS[c.key];
  if (html && c.expression === 'htmlChecks()') {
    return { ...base, evaluate: (value) => (typeof value === 'string' ? html(value) : true) };
  }
  let typed: ((value: unknown, env: Env) => boolean | undefined) | undefined;
  let unsupported: string | undefined;
  try {
    typed = fhirPathOnly(c, path);
  } catch (e) {
    unsupported = (e as Error).message.split('\n')[0].slice(0, 160);
  }
  // A primitive value (a choice element holding a decimal, say) is evaluated without the element's
  // base type: fhirpath.js cannot type a bare number as `probability[x]`, while navigation from it
  // is simply empty, as the spec reads it.
  let untyped: ((value: unknown, env: Env) => boolean | undefined) | undefined;
  const viaFhirPath = (value: unknown, env: Env): boolean | undefined => {
    if (!typed) return undefined;
    if (typeof value === 'object' && value !== null) return typed(value, env);
    untyped ??= fhirPathOnly(c);
    return untyped(value, env);
  };
  const native = NATIVE[c.key];
  const guard = absenceGuard(c.expression as string);
  const evaluate = (value: unknown, env: Env): boolean | undefined => {
    if (typeof value !== 'object' || value === null) return viaFhirPath(value, env);
    if (native) { const fast = native(value as Json, env); if (fast !== undefined) return fast; }
    for (const name of guard) if (absent(value as Json, name)) return true;
    return viaFhirPath(value, env);
  };
  return { ...base, evaluate, unsupported };
}

/**
 * The spec's FHIRPath alone, without the native form or guard: true (holds), false, or undefined
 * when evaluation fails. `path` types the input (omitted for a primitive value). Also what the
 * native forms are tested against.
 */
export function fhirPathOnly(c: ElementDefinitionConstraint, path?: string): (value: unknown, env: Env) => boolean | undefined {
  const fn = fhirpath.compile(path === undefined ? c.expression as string : { base: path, expression: c.expression as string }, r4Model, silent);
  return (value, env) => {
    try {
      const result = fn(value as never, { resource: env.resource, rootResource: env.rootResource } as never) as unknown[];
      return result.length === 0 || result.every((r) => r === true);
    } catch {
      return undefined;
    }
  };
}
