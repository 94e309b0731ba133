/**
 * What a resource is findable by: typed index rows, backend-neutral. The same value definitions
 * (values.ts) produce these rows at write time and interpret search values at query time.
 * `key` names the parameter (`Patient.identifier`); `grp` ties a composite's component rows
 * that came from the same base value (0 for ordinary parameters).
 */
export interface TokenRow { key: string; grp: number; system: string; code: string; text?: string }
export interface StringRow { key: string; grp: number; norm: string; exact: string }
export interface DateRow { key: string; grp: number; lo: number; hi: number }
export interface NumberRow { key: string; grp: number; value: number }
export interface QuantityRow { key: string; grp: number; system: string; code: string; value: number }
export interface ReferenceRow { key: string; grp: number; type: string; id: string; url: string }
export interface UriRow { key: string; grp: number; uri: string }

export interface IndexRows {
  token: TokenRow[];
  string: StringRow[];
  date: DateRow[];
  number: NumberRow[];
  quantity: QuantityRow[];
  reference: ReferenceRow[];
  uri: UriRow[];
}

export function emptyRows(): IndexRows {
  return { token: [], string: [], date: [], number: [], quantity: [], reference: [], uri: [] };
}

export function rowCount(rows: IndexRows): number {
  return rows.token.length + rows.string.length + rows.date.length + rows.number.length + rows.quantity.length + rows.reference.length + rows.uri.length;
}

export function appendRows(into: IndexRows, from: IndexRows): void {
  into.token.push(...from.token);
  into.string.push(...from.string);
  into.date.push(...from.date);
  into.number.push(...from.number);
  into.quantity.push(...from.quantity);
  into.reference.push(...from.reference);
  into.uri.push(...from.uri);
}

/** Earliest and latest representable instants, for open-ended periods. */
export const MIN_MS = -8.64e15;
export const MAX_MS = 8.64e15;
