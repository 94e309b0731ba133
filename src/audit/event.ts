import type { AuditEvent, AuditEventEntity, Extension } from 'fhir/r4';

/**
 * One AuditEvent per interaction (R4 AuditEvent, with the RESTful interaction as subtype): who
 * (agent, role, network address), what (each record with its version, and each patient it is
 * about, so a patient can search "who looked at my data"), why (purpose, consents used, a
 * break-the-glass reason), the outcome and the request id. Pure.
 */
export const REQUEST_ID_URL = 'https://abdm-fhir-gateway.github.io/fhir/StructureDefinition/audit-request-id';
export const BREAK_GLASS_URL = 'https://abdm-fhir-gateway.github.io/fhir/StructureDefinition/audit-break-glass-reason';

export type AuditAction = AuditEvent['action'];

/** A record the interaction touched. */
export interface AuditEntity {
  /** `Type/id`, and its version when known. */
  type: string;
  id: string;
  versionId?: number;
  /** Patients whose compartment holds it. */
  patients: string[];
}

export interface AuditFacts {
  interaction: string;
  action: AuditAction;
  recorded: string;
  /** HTTP status of the response. */
  status: number;
  requestId: string;
  clientAddress?: string;
  agent: { kind: string; subject: string; fhirUser?: string };
  purpose: string;
  breakGlassReason?: string;
  consents: string[];
  entities: AuditEntity[];
}

/** Interaction name → AuditEvent.action (R4 audit-event-action): searches and operations execute. */
export function actionOf(interaction: string): AuditAction {
  if (interaction === 'read' || interaction === 'vread' || interaction.startsWith('history-')) return 'R';
  if (interaction === 'create') return 'C';
  if (interaction === 'update' || interaction === 'patch' || interaction === 'conditional-update' || interaction === 'conditional-patch') return 'U';
  if (interaction === 'delete' || interaction === 'conditional-delete') return 'D';
  return 'E';
}

/** restful-interaction codes (R4) for our interaction names; operations are `operation`. */
function subtype(interaction: string): string {
  if (interaction.startsWith('conditional-')) return interaction.slice('conditional-'.length);
  if (interaction.startsWith('validate') || interaction.startsWith('document-') || interaction === 'consent-from-artefact' || interaction === 'verify-audit' || interaction === 'abdm-request-data') return 'operation';
  return interaction;
}

const outcome = (status: number): AuditEvent['outcome'] => (status < 400 ? '0' : status < 500 ? '4' : '8');

export function auditEvent(facts: AuditFacts): AuditEvent {
  const entity: AuditEventEntity[] = [];
  const patients = new Set<string>();
  for (const e of facts.entities) {
    entity.push({
      what: { reference: `${e.type}/${e.id}${e.versionId !== undefined ? `/_history/${e.versionId}` : ''}` },
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' },
    });
    for (const p of e.patients) patients.add(p);
  }
  for (const p of patients) {
    entity.push({
      what: { reference: `Patient/${p}` },
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' },
      role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' },
    });
  }
  for (const c of facts.consents) {
    entity.push({ what: { reference: `Consent/${c}` }, description: 'consent that permitted the access' });
  }
  const purpose = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: facts.purpose }] }];
  const extension: Extension[] = [{ url: REQUEST_ID_URL, valueString: facts.requestId }];
  if (facts.breakGlassReason !== undefined) extension.push({ url: BREAK_GLASS_URL, valueString: facts.breakGlassReason });
  const event: AuditEvent = {
    resourceType: 'AuditEvent',
    extension,
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
    subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: subtype(facts.interaction) }],
    action: facts.action,
    recorded: facts.recorded,
    outcome: outcome(facts.status),
    outcomeDesc: `HTTP ${facts.status}`,
    purposeOfEvent: purpose,
    agent: [{
      type: { coding: [{ system: 'https://abdm-fhir-gateway.github.io/fhir/CodeSystem/principal-kind', code: facts.agent.kind }] },
      who: facts.agent.fhirUser ? { reference: facts.agent.fhirUser } : { identifier: { value: facts.agent.subject || 'anonymous' } },
      requestor: true,
      purposeOfUse: purpose,
      network: facts.clientAddress ? { address: facts.clientAddress, type: '2' } : undefined,
    }],
    source: {
      observer: { display: 'abdm-fhir-gateway' },
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
    },
  };
  if (entity.length > 0) event.entity = entity;
  if (!event.agent[0].network) delete event.agent[0].network;
  return event;
}
