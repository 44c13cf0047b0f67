/**
 * `medchain referral create | accept | reject | complete | show | list |
 * inbox | watch`: the 转诊 workflow. Creating a referral grants the receiving
 * institution the listed records for the referral's life (with the data keys
 * re-wrapped for it); completing it can register a discharge summary, sealed
 * into the receiving institution's vault and granted back to the sender.
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import type { ReferralJson } from '../../src/medical/client.js';
import {
  acceptReferral,
  completeReferral,
  createReferral,
  rejectReferral,
} from '../../src/medical/workflows.js';
import {
  collectOption,
  defineCommand,
  EXIT_CODES,
  formatFields,
  formatTable,
  integerOption,
  setAction,
  usageError,
} from '../common.js';
import { waitForStopSignal } from '../signals.js';
import {
  actorOptions,
  asJson,
  levelOption,
  printCommitted,
  requireId,
  requireToken,
  resolveActor,
} from '../medical-common.js';
import type { ActorOptions } from '../medical-common.js';

interface CreateOptions extends ActorOptions {
  readonly to: string;
  readonly record: readonly string[];
  readonly reason: string;
  readonly expiresIn: number;
}
interface RejectOptions extends ActorOptions {
  readonly reason: string;
}
interface CompleteOptions extends ActorOptions {
  readonly summaryFile?: string;
  readonly summaryType: string;
  readonly summaryLevel: string;
  readonly title?: string;
  readonly summaryRecord?: string;
  readonly returnExpiresIn: number;
}
interface ListOptions extends ActorOptions {
  readonly institution?: string;
  readonly direction: string;
  readonly open?: boolean;
  readonly limit?: number;
}
interface WatchOptions extends ActorOptions {
  readonly count?: number;
}

function referralsTable(referrals: readonly ReferralJson[]): string {
  if (referrals.length === 0) return 'no referrals';
  return formatTable(
    ['referral', 'from', 'to', 'records', 'reason', 'status', 'expires'],
    referrals.map((r) => [
      r.id,
      r.from,
      r.to,
      r.recordIds.join(','),
      r.reason,
      r.status,
      String(r.expiresAt),
    ]),
  );
}

export function register(program: Command): void {
  const referral = defineCommand(program, {
    name: 'referral',
    description: 'the referral (转诊) workflow: create, accept, reject, complete, and the inbox',
    examples: [
      'medchain referral create --devnet .devnet --as community-centre/doctor --to district-hospital --record rec-1a2b… --reason higher-level-care --expires-in 5000',
      'medchain referral inbox --devnet .devnet --as district-hospital/doctor',
    ],
  });

  const create = actorOptions(
    defineCommand(referral, {
      name: 'create',
      description:
        'refer a patient to another institution with some of your records (a doctor of the sender)',
      examples: [
        'medchain referral create --devnet .devnet --as community-centre/doctor --to district-hospital --record rec-1a2b… --reason higher-level-care --expires-in 5000',
      ],
    }),
  )
    .requiredOption('--to <institution>', 'the receiving institution')
    .requiredOption('--record <id>', 'a record to send (repeatable)', collectOption)
    .requiredOption('--reason <token>', 'reason token, e.g. higher-level-care')
    .addOption(
      new Option('--expires-in <heights>', 'the referral (and its grant) lives this many heights')
        .argParser(integerOption(1, 100_000_000))
        .default(5000),
    );
  setAction<CreateOptions>(create, async (ctx) => {
    const o = ctx.options;
    const actor = await resolveActor(ctx);
    const committed = await createReferral(actor.session, {
      to: o.to,
      recordIds: o.record.map((r) => requireId('--record', r)),
      reason: requireToken('--reason', o.reason),
      expiresInHeights: o.expiresIn,
    });
    printCommitted(ctx, 'referral created', committed, {
      referralId: committed.referralId,
      to: o.to,
      patient: committed.patient,
    });
    return EXIT_CODES.ok;
  });

  const accept = actorOptions(
    defineCommand(referral, {
      name: 'accept <referralId>',
      description: 'accept a referral addressed to your institution (a doctor of the receiver)',
      examples: ['medchain referral accept ref-5c… --devnet .devnet --as district-hospital/doctor'],
    }),
  );
  setAction<ActorOptions>(accept, async (ctx) => {
    const actor = await resolveActor(ctx);
    const referralId = requireId('referralId', ctx.args[0] ?? '');
    printCommitted(ctx, 'referral accepted', await acceptReferral(actor.session, referralId), {
      referralId,
    });
    return EXIT_CODES.ok;
  });

  const reject = actorOptions(
    defineCommand(referral, {
      name: 'reject <referralId>',
      description: 'reject a referral; its automatic grant ends',
      examples: [
        'medchain referral reject ref-5c… --devnet .devnet --as district-hospital/doctor --reason no-capacity',
      ],
    }),
  ).requiredOption('--reason <token>', 'reason token');
  setAction<RejectOptions>(reject, async (ctx) => {
    const actor = await resolveActor(ctx);
    const referralId = requireId('referralId', ctx.args[0] ?? '');
    printCommitted(
      ctx,
      'referral rejected',
      await rejectReferral(actor.session, referralId, requireToken('--reason', ctx.options.reason)),
      { referralId },
    );
    return EXIT_CODES.ok;
  });

  const complete = actorOptions(
    defineCommand(referral, {
      name: 'complete <referralId>',
      description:
        'complete an accepted referral, optionally with a discharge summary sent back down',
      examples: [
        'medchain referral complete ref-5c… --devnet .devnet --as district-hospital/doctor --summary-file discharge.txt --title "discharge summary"',
      ],
      notes:
        'The summary is sealed into your vault, registered with the completion and granted to the sender\nfor --return-expires-in heights. The referral grant ends.',
    }),
  )
    .option('--summary-file <path>', 'a discharge summary to register and send back')
    .option('--summary-type <token>', 'its record type', 'discharge-summary')
    .option('--summary-level <L1|L2|L3>', 'its data level', 'L3')
    .option('--title <text>', 'sealed metadata title of the summary')
    .option('--summary-record <id>', 'or: a summary you registered before')
    .addOption(
      new Option('--return-expires-in <heights>', 'the sender may read the summary this long')
        .argParser(integerOption(1, 100_000_000))
        .default(10_000),
    );
  setAction<CompleteOptions>(complete, async (ctx) => {
    const o = ctx.options;
    if (o.summaryFile !== undefined && o.summaryRecord !== undefined)
      throw usageError('give --summary-file or --summary-record, not both');
    const actor = await resolveActor(ctx);
    const referralId = requireId('referralId', ctx.args[0] ?? '');
    const committed = await completeReferral(actor.session, {
      referralId,
      ...(o.summaryFile === undefined
        ? {}
        : {
            summary: {
              content: new Uint8Array(await readFile(o.summaryFile)),
              recordType: requireToken('--summary-type', o.summaryType),
              level: levelOption(o.summaryLevel),
              ...(o.title === undefined ? {} : { metadata: { title: o.title } }),
            },
          }),
      ...(o.summaryRecord === undefined
        ? {}
        : { summaryRecordId: requireId('--summary-record', o.summaryRecord) }),
      returnExpiresInHeights: o.returnExpiresIn,
    });
    printCommitted(ctx, 'referral completed', committed, {
      referralId,
      summaryRecordId: committed.summaryRecordId,
    });
    return EXIT_CODES.ok;
  });

  const show = actorOptions(
    defineCommand(referral, {
      name: 'show <referralId>',
      description: 'one referral (parties, the patient, the regulator)',
      examples: ['medchain referral show ref-5c… --devnet .devnet --as district-hospital/doctor'],
    }),
  );
  setAction<ActorOptions>(show, async (ctx) => {
    const actor = await resolveActor(ctx);
    const { referral: r } = await actor.session.medical.referral(
      requireId('referralId', ctx.args[0] ?? ''),
    );
    ctx.result(asJson({ referral: r }), () =>
      [
        referralsTable([r]),
        '',
        formatFields([
          ['grant', r.grantId],
          ['created at', String(r.createdAt)],
          ['accepted at', r.acceptedAt === null ? '-' : String(r.acceptedAt)],
          ['closed at', r.closedAt === null ? '-' : `${r.closedAt} (${r.closeReason ?? ''})`],
          ['summary', r.summaryRecordId ?? '-'],
        ]),
      ].join('\n'),
    );
    return EXIT_CODES.ok;
  });

  const list = actorOptions(
    defineCommand(referral, {
      name: 'list',
      description: 'referrals to (incoming) or from (outgoing) an institution',
      examples: [
        'medchain referral list --devnet .devnet --as community-centre/doctor --direction outgoing',
      ],
    }),
  )
    .option('--institution <id>', 'default: your institution')
    .addOption(
      new Option('--direction <d>', 'incoming or outgoing')
        .choices(['incoming', 'outgoing'])
        .default('incoming'),
    )
    .option('--open', 'only open ones')
    .addOption(new Option('--limit <n>', 'at most this many').argParser(integerOption(1, 1000)));
  setAction<ListOptions>(list, async (ctx) => {
    const o = ctx.options;
    const actor = await resolveActor(ctx);
    const { referrals } = await actor.session.medical.referrals(
      o.institution ?? actor.session.identity.institution,
      {
        direction: o.direction as 'incoming' | 'outgoing',
        ...(o.open === true ? { open: true } : {}),
        ...(o.limit === undefined ? {} : { limit: o.limit }),
      },
    );
    ctx.result(asJson({ referrals }), () => referralsTable(referrals));
    return EXIT_CODES.ok;
  });

  const inbox = actorOptions(
    defineCommand(referral, {
      name: 'inbox',
      description: 'open referrals addressed to your institution',
      examples: ['medchain referral inbox --devnet .devnet --as district-hospital/doctor'],
    }),
  );
  setAction<ActorOptions>(inbox, async (ctx) => {
    const actor = await resolveActor(ctx);
    const result = await actor.session.medical.inbox();
    ctx.result(
      asJson(result),
      () => `inbox of ${result.institution}:\n${referralsTable(result.referrals)}`,
    );
    return EXIT_CODES.ok;
  });

  const watch = actorOptions(
    defineCommand(referral, {
      name: 'watch',
      description:
        'print referral events of your institution as they commit (WebSocket), until Ctrl-C',
      examples: [
        'medchain referral watch --devnet .devnet --as district-hospital/doctor',
        'medchain --json referral watch --devnet .devnet --as district-hospital/doctor --count 1',
      ],
    }),
  ).addOption(
    new Option('--count <n>', 'stop after this many events').argParser(integerOption(1, 1_000_000)),
  );
  setAction<WatchOptions>(watch, async (ctx) => {
    const actor = await resolveActor(ctx);
    const stop = waitForStopSignal();
    const seen: unknown[] = [];
    let done!: () => void;
    const enough = new Promise<void>((resolve) => {
      done = resolve;
    });
    const subscription = actor.session.medical.subscribeReferrals((m) => {
      seen.push(m);
      ctx.progress(
        `${m.direction} ${m.event.type} ${m.event.referralId} (height ${String(m.event.height)})`,
      );
      if (ctx.options.count !== undefined && seen.length >= ctx.options.count) done();
    });
    try {
      const hello = await subscription.ready;
      ctx.progress(
        `watching referrals of ${hello.institution} from height ${hello.height} (Ctrl-C stops)`,
      );
      await Promise.race([enough, stop.signal]);
    } finally {
      await subscription.close();
      stop.dispose();
    }
    ctx.result(asJson({ events: seen }), () => '');
    return EXIT_CODES.ok;
  });
}
