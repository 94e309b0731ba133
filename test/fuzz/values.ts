import { random } from '../helpers/random';

/**
 * The fuzzer's dice and its stock of hostile values. JSON is written by hand (`Raw` splices text
 * verbatim) so bodies can hold what JSON.stringify never writes: 1e400, -0, 30-digit integers.
 */
export class Dice {
  private readonly next: () => number;
  constructor(seed: number) { this.next = random(seed); }
  float(): number { return this.next(); }
  int(n: number): number { return Math.floor(this.next() * n); }
  chance(p: number): boolean { return this.next() < p; }
  pick<T>(items: readonly T[]): T { return items[this.int(items.length)]; }
}

export class Raw { constructor(readonly text: string) {} }

/** JSON text of a value that may hold Raw pieces. Keys are written as given (including `__proto__`). */
export function toJson(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** An object whose keys include ones that could reach a prototype (assigned with defineProperty). */
export function withKey(target: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });
  return target;
}

export const STRINGS = [
  '', ' ', 'x', '__proto__', 'constructor', 'prototype', '\u0000', '\ud800', '\u202e', 'नमस्ते', '<script>alert(1)</script>',
  '#', '#x', 'urn:uuid:', 'urn:uuid:not-a-uuid', 'Patient/', 'Patient/../../x', 'http://', 'Patient?name=x', '%', '%zz',
  '1990-02-30', '2020-13-45T25:61:61Z', '9999-12-31T23:59:59.999999999+14:00', 'W/"1"', '\\', '\\,', '|', '$', 'null', 'true',
];

export const NUMBERS = ['1e400', '-1e400', '-0', '123456789012345678901234567890', '0.0000000000000000000001', '1.5', '-1', '9007199254740993', '1E+2'];

export function hostileScalar(d: Dice, small = false): unknown {
  switch (d.int(small ? 4 : 8)) {
    case 0: return null;
    case 1: return d.pick([true, false]);
    case 2: return new Raw(d.pick(NUMBERS));
    case 3: return d.pick(STRINGS);
    case 4: return 'x'.repeat(d.pick([65, 1_000, 1_000, 70_000]));
    case 5: return {};
    case 6: return [];
    default: return d.int(1000) - 500;
  }
}

/** `depth` levels of objects or arrays (past the server's nesting limit when depth is large). */
export function deep(depth: number, arrays: boolean): Raw {
  const open = arrays ? '[' : '{"a":';
  const close = arrays ? ']' : '}';
  return new Raw(`${open.repeat(depth)}1${close.repeat(depth)}`);
}

export function hostileValue(d: Dice): unknown {
  if (d.chance(0.1)) return deep(d.pick([10, 63, 65, 200, 5_000]), d.chance(0.5));
  if (d.chance(0.15)) {
    const length = d.pick([2, 50, 3_000]);
    return Array.from({ length }, () => hostileScalar(d, length > 50));
  }
  if (d.chance(0.1)) return withKey({ resourceType: 'Patient' }, d.pick(['__proto__', 'constructor', 'prototype']), { polluted: true });
  return hostileScalar(d);
}

/** Replaces, removes or adds one value somewhere in a copy of `doc` (a JSON tree). */
export function mutate(d: Dice, doc: unknown): unknown {
  if (doc === null || typeof doc !== 'object' || d.chance(0.08)) return hostileValue(d);
  const copy: Record<string, unknown> | unknown[] = Array.isArray(doc) ? [...doc] : { ...(doc as Record<string, unknown>) };
  const keys = Object.keys(copy);
  const action = keys.length === 0 ? 2 : d.int(5);
  if (action === 2) {
    const key = Array.isArray(copy) ? String(copy.length) : d.pick(['__proto__', 'constructor', 'resourceType', 'id', 'extension', 'contained', 'x', '_id', 'meta']);
    if (Array.isArray(copy)) copy.push(hostileValue(d)); else withKey(copy, key, hostileValue(d));
    return copy;
  }
  const key = d.pick(keys);
  const at = copy as Record<string, unknown>;
  if (action === 3 && !Array.isArray(copy)) { delete at[key]; return copy; }
  at[key] = action === 4 ? hostileValue(d) : mutate(d, at[key]);
  return copy;
}
