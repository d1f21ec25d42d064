// The standard Solana clients against `assay localnet`, unchanged: @coral-xyz/anchor over
// web3.js (reads, `.rpc()` with default confirmation, simulation errors by name, history)
// and @solana/kit with the Codama-generated client (a v0 transaction through
// sendAndConfirmTransactionFactory, typed account reads).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
// Anchor ships CommonJS: named imports come off its default export under node's ESM.
import anchor, { type Idl } from '@coral-xyz/anchor';
const { AnchorError, AnchorProvider, BN, Program, utils, Wallet } = anchor;
type Wallet = InstanceType<typeof Wallet>;
import { Connection, PublicKey, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import {
  address,
  appendTransactionMessageInstruction,
  createKeyPairSignerFromBytes,
  createSolanaRpc,
  createSolanaRpcSubscriptions,
  createTransactionMessage,
  getSignatureFromTransaction,
  pipe,
  sendAndConfirmTransactionFactory,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
} from '@solana/kit';
import * as market from '../src/generated/market/index.js';
import { onAssayEvents, type AssayEvent } from '../src/events.js';
import { assay, associatedTokenAddress, fundedUser, jobAddress, startLocalnet, TOKEN_PROGRAM, vaultAddress, type Localnet } from './support.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const idl = (name: string): Idl => JSON.parse(readFileSync(path.join(here, '../../../idl', name), 'utf8'));

let net: Localnet;
let connection: Connection;

before(async () => {
  net = await startLocalnet();
  connection = new Connection(net.url, { commitment: 'confirmed', wsEndpoint: net.wsUrl });
  // The market refuses jobs nobody could audit: one staked verifier, enough for the
  // bond of the jobs below (50 verifier fees: 30 tokens).
  const auditor = fundedUser(net, 'auditor', '100');
  assay(net, ['stake', 'deposit', '50', '--roles', 'verifier'], auditor.file);
});

after(() => {
  // web3.js keeps a websocket open for confirmations; close it before the validator goes.
  (connection as any)?._rpcWebSocket?.close();
  net?.child.kill('SIGKILL');
});

function programs(wallet: Wallet) {
  const provider = new AnchorProvider(connection, wallet, { commitment: 'confirmed' });
  return { market: new Program(idl('assay_market.json'), provider), stake: new Program(idl('assay_stake.json'), provider) };
}

/** PostJobArgs for a small exact-comparison job: 2 tokens, collateral at the 3.2× floor. */
function jobArgs(jobId: bigint, nChunks = 4) {
  return {
    jobId: new BN(jobId.toString()),
    manifestHash: [...randomBytes(32)],
    inputRoot: [...randomBytes(32)],
    nChunks,
    samples: 1,
    comparisonRule: 0,
    price: new BN(2_000_000),
    collateral: new BN(6_400_000),
    claimWindowSlots: new BN(500),
    executionWindowSlots: new BN(500),
    needs: 0,
  };
}

function postAccounts(programId: PublicKey, buyer: PublicKey, jobId: bigint) {
  return {
    buyer,
    buyerToken: associatedTokenAddress(buyer, net.mint),
    mint: net.mint,
    tokenProgram: TOKEN_PROGRAM,
    job: jobAddress(programId, buyer, jobId),
  };
}

/** cancel_job's accounts: the escrow block (job, buyer, vault, buyer's token account,
 * mint, token program) and the signing buyer. */
function cancelAccounts(programId: PublicKey, buyer: PublicKey, job: PublicKey) {
  return {
    escrow: {
      job,
      buyer,
      vault: vaultAddress(programId, job),
      buyerToken: associatedTokenAddress(buyer, net.mint),
      mint: net.mint,
      tokenProgram: TOKEN_PROGRAM,
    },
    buyer,
  };
}

test('anchor reads the market config, operators and jobs from the committed IDL', async () => {
  const buyer = fundedUser(net, 'reader', '50');
  const { market: m, stake: s } = programs(new Wallet(buyer.key));
  const [config] = PublicKey.findProgramAddressSync([Buffer.from('market-config')], m.programId);
  const cfg: any = await (m.account as any).marketConfig.fetch(config);
  assert.ok(cfg.mint.equals(net.mint), 'the config names the payment mint');
  const operators: any[] = await (s.account as any).operator.all();
  assert.ok(operators.length >= 1, 'the staked verifier is an operator');
  await m.methods.postJob(jobArgs(7n)).accountsPartial(postAccounts(m.programId, buyer.key.publicKey, 7n)).rpc();
  const jobs: any[] = await (m.account as any).job.all();
  const mine = jobs.find((j) => j.account.buyer.equals(buyer.key.publicKey));
  assert.ok(mine, 'the posted job is listed');
  assert.equal(mine.account.nChunks, 4);
});

test('a job posted and cancelled with .rpc() and default confirmation refunds the buyer', async () => {
  const buyer = fundedUser(net, 'canceller', '50');
  const { market: m } = programs(new Wallet(buyer.key));
  const accounts = postAccounts(m.programId, buyer.key.publicKey, 1n);
  const before = await connection.getTokenAccountBalance(accounts.buyerToken);
  await m.methods.postJob(jobArgs(1n)).accountsPartial(accounts).rpc();
  const escrowed = await connection.getTokenAccountBalance(accounts.buyerToken);
  assert.equal(BigInt(before.value.amount) - BigInt(escrowed.value.amount), 2_000_000n);
  await m.methods.cancelJob().accountsPartial(cancelAccounts(m.programId, buyer.key.publicKey, accounts.job)).rpc();
  const after = await connection.getTokenAccountBalance(accounts.buyerToken);
  assert.equal(after.value.amount, before.value.amount, 'the whole price came back');
  assert.equal(await connection.getAccountInfo(accounts.job), null, 'the job closed');
});

test('a failing post_job, simulated, names the program error in its logs', async () => {
  const buyer = fundedUser(net, 'simulator', '50');
  const { market: m } = programs(new Wallet(buyer.key));
  const ix = await m.methods.postJob(jobArgs(3n, 0)).accountsPartial(postAccounts(m.programId, buyer.key.publicKey, 3n)).instruction();
  const { blockhash } = await connection.getLatestBlockhash();
  const tx = new VersionedTransaction(
    new TransactionMessage({ payerKey: buyer.key.publicKey, recentBlockhash: blockhash, instructions: [ix] }).compileToV0Message(),
  );
  tx.sign([buyer.key]);
  const sim = await connection.simulateTransaction(tx, { sigVerify: true });
  assert.ok(sim.value.err, 'the simulation fails');
  const error = AnchorError.parse(sim.value.logs ?? []);
  assert.ok(error, `an Anchor error in the logs: ${sim.value.logs?.join('\n')}`);
  assert.equal(error.error.errorCode.code, 'ZeroChunks');
});

test('kit sends a v0 post_job built by the Codama client; a closed job keeps its history', async () => {
  const buyer = fundedUser(net, 'kit', '50');
  const rpc = createSolanaRpc(net.url);
  const rpcSubscriptions = createSolanaRpcSubscriptions(net.wsUrl);
  const signer = await createKeyPairSignerFromBytes(buyer.key.secretKey);
  const sendAndConfirm = sendAndConfirmTransactionFactory({ rpc, rpcSubscriptions });
  const args = jobArgs(9n);
  const jobKey = jobAddress(new PublicKey(market.ASSAY_MARKET_PROGRAM_ADDRESS), buyer.key.publicKey, 9n);
  const ix = await market.getPostJobInstructionAsync({
    buyer: signer,
    buyerToken: address(associatedTokenAddress(buyer.key.publicKey, net.mint).toBase58()),
    mint: address(net.mint.toBase58()),
    tokenProgram: address(TOKEN_PROGRAM.toBase58()),
    job: address(jobKey.toBase58()),
    eventAuthority: address(
      PublicKey.findProgramAddressSync([Buffer.from('__event_authority')], new PublicKey(market.ASSAY_MARKET_PROGRAM_ADDRESS))[0].toBase58(),
    ),
    program: market.ASSAY_MARKET_PROGRAM_ADDRESS,
    ...{
      jobId: 9n,
      manifestHash: new Uint8Array(args.manifestHash),
      inputRoot: new Uint8Array(args.inputRoot),
      nChunks: 4,
      samples: 1,
      comparisonRule: 0,
      price: 2_000_000n,
      collateral: 6_400_000n,
      claimWindowSlots: 500n,
      executionWindowSlots: 500n,
      needs: 0,
    },
  });
  const { value: latest } = await rpc.getLatestBlockhash().send();
  const message = pipe(
    createTransactionMessage({ version: 0 }),
    (m) => setTransactionMessageFeePayerSigner(signer, m),
    (m) => setTransactionMessageLifetimeUsingBlockhash(latest, m),
    (m) => appendTransactionMessageInstruction(ix, m),
  );
  const signed = await signTransactionMessageWithSigners(message);
  await sendAndConfirm(signed as any, { commitment: 'confirmed' });
  const posted = getSignatureFromTransaction(signed);

  // Typed reads through the generated client.
  const job = await market.fetchJob(rpc, address(jobKey.toBase58()));
  assert.equal(job.data.nChunks, 4);
  assert.equal(job.data.price, 2_000_000n);

  // Cancel it (Anchor), then read the closed job's story from the chain alone.
  const { market: m } = programs(new Wallet(buyer.key));
  const cancelled = await m.methods.cancelJob().accountsPartial(cancelAccounts(m.programId, buyer.key.publicKey, jobKey)).rpc();
  assert.equal(await connection.getAccountInfo(jobKey), null, 'the job closed');
  const history = await connection.getSignaturesForAddress(jobKey);
  const signatures = history.map((h) => h.signature);
  assert.ok(signatures.includes(posted), 'the post is in the history');
  assert.ok(signatures.includes(cancelled), 'the cancel is in the history');
  const tx = await connection.getTransaction(cancelled, { maxSupportedTransactionVersion: 0, commitment: 'confirmed' });
  assert.ok(tx?.meta && tx.meta.err === null, 'the cancel succeeded');
  // The market's events ride in self-CPIs (emit_cpi!): decode them with the IDL.
  const events = (tx.meta.innerInstructions ?? [])
    .flatMap((inner) => inner.instructions)
    .map((ix) => Buffer.from(utils.bytes.bs58.decode(ix.data)))
    .filter((data) => data.length > 8)
    .map((data) => m.coder.events.decode(data.subarray(8).toString('base64')))
    .filter((e) => e !== null);
  assert.ok(events.some((e) => e!.name === 'jobClosed'), `a JobClosed event: ${JSON.stringify(events.map((e) => e!.name))}`);
});

test('onAssayEvents receives a JobPosted event live (logsSubscribe + getTransaction, emit_cpi! decoded)', async () => {
  const buyer = fundedUser(net, 'listener', '50');
  const { market: m } = programs(new Wallet(buyer.key));
  const received: AssayEvent[] = [];
  const stop = onAssayEvents(connection, [idl('assay_market.json'), idl('assay_stake.json')], (e) => received.push(e));
  try {
    // The subscription registers asynchronously: post until one post is heard (each post is
    // a new job), for at most 30 s.
    const deadline = Date.now() + 30_000;
    const posted: string[] = [];
    let heard: AssayEvent | undefined;
    for (let jobId = 20n; !heard && Date.now() < deadline; jobId++) {
      posted.push(await m.methods.postJob(jobArgs(jobId)).accountsPartial(postAccounts(m.programId, buyer.key.publicKey, jobId)).rpc());
      for (let i = 0; i < 20 && !heard; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        heard = received.find((e) => e.name === 'JobPosted' && posted.includes(e.signature));
      }
    }
    assert.ok(heard, `a JobPosted event for one of ${posted.length} posts; heard ${JSON.stringify(received.map((e) => e.name))}`);
    assert.ok((heard.data.buyer as PublicKey).equals(buyer.key.publicKey), 'the event names the buyer');
    assert.equal(String(heard.data.price), '2000000');
    assert.equal(heard.program, m.programId.toBase58());
    // The same transaction's other events come with it, in the order emitted.
    const sameTx = received.filter((e) => e.signature === heard!.signature).map((e) => e.name);
    assert.deepEqual(sameTx.slice(0, 2), ['JobPosted', 'JobStateChanged']);
  } finally {
    await stop();
  }
});

test("web3.js batch methods and getBlock work against assay localnet (its front corrects Surfpool's answers)", async () => {
  // The market's own history: the deployment's initialize_config and the jobs above.
  const marketId = new PublicKey(idl('assay_market.json').address);
  const history = await connection.getSignaturesForAddress(marketId, { limit: 3 });
  assert.ok(history.length >= 2, `signatures of the market: ${history.length}`);
  // getTransactions sends one JSON-RPC batch; Surfpool alone refuses batches.
  const txs = await connection.getTransactions(
    history.map((h) => h.signature),
    { maxSupportedTransactionVersion: 0, commitment: 'confirmed' },
  );
  assert.equal(txs.length, history.length);
  assert.ok(txs.every((tx) => tx !== null && tx.meta !== null), 'every transaction fetched');
  // getBlock names no encoding; Surfpool alone answers account keys as objects and
  // web3.js throws on them.
  const block = await connection.getBlock(history[0].slot, { maxSupportedTransactionVersion: 0, commitment: 'confirmed' });
  assert.ok(block && block.transactions.length > 0, 'the block holds the transaction');
  assert.ok(
    block.transactions.some((t) => t.transaction.signatures.includes(history[0].signature)),
    'and it is the one asked for',
  );
});
