/**
 * `medchain access check | log`: whether you may read a record now (a
 * signed read of the record), and an access.log transaction on its own —
 * e.g. to show that the chain refuses one without a live grant. Opening a
 * record (which logs the access itself) is `medchain record open`.
 */
import type { Command } from 'commander';
import { buildAccessLog } from '../../src/records/index.js';
import { MedchainError } from '../../src/errors.js';
import { defineCommand, EXIT_CODES, formatFields, setAction } from '../common.js';
import {
  actorOptions,
  printCommitted,
  requireId,
  requireToken,
  resolveActor,
} from '../medical-common.js';
import type { ActorOptions } from '../medical-common.js';

interface LogOptions extends ActorOptions {
  readonly purpose: string;
  readonly grant?: string;
}

export function register(program: Command): void {
  const access = defineCommand(program, {
    name: 'access',
    description: 'check your access to a record, or log an access on chain',
    examples: [
      'medchain access check rec-1a2b… --devnet .devnet --as district-hospital/doctor',
      'medchain access log rec-1a2b… --devnet .devnet --as district-hospital/doctor --purpose treatment',
    ],
  });

  const check = actorOptions(
    defineCommand(access, {
      name: 'check <recordId>',
      description: 'may you read this record now? (exit 1 when not)',
      examples: [
        'medchain access check rec-1a2b… --devnet .devnet --as district-hospital/doctor --node http://127.0.0.1:7109',
      ],
    }),
  );
  setAction<ActorOptions>(check, async (ctx) => {
    const actor = await resolveActor(ctx);
    const recordId = requireId('recordId', ctx.args[0] ?? '');
    let decision: {
      ok: boolean;
      basis?: string;
      grantId?: string | null;
      code?: string;
      reason?: string;
    };
    try {
      const view = await actor.session.medical.record(recordId);
      decision = view.access;
    } catch (err) {
      if (!(err instanceof MedchainError) || err.code !== 'MEDICAL_FORBIDDEN') throw err;
      decision = { ok: false, code: err.code, reason: err.message };
    }
    const node = actor.session.medical.baseUrl;
    ctx.result({ recordId, node, ...decision }, () =>
      formatFields([
        ['record', recordId],
        ['node', node],
        [
          'access',
          decision.ok
            ? `allowed (${decision.basis ?? ''}${decision.grantId ? `, grant ${decision.grantId}` : ''})`
            : `DENIED: ${decision.code ?? ''} ${decision.reason ?? ''}`,
        ],
      ]),
    );
    return decision.ok ? EXIT_CODES.ok : EXIT_CODES.failure;
  });

  const log = actorOptions(
    defineCommand(access, {
      name: 'log <recordId>',
      description:
        'submit an access.log transaction and print its receipt (refused without a live grant)',
      examples: [
        'medchain access log rec-1a2b… --devnet .devnet --as district-hospital/doctor --purpose treatment',
      ],
    }),
  )
    .requiredOption('--purpose <token>', 'purpose token')
    .option('--grant <id>', 'the grant relied on');
  setAction<LogOptions>(log, async (ctx) => {
    const actor = await resolveActor(ctx);
    const s = actor.session;
    const recordId = requireId('recordId', ctx.args[0] ?? '');
    const committed = await s.submit(
      buildAccessLog(s.suite, {
        recordId,
        purpose: requireToken('--purpose', ctx.options.purpose),
        grantId: ctx.options.grant ?? null,
      }),
    );
    printCommitted(ctx, 'access logged', committed, { recordId });
    return EXIT_CODES.ok;
  });
}
