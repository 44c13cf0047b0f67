/**
 * Node-level series added to the API's Prometheus registry, read at scrape
 * time from the live counters of p2p, the replica, the mempool and the
 * executor: traffic per protocol (messages and bytes per committed tx come
 * from these), drops by reason, consensus refusals, WAL group commits.
 */
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { ReplicaMetrics } from '../../consensus/types.js';
import type { P2pStats } from '../../p2p/index.js';
import type { MempoolStats } from '../mempool/mempool.js';
import type { PrePrepareAssemblerStats } from './pre-prepare-assembler.js';

export interface NodeCounters {
  p2p(): P2pStats | null;
  replica(): ReplicaMetrics | null;
  mempool(): MempoolStats | null;
  walAppends(): number;
  voidBlocks(): number;
  prePrepares(): PrePrepareAssemblerStats | null;
}

const PROTOCOLS = ['consensus', 'txBundles', 'txs', 'blocks', 'sync', 'vault'] as const;

type Sample = readonly [labels: Readonly<Record<string, string>>, value: number];

/** One series family: name, help, label names and how to read its samples (null: nothing yet). */
interface Series {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly string[];
  readonly read: (c: NodeCounters) => readonly Sample[] | null;
}

function traffic(
  s: P2pStats | null,
  field: (
    c: P2pStats['sync'] | P2pStats['consensus'] | P2pStats['txs'],
    direction: 'in' | 'out',
  ) => number,
): Sample[] | null {
  if (!s) return null;
  return PROTOCOLS.flatMap((protocol) =>
    (['in', 'out'] as const).map((direction): Sample => [
      { protocol, direction },
      field(s[protocol], direction),
    ]),
  );
}

function byReason(values: Readonly<Record<string, number>> | null): Sample[] | null {
  return values ? Object.entries(values).map(([reason, v]): Sample => [{ reason }, v]) : null;
}

const SERIES: readonly Series[] = [
  {
    name: 'medchain_p2p_messages',
    help: 'Messages sent and received per p2p protocol since start (counter)',
    labelNames: ['protocol', 'direction'],
    read: (c) => traffic(c.p2p(), (t, d) => (d === 'in' ? t.messagesIn : t.messagesOut)),
  },
  {
    name: 'medchain_p2p_bytes',
    help: 'Payload bytes sent and received per p2p protocol since start (counter)',
    labelNames: ['protocol', 'direction'],
    read: (c) => traffic(c.p2p(), (t, d) => (d === 'in' ? t.bytesIn : t.bytesOut)),
  },
  {
    name: 'medchain_p2p_dropped',
    help: 'Inbound p2p traffic refused since start, by reason (counter)',
    labelNames: ['reason'],
    read: (c) => {
      const s = c.p2p();
      return byReason(
        s && {
          oversize: s.drops.oversize,
          garbage: s.drops.garbage,
          stranger: s.drops.refusedStrangers,
          banned: s.drops.refusedBanned,
          'gossip-rejected': s.txs.rejected + s.blocks.rejected,
          'invalid-bundle': s.drops.invalidBundles,
        },
      );
    },
  },
  {
    name: 'medchain_consensus_dropped',
    help: 'Consensus messages the replica dropped since start, by reason (counter)',
    labelNames: ['reason'],
    read: (c) => {
      const m = c.replica();
      return byReason(
        m && {
          'not-validator': m.droppedNotValidator,
          'bad-signature': m.droppedBadSignature,
          'stale-view': m.droppedStaleView,
          'out-of-window': m.droppedOutOfWindow,
          malformed: m.droppedMalformed,
          duplicate: m.droppedDuplicate,
          'wrong-primary': m.droppedWrongPrimary,
          'invalid-proposal': m.invalidProposals,
        },
      );
    },
  },
  {
    name: 'medchain_consensus_messages_received',
    help: 'Consensus messages handed to the replica since start (counter)',
    read: (c) => {
      const m = c.replica();
      return m ? [[{}, m.received]] : null;
    },
  },
  {
    name: 'medchain_wal_appends',
    help: 'Synced WAL batches (group commits) since start (counter)',
    read: (c) => [[{}, c.walAppends()]],
  },
  {
    name: 'medchain_mempool_signature_checks',
    help: 'Transaction signatures verified at mempool admission since start (counter)',
    read: (c) => {
      const m = c.mempool();
      return m ? [[{}, m.signatureChecks]] : null;
    },
  },
  {
    name: 'medchain_consensus_compact_pre_prepares',
    help: 'Compact pre-prepares received since start, by how they were assembled: complete on arrival, after waiting for bundles, after fetching from the proposer, dropped, or refused as not signed by the validator they name (counter)',
    labelNames: ['outcome'],
    read: (c) => {
      const s = c.prePrepares();
      return s ? Object.entries(s).map(([outcome, v]): Sample => [{ outcome }, v as number]) : null;
    },
  },
  {
    name: 'medchain_void_blocks',
    help: 'Certified blocks voided for naming a wrong state root (counter)',
    read: (c) => [[{}, c.voidBlocks()]],
  },
];

export function registerNodeMetrics(registry: Registry, counters: NodeCounters): void {
  for (const series of SERIES) {
    new Gauge({
      name: series.name,
      help: series.help,
      labelNames: series.labelNames ?? [],
      registers: [registry],
      collect() {
        for (const [labels, value] of series.read(counters) ?? []) this.set(labels, value);
      },
    });
  }
}
