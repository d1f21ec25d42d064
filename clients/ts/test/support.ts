// Starts `assay localnet` (Surfpool with both programs as SBF) and runs the `assay` CLI
// against it, for the TypeScript suite.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Keypair, PublicKey } from '@solana/web3.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The `assay` binary: ASSAY_BIN, else this workspace's debug build. */
export const ASSAY_BIN = process.env.ASSAY_BIN ?? path.join(here, '../../../target/debug/assay');
export const TOKEN_PROGRAM = new PublicKey('TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA');
export const ATA_PROGRAM = new PublicKey('ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL');

export interface Localnet {
  url: string;
  wsUrl: string;
  mint: PublicKey;
  dir: string;
  child: ChildProcess;
}

/** `assay localnet` on free ports; resolves once it printed its JSON line. */
export async function startLocalnet(): Promise<Localnet> {
  const dir = mkdtempSync(path.join(tmpdir(), 'assay-ts-'));
  const child = spawn(
    ASSAY_BIN,
    ['localnet', '--port', '0', '--slot-ms', '100', '--json', '--ledger', path.join(dir, 'ledger')],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`assay localnet exited with ${code}`)));
    lines.once('line', resolve);
  });
  const info = JSON.parse(first);
  return { url: info.url, wsUrl: info.ws_url, mint: new PublicKey(info.mint), dir, child };
}

/** Runs `assay args --json` against `net` as `keypair`; its last JSON line. */
export function assay(net: Localnet, args: string[], keypair?: string): any {
  const out = execFileSync(
    ASSAY_BIN,
    [...(keypair ? ['--keypair', keypair] : []), ...args, '--json'],
    {
      env: {
        ...process.env,
        ASSAY_URL: net.url,
        ASSAY_STORE: path.join(net.dir, 'blobs'),
        ASSAY_HOME: path.join(net.dir, 'home'),
        SOLANA_CONFIG: path.join(net.dir, 'no-solana-config.yml'),
        NODEVICE_SELECT: '1',
      },
      encoding: 'utf8',
    },
  );
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

/** A new keypair (file and web3.js Keypair) funded by the faucet with `tokens` and 1 SOL. */
export function fundedUser(net: Localnet, name: string, tokens: string): { file: string; key: Keypair } {
  const file = path.join(net.dir, `${name}.json`);
  assay(net, ['keygen', file]);
  const key = Keypair.fromSecretKey(Uint8Array.from(JSON.parse(readFileSync(file, 'utf8'))));
  assay(net, ['faucet', key.publicKey.toBase58(), '--tokens', tokens, '--authority', path.join(net.dir, 'ledger/admin.json')]);
  return { file, key };
}

/** The associated (classic SPL Token) account of `owner` for `mint`. */
export function associatedTokenAddress(owner: PublicKey, mint: PublicKey): PublicKey {
  return PublicKey.findProgramAddressSync(
    [owner.toBuffer(), TOKEN_PROGRAM.toBuffer(), mint.toBuffer()],
    ATA_PROGRAM,
  )[0];
}

/** The job PDA: ["job", buyer, job_id LE]. */
export function jobAddress(programId: PublicKey, buyer: PublicKey, jobId: bigint): PublicKey {
  const id = Buffer.alloc(8);
  id.writeBigUInt64LE(jobId);
  return PublicKey.findProgramAddressSync([Buffer.from('job'), buyer.toBuffer(), id], programId)[0];
}

export function vaultAddress(programId: PublicKey, job: PublicKey): PublicKey {
  return PublicKey.findProgramAddressSync([Buffer.from('job-vault'), job.toBuffer()], programId)[0];
}
