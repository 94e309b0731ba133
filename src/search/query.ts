/**
 * The search AST: a query string parsed once (parse.ts) into typed conditions that each store
 * plans into its own query language. No store ever sees raw request text.
 */
export const PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'] as const;
export type Prefix = (typeof PREFIXES)[number];

/** A range of values [lo, hi): a date's period, or a number's implicit precision. */
export interface Ranged { prefix: Prefix; lo: number; hi: number; value: number }

export interface TokenValue { system?: string; code?: string }
export interface ReferenceValue { type?: string; id?: string; url?: string }
export interface QuantityValue extends Ranged { system?: string; code?: string }

export type Condition =
  | { kind: 'id'; values: string[]; not?: boolean }
  /**
   * `_lastUpdated`, answered from the version's own timestamp rather than an index row (every
   * resource has exactly one). `missing` is only set by `:missing` (true: matches nothing).
   */
  | { kind: 'last-updated'; values: Ranged[]; missing?: boolean }
  | { kind: 'token'; key: string; values: TokenValue[]; not?: boolean }
  | { kind: 'token-text'; key: string; values: string[] }
  /** `:in`/`:not-in` a ValueSet (by canonical URL); replaced by a token condition before planning. */
  | { kind: 'token-in'; key: string; valueSet: string; not: boolean }
  | { kind: 'string'; key: string; match: 'starts' | 'exact' | 'contains'; values: string[] }
  | { kind: 'date'; key: string; values: Ranged[] }
  | { kind: 'number'; key: string; values: Ranged[] }
  | { kind: 'quantity'; key: string; values: QuantityValue[] }
  | { kind: 'reference'; key: string; values: ReferenceValue[] }
  | { kind: 'uri'; key: string; match: 'exact' | 'below' | 'above'; values: string[] }
  /** OR over tuples; each tuple's conditions must hold on the same composite base value. */
  | { kind: 'composite'; key: string; tuples: Condition[][] }
  /** No value (missing) or some value under any of `keys` (several for a union parameter). */
  | { kind: 'missing'; keys: string[]; table: IndexTable; missing: boolean }
  | { kind: 'or'; any: Condition[] }
  /** Every one of `all` (within an OR: a consent's patient, types and date range together). */
  | { kind: 'and'; all: Condition[] }
  /** The resource is of one of these types (none: matches nothing). Access restrictions use it. */
  | { kind: 'type'; types: string[] }
  /** `subject:Patient.name=x`: a reference whose target satisfies `where`. */
  | { kind: 'chain'; key: string; targetTypes: string[]; where: Condition }
  /** `_has:Observation:subject:code=x`: resources referenced by a `type` resource satisfying `where`. */
  | { kind: 'has'; type: string; key: string; where: Condition };

export type IndexTable = 'token' | 'string' | 'date' | 'number' | 'quantity' | 'reference' | 'uri';

export type SortKey =
  | { by: '_id' | '_lastUpdated'; desc: boolean }
  | { by: 'index'; key: string; table: 'token' | 'string' | 'date' | 'number' | 'quantity' | 'uri' | 'reference'; desc: boolean };

export interface SearchQuery {
  /** One type for a type search; several (or all) for a system search. */
  types: string[];
  where: Condition[];
  sort: SortKey[];
  count: number;
  offset: number;
  total: 'none' | 'estimate' | 'accurate';
  /**
   * A budget for the page's resources (their stored JSON, in characters): a page that would pass
   * it ends early, with more to follow, so a response's size does not grow with _count × size.
   * At least one match is always returned.
   */
  maxBytes?: number;
}

export interface IncludeSpec {
  /** `Observation:subject[:Patient]`; `*` for every reference parameter of the source type. */
  sourceType: string;
  keys: string[];
  targetType?: string;
  iterate: boolean;
}
