/**
 * Strict readers for the fields of a decoded value (a `CodecValue` from
 * `decode`, or parsed JSON). Each reader checks one field and, when it is
 * wrong, calls the caller's `fail(path, problem)`, which throws that module's
 * typed error — so ledger, identity and storage each report errors in their own
 * terms while sharing one set of checks. Paths look like `txs[3].signer`.
 */

/** Throws the caller's error for the field at `path`. */
export type FieldFail = (path: string, problem: string) => never;

export type FieldRecord = Readonly<Record<string, unknown>>;

export interface StringRule {
  readonly minLength?: number;
  readonly maxLength: number;
  readonly pattern?: RegExp;
  /** What the pattern means, for the error message (e.g. "lower-case letters, digits and '-'"). */
  readonly patternHint?: string;
}

export interface IntegerRule {
  readonly min?: number;
  readonly max?: number;
}

/** An exact length, or a range. */
export type BytesRule =
  { readonly length: number } | { readonly minLength?: number; readonly maxLength: number };

export interface ArrayRule {
  readonly minLength?: number;
  readonly maxLength: number;
}

export function fieldPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent === '' ? key : `${parent}.${key}`;
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return 'a byte string';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'number' && !Number.isInteger(value)) return 'a non-integer number';
  return `a ${typeof value}`;
}

function isRecord(value: unknown): value is FieldRecord {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array)
  );
}

/**
 * Field readers bound to one error constructor. `record` checks that the value
 * is a map with exactly the allowed keys: every required key present, no key
 * outside required ∪ optional.
 */
export function createFieldReader(fail: FieldFail) {
  return {
    record(
      value: unknown,
      path: string,
      required: readonly string[],
      optional: readonly string[] = [],
    ): FieldRecord {
      if (!isRecord(value)) fail(path || '(root)', `expected a map, got ${describeType(value)}`);
      for (const key of required) {
        if (!Object.hasOwn(value, key)) fail(fieldPath(path, key), 'missing');
      }
      for (const key of Object.keys(value)) {
        if (!required.includes(key) && !optional.includes(key)) {
          fail(fieldPath(path, key), 'unknown field');
        }
      }
      return value;
    },

    /** A map with any keys (their values are the caller's to check). */
    map(value: unknown, path: string): FieldRecord {
      if (!isRecord(value)) fail(path || '(root)', `expected a map, got ${describeType(value)}`);
      return value;
    },

    string(value: unknown, path: string, rule: StringRule): string {
      if (typeof value !== 'string') fail(path, `expected a string, got ${describeType(value)}`);
      const minLength = rule.minLength ?? 0;
      if (value.length < minLength) {
        fail(path, minLength === 1 ? 'must not be empty' : `shorter than ${minLength} characters`);
      }
      if (value.length > rule.maxLength) fail(path, `longer than ${rule.maxLength} characters`);
      if (!value.isWellFormed()) fail(path, 'not a well-formed Unicode string');
      if (rule.pattern !== undefined && !rule.pattern.test(value)) {
        fail(path, rule.patternHint ?? `does not match ${String(rule.pattern)}`);
      }
      return value;
    },

    /** A number that is a safe integer within [min, max] (min defaults to 0). */
    integer(value: unknown, path: string, rule: IntegerRule = {}): number {
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
        fail(path, `expected a safe integer, got ${describeType(value)}`);
      }
      const min = rule.min ?? 0;
      if (value < min) fail(path, `must be at least ${min}`);
      if (rule.max !== undefined && value > rule.max) fail(path, `must be at most ${rule.max}`);
      return value;
    },

    bytes(value: unknown, path: string, rule: BytesRule): Uint8Array {
      if (!(value instanceof Uint8Array))
        fail(path, `expected a byte string, got ${describeType(value)}`);
      if ('length' in rule) {
        if (value.length !== rule.length) {
          fail(path, `expected ${rule.length} bytes, got ${value.length}`);
        }
        return value;
      }
      const minLength = rule.minLength ?? 0;
      if (value.length < minLength) fail(path, `shorter than ${minLength} bytes`);
      if (value.length > rule.maxLength) fail(path, `longer than ${rule.maxLength} bytes`);
      return value;
    },

    boolean(value: unknown, path: string): boolean {
      if (typeof value !== 'boolean') fail(path, `expected a boolean, got ${describeType(value)}`);
      return value;
    },

    array(value: unknown, path: string, rule: ArrayRule): readonly unknown[] {
      if (!Array.isArray(value)) fail(path, `expected an array, got ${describeType(value)}`);
      const minLength = rule.minLength ?? 0;
      if (value.length < minLength) {
        fail(path, minLength === 1 ? 'must not be empty' : `fewer than ${minLength} entries`);
      }
      if (value.length > rule.maxLength) fail(path, `more than ${rule.maxLength} entries`);
      return value as readonly unknown[];
    },

    oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[]): T {
      if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
        const shown = typeof value === 'string' ? `"${value.slice(0, 40)}"` : describeType(value);
        fail(path, `expected one of ${allowed.join(', ')}, got ${shown}`);
      }
      return value as T;
    },
  };
}

export type FieldReader = ReturnType<typeof createFieldReader>;
