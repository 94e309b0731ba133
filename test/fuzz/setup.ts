import { SEED_IDS } from './generate';
import type { Answer, Send } from './drive';
import type { FuzzRequest } from './generate';
import type request from 'supertest';

const FHIR = 'application/fhir+json';

/** Resources the generated requests refer to, written with plain PUTs. */
export function seedRequests(): FuzzRequest[] {
  const put = (path: string, resource: object): FuzzRequest => ({ method: 'PUT', path, headers: { 'Content-Type': FHIR }, body: JSON.stringify(resource) });
  return [
    put('/fhir/Organization/o1', { resourceType: 'Organization', id: 'o1', name: 'Clinic' }),
    ...SEED_IDS.map((id) => put(`/fhir/Patient/${id}`, { resourceType: 'Patient', id, identifier: [{ system: 'urn:mrn', value: 'M1' }], name: [{ family: 'Sharma' }], managingOrganization: { reference: 'Organization/o1' } })),
    ...SEED_IDS.map((id) => put(`/fhir/Observation/${id}`, { resourceType: 'Observation', id, status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '718-7' }] }, subject: { reference: 'Patient/fz-1' }, valueQuantity: { value: 13, system: 'http://unitsofmeasure.org', code: 'g/dL' } })),
  ];
}

/** A Send over a supertest agent (createApp in-process). */
export function supertestSend(agent: ReturnType<typeof request>): Send {
  return async (req: FuzzRequest): Promise<Answer> => {
    const method = req.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete' | 'head' | 'options';
    let r = agent[method](req.path);
    for (const [name, value] of Object.entries(req.headers)) r = r.set(name, value);
    if (req.body !== undefined) r = r.send(req.body);
    const res = await r.buffer(true).parse((response, done) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { text += chunk; });
      response.on('end', () => done(null, text));
    });
    return { status: res.status, text: typeof res.body === 'string' ? res.body : '' };
  };
}
