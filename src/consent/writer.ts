import type { Coding, Resource } from 'fhir/r4';

/**
 * Who wrote a record, kept by the server as a tag (`meta.tag`, this system, the writer's
 * `fhirUser` as code), so a facility or doctor can read and correct the records they wrote
 * without a consent: data they already hold. Clients cannot set or forge it: any tag of this
 * system they send is replaced by the truth.
 */
export const WRITER_SYSTEM = 'https://abdm-fhir-gateway.github.io/fhir/CodeSystem/record-writer';

/** The resource with its writer tag set to `writer` (or removed when the writer is not a practitioner or organisation). */
export function stampWriter<T extends Resource>(resource: T, writer: string | undefined): T {
  const others: Coding[] = (resource.meta?.tag ?? []).filter((t) => t.system !== WRITER_SYSTEM);
  const tag = writer === undefined ? others : [...others, { system: WRITER_SYSTEM, code: writer }];
  const hadWriterTag = (resource.meta?.tag ?? []).some((t) => t.system === WRITER_SYSTEM);
  if (!hadWriterTag && writer === undefined) return resource;
  const { tag: _dropped, ...rest } = resource.meta ?? {};
  return { ...resource, meta: tag.length > 0 ? { ...rest, tag } : rest };
}
