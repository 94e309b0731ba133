import type { ElementDefinition } from 'fhir/r4';
import type { Issue } from '../../fhir/errors';
import { compareToBound, showBound } from './bounds';
import { buildTree, CORE, deepEqual, isObject, matchesPattern, childValues, type Json, type Node } from './element-tree';
import { bundleScope, containedScope, referencedType, resolveReference, type Scope } from './references';
import { discriminates, slicingOf, type SliceContext } from './slicing';
import type { Terminology } from './terminology';

/**
 * A profile's snapshot compiled once into a tree of element checks (validation.html#profile):
 * cardinality, allowed types of choice elements, fixed and pattern values, maxLength,
 * minValue/maxValue, slicing (value, pattern, exists, type and profile discriminators; open,
 * closed and openAtEnd rules; ordered slices), required and extensible bindings, the profile's own
 * invariants (FHIRPath, compiled once), the profiles a value's type must conform to
 * (ElementDefinition.type.profile) and those a Reference's target must conform to
 * (targetProfile). Every issue carries the FHIRPath of the element it is about.
 *
 * Other profiles are found through a ProfileResolver given per call; without one, only what this
 * profile says by itself is checked.
 */
export interface ProfileResolver {
  /** The compiled checker of any StructureDefinition: resource, data type or extension profile. */
  checker(url: string): ProfileChecker | undefined;
}

export interface CheckOptions {
  resolver?: ProfileResolver;
  /** FHIRPath of the value checked (default: the profile's type). */
  at?: string;
  /** Resources reachable without I/O, e.g. the other entries of the Bundle the resource came in. */
  scope?: Scope;
}

interface Context {
  resolver?: ProfileResolver;
  scope: Scope;
  /** Results per value and profile within one check: a target referenced ten times is checked once, and cycles end. */
  memo: Map<object, Map<string, Issue[]>>;
  depth: number;
  /**
   * Whether the targets of references are checked against their target profiles. A target is
   * checked with this off: its own references are checked by type only, so one broken resource
   * is reported where it is referenced, not again at every reference that leads to it.
   */
  followTargets: boolean;
}

/** Nested profile checks (a target's targets …) stop here; a real document is far shallower. */
const MAX_DEPTH = 12;
const isError = (i: Issue): boolean => i.severity === 'error' || i.severity === 'fatal';
const brief = (issues: Issue[]): string => issues.filter(isError).slice(0, 3).map((i) => `${i.expression?.[0] ?? ''}: ${i.diagnostics}`).join('; ');

/** The type a profile constrains, when known without compiling it (core definitions) or from its checker. */
function profileType(url: string, resolver: ProfileResolver | undefined): string | undefined {
  const canonical = url.split('|')[0];
  if (canonical.startsWith(CORE)) return canonical.slice(CORE.length);
  return resolver?.checker(canonical)?.type;
}

export class ProfileChecker {
  private readonly root: Node;
  /** The type this profile constrains: a resource type, a data type, or `Extension`. */
  readonly type: string;
  /** An extension definition whose extension changes the meaning of what holds it (isModifier). */
  readonly modifier: boolean;

  /** `contexts`: where an extension may be used (StructureDefinition.context), for extension definitions. */
  constructor(readonly url: string, elements: ElementDefinition[], private readonly terminology: Terminology, coreKeys: ReadonlySet<string>,
    readonly contexts: readonly { type: string; expression: string }[] = []) {
    this.root = buildTree(elements, coreKeys);
    this.type = this.root.def.path;
    this.modifier = this.root.def.isModifier === true;
  }

  /** A resource against this profile. */
  check(resource: unknown, options: CheckOptions = {}): Issue[] {
    const at = options.at ?? this.type;
    if (!isObject(resource) || resource.resourceType !== this.type) {
      return [{ severity: 'error', code: 'invalid', diagnostics: `Profile ${this.url} is for ${this.type}`, expression: [at] }];
    }
    return this.run(resource, at, { resolver: options.resolver, scope: options.scope ?? {}, memo: new Map(), depth: 0, followTargets: true });
  }

  /** A value of a data type (an extension, an Identifier …) against this profile. */
  checkValue(value: unknown, at: string, options: CheckOptions = {}): Issue[] {
    return this.run(value, at, { resolver: options.resolver, scope: options.scope ?? {}, memo: new Map(), depth: 0, followTargets: true });
  }

  /** Memoised per value within one check; a resource brings its own Bundle entries and contained resources into scope. */
  private run(value: unknown, at: string, ctx: Context): Issue[] {
    const key = isObject(value) ? value : undefined;
    const memoKey = ctx.followTargets ? this.url : `${this.url} (targets by type)`;
    const cached = key && ctx.memo.get(key)?.get(memoKey);
    if (cached) return cached;
    if (key) {
      if (!ctx.memo.has(key)) ctx.memo.set(key, new Map());
      ctx.memo.get(key)?.set(memoKey, []); // a cycle back to this value counts as conforming
    }
    let inner = ctx;
    if (isObject(value) && typeof value.resourceType === 'string') {
      const isContained = [...ctx.scope.contained?.values() ?? []].some((c) => c.resource === value);
      inner = { ...ctx, scope: {
        bundle: value.resourceType === 'Bundle' ? bundleScope(value, at) : ctx.scope.bundle,
        contained: containedScope(value, at) ?? (isContained ? ctx.scope.contained : undefined),
      } };
    }
    const issues: Issue[] = [];
    this.element(this.root, value, at, inner, issues);
    if (key) ctx.memo.get(key)?.set(memoKey, issues);
    return issues;
  }

  /** One value of an element: its invariants, then each child element. */
  private element(node: Node, value: unknown, at: string, ctx: Context, issues: Issue[]): void {
    for (const inv of node.invariants) {
      let ok = false;
      try {
        const result = inv.run(value);
        ok = result.length === 0 || result.every((r) => r === true);
      } catch {
        ok = false;
      }
      if (!ok) issues.push({ severity: inv.severity, code: 'invariant', diagnostics: `${inv.key}: ${inv.human}`, expression: [at] });
    }
    if (!isObject(value)) return;
    for (const child of node.children) this.child(child, value, at, ctx, issues);
  }

  private child(node: Node, parent: Json, at: string, ctx: Context, issues: Issue[]): void {
    const found = childValues(parent, node.name);
    const def = node.def;
    const count = found.reduce((n, f) => n + f.values.length, 0);
    const where = `${at}.${found[0]?.key ?? node.name.replace('[x]', '')}`;
    if (count < (def.min ?? 0)) {
      issues.push({ severity: 'error', code: 'required', diagnostics: `${def.path}: minimum ${def.min}, found ${count}`, expression: [where] });
    }
    if (def.max !== undefined && def.max !== '*' && count > Number(def.max)) {
      issues.push({ severity: 'error', code: 'structure', diagnostics: `${def.path}: maximum ${def.max}, found ${count}`, expression: [where] });
    }
    if (count === 0) return;
    const choice = node.name.endsWith('[x]');
    const codes = node.codes;
    const items: Item[] = [];
    for (const f of found) {
      const suffix = f.key.slice(node.name.length - 3);
      if (choice && !codes.has(suffix)) {
        issues.push({ severity: 'error', code: 'structure', diagnostics: `${def.path}: type ${suffix} is not allowed here (${[...codes.keys()].join(', ')})`, expression: [`${at}.${f.key}`] });
        continue;
      }
      const many = Array.isArray(parent[f.key]);
      const type = choice ? codes.get(suffix) : def.type?.length === 1 ? def.type[0].code : undefined;
      f.values.forEach((v, i) => items.push({ value: v, at: many ? `${at}.${f.key}[${i}]` : `${at}.${f.key}`, type }));
    }
    if (node.slices.length > 0) this.sliced(node, items, where, ctx, issues);
    for (const item of items) this.values(node, item, ctx, issues);
  }

  /** Fixed, pattern, length, bounds, binding and profile checks on one value, then its own children. */
  private values(node: Node, item: Item, ctx: Context, issues: Issue[]): void {
    const { value, at } = item;
    const def = node.def;
    const { fixed, pattern } = node;
    if (fixed !== undefined && !deepEqual(value, fixed)) {
      issues.push({ severity: 'error', code: 'value', diagnostics: `${def.path} must be exactly ${JSON.stringify(fixed).slice(0, 200)}`, expression: [at] });
    }
    if (pattern !== undefined && !matchesPattern(value, pattern)) {
      issues.push({ severity: 'error', code: 'value', diagnostics: `${def.path} must match ${JSON.stringify(pattern).slice(0, 200)}`, expression: [at] });
    }
    if (def.maxLength !== undefined && typeof value === 'string' && value.length > def.maxLength) {
      issues.push({ severity: 'error', code: 'too-long', diagnostics: `${def.path} is longer than ${def.maxLength} characters`, expression: [at] });
    }
    if (node.minValue || node.maxValue) this.bounds(node, value, at, issues);
    if (def.binding?.valueSet && (def.binding.strength === 'required' || def.binding.strength === 'extensible')) {
      issues.push(...this.terminology.checkBinding(value, def.binding.valueSet, def.binding.strength, at));
    }
    for (const extra of node.additionalBindings) issues.push(...this.terminology.checkBinding(value, extra.valueSet, extra.strength, at));
    const resourceType = isObject(value) && typeof value.resourceType === 'string' ? value.resourceType : undefined;
    const profiles = node.typeProfiles.get(item.type ?? resourceType ?? '') ?? (resourceType ? node.typeProfiles.get(resourceType) : undefined);
    if (profiles && ctx.resolver) this.typeProfile(def, profiles, value, at, ctx, issues);
    if (node.targetProfiles.length > 0 && isObject(value)) this.target(def, node.targetProfiles, value, at, ctx, issues);
    this.element(node, value, at, ctx, issues);
  }

  /** minValue[x] / maxValue[x]. */
  private bounds(node: Node, value: unknown, at: string, issues: Issue[]): void {
    for (const [bound, bad, word, side] of [[node.minValue, -1, 'below the minimum', 'min'], [node.maxValue, 1, 'above the maximum', 'max']] as const) {
      if (bound && compareToBound(bound.type, value, bound.value, side) === bad) {
        issues.push({ severity: 'error', code: 'value', diagnostics: `${node.def.path}: ${showBound(value)} is ${word} ${showBound(bound.value)}`, expression: [at] });
      }
    }
  }

  /** Issues of `value` against each of `urls` (undefined for a profile the resolver does not know). */
  private against(urls: string[], value: unknown, at: string, ctx: Context, followTargets = ctx.followTargets): (Issue[] | undefined)[] {
    if (ctx.depth >= MAX_DEPTH) return urls.map(() => []);
    const nested = { ...ctx, depth: ctx.depth + 1, followTargets };
    return urls.map((url) => ctx.resolver?.checker(url)?.run(value, at, nested));
  }

  /** ElementDefinition.type.profile: the value conforms to at least one of the listed profiles. */
  private typeProfile(def: ElementDefinition, profiles: string[], value: unknown, at: string, ctx: Context, issues: Issue[]): void {
    const results = this.against(profiles, value, at, ctx);
    if (results.some((r) => r !== undefined && !r.some(isError))) return;
    const known = results.filter((r): r is Issue[] => r !== undefined);
    if (known.length === 0) {
      issues.push({ severity: 'warning', code: 'not-supported', diagnostics: `${def.path}: profile ${profiles.join(', ')} is not known to this server; the value was not checked against it`, expression: [at] });
    } else if (profiles.length === 1) {
      issues.push(...known[0]);
    } else {
      issues.push({ severity: 'error', code: 'structure', diagnostics: `${def.path}: the value conforms to none of ${profiles.join(', ')} (${brief(known[0])})`, expression: [at] });
    }
  }

  /** targetProfile: the referenced type is one the profiles allow, and a target found without I/O conforms to one of them. */
  private target(def: ElementDefinition, profiles: string[], reference: Json, at: string, ctx: Context, issues: Issue[]): void {
    const { type, target } = referencedType(reference, ctx.scope);
    if (type === undefined) return;
    const types = profiles.map((p) => profileType(p, ctx.resolver));
    if (types.includes(undefined)) return; // a profile we cannot read might allow anything
    const fitting = profiles.filter((_, i) => types[i] === type || types[i] === 'Resource' || types[i] === 'DomainResource');
    if (fitting.length === 0) {
      issues.push({ severity: 'error', code: 'structure', diagnostics: `${def.path}: a reference to ${type} is not allowed here (${[...new Set(types)].join(', ')})`, expression: [at] });
      return;
    }
    if (!target || !ctx.followTargets || !ctx.resolver || fitting.some((p) => p.split('|')[0].startsWith(CORE))) return;
    const results = this.against(fitting, target.resource, target.at, ctx, false);
    if (results.some((r) => r === undefined || !r.some(isError))) return;
    issues.push({
      severity: 'error', code: 'structure', expression: [at],
      diagnostics: `${def.path}: the ${type} at ${target.at} conforms to none of ${fitting.join(', ')} (${brief(results[0] ?? [])})`,
    });
  }

  private sliceContext(ctx: Context): SliceContext {
    return {
      conforms: (profiles, value, at) => {
        if (!ctx.resolver) return false;
        const type = isObject(value) && typeof value.resourceType === 'string' ? value.resourceType : undefined;
        if (profiles.some((p) => p.split('|')[0] === `${CORE}${type ?? ''}`)) return true; // a type's own definition: its type decides
        // A resource conforms only to profiles of its own type (a Practitioner never to a Patient profile).
        const fitting = type === undefined ? profiles : profiles.filter((p) => {
          const constrained = profileType(p, ctx.resolver);
          return constrained === undefined || constrained === type || constrained === 'Resource' || constrained === 'DomainResource';
        });
        return this.against(fitting, value, at, ctx).some((r) => r !== undefined && !r.some(isError));
      },
      resolve: (reference) => (typeof reference.reference === 'string' ? resolveReference(reference.reference, ctx.scope) : undefined),
    };
  }

  /** Assigns each value to the slice its discriminators pick, then checks each slice's cardinality and rules. */
  private sliced(node: Node, items: Item[], where: string, ctx: Context, issues: Issue[]): void {
    const slicing = slicingOf(node);
    if (!slicing) return;
    const sliceCtx = this.sliceContext(ctx);
    const counts = new Map<Node, number>(node.slices.map((s) => [s, 0]));
    let lastSlice = -1;
    for (const item of items) {
      const index = node.slices.findIndex((s) => (slicing.discriminator ?? []).every((d) => discriminates(s, d, item.value, item.at, sliceCtx)));
      if (index < 0) {
        if (slicing.rules === 'closed') {
          issues.push({ severity: 'error', code: 'structure', diagnostics: `${node.def.path}: this value matches none of the slices and the slicing is closed`, expression: [item.at] });
        }
        if (slicing.rules === 'openAtEnd') lastSlice = Number.MAX_SAFE_INTEGER;
        continue;
      }
      const slice = node.slices[index];
      if (slicing.ordered && index < lastSlice && lastSlice !== Number.MAX_SAFE_INTEGER) {
        issues.push({ severity: 'error', code: 'structure', diagnostics: `${node.def.path}: slice ${slice.def.sliceName} is out of order`, expression: [item.at] });
      }
      if (slicing.rules === 'openAtEnd' && lastSlice === Number.MAX_SAFE_INTEGER) {
        issues.push({ severity: 'error', code: 'structure', diagnostics: `${node.def.path}: slice ${slice.def.sliceName} follows an unsliced value (openAtEnd)`, expression: [item.at] });
      }
      lastSlice = Math.max(lastSlice, index);
      counts.set(slice, (counts.get(slice) ?? 0) + 1);
      this.values(slice, item, ctx, issues);
    }
    for (const [slice, count] of counts) {
      const { min = 0, max } = slice.def;
      if (count < min) {
        issues.push({ severity: 'error', code: 'required', diagnostics: `${node.def.path}: slice '${slice.def.sliceName}' needs at least ${min}, found ${count}`, expression: [where] });
      }
      if (max !== undefined && max !== '*' && count > Number(max)) {
        issues.push({ severity: 'error', code: 'structure', diagnostics: `${node.def.path}: slice '${slice.def.sliceName}' allows at most ${max}, found ${count}`, expression: [where] });
      }
    }
  }
}

interface Item {
  value: unknown;
  at: string;
  /** The value's type code, when the element says (a choice's suffix, or its only type). */
  type?: string;
}
