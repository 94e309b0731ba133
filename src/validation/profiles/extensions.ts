import { isResourceType } from '../../fhir/definitions';
import type { Issue } from '../../fhir/errors';
import type { CheckOptions, ProfileResolver } from './checker';
import { isObject, type Json } from './element-tree';
import { bundleScope, containedScope } from './references';

/**
 * Extensions (extensibility.html): every `extension` and `modifierExtension`, at any depth (on
 * elements, on primitives via `_name`, inside contained resources and Bundle entries), is
 * resolved by its URL to its StructureDefinition and its content checked against it: the
 * allowed value[x] types, the cardinality of value and nested extensions, fixed and pattern
 * values, bindings, and where it may be used (StructureDefinition.context, when the context is
 * a path in a resource; a context naming a data type or Element is not judged, since the type of
 * the element holding the extension is not known here). Nested extensions with relative URLs
 * belong to their parent's definition.
 *
 * An extension nobody here defines is reported per policy; a modifier extension nobody here
 * defines is always an error: it may change the meaning of what holds it, so R4 does not let a
 * system process such a resource as if the modifier were not there
 * (extensibility.html#modifierExtension).
 */
export const UNKNOWN_EXTENSION_POLICIES = ['warning', 'error', 'ignore'] as const;
export type UnknownExtensionPolicy = (typeof UNKNOWN_EXTENSION_POLICIES)[number];

/** `ignore` still shows in $validate, as information; writes only refuse errors. */
const SEVERITY = { error: 'error', warning: 'warning', ignore: 'information' } as const satisfies Record<UnknownExtensionPolicy, Issue['severity']>;

interface Walk {
  resolver: ProfileResolver;
  policy: UnknownExtensionPolicy;
  options: CheckOptions;
  issues: Issue[];
}

/** FHIRPath names a primitive's extension holder `_birthDate` as `birthDate`. */
const elementName = (key: string): string => (key.startsWith('_') ? key.slice(1) : key);

/** `Observation.value[x]` names `Observation.valueQuantity` too. */
function samePath(expression: string, holder: string): boolean {
  const a = expression.split('.');
  const b = holder.split('.');
  return a.length === b.length && a.every((seg, i) => seg === b[i]
    || (seg.endsWith('[x]') && b[i].startsWith(seg.slice(0, -3)) && /^[A-Z]/.test(b[i].slice(seg.length - 3))));
}

/** Whether an extension may sit on the element at `holder` (its path in its resource, without indices). */
function allowedOn(contexts: readonly { type: string; expression: string }[], holder: string): boolean {
  if (contexts.length === 0) return true;
  return contexts.some((c) => {
    if (c.type !== 'element') return true; // fhirpath and extension contexts are not judged here
    const expression = c.expression.slice(c.expression.indexOf('#') + 1); // `{profile}#Immunization` names a path in a profile
    return !isResourceType(expression.split('.')[0]) || samePath(expression, holder);
  });
}

function visit(ext: unknown, at: string, holder: string, modifier: boolean, parentIsExtension: boolean, w: Walk): void {
  if (!isObject(ext) || typeof ext.url !== 'string') return; // the base rules require url
  const url = ext.url;
  const absolute = url.includes(':');
  if (parentIsExtension && !absolute) {
    walk(ext, at, 'Extension', true, w); // a part of a complex extension: its parent's definition covers it
    return;
  }
  const checker = w.resolver.checker(url);
  if (!checker) {
    if (parentIsExtension && !modifier) return; // an extra part of a known extension: the parent's slicing rules decide
    w.issues.push(modifier
      ? { severity: 'error', code: 'extension', expression: [at], diagnostics: `Modifier extension ${url} is not known to this server, and a resource with a modifier extension the system does not understand must not be processed (extensibility.html#modifierExtension)` }
      : { severity: SEVERITY[w.policy], code: 'extension', expression: [at], diagnostics: `Extension ${url} is not known to this server; its content was not checked` });
    return;
  }
  if (checker.type !== 'Extension') {
    w.issues.push({ severity: 'error', code: 'structure', expression: [at], diagnostics: `${url} defines a ${checker.type}, not an extension` });
    return;
  }
  if (checker.modifier !== modifier) {
    w.issues.push({
      severity: 'error', code: 'structure', expression: [at],
      diagnostics: checker.modifier ? `${url} is a modifier extension and belongs in modifierExtension` : `${url} is not a modifier extension and belongs in extension`,
    });
  }
  if (!parentIsExtension && !allowedOn(checker.contexts, holder)) {
    w.issues.push({
      severity: 'error', code: 'structure', expression: [at],
      diagnostics: `Extension ${url} may not be used on ${holder} (its contexts: ${checker.contexts.map((c) => c.expression).join(', ')})`,
    });
  }
  w.issues.push(...checker.checkValue(ext, at, w.options));
  walk(ext, at, 'Extension', true, w);
}

/** `holder`: the path of `value` within its resource (or data type), without indices, for extension contexts. */
function walk(value: Json, at: string, holder: string, isExtension: boolean, w: Walk): void {
  for (const [key, child] of Object.entries(value)) {
    const path = `${at}.${elementName(key)}`;
    const inner = `${holder}.${elementName(key)}`;
    const into = (v: unknown, p: string): void => {
      if (isObject(v)) walk(v, p, typeof v.resourceType === 'string' ? v.resourceType : inner, false, w);
    };
    if ((key === 'extension' || key === 'modifierExtension') && Array.isArray(child)) {
      child.forEach((ext: unknown, i) => visit(ext, `${path}[${i}]`, holder, key === 'modifierExtension', isExtension, w));
    } else if (Array.isArray(child)) {
      child.forEach((v: unknown, i) => into(v, `${path}[${i}]`));
    } else {
      into(child, path);
    }
  }
}

/** Whether anything below `value` carries an extension: most resources carry none, and then there is nothing to walk. */
function hasExtension(value: unknown, depth = 0): boolean {
  if (depth > 128 || typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (hasExtension(item, depth + 1)) return true;
    return false;
  }
  for (const key in value) {
    if (key === 'extension' || key === 'modifierExtension') return true;
    if (hasExtension((value as Json)[key], depth + 1)) return true;
  }
  return false;
}

/** Every extension problem in a resource; `resolver` knows the extension definitions. */
export function extensionIssues(resource: unknown, resolver: ProfileResolver, policy: UnknownExtensionPolicy): Issue[] {
  if (!isObject(resource) || typeof resource.resourceType !== 'string' || !hasExtension(resource)) return [];
  const at = resource.resourceType;
  // References in extension values (valueReference with a targetProfile) resolve among the resource's own parts.
  const scope = { bundle: at === 'Bundle' ? bundleScope(resource, at) : undefined, contained: containedScope(resource, at) };
  const w: Walk = { resolver, policy, options: { resolver, scope }, issues: [] };
  walk(resource, at, at, false, w);
  return w.issues;
}
