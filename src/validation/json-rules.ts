import type { Issue } from '../fhir/errors';
import { FORBIDDEN_KEYS } from '../json/safe-json';

/**
 * The FHIR JSON rules a JSON schema cannot express (json.html): no nulls (except as
 * placeholders in a primitive array paired with its `_name` extension array), no empty strings,
 * arrays or objects, no whitespace-only strings; and, for safety, no prototype keys and a bounded
 * depth (those two are `fatal`: the schema is not run on such input). One iterative pass; a path is only rendered when a problem is found.
 */
const MAX_STRING = 1024 * 1024;

interface Frame {
  value: unknown;
  path: string;
  depth: number;
}

function problem(code: Issue['code'], diagnostics: string, path: string, severity: Issue['severity'] = 'error'): Issue {
  return { severity, code, diagnostics, expression: [path] };
}

/** A null at index i of `name` is allowed when the paired primitive/extension array has a value there. */
function nullAllowed(parent: Record<string, unknown>, key: string, index: number): boolean {
  const partnerKey = key.startsWith('_') ? key.slice(1) : `_${key}`;
  const partner = parent[partnerKey];
  return Array.isArray(partner) && partner[index] !== null && partner[index] !== undefined;
}

function checkArray(parent: Record<string, unknown>, key: string, arr: unknown[], frame: Frame, out: Issue[], stack: Frame[]): void {
  const path = `${frame.path}.${key}`;
  if (arr.length === 0) { out.push(problem('structure', `${path} is an empty array; omit the element instead`, path)); return; }
  const paired = Array.isArray(parent[key.startsWith('_') ? key.slice(1) : `_${key}`]);
  let allNull = true;
  arr.forEach((item, i) => {
    if (item === null) {
      if (!paired || !nullAllowed(parent, key, i)) out.push(problem('structure', `${path}[${i}] is null`, `${path}[${i}]`));
    } else {
      allNull = false;
      stack.push({ value: item, path: `${path}[${i}]`, depth: frame.depth + 1 });
    }
  });
  if (allNull && paired) out.push(problem('structure', `${path} holds only nulls`, path));
}

export function jsonRuleIssues(resource: Record<string, unknown>, root: string, maxDepth: number): Issue[] {
  const out: Issue[] = [];
  const stack: Frame[] = [{ value: resource, path: root, depth: 1 }];
  while (stack.length > 0) {
    const frame = stack.pop() as Frame;
    const { value, path } = frame;
    if (typeof value === 'string') {
      // datatypes.html#string: a string is at most 1 MB (base64 data excepted: Binary and Attachment carry files).
      if (value.length > MAX_STRING && !/\.data$|\.data\[\d+\]$/.test(path)) out.push(problem('value', `${path} is longer than the 1 MB a FHIR string may hold`, path));
      else if (value.trim() === '') out.push(problem('value', value === '' ? `${path} is an empty string` : `${path} is only whitespace`, path));
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (frame.depth > maxDepth) { out.push(problem('structure', `${path} is nested deeper than the limit of ${maxDepth}`, path, 'fatal')); continue; }
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 0) { out.push(problem('structure', `${path} is an empty object; omit the element instead`, path)); continue; }
    for (const key of keys) {
      if (FORBIDDEN_KEYS.has(key)) { out.push(problem('invalid', `The key '${key}' is not allowed`, `${path}.${key}`, 'fatal')); continue; }
      const child = obj[key];
      if (child === null) out.push(problem('structure', `${path}.${key} is null; omit the element instead`, `${path}.${key}`));
      else if (Array.isArray(child)) checkArray(obj, key, child, frame, out, stack);
      else stack.push({ value: child, path: `${path}.${key}`, depth: frame.depth + 1 });
    }
  }
  return out;
}
