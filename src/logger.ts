/**
 * The node's logger: pino JSON to stdout. Modules take a logger and call
 * `child({ module })`; they log ids and hashes, never keys, patient
 * identifiers or record locators.
 */
import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  name?: string;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino({
    name: options.name ?? 'medchain',
    level: options.level ?? 'info',
    // Defence in depth: whatever a caller passes, these fields never reach the log.
    redact: {
      paths: [
        'privateKey',
        '*.privateKey',
        'passphrase',
        '*.passphrase',
        'locator',
        '*.locator',
        'patientId',
        '*.patientId',
      ],
      censor: '[redacted]',
    },
  });
}

/** A logger that discards everything (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
