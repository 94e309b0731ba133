import { type Dice, deep, mutate, NUMBERS, STRINGS, toJson } from './values';

/**
 * Hostile requests for every interaction of http.html (read, vread, search, create, update,
 * patch, delete, history, batch/transaction, $validate, capabilities), each built from a valid
 * request with one or more things broken: the body, the query, the headers or the path.
 */
export interface FuzzRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

const FHIR = 'application/fhir+json';
const PATCH_TYPE = 'application/json-patch+json';
const FORM = 'application/x-www-form-urlencoded';
/** Ids the fuzzer's setup creates, so reads and writes also reach existing resources. */
export const SEED_IDS = ['fz-1', 'fz-2'] as const;
/** Kept well under Node's 16 KB header limit; larger lists go in POST _search bodies. */
const MAX_URL = 8_000;

const TYPES = ['Patient', 'Observation', 'Bundle', 'Organization', 'Parameters', 'Binary', 'patient', 'Foo', '$meta', '__proto__', 'constructor', '_history', 'metadata'];
const IDS = [...SEED_IDS, 'nobody', 'a'.repeat(64), 'a'.repeat(65), '..', '%2e%2e', '__proto__', 'constructor', 'x%00', 'id%20x', '%zz', '$validate', '-', '1'];
const VIDS = ['1', '0', '-1', '2', '1e3', 'abc', '99999999999999999999', '1.0', '%20'];

export function patient(d: Dice, id?: string): Record<string, unknown> {
  return {
    resourceType: 'Patient', ...(id ? { id } : {}), active: true,
    identifier: [{ system: 'urn:mrn', value: `M${d.int(50)}` }],
    name: [{ family: 'Sharma', given: ['Asha'] }], gender: 'female', birthDate: '1990-05-14',
    managingOrganization: { reference: 'Organization/o1' },
  };
}

/** R4's own profiles, so that malformed resources also reach the profile engine. */
const PROFILES = ['http://hl7.org/fhir/StructureDefinition/vitalsigns', 'http://hl7.org/fhir/StructureDefinition/bp', 'http://hl7.org/fhir/StructureDefinition/heartrate'];

function observation(d?: Dice): Record<string, unknown> {
  return {
    resourceType: 'Observation', ...(d?.chance(0.3) ? { meta: { profile: [d.pick(PROFILES)] } } : {}), status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    component: [{ code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 120, system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } }], code: { coding: [{ system: 'http://loinc.org', code: '718-7' }] },
    subject: { reference: 'Patient/fz-1' }, effectiveDateTime: '2024-01-01T10:00:00+05:30',
    valueQuantity: { value: 13.2, unit: 'g/dL', system: 'http://unitsofmeasure.org', code: 'g/dL' },
    contained: [{ resourceType: 'Organization', id: 'lab', name: 'Lab' }], performer: [{ reference: '#lab' }],
    extension: [{ url: 'http://example.org/x', valueString: 'x' }],
  };
}

function bundle(d: Dice, type: string): Record<string, unknown> {
  const entries = Array.from({ length: d.pick([1, 2, 5, 30]) }, (_, i) => entry(d, i));
  return { resourceType: 'Bundle', type, entry: entries };
}

function entry(d: Dice, i: number): Record<string, unknown> {
  const full = `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  switch (d.int(6)) {
    case 0: return { fullUrl: full, resource: patient(d), request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=urn:mrn|M1' } };
    case 1: return { fullUrl: full, resource: { ...observation(d), subject: { reference: full } }, request: { method: 'POST', url: 'Observation' } };
    case 2: return { resource: patient(d, 'fz-2'), request: { method: 'PUT', url: 'Patient/fz-2', ifMatch: 'W/"1"' } };
    case 3: return { request: { method: 'DELETE', url: d.pick(['Patient/nobody', 'Observation?code=x']) } };
    case 4: return { request: { method: 'GET', url: d.pick(['Patient/fz-1', 'Patient?name=x', 'Patient/fz-1/_history', 'metadata']) } };
    default: return {
      resource: { resourceType: 'Binary', contentType: PATCH_TYPE, data: Buffer.from(toJson(patchOps(d))).toString('base64') },
      request: { method: 'PATCH', url: 'Patient/fz-1' },
    };
  }
}

function patchOps(d: Dice): unknown {
  const ops = [{ op: 'replace', path: '/active', value: false }, { op: 'add', path: '/name/0/given/-', value: 'K' }, { op: 'test', path: '/gender', value: 'female' },
    { op: 'remove', path: '/birthDate' }, { op: 'copy', from: '/name/0', path: '/name/-' }, { op: 'move', from: '/gender', path: '/x' }];
  const list: unknown[] = Array.from({ length: 1 + d.int(3) }, () => d.pick(ops));
  return d.chance(0.8) ? mutate(d, list) : d.pick([null, {}, [], [null], 'x', [[]], [{ op: 'add', path: '/__proto__/x', value: 1 }]]);
}

function parameters(d: Dice): Record<string, unknown> {
  return { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: d.chance(0.5) ? patient(d) : observation(d) },
    { name: 'mode', valueCode: d.pick(['create', 'update', 'delete', 'bogus']) }, { name: 'profile', valueUri: d.pick(['http://x', 'x', '']) }] };
}

/** A body: usually a mutated resource as JSON, sometimes truncated, garbage or huge. */
function body(d: Dice, doc: unknown): string {
  const mutated = d.chance(0.85) ? Array.from({ length: 1 + d.int(3) }).reduce<unknown>((x) => mutate(d, x), doc) : doc;
  const text = toJson(mutated);
  switch (d.int(14)) {
    case 0: return text.slice(0, d.int(text.length));
    case 1: return d.pick(['', ' ', 'null', '[]', '{}', '"x"', '1e400', '{"resourceType":', '<Patient xmlns="http://hl7.org/fhir"/>', '\u0000\u0001', '{"a":1}}']);
    case 2: return toJson(deep(d.pick([65, 1_000, 50_000]), d.chance(0.5)));
    case 3: return `{"resourceType":"Patient","resourceType":"Observation"${text.slice(1)}`;
    case 4: return d.chance(0.05) ? `{"resourceType":"Patient","text":"${'x'.repeat(17 * 1024 * 1024)}"}` : text; // past MAX_BODY_SIZE
    default: return text;
  }
}

const PARAMS: Record<string, string[]> = {
  Patient: ['name', 'family', 'identifier', 'birthdate', 'gender', 'active', 'general-practitioner', 'organization', 'telecom', 'address-postalcode', 'death-date'],
  Observation: ['code', 'value-quantity', 'subject', 'patient', 'date', 'value-concept', 'code-value-quantity', 'component-code-value-quantity', 'focus', 'performer', 'value-string'],
  '': ['_id', '_lastUpdated', '_tag', '_profile', '_security', '_source', '_text', '_content', '_list', '_has', 'bogus'],
};
const MODIFIERS = ['', ':missing', ':exact', ':contains', ':not', ':text', ':in', ':not-in', ':below', ':above', ':Patient', ':identifier', ':of-type', ':bogus', '::', ':', ':Foo', ':missing:not'];
const VALUES = ['x', 'ge2024', 'xx2020', '2020-13-45', 'eq', 'gt', '1e400', 'NaN', '-', '|', '||', 'a|b|c', '$', '$$', 'a$b$c', 'ap5||', '5|http://unitsofmeasure.org|mg',
  'Patient/', 'Patient/fz-1', '/Patient/x', 'http://other/Patient/1', 'true', 'maybe', '', ',', ',,,', '\\', '\\,', '%', ...STRINGS, ...NUMBERS];
const RESULT = ['_count', '_offset', '_sort', '_total', '_include', '_revinclude', '_summary', '_elements', '_format', '_pretty', '_type', '_include:iterate', '_revinclude:iterate'];
const RESULT_VALUES = ['-1', '0', '1', '1000', '1001', '99999999999', '1e3', 'abc', '', '*', 'Patient:organization', 'Observation:subject', 'Observation:subject:Patient',
  'Patient:*', 'Foo:bar', 'Patient:name', '-name', 'name,-birthdate,_id', '-', ',', 'code-value-quantity', 'true', 'count', 'text', 'data', 'bogus', 'accurate',
  'estimate', 'xml', 'json', 'application/fhir+xml', 'id,name', '_lastUpdated', 'Patient,Observation', 'Foo', 'Patient,,'];

/** A parameter name, maybe with a modifier, maybe a chain or _has, in the spirit of search.html. */
function paramName(d: Dice, type: string): string {
  const own = Object.hasOwn(PARAMS, type) ? PARAMS[type] : [];
  const base = d.pick([...own, ...PARAMS['']]);
  if (d.chance(0.1)) {
    const links = 1 + d.int(6);
    return `${Array.from({ length: links }, () => d.pick(['subject', 'patient', 'focus', 'general-practitioner', 'organization', 'partof', 'subject:Patient', 'link', 'performer'])).join('.')}.${base}`;
  }
  if (d.chance(0.05)) return `_has:${d.pick(['Observation', 'Foo', ''])}:${d.pick(['subject', 'patient', 'code', ''])}:${d.chance(0.3) ? '_has:Observation:focus:' : ''}${base}`;
  return base + d.pick(MODIFIERS.slice(0, d.chance(0.7) ? 1 : MODIFIERS.length));
}

function paramValue(d: Dice): string {
  const pick = (): string => (d.chance(0.1) ? d.pick(['ge', 'le', 'ne', 'ap', 'sa', 'eb']) : '') + d.pick(VALUES);
  if (d.chance(0.05)) return Array.from({ length: d.pick([50, 500, 1_001, 3_000]) }, pick).join(',');
  if (d.chance(0.1)) return Array.from({ length: 2 + d.int(5) }, pick).join(',');
  return pick();
}

/** `[name, value]` pairs of a query: search parameters, result parameters, repetitions. */
export function queryPairs(d: Dice, type: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (let n = d.int(4); n > 0; n--) pairs.push([paramName(d, type), paramValue(d)]);
  for (let n = d.chance(0.4) ? 1 + d.int(3) : 0; n > 0; n--) pairs.push([d.pick(RESULT), d.pick(RESULT_VALUES)]);
  if (d.chance(0.04)) {
    const one: [string, string] = [paramName(d, type), paramValue(d)];
    for (let n = d.pick([50, 300, 1_200]); n > 0; n--) pairs.push(one);
  }
  return pairs;
}

/** %-encoding that writes a lone surrogate as the (invalid) UTF-8 bytes it would have had. */
function percent(s: string): string {
  try { return encodeURIComponent(s); } catch { return [...s].map((c) => (/[\ud800-\udfff]/.test(c) ? '%ED%A0%80' : encodeURIComponent(c))).join(''); }
}

/** Encoded, with the occasional broken %-escape left raw. */
export function encodeQuery(d: Dice, pairs: [string, string][]): string {
  const enc = (s: string): string => (d.chance(0.03) ? s.replace(/[^A-Za-z0-9_.:\-%|$,]/g, (c) => percent(c)) : percent(s));
  return pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
}

function headers(d: Dice, contentType?: string): Record<string, string> {
  const h: Record<string, string> = {};
  if (contentType !== undefined) {
    h['Content-Type'] = d.chance(0.85) ? contentType : d.pick([FHIR, 'application/json', PATCH_TYPE, 'application/fhir+xml', 'text/plain', FORM, 'multipart/form-data; boundary=x',
      `${FHIR}; charset=latin1`, `${FHIR}; fhirVersion=3.0`, `${FHIR}; charset=utf-16`, 'application/', '*/*', 'x', '']);
  }
  if (d.chance(0.15)) h['If-Match'] = d.pick(['W/"1"', 'W/"2"', '"1"', 'W/"-1"', 'W/"99999999999999999999"', '*', 'W/', 'garbage', 'W/"1", W/"2"']);
  if (d.chance(0.1)) h['If-None-Exist'] = d.pick(['identifier=urn:mrn|M1', '', '?', '%zz', 'bogus=1', `name=${'x'.repeat(3000)}`, '_has:Observation:subject:code=x', 'identifier=a&identifier=b', '_id=fz-1']);
  if (d.chance(0.1)) h.Prefer = d.pick(['return=minimal', 'return=representation', 'return=OperationOutcome', 'return=bogus', 'handling=strict', 'handling=lenient', 'respond-async', ';;;', 'return=']);
  if (d.chance(0.05)) h['If-None-Match'] = d.pick(['W/"1"', '*', 'garbage']);
  if (d.chance(0.05)) h['If-Modified-Since'] = d.pick(['Wed, 21 Oct 2015 07:28:00 GMT', 'garbage', '0', '9999-99-99']);
  if (d.chance(0.08)) h.Accept = d.pick(['application/fhir+xml', 'application/json', 'text/html', '*/*;q=x', 'application/fhir+json; fhirVersion=3.0', 'x/y', '']);
  return h;
}

function withQuery(path: string, query: string): string {
  return query ? `${path}?${query}`.slice(0, MAX_URL) : path;
}

/** One hostile request. */
export function generate(d: Dice): FuzzRequest {
  const type = d.chance(0.8) ? d.pick(['Patient', 'Observation']) : d.pick(TYPES);
  const id = d.chance(0.7) ? d.pick(SEED_IDS) : d.pick(IDS);
  const resource = (): unknown => (type === 'Observation' ? observation(d) : type === 'Bundle' ? bundle(d, d.pick(['collection', 'document', 'transaction', 'searchset'])) : patient(d));
  const query = (): string => encodeQuery(d, queryPairs(d, type));
  switch (d.int(16)) {
    case 0: return { method: 'GET', path: withQuery(`/fhir/${type}/${id}`, d.chance(0.2) ? query() : ''), headers: headers(d) };
    case 1: return { method: 'GET', path: `/fhir/${type}/${id}/_history/${d.pick(VIDS)}`, headers: headers(d) };
    case 2: case 3: return { method: 'GET', path: withQuery(`/fhir/${type}`, query()), headers: headers(d) };
    case 4: return { method: 'POST', path: `/fhir/${type}/_search`, headers: headers(d, FORM), body: encodeQuery(d, queryPairs(d, type)) };
    case 5: return { method: 'GET', path: withQuery(d.chance(0.5) ? '/fhir' : `/fhir/Patient/${id}/${d.pick(['Observation', 'Foo', 'Patient'])}`, query()), headers: headers(d) };
    case 6: return { method: 'POST', path: `/fhir/${type}`, headers: headers(d, FHIR), body: body(d, resource()) };
    case 7: return { method: 'PUT', path: d.chance(0.8) ? `/fhir/${type}/${id}` : withQuery(`/fhir/${type}`, query()), headers: headers(d, FHIR),
      body: body(d, type === 'Observation' ? { ...observation(d), id } : patient(d, id)) };
    case 8: return { method: 'PATCH', path: d.chance(0.8) ? `/fhir/${type}/${id}` : withQuery(`/fhir/${type}`, query()),
      headers: headers(d, d.chance(0.8) ? PATCH_TYPE : FHIR), body: d.chance(0.8) ? toJson(patchOps(d)) : body(d, parameters(d)) };
    case 9: return { method: 'DELETE', path: d.chance(0.7) ? `/fhir/${type}/${d.chance(0.3) ? id : d.pick(IDS)}` : withQuery(`/fhir/${type}`, query()), headers: headers(d) };
    case 10: {
      const level = d.pick([`/fhir/${type}/${id}/_history`, `/fhir/${type}/_history`, '/fhir/_history']);
      const pairs: [string, string][] = Array.from({ length: d.int(3) }, () => [d.pick(['_count', '_since', '_at', '_cursor', '_format', 'x']),
        d.pick(['0', '1', '-1', '99999999', 'abc', '2024-01-01', '2024-01-01T00:00:00Z', '2024', 'ge2024', '', 'eyJ4IjoxfQ', '1e400'])]);
      return { method: 'GET', path: withQuery(level, encodeQuery(d, pairs)), headers: headers(d) };
    }
    case 11: case 12: return { method: 'POST', path: '/fhir', headers: headers(d, FHIR), body: body(d, bundle(d, d.pick(['batch', 'transaction', 'transaction', 'collection']))) };
    case 13: {
      const path = d.chance(0.5) ? `/fhir/${type}/$validate` : `/fhir/${type}/${id}/$validate`;
      return { method: 'POST', path: withQuery(path, d.chance(0.3) ? encodeQuery(d, [[d.pick(['mode', 'profile']), d.pick(['create', 'update', 'delete', 'x', 'http://x'])]]) : ''),
        headers: headers(d, FHIR), body: body(d, d.chance(0.5) ? parameters(d) : resource()) };
    }
    case 14: return { method: 'GET', path: withQuery('/fhir/metadata', d.chance(0.5) ? encodeQuery(d, [[d.pick(['mode', '_format', '_summary']), d.pick(RESULT_VALUES)]]) : ''), headers: headers(d) };
    default: return { method: d.pick(['HEAD', 'OPTIONS', 'POST', 'PUT', 'DELETE'] as const), path: d.pick(['/fhir/', '/fhir//Patient', `/fhir/${type}/${id}/x/y/z`, '/fhir/%', '/fhir/Patient/_history/1', '/fhir/$validate']),
      headers: headers(d, FHIR), body: d.chance(0.5) ? body(d, resource()) : undefined };
  }
}

