/**
 * One error base for the whole node (STYLE.md §8). Every expected failure is a
 * `MedchainError` with a stable machine-readable `code`, a human message and
 * structured `details` that are safe to log and to return over the API (never
 * keys, patient identifiers or record locators).
 */
export type ErrorDetails = Readonly<Record<string, string | number | boolean | null>>;

export class MedchainError extends Error {
  readonly code: string;
  readonly details: ErrorDetails;

  constructor(code: string, message: string, details: ErrorDetails = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: string; message: string; details: ErrorDetails } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** A caller passed something malformed: names the field and says what is wrong. */
export class InvalidInputError extends MedchainError {
  constructor(field: string, problem: string, details: ErrorDetails = {}) {
    super('INVALID_INPUT', `${field}: ${problem}`, { field, ...details });
  }
}

/** An internal invariant broke: the node must halt loudly rather than continue. */
export class InvariantError extends MedchainError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('INVARIANT', message, details);
  }
}

export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}
