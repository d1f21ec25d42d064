// Following Assay's events live from TypeScript.
//
// Both programs emit their events with Anchor's `emit_cpi!`: each event is a self-CPI
// whose instruction data is EVENT_IX_TAG_LE ‖ event discriminator ‖ Borsh fields, so it
// appears among a transaction's inner instructions, not in its logs, and Anchor's
// `addEventListener` / `EventParser` (which read `Program data:` log lines) see nothing.
// `onAssayEvents` subscribes to the programs' logs (`logsSubscribe`, one subscription per
// program), fetches each notified transaction (`getTransaction`, v0 included) and decodes
// the self-CPIs with the programs' IDLs; `eventsOfTransaction` does the decoding alone.
import anchor, { type Idl } from '@coral-xyz/anchor';
import { Connection, PublicKey, type VersionedTransactionResponse } from '@solana/web3.js';

const { BorshCoder, utils } = anchor;

/** `sha256("anchor:event")[..8]`, little-endian: the tag every `emit_cpi!` event starts with. */
export const EVENT_IX_TAG = Buffer.from([0xe4, 0x45, 0xa5, 0x2e, 0x51, 0xcb, 0x9a, 0x1d]);

/** One decoded event: its name as in the IDL (`JobPosted`), its fields (the IDL's names), and where it
 * was emitted. */
export interface AssayEvent {
  name: string;
  data: Record<string, unknown>;
  program: string;
  signature: string;
  slot: number;
}

/** A decoder per program id (base58), from the programs' IDLs. */
export function eventDecoders(idls: Idl[]): Map<string, InstanceType<typeof BorshCoder>> {
  return new Map(idls.map((idl) => [new PublicKey(idl.address).toBase58(), new BorshCoder(idl)]));
}

/** The events of `tx` emitted by the programs `decoders` know, in order. */
export function eventsOfTransaction(
  tx: VersionedTransactionResponse,
  decoders: Map<string, InstanceType<typeof BorshCoder>>,
): AssayEvent[] {
  if (!tx.meta || tx.meta.err !== null) return [];
  const keys = tx.transaction.message
    .getAccountKeys({ accountKeysFromLookups: tx.meta.loadedAddresses ?? undefined })
    .keySegments()
    .flat()
    .map((k) => k.toBase58());
  const events: AssayEvent[] = [];
  for (const inner of tx.meta.innerInstructions ?? []) {
    for (const ix of inner.instructions) {
      const program = keys[ix.programIdIndex];
      const coder = decoders.get(program);
      if (!coder) continue;
      const data = Buffer.from(utils.bytes.bs58.decode(ix.data));
      if (data.length < 16 || !data.subarray(0, 8).equals(EVENT_IX_TAG)) continue;
      const event = coder.events.decode(data.subarray(8).toString('base64'));
      if (event) {
        events.push({ name: event.name, data: event.data as Record<string, unknown>, program, signature: tx.transaction.signatures[0], slot: tx.slot });
      }
    }
  }
  return events;
}

/** Calls `callback` for every event the programs of `idls` emit from now on, at
 * `confirmed`. Returns a function that unsubscribes. A transaction's events arrive
 * together, in order; a transaction the endpoint cannot return yet is retried a few times. */
export function onAssayEvents(
  connection: Connection,
  idls: Idl[],
  callback: (event: AssayEvent) => void,
  options: { attempts?: number; retryMs?: number } = {},
): () => Promise<void> {
  const decoders = eventDecoders(idls);
  const seen = new Set<string>();
  const attempts = options.attempts ?? 10;
  const retryMs = options.retryMs ?? 300;
  const fetchAndDecode = async (signature: string) => {
    for (let i = 0; i < attempts; i++) {
      const tx = await connection
        .getTransaction(signature, { maxSupportedTransactionVersion: 0, commitment: 'confirmed' })
        .catch(() => null);
      if (tx) {
        for (const event of eventsOfTransaction(tx, decoders)) callback(event);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  };
  const ids = [...decoders.keys()].map((program) =>
    connection.onLogs(
      new PublicKey(program),
      (logs) => {
        // A transaction that names both programs is notified twice: decode it once.
        if (logs.err !== null || seen.has(logs.signature)) return;
        seen.add(logs.signature);
        void fetchAndDecode(logs.signature);
      },
      'confirmed',
    ),
  );
  return async () => {
    await Promise.all(ids.map((id) => connection.removeOnLogsListener(id)));
  };
}
