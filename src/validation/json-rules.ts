import type { Issue } from '../fhir/errors';
import { FORBIDDEN_KEYS } from '../json/safe-json';

/**
 * The FHIR JSON rules a JSON schema cannot express (json.html): no nulls (except as
 * placeholders in a primitive array paired with its `_name` extension array), no empty strings,
 * arrays or objects, no whitespace-only strings; and, for safety, no prototype keys and a bounded
 * depth (those two are `fatal`: the schema is not run on such input). One iterative pass; a path is only rendered when a problem is found.
 */
const MAX_STRING = 1024 * 1024;

/** Where a value sits: its parent's location, its key and (in an array) its index. Rendered only for a problem. */
interface Frame {
  value: unknown;
  parent?: Frame;
  key: string;
  index: number;
  depth: number;
}

function pathOf(frame: Frame): string {
  const here = frame.index >= 0 ? `${frame.key}[${frame.index}]` : frame.key;
  return frame.parent ? `${pathOf(frame.parent)}.${here}` : here;
}

function problem(code: Issue['code'], diagnostics: string, path: string, severity: Issue['severity'] = 'error'): Issue {
  return { severity, code, diagnostics, expression: [path] };
}

/** Whether a string is empty or only whitespace, without allocating a trimmed copy. */
function isBlank(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13 && c !== 0xa0 && c !== 0xfeff && !(c > 0x1fff && /\s/.test(value[i]))) return false;
  }
  return true;
}

function checkString(value: string, at: Frame, out: Issue[]): void {
  // datatypes.html#string: a string is at most 1 MB (base64 data excepted: Binary and Attachment carry files).
  if (value.length > MAX_STRING && at.key !== 'data') { const path = pathOf(at); out.push(problem('value', `${path} is longer than the 1 MB a FHIR string may hold`, path)); return; }
  if (isBlank(value)) { const path = pathOf(at); out.push(problem('value', value === '' ? `${path} is an empty string` : `${path} is only whitespace`, path)); }
}

/** A null at index i of `name` is allowed when the paired primitive/extension array has a value there. */
function nullAllowed(parent: Record<string, unknown>, key: string, index: number): boolean {
  const partnerKey = key.startsWith('_') ? key.slice(1) : `_${key}`;
  const partner = parent[partnerKey];
  return Array.isArray(partner) && partner[index] !== null && partner[index] !== undefined;
}

/** A child value: strings are judged here, objects and arrays go on the stack, other scalars need nothing. */
function visit(value: unknown, frame: Frame, out: Issue[], stack: Frame[]): void {
  if (typeof value === 'string') checkString(value, frame, out);
  else if (typeof value === 'object' && value !== null) stack.push(frame);
}

function checkArray(parent: Record<string, unknown>, key: string, arr: unknown[], frame: Frame, out: Issue[], stack: Frame[]): void {
  if (arr.length === 0) { const path = `${pathOf(frame)}.${key}`; out.push(problem('structure', `${path} is an empty array; omit the element instead`, path)); return; }
  const paired = Array.isArray(parent[key.startsWith('_') ? key.slice(1) : `_${key}`]);
  let allNull = true;
  for (let i = 0; i < arr.length; i++) {
    const item = arr[i];
    if (item === null) {
      if (!paired || !nullAllowed(parent, key, i)) { const path = `${pathOf(frame)}.${key}[${i}]`; out.push(problem('structure', `${path} is null`, path)); }
    } else {
      allNull = false;
      visit(item, { value: item, parent: frame, key, index: i, depth: frame.depth + 1 }, out, stack);
    }
  }
  if (allNull && paired) { const path = `${pathOf(frame)}.${key}`; out.push(problem('structure', `${path} holds only nulls`, path)); }
}

export function jsonRuleIssues(resource: Record<string, unknown>, root: string, maxDepth: number): Issue[] {
  const out: Issue[] = [];
  const stack: Frame[] = [{ value: resource, key: root, index: -1, depth: 1 }];
  while (stack.length > 0) {
    const frame = stack.pop() as Frame;
    if (frame.depth > maxDepth) { const path = pathOf(frame); out.push(problem('structure', `${path} is nested deeper than the limit of ${maxDepth}`, path, 'fatal')); continue; }
    const obj = frame.value as Record<string, unknown>;
    if (Array.isArray(obj)) { checkArray({ [frame.key]: obj }, frame.key, obj, frame, out, stack); continue; }
    const keys = Object.keys(obj);
    if (keys.length === 0) { const path = pathOf(frame); out.push(problem('structure', `${path} is an empty object; omit the element instead`, path)); continue; }
    for (const key of keys) {
      if (FORBIDDEN_KEYS.has(key)) { const path = `${pathOf(frame)}.${key}`; out.push(problem('invalid', `The key '${key}' is not allowed`, path, 'fatal')); continue; }
      const child = obj[key];
      if (child === null) { const path = `${pathOf(frame)}.${key}`; out.push(problem('structure', `${path} is null; omit the element instead`, path)); }
      else if (Array.isArray(child)) checkArray(obj, key, child, frame, out, stack);
      else visit(child, { value: child, parent: frame, key, index: -1, depth: frame.depth + 1 }, out, stack);
    }
  }
  return out;
}
