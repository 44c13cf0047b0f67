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

export interface NodeCounters {
  p2p(): P2pStats | null;
  replica(): ReplicaMetrics | null;
  mempool(): MempoolStats | null;
  walAppends(): number;
  voidBlocks(): number;
}

const PROTOCOLS = ['consensus', 'txs', 'blocks', 'sync', 'vault'] as const;

export function registerNodeMetrics(registry: Registry, counters: NodeCounters): void {
  new Gauge({
    name: 'medchain_p2p_messages',
    help: 'Messages sent and received per p2p protocol since start (counter)',
    labelNames: ['protocol', 'direction'],
    registers: [registry],
    collect() {
      const s = counters.p2p();
      if (!s) return;
      for (const p of PROTOCOLS) {
        this.set({ protocol: p, direction: 'in' }, s[p].messagesIn);
        this.set({ protocol: p, direction: 'out' }, s[p].messagesOut);
      }
    },
  });
  new Gauge({
    name: 'medchain_p2p_bytes',
    help: 'Payload bytes sent and received per p2p protocol since start (counter)',
    labelNames: ['protocol', 'direction'],
    registers: [registry],
    collect() {
      const s = counters.p2p();
      if (!s) return;
      for (const p of PROTOCOLS) {
        this.set({ protocol: p, direction: 'in' }, s[p].bytesIn);
        this.set({ protocol: p, direction: 'out' }, s[p].bytesOut);
      }
    },
  });
  new Gauge({
    name: 'medchain_p2p_dropped',
    help: 'Inbound p2p traffic refused since start, by reason (counter)',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      const s = counters.p2p();
      if (!s) return;
      this.set({ reason: 'oversize' }, s.drops.oversize);
      this.set({ reason: 'garbage' }, s.drops.garbage);
      this.set({ reason: 'stranger' }, s.drops.refusedStrangers);
      this.set({ reason: 'banned' }, s.drops.refusedBanned);
      this.set({ reason: 'gossip-rejected' }, s.txs.rejected + s.blocks.rejected);
    },
  });
  new Gauge({
    name: 'medchain_consensus_dropped',
    help: 'Consensus messages the replica dropped since start, by reason (counter)',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      const m = counters.replica();
      if (!m) return;
      this.set({ reason: 'not-validator' }, m.droppedNotValidator);
      this.set({ reason: 'bad-signature' }, m.droppedBadSignature);
      this.set({ reason: 'stale-view' }, m.droppedStaleView);
      this.set({ reason: 'out-of-window' }, m.droppedOutOfWindow);
      this.set({ reason: 'malformed' }, m.droppedMalformed);
      this.set({ reason: 'duplicate' }, m.droppedDuplicate);
      this.set({ reason: 'wrong-primary' }, m.droppedWrongPrimary);
      this.set({ reason: 'invalid-proposal' }, m.invalidProposals);
    },
  });
  new Gauge({
    name: 'medchain_consensus_messages_received',
    help: 'Consensus messages handed to the replica since start (counter)',
    registers: [registry],
    collect() {
      const m = counters.replica();
      if (m) this.set(m.received);
    },
  });
  new Gauge({
    name: 'medchain_wal_appends',
    help: 'Synced WAL batches (group commits) since start (counter)',
    registers: [registry],
    collect() {
      this.set(counters.walAppends());
    },
  });
  new Gauge({
    name: 'medchain_mempool_signature_checks',
    help: 'Transaction signatures verified at mempool admission since start (counter)',
    registers: [registry],
    collect() {
      const m = counters.mempool();
      if (m) this.set(m.signatureChecks);
    },
  });
  new Gauge({
    name: 'medchain_void_blocks',
    help: 'Certified blocks voided for naming a wrong state root (counter)',
    registers: [registry],
    collect() {
      this.set(counters.voidBlocks());
    },
  });
}
