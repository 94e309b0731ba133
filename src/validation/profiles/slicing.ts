import type { ElementDefinition, ElementDefinitionSlicingDiscriminator } from 'fhir/r4';
import { childValues, deepEqual, isObject, matchesPattern, type Json, type Node } from './element-tree';

/**
 * Which slice a value belongs to (profiling.html#discriminator): value, pattern, exists, type
 * and profile discriminators, on a path that may end in `resolve()` (the referenced resource,
 * found without I/O in the enclosing Bundle or among contained resources).
 */
export interface SliceContext {
  /** Whether `value` (at `at`) conforms to one of `profiles`. */
  conforms(profiles: string[], value: unknown, at: string): boolean;
  /** The resource a Reference names, when it can be found without I/O. */
  resolve(reference: Json): { resource: Json; at: string } | undefined;
}

// R4 slices every extension by url (open); the definitions we load do not always say so.
const EXTENSION_SLICING: NonNullable<ElementDefinition['slicing']> = { discriminator: [{ type: 'value', path: 'url' }], rules: 'open' };

export function slicingOf(node: Node): ElementDefinition['slicing'] {
  return node.def.slicing ?? (/(^|\.)(modifierExtension|extension)$/.test(node.def.path) ? EXTENSION_SLICING : undefined);
}

/** `item.resolve()` → `item` and resolve; `resolve()` and `$this.resolve()` → `$this` and resolve. */
function splitResolve(path: string): { path: string; resolve: boolean } {
  const m = /^(.*?)\.?resolve\(\)$/.exec(path);
  if (!m) return { path, resolve: false };
  return { path: m[1] === '' ? '$this' : m[1], resolve: true };
}

/** The element under `slice` at a discriminator path (`system`, `type.coding.code`, `$this`). */
function descendant(slice: Node, path: string): Node | undefined {
  if (path === '$this') return slice;
  let node: Node | undefined = slice;
  for (const name of path.split('.')) node = node?.children.find((c) => c.name === name || c.name === `${name}[x]`);
  return node;
}

function valuesAt(value: unknown, path: string, at: string): { value: unknown; at: string }[] {
  if (path === '$this') return [{ value, at }];
  let current = [{ value, at }];
  for (const seg of path.split('.')) {
    const next: { value: unknown; at: string }[] = [];
    for (const c of current) {
      if (!isObject(c.value)) continue;
      for (const f of childValues(c.value, seg)) {
        const many = f.values.length > 1 || Array.isArray(c.value[f.key]);
        f.values.forEach((v, i) => next.push({ value: v, at: many ? `${c.at}.${f.key}[${i}]` : `${c.at}.${f.key}` }));
      }
    }
    current = next;
  }
  return current;
}

/** Whether `value` (at `at`) belongs to `slice` by one discriminator. */
export function discriminates(slice: Node, d: ElementDefinitionSlicingDiscriminator, value: unknown, at: string, ctx: SliceContext): boolean {
  // An extension slice is named by its definition's URL (the slice's type profile); its `url`
  // child is often not unfolded at all.
  const extensionProfile = d.path === 'url' ? slice.def.type?.[0]?.profile?.[0] : undefined;
  if (extensionProfile !== undefined && (d.type === 'value' || d.type === 'pattern')) {
    return isObject(value) && value.url === extensionProfile;
  }
  const { path, resolve } = splitResolve(d.path);
  const target = descendant(slice, path);
  // A slice that does not constrain a discriminator's path is not told apart by it (one slice may
  // fix type and subtype, another only the type: profiling.html#discriminator).
  if (!target) return d.type === 'value' || d.type === 'pattern';
  let found = valuesAt(value, path, at);
  if (resolve) {
    found = found.flatMap((f) => {
      const located = isObject(f.value) ? ctx.resolve(f.value) : undefined;
      return located ? [{ value: located.resource as unknown, at: located.at }] : [];
    });
  }
  switch (d.type) {
    case 'value':
    case 'pattern': {
      const { fixed, pattern } = target;
      if (fixed !== undefined) return found.some((f) => deepEqual(f.value, fixed));
      if (pattern !== undefined) return found.some((f) => matchesPattern(f.value, pattern));
      return true;
    }
    case 'exists':
      return (target.def.min ?? 0) > 0 ? found.length > 0 : target.def.max === '0' ? found.length === 0 : true;
    case 'type': {
      const types = new Set((target.def.type ?? []).map((t) => t.code));
      return found.some((f) => (isObject(f.value) && typeof f.value.resourceType === 'string' ? types.has(f.value.resourceType) : true));
    }
    case 'profile': {
      // The profiles are those of the element's type, or of its targets when the path resolves a reference.
      const profiles = (target.def.type ?? []).flatMap((t) => (resolve ? t.targetProfile : t.profile) ?? []);
      return profiles.length > 0 && found.some((f) => ctx.conforms(profiles, f.value, f.at));
    }
    default:
      return false;
  }
}
