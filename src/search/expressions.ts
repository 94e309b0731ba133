import fhirpath from 'fhirpath';
import r4Model from 'fhirpath/fhir-context/r4';

/**
 * Search-parameter expressions compiled once. Most official expressions are plain paths
 * (`Patient.name.family`); those become direct property walks, ~25x cheaper than evaluating
 * FHIRPath. The rest go through the fhirpath engine, compiled once.
 */
export type Extractor = (resource: unknown) => unknown[];

export interface CompiledExpression {
  extract: Extractor;
  /** From `where(resolve() is X)`: only references to these types are values of the parameter. */
  targetTypes?: string[];
  /** True when the expression was compiled to a plain property walk. */
  simple: boolean;
}

const SIMPLE_PART = /^[A-Z][A-Za-z]+(\.[a-z][A-Za-z0-9]*)+$/;
const RESOLVE_IS = /\.where\(resolve\(\) is ([A-Za-z]+)\)/g;

function childValues(node: unknown, segment: string, out: unknown[]): void {
  if (typeof node !== 'object' || node === null) return;
  const obj = node as Record<string, unknown>;
  let value = obj[segment];
  if (value === undefined) {
    // A choice element (`value[x]`) is named by its base in FHIRPath: `value` finds `valueQuantity`.
    for (const key in obj) {
      if (key.length > segment.length && key.startsWith(segment) && key.charCodeAt(segment.length) >= 65 && key.charCodeAt(segment.length) <= 90) {
        value = obj[key];
        break;
      }
    }
  }
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    for (const v of value) if (v !== null && v !== undefined) out.push(v);
  } else out.push(value);
}

function walker(parts: string[][]): Extractor {
  return (resource) => {
    const out: unknown[] = [];
    for (const segments of parts) {
      let current: unknown[] = [resource];
      for (const segment of segments) {
        const next: unknown[] = [];
        for (const node of current) childValues(node, segment, next);
        current = next;
        if (current.length === 0) break;
      }
      for (const v of current) out.push(v);
    }
    return out;
  };
}

/**
 * `Type.a.b`, `Type` alone, and choice selections `(Type.value.ofType(Quantity)).x` or
 * `Type.value as Quantity` → property segments (`valueQuantity`); anything else → undefined.
 */
export function simpleSegments(part: string): string[] | undefined {
  let p = part.trim().replace(/ as ([A-Za-z]+)\)?$/, '.ofType($1)');
  p = p.replace(/^\((.*)\)(\.[a-z][A-Za-z0-9.]*)?$/, '$1$2').replace(/^\((.*)\)$/, '$1');
  p = p.replace(/\.ofType\(([A-Za-z]+)\)/g, (_m, t: string) => `${t[0].toUpperCase()}${t.slice(1)}`);
  if (/^[A-Z][A-Za-z]+$/.test(p)) return [];
  return SIMPLE_PART.test(p) ? p.split('.').slice(1) : undefined;
}

export function compileExpression(expression: string): CompiledExpression {
  const targetTypes: string[] = [];
  const cleaned = expression.replace(RESOLVE_IS, (_m, type: string) => { targetTypes.push(type); return ''; });
  const parts = cleaned.split(/\s\|\s/).map((p) => p.trim());
  const targets = targetTypes.length ? targetTypes : undefined;
  const segments = parts.map(simpleSegments);
  if (segments.every((s): s is string[] => s !== undefined)) {
    return { extract: walker(segments), targetTypes: targets, simple: true };
  }
  const compiled = fhirpath.compile(cleaned, r4Model);
  return { extract: (resource) => compiled(resource as never) as unknown[], targetTypes: targets, simple: false };
}

/**
 * A composite component's expression is relative to each base value, not to the resource;
 * `basePath` (e.g. `Observation.component`) lets FHIRPath type choice elements such as `value`.
 */
export function compileRelative(expression: string, basePath: string): Extractor {
  const parts = expression.split(/\s\|\s/).map((p) => p.trim());
  // `value.ofType(Quantity)` is a walk too (to `valueQuantity`), relative to a placeholder root.
  const segments = parts.map((p) => (/^[a-z]/.test(p) ? simpleSegments(`Base.${p}`) : undefined));
  if (segments.every((s): s is string[] => s !== undefined && s.length > 0)) return walker(segments);
  const compiled = fhirpath.compile({ base: basePath, expression }, r4Model);
  return (value) => compiled(value as never) as unknown[];
}
