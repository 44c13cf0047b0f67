/**
 * `medchain audit record | patient | institution | stats`: the audit trail
 * (every event with actor, institution, time, height, tx and scope) and the
 * regulator's statistics, from any node — the regulator's observer holds them
 * all.
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import type { AuditEventJson } from '../../src/medical/client.js';
import { describeAuditEvent } from '../../src/medical/demo.js';
import { defineCommand, EXIT_CODES, formatTable, integerOption, setAction } from '../common.js';
import {
  actorOptions,
  asJson,
  patientOptions,
  requireId,
  resolveActor,
  resolvePatient,
} from '../medical-common.js';
import type { ActorOptions, PatientOptions } from '../medical-common.js';

interface TrailOptions extends ActorOptions, PatientOptions {
  readonly limit?: number;
  readonly desc?: boolean;
}
interface StatsOptions extends ActorOptions {
  readonly from?: string;
  readonly to?: string;
  readonly institution?: string;
  readonly statistic?: string;
  readonly by?: 'total' | 'month' | 'day';
}

function trail(events: readonly AuditEventJson[]): string {
  return events.length === 0 ? 'no events' : events.map(describeAuditEvent).join('\n');
}

function listOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--limit <n>', 'at most this many events').argParser(integerOption(1, 1000)),
    )
    .option('--desc', 'newest first');
}

export function register(program: Command): void {
  const audit = defineCommand(program, {
    name: 'audit',
    description:
      'audit trails per record, patient or institution, and statistics for the regulator',
    examples: [
      'medchain audit patient --devnet .devnet --as health-commission/admin --patient 5f3a…',
      'medchain audit stats --devnet .devnet --as health-commission/admin --by day',
    ],
  });

  const q = (o: TrailOptions) => ({
    ...(o.limit === undefined ? {} : { limit: o.limit }),
    ...(o.desc === true ? { order: 'desc' as const } : {}),
  });

  const record = listOptions(
    actorOptions(
      defineCommand(audit, {
        name: 'record <recordId>',
        description: 'every event about a record (owner staff, the patient, the regulator)',
        examples: ['medchain audit record rec-1a2b… --devnet .devnet --as community-centre/doctor'],
      }),
    ),
  );
  setAction<TrailOptions>(record, async (ctx) => {
    const actor = await resolveActor(ctx);
    const result = await actor.session.medical.auditRecord(
      requireId('recordId', ctx.args[0] ?? ''),
      q(ctx.options),
    );
    ctx.result(asJson(result), () => trail(result.events));
    return EXIT_CODES.ok;
  });

  const patient = listOptions(
    actorOptions(
      patientOptions(
        defineCommand(audit, {
          name: 'patient',
          description:
            'every event about a patient: who authorised whom, for what scope, when, and who looked',
          examples: [
            'medchain audit patient --devnet .devnet --as health-commission/admin --patient 5f3a…',
            'medchain audit patient --devnet .devnet --as community-centre/doctor --patient-id P-0001',
          ],
        }),
      ),
    ),
  );
  setAction<TrailOptions>(patient, async (ctx) => {
    const actor = await resolveActor(ctx);
    const pseudonym = await resolvePatient(ctx.options, actor, { required: true });
    const result = await actor.session.medical.auditPatient(pseudonym, q(ctx.options));
    ctx.result(asJson(result), () => trail(result.events));
    return EXIT_CODES.ok;
  });

  const institution = listOptions(
    actorOptions(
      defineCommand(audit, {
        name: 'institution <institutionId>',
        description:
          'everything an institution did or was the counterpart of (its staff, the regulator)',
        examples: [
          'medchain audit institution district-hospital --devnet .devnet --as health-commission/admin --limit 50 --desc',
        ],
      }),
    ),
  );
  setAction<TrailOptions>(institution, async (ctx) => {
    const actor = await resolveActor(ctx);
    const result = await actor.session.medical.auditInstitution(ctx.args[0] ?? '', q(ctx.options));
    ctx.result(asJson(result), () => trail(result.events));
    return EXIT_CODES.ok;
  });

  const stats = actorOptions(
    defineCommand(audit, {
      name: 'stats',
      description:
        'counts per institution and period: referrals, accesses, grants, registrations, members',
      examples: [
        'medchain audit stats --devnet .devnet --as health-commission/admin',
        'medchain audit stats --devnet .devnet --as district-hospital/admin --from 2026-11-01 --to 2026-11-30 --by day --statistic referral.received',
      ],
      notes:
        'Periods are UTC days of the block time; default the last 30 days. The regulator sees every\ninstitution; an institution admin or auditor its own.',
    }),
  )
    .option('--from <YYYY-MM-DD>', 'first day')
    .option('--to <YYYY-MM-DD>', 'last day (default today)')
    .option('--institution <id>', 'one institution')
    .option('--statistic <name>', 'one statistic, e.g. referral.sent')
    .addOption(
      new Option('--by <period>', 'total, month or day')
        .choices(['total', 'month', 'day'])
        .default('total'),
    );
  setAction<StatsOptions>(stats, async (ctx) => {
    const o = ctx.options;
    const actor = await resolveActor(ctx);
    const result = await actor.session.medical.statistics({
      ...(o.from === undefined ? {} : { from: o.from }),
      ...(o.to === undefined ? {} : { to: o.to }),
      ...(o.institution === undefined ? {} : { institution: o.institution }),
      ...(o.statistic === undefined ? {} : { statistic: o.statistic }),
      ...(o.by === undefined ? {} : { by: o.by }),
    });
    ctx.result(asJson(result), () =>
      result.rows.length === 0
        ? `no events from ${result.from} to ${result.to}`
        : formatTable(
            ['institution', 'statistic', 'period', 'count'],
            result.rows.map((r) => [r.institution, r.statistic, r.period, String(r.count)]),
            ['left', 'left', 'left', 'right'],
          ),
    );
    return EXIT_CODES.ok;
  });
}
