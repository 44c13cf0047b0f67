/**
 * `medchain demo --devnet <dir>`: plays the story of issue 5 on a running
 * devnet (src/medical/demo.ts) and prints each step, the refusals after the
 * revocation on every node, and the regulator's audit trail.
 * `medchain devnet --demo` runs the same once its devnet is up.
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import { DEFAULT_SCRYPT_PARAMS } from '../../src/crypto/keystore.js';
import { describeAuditEvent, runDemo } from '../../src/medical/demo.js';
import type { DemoResult } from '../../src/medical/demo.js';
import { defineCommand, EXIT_CODES, formatTable, integerOption, setAction } from '../common.js';
import type { CommandContext, JsonValue } from '../common.js';

interface DemoOptions {
  readonly devnet: string;
  readonly scryptLogN?: number;
}

export function demoJson(result: DemoResult): JsonValue {
  const { reportText: _reportText, ...rest } = result;
  return rest as unknown as JsonValue;
}

export function demoSummary(result: DemoResult): string {
  return [
    '',
    `What the district doctor read (synthetic): "${result.reportText}"`,
    '',
    'After the revocation, on every node:',
    formatTable(
      ['node', "district doctor's read", 'access.log receipt'],
      result.refusals.map((r) => [r.node, r.read, r.accessLogReceipt]),
    ),
    `document fetch: ${result.fetchAfterRevoke}`,
    '',
    `The regulator's audit trail of patient ${result.patient.slice(0, 16)}… (from health-commission):`,
    ...result.audit.map((e) => `  ${describeAuditEvent(e)}`),
    '',
    'Statistics (health-commission):',
    formatTable(
      ['institution', 'statistic', 'count'],
      result.statistics
        .filter((r) => !r.statistic.startsWith('member.'))
        .map((r) => [r.institution, r.statistic, String(r.count)]),
      ['left', 'left', 'right'],
    ),
  ].join('\n');
}

/** Runs the demo and prints it (shared with `medchain devnet --demo`). */
export async function playDemo(
  ctx: CommandContext<unknown>,
  dir: string,
  scryptLogN?: number,
): Promise<DemoResult> {
  const scrypt =
    scryptLogN === undefined
      ? DEFAULT_SCRYPT_PARAMS
      : { ...DEFAULT_SCRYPT_PARAMS, N: 2 ** scryptLogN };
  ctx.progress(
    'medchain demo: a referral between the community centre and the district hospital (synthetic data)\n',
  );
  return runDemo({
    dir,
    scrypt,
    onStep: (step) => {
      ctx.progress(
        `${String(step.n).padStart(2)}. [${step.actor}] ${step.title}\n    ${step.detail}`,
      );
    },
  });
}

export function register(program: Command): void {
  const command = defineCommand(program, {
    name: 'demo',
    description:
      'play the referral story on a running devnet: consent, referral, vault fetch, revocation, audit',
    examples: ['medchain demo --devnet .devnet', 'medchain --json demo --devnet /tmp/alliance'],
    notes:
      'Needs a devnet started by "medchain devnet" (default --data-dir .devnet) with the community-centre,\n' +
      'district-hospital and health-commission nodes. Writes the synthetic patient key to <dir>/demo/.\n' +
      'Every value is synthetic; record ids are fresh on each run.',
  })
    .requiredOption('--devnet <dir>', 'the devnet directory')
    .addOption(
      new Option('--scrypt-log-n <n>', 'keystore cost (tests)')
        .argParser(integerOption(10, 22))
        .hideHelp(),
    );

  setAction<DemoOptions>(command, async (ctx) => {
    const result = await playDemo(ctx, ctx.options.devnet, ctx.options.scryptLogN);
    ctx.result(demoJson(result), () => demoSummary(result));
    return EXIT_CODES.ok;
  });
}
