import { FhirError } from '../fhir/errors';

/**
 * Reference rewriting inside a transaction (http.html#trules): every link to another entry,
 * by its `fullUrl`, becomes the `Type/id` that entry really has. Links are found wherever they
 * are: `Reference.reference` at any depth (extensions and contained resources included) and
 * `href`/`src` in the narrative. Other uri elements are left alone on purpose: an identifier
 * whose value is `urn:uuid:…` (the usual Composition and document identifier) can equal an
 * entry's fullUrl, and rewriting it would change the record's identity.
 * Pure and in place: the resources are the request's own freshly parsed JSON.
 */

/** A conditional reference such as `Patient?identifier=system|value` (http.html#trules). */
export const CONDITIONAL_REFERENCE = /^[A-Z][A-Za-z]+\?./;
const LOCAL_URN = /^urn:(uuid|oid):/;
const NARRATIVE_LINK = /\b(href|src)\s*=\s*"([^"]+)"/g;

type Visitor = (value: string, key: string, path: () => string) => string | undefined;

/**
 * Walk over every string in `root`, replacing those the visitor answers for. Paths are built only
 * when asked for (an error): building one per node made this walk a large share of ingest garbage.
 */
function walk(root: unknown, rootPath: string, visit: Visitor): void {
  const nodes: unknown[] = [root];
  const parents: number[] = [-1];
  const keys: (string | number)[] = [''];
  const pathTo = (index: number, last: string | number): string => {
    const parts: (string | number)[] = [last];
    for (let i = index; i > 0; i = parents[i]) parts.push(keys[i]);
    return rootPath + parts.reverse().map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
  };
  for (let n = 0; n < nodes.length; n++) {
    const node = nodes[n];
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const v: unknown = node[i];
        if (typeof v === 'string') {
          const replaced = visit(v, '', () => pathTo(n, i));
          if (replaced !== undefined) node[i] = replaced;
        } else if (typeof v === 'object' && v !== null) {
          nodes.push(v); parents.push(n); keys.push(i);
        }
      }
      continue;
    }
    const obj = node as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      const v = obj[key];
      if (typeof v === 'string') {
        const replaced = visit(v, key, () => pathTo(n, key));
        if (replaced !== undefined) obj[key] = replaced;
      } else if (typeof v === 'object' && v !== null) {
        nodes.push(v); parents.push(n); keys.push(key);
      }
    }
  }
}

/** Every conditional reference in `root`, so they can be resolved (by search) before rewriting. */
export function conditionalReferences(root: unknown): Set<string> {
  const found = new Set<string>();
  walk(root, '', (value, key) => {
    if (key === 'reference' && CONDITIONAL_REFERENCE.test(value)) found.add(value);
    return undefined;
  });
  return found;
}

/**
 * Replaces links through `targets` (fullUrl or conditional reference → `Type/id`). A reference
 * to a `urn:uuid:`/`urn:oid:` that no entry carries is an error: stored, it would point nowhere.
 */
export function rewriteReferences(root: unknown, rootPath: string, targets: ReadonlyMap<string, string>): void {
  walk(root, rootPath, (value, key, path) => {
    if (key === 'div') {
      return value.includes('urn:') || targets.size > 0
        ? value.replace(NARRATIVE_LINK, (all, attr: string, url: string) => {
          const to = targets.get(url);
          return to === undefined ? all : `${attr}="${to}"`;
        })
        : undefined;
    }
    if (key !== 'reference') return undefined;
    const to = targets.get(value);
    if (to !== undefined) return to;
    if (LOCAL_URN.test(value) || CONDITIONAL_REFERENCE.test(value)) {
      throw new FhirError('invalid', `The reference '${value.slice(0, 200)}' does not resolve to any entry of this Bundle`,
        { expression: [path()] });
    }
    return undefined;
  });
}
