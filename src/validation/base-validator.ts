import type { Issue } from '../fhir/errors';
import { isResourceType } from '../fhir/definitions';
import { schemaIssues } from './base-schema';
import { jsonRuleIssues } from './json-rules';
import { baseRules } from './base-rules/model';
import { baseRuleIssues } from './base-rules/walk';
import { bundleRuleIssues } from './bundle-rules';
import type { Terminology } from './profiles/terminology';

export interface BaseValidationContext {
  /** The type named by the URL: `resourceType` must equal it. */
  expectedType?: string;
  /** The id named by the URL on update: the body's `id` must be present and equal it (http.html#update). */
  expectedId?: string;
  maxDepth?: number;
  /** The ValueSets that R4's required and extensible bindings are checked against. */
  terminology?: Terminology;
}

const issue = (code: Issue['code'], diagnostics: string, expression: string): Issue =>
  ({ severity: 'error', code, diagnostics, expression: [expression] });

/**
 * Base validation of one resource: its identity against the URL, the JSON rules, then the R4
 * schema. JSON rules run first so that nulls and prototype keys never reach ajv. Returns every
 * problem found; an empty list means valid.
 */
export function validateBase(body: unknown, ctx: BaseValidationContext = {}): Issue[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return [issue('structure', 'The body must be a JSON object holding a FHIR resource', '')];
  }
  const resource = body as Record<string, unknown>;
  const type = resource.resourceType;
  if (typeof type !== 'string') return [issue('required', 'The resource has no resourceType', 'resourceType')];
  if (!isResourceType(type)) return [issue('not-supported', `'${type}' is not a FHIR R4 resource type`, 'resourceType')];
  if (ctx.expectedType !== undefined && type !== ctx.expectedType) {
    return [issue('invalid', `resourceType '${type}' does not match the URL's type '${ctx.expectedType}'`, 'resourceType')];
  }
  const identity: Issue[] = [];
  if (ctx.expectedId !== undefined) {
    if (resource.id === undefined) identity.push(issue('invalid', `The resource must carry id '${ctx.expectedId}', as in the URL`, `${type}.id`));
    else if (resource.id !== ctx.expectedId) {
      identity.push(issue('invalid', `id '${String(resource.id)}' does not match the URL's id '${ctx.expectedId}'`, `${type}.id`));
    }
  }
  const rules = jsonRuleIssues(resource, type, ctx.maxDepth ?? 64);
  if (rules.some((i) => i.severity === 'fatal')) return [...identity, ...rules];
  // A value the JSON rules already reported (e.g. an empty string) is not reported twice.
  const reported = new Set(rules.map((i) => i.expression?.[0]));
  const schema = schemaIssues(resource, type).filter((i) => !reported.has(i.expression?.[0]));
  for (const i of schema) reported.add(i.expression?.[0]);
  // R4's cardinalities, invariants and bindings (base-rules/): one issue per location, the first found.
  const structural = baseRuleIssues(baseRules(), resource, type, { terminology: ctx.terminology })
    .filter((i) => !reported.has(i.expression?.[0]) || (i.code === 'invariant' && !i.diagnostics.startsWith('ele-1')));
  const bundle = type === 'Bundle' ? bundleRuleIssues(resource) : [];
  return [...identity, ...rules, ...schema, ...structural, ...bundle];
}
