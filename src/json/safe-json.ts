import { FhirError } from '../fhir/errors';

/**
 * JSON from the network, made safe before any FHIR code touches it: syntax errors become 400s,
 * nesting is bounded (deep nesting is a cheap way to exhaust a recursive walker's stack), and
 * keys that could reach an object's prototype are refused outright.
 */
export const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export function parseJson(text: string, maxDepth: number): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new FhirError('structure', `The body is not valid JSON: ${(err as Error).message}`);
  }
  checkShape(value, maxDepth);
  return value;
}

/** Iterative, so that a hostile depth cannot overflow the stack of the check itself. */
export function checkShape(root: unknown, maxDepth: number): void {
  const stack: { value: unknown; depth: number }[] = [{ value: root, depth: 1 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop() as { value: unknown; depth: number };
    if (typeof value !== 'object' || value === null) continue;
    if (depth > maxDepth) throw new FhirError('structure', `JSON nesting is deeper than the limit of ${maxDepth}`);
    if (Array.isArray(value)) {
      for (const item of value) stack.push({ value: item, depth: depth + 1 });
      continue;
    }
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(key)) throw new FhirError('invalid', `The JSON key '${key}' is not allowed`);
      stack.push({ value: (value as Record<string, unknown>)[key], depth: depth + 1 });
    }
  }
}
