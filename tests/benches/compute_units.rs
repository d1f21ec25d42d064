//! Compute units of every instruction of both programs, run as SBF in the embedded bank
//! (`scripts/sbf/build.sh` builds the `.so` files; `ASSAY_SBF_DIR` names another folder).
//!
//! Two stages drive each instruction: the happy path (a small registry, committee of 3,
//! 2 verifier rounds, 8-chunk jobs sampling 3) and the worst case (64 verifiers — the
//! registry's sum trees cost the same whatever their number —, committee of 7 all voting, 4 rounds, jobs of 2^32 − 1 chunks sampling 64,
//! so a Mismatch carries a 32-level Merkle proof; and 64 of 64 chunks sampled, where the
//! sample draw repeats most). Units include each instruction's CPIs. Every transaction
//! asks for the most units a transaction may use, so the SDK's budget table
//! (`assay_client::compute`, sized from these numbers) caps nothing here.
//!
//! Keys are random each run, so PDA bump searches, the draws and the sample vary: rows
//! move by up to a few thousand units between runs (the all-sampled report by more).
//!
//! `cargo bench -p assay-tests --bench compute_units` prints a markdown table, then one
//! `cu_<instruction>[_<case>][_worst]: N` line per row, `cu_settled_job_total: N` (post,
//! claim, commit, draw, pass and close of one job), `cu_max_worst: N`, `cu_max: N`,
//! `cu_over_200k: K` and
//! `cu_over_sdk_table: K`. It exits non-zero, naming what failed, if any instruction fails
//! or uses more than the SDK's table budgets for it (the table must then be raised).

// solana-program-test 3.1 marks its API "unstable" (deprecated) ahead of 4.0; the
// deployment scene drives a bank of its own through it.
#![allow(deprecated)]

use std::fmt::Display;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::entrypoint::MAX_PERMITTED_DATA_INCREASE;
use anchor_lang::solana_program::system_instruction;
use assay_client::compute::MAX_UNIT_LIMIT;
use assay_client::ix::Deployment;
use assay_client::{pda, Chain};
use assay_market::constants::{
    MAX_COMMITTEE, MAX_OUTPUT_URI_LEN, MAX_SAMPLES, MAX_VERIFIER_ROUNDS,
};
use assay_market::instructions::{ChallengePassArgs, FaultEvidence, PostJobArgs};
use assay_market::state::MarketParams;
use assay_protocol::{node_hash, proof_len, sample_indices, Hash, Verdict};
use assay_stake::constants::{MAX_VERIFIERS, ROLE_VERIFIER};
use assay_stake::state::VerifierRegistry;
use assay_testkit::embedded::{
    program_test, top_level_compute_units, ChainError, LocalChain, LocalSetup, ProgramMode,
};
use assay_tests::{World, OPERATOR_STAKE, STARTING_TOKENS};
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_sdk::instruction::Instruction;
use solana_sdk::program_pack::Pack;
use solana_sdk::signature::{Keypair, Signer};
use solana_sdk::transaction::Transaction;

/// The rows of one honestly settled job's life (happy path): their sum is
/// `cu_settled_job_total`.
const SETTLED_JOB: [&str; 6] = [
    "cu_post_job",
    "cu_claim_job",
    "cu_commit_result",
    "cu_draw_challenge",
    "cu_attest_pass",
    "cu_close_pass",
];

/// Rows above this many units are counted in `cu_over_200k` (the runtime's default
/// budget per instruction).
const DEFAULT_UNITS: u64 = 200_000;

/// What failed, in words.
#[derive(Debug)]
struct Failure(String);

impl<E: Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

type Outcome<T = ()> = Result<T, Failure>;

/// One measured instruction.
struct Row {
    instruction: &'static str,
    case: String,
    key: String,
    units: u64,
    /// What the SDK's compute table budgets for this instruction (before headroom).
    sdk_table: u64,
}

/// Sends instructions and records the units each one consumed.
#[derive(Default)]
struct Meter {
    /// The running stage's key suffix and description.
    stage: (&'static str, &'static str),
    rows: Vec<Row>,
}

impl Meter {
    /// Sends `ixs` (exactly one of them an Assay instruction) and records its units as
    /// `instruction` in the case `slug` (part of the key, may be empty) described by `text`.
    /// The transaction asks for the most units a transaction may use.
    async fn measure(
        &mut self,
        chain: &mut LocalChain,
        instruction: &'static str,
        slug: &str,
        text: impl Into<String>,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Outcome {
        let text = text.into();
        let mut all = vec![ComputeBudgetInstruction::set_compute_unit_limit(
            MAX_UNIT_LIMIT,
        )];
        all.extend_from_slice(ixs);
        let units = chain.send_metered(&all, signers).await.map_err(|e| {
            let program = ixs.iter().map(|ix| ix.program_id).find(is_assay);
            Failure(format!(
                "{instruction} ({text}): {}",
                e.explain(&program.unwrap_or_default())
            ))
        })?;
        let assay_ix = ixs.iter().find(|ix| is_assay(&ix.program_id));
        let sdk_table = assay_ix
            .and_then(assay_client::compute::instruction_units)
            .unwrap_or(0);
        self.record(instruction, slug, text, &units, sdk_table)
    }

    fn record(
        &mut self,
        instruction: &'static str,
        slug: &str,
        text: String,
        units: &[(Pubkey, u64)],
        sdk_table: u64,
    ) -> Outcome {
        let assay: Vec<u64> = units
            .iter()
            .filter(|(program, _)| is_assay(program))
            .map(|&(_, units)| units)
            .collect();
        let [units] = assay[..] else {
            return Err(Failure(format!(
                "{instruction} ({text}): expected the units of one Assay instruction, got {assay:?}"
            )));
        };
        let (stage_slug, stage_label) = self.stage;
        let key = ["cu", instruction, slug, stage_slug]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join("_");
        if self.rows.iter().any(|row| row.key == key) {
            return Err(Failure(format!("{key} measured twice")));
        }
        let case = match stage_label {
            "" => text,
            label => format!("{text}; {label}"),
        };
        self.rows.push(Row {
            instruction,
            case,
            key,
            units,
            sdk_table,
        });
        Ok(())
    }

    fn print(&self) {
        println!("| instruction | case | compute units | SDK table |");
        println!("|---|---|---:|---:|");
        for row in &self.rows {
            println!(
                "| {} | {} | {} | {} |",
                row.instruction, row.case, row.units, row.sdk_table
            );
        }
        println!();
        for row in &self.rows {
            println!("{}: {}", row.key, row.units);
        }
        let max = self.rows.iter().map(|row| row.units).max().unwrap_or(0);
        let over = self.rows.iter().filter(|r| r.units > DEFAULT_UNITS).count();
        let units_of = |key: &str| self.rows.iter().find(|r| r.key == key).map(|r| r.units);
        let happy_path: Option<u64> = SETTLED_JOB.iter().map(|key| units_of(key)).sum();
        if let Some(total) = happy_path {
            println!("cu_settled_job_total: {total}");
        }
        let worst = self
            .rows
            .iter()
            .filter(|r| r.key.ends_with("_worst"))
            .map(|r| r.units)
            .max()
            .unwrap_or(0);
        println!("cu_max_worst: {worst}");
        println!("cu_max: {max}");
        println!("cu_over_200k: {over}");
        println!("cu_over_sdk_table: {}", self.over_sdk_table().len());
    }

    /// Rows that used more than the SDK budgets for them (before its headroom).
    fn over_sdk_table(&self) -> Vec<&str> {
        self.rows
            .iter()
            .filter(|row| row.units > row.sdk_table)
            .map(|row| row.key.as_str())
            .collect()
    }
}

fn is_assay(program: &Pubkey) -> bool {
    *program == assay_market::ID || *program == assay_stake::ID
}

/// A Merkle tree of `n` identical leaves, built in O(log n): on every level each node but
/// the last roots a full subtree, so one hash per level stands for all of them. It lets a
/// job commit to 2^32 − 1 chunks and prove any of them with the deepest proof there is.
struct UniformTree {
    n: u32,
    /// Per level: the hash of every node but the last, and of the last.
    full: Vec<Hash>,
    last: Vec<Hash>,
}

impl UniformTree {
    const LEAF: Hash = [7; 32];

    fn new(n: u32) -> Self {
        let (mut full, mut last) = (vec![Self::LEAF], vec![Self::LEAF]);
        let mut width = n;
        while width > 1 {
            let (f, l) = (full[full.len() - 1], last[last.len() - 1]);
            full.push(node_hash(&f, &f));
            // An odd level promotes its last node; an even one pairs it with a full one.
            last.push(if width.is_multiple_of(2) {
                node_hash(&f, &l)
            } else {
                l
            });
            width = width.div_ceil(2);
        }
        Self { n, full, last }
    }

    fn root(&self) -> Hash {
        self.last[self.last.len() - 1]
    }

    /// Mismatch evidence for chunk `index`: its leaf, proof, and a different output hash.
    fn mismatch(&self, index: u32) -> FaultEvidence {
        let (mut index, mut width, mut proof) = (index, self.n, vec![]);
        for level in 0..self.full.len() - 1 {
            let sibling = index ^ 1;
            if sibling < width {
                let last = sibling == width - 1;
                proof.push(if last {
                    self.last[level]
                } else {
                    self.full[level]
                });
            }
            index /= 2;
            width = width.div_ceil(2);
        }
        FaultEvidence::Mismatch {
            provider_leaf: Self::LEAF,
            proof,
            recomputed_output_hash: [9; 32],
        }
    }
}

/// The protocol settings and job terms one pass over every instruction runs with.
struct Stage {
    slug: &'static str,
    label: &'static str,
    /// Registry entries once `operator_lifecycle` has registered the last verifier.
    verifiers: usize,
    market: MarketParams,
    n_chunks: u32,
    samples: u8,
    uri_len: usize,
}

impl Stage {
    fn all() -> [Stage; 2] {
        let market = LocalSetup::default().market;
        [
            Stage {
                slug: "",
                label: "5 verifiers",
                verifiers: 5,
                market: market.clone(),
                n_chunks: World::job_args(0).n_chunks,
                samples: World::job_args(0).samples,
                uri_len: 64,
            },
            Stage {
                slug: "worst",
                label: "64 verifiers",
                verifiers: 64,
                market: MarketParams {
                    committee_size: MAX_COMMITTEE as u8,
                    max_verifier_rounds: MAX_VERIFIER_ROUNDS,
                    ..market
                },
                n_chunks: u32::MAX,
                samples: MAX_SAMPLES,
                uri_len: MAX_OUTPUT_URI_LEN,
            },
        ]
    }

    fn job_args(&self, job_id: u64) -> PostJobArgs {
        PostJobArgs {
            n_chunks: self.n_chunks,
            samples: self.samples,
            ..World::job_args(job_id)
        }
    }

    fn terms(&self) -> String {
        format!("{} chunks, {} samples", self.n_chunks, self.samples)
    }

    fn uri(&self) -> String {
        format!("file:///{}", "b".repeat(self.uri_len - "file:///".len()))
    }

    /// A world with this stage's market settings and one verifier short of `verifiers`;
    /// its provider stakes enough for every scene's collateral, slashes included.
    async fn world(&self, programs: &ProgramMode) -> Outcome<World> {
        let setup = LocalSetup {
            market: self.market.clone(),
            programs: Some(programs.clone()),
            ..LocalSetup::default()
        };
        let mut w = World::new(setup, 1, 1, self.verifiers - 1).await?;
        let p = w.providers[0].insecure_clone();
        let ix = w.chain.deployment.deposit(&p.pubkey(), 4 * OPERATOR_STAKE);
        w.chain.send(&[ix], &[&p]).await?;
        // Verifiers stake most of what they hold: every scene's bonds (50 verifier fees
        // each) stay locked while its job is open, and a verifier short of a bond forfeits.
        let verifiers: Vec<Keypair> = w.verifiers.iter().map(|k| k.insecure_clone()).collect();
        for v in verifiers {
            let ix = w.chain.deployment.deposit(&v.pubkey(), 8 * OPERATOR_STAKE);
            w.chain.send(&[ix], &[&v]).await?;
        }
        w.chain.next_epoch().await?;
        Ok(w)
    }
}

/// Both programs' one-time setup and config updates, in a bank of their own:
/// `LocalChain::start` initializes its deployment before anyone could meter it.
async fn deployment(m: &mut Meter, programs: &ProgramMode) -> Outcome {
    let ctx = program_test(programs)?.start_with_context().await;
    let payer = ctx.payer.insecure_clone();
    let admin = assay_client::keys::dev_deployer();
    let mint = Keypair::new();
    let token_program = anchor_spl::token::ID;
    let d = Deployment {
        mint: mint.pubkey(),
        token_program,
        treasury: pda::treasury(),
    };
    let mint_len = anchor_spl::token::spl_token::state::Mint::LEN;
    let rent = ctx
        .banks_client
        .get_rent()
        .await
        .map_err(assay_testkit::embedded::bank_error)?;
    let setup_ixs = [
        // The full registry's rent is ~1.9 SOL.
        system_instruction::transfer(&payer.pubkey(), &admin.pubkey(), 100_000_000_000),
        system_instruction::create_account(
            &admin.pubkey(),
            &mint.pubkey(),
            rent.minimum_balance(mint_len),
            mint_len as u64,
            &token_program,
        ),
        anchor_spl::token::spl_token::instruction::initialize_mint2(
            &token_program,
            &mint.pubkey(),
            &admin.pubkey(),
            None,
            6,
        )?,
        d.create_token_account(&admin.pubkey(), &admin.pubkey()),
    ];
    let LocalSetup { stake, market, .. } = LocalSetup::default();
    let admin_key = admin.pubkey();
    let steps = [
        (None, setup_ixs.to_vec(), vec![&payer, &admin, &mint]),
        (
            Some("stake_initialize"),
            vec![d.stake_initialize(&admin_key, stake.clone())],
            vec![&admin],
        ),
        (
            Some("grow_registry"),
            vec![d.grow_registry(&admin_key)],
            vec![&admin],
        ),
    ];
    // Up to the last 10 KiB unmeasured, then the last grow: the costliest, as the
    // system-program CPI that funds it carries the whole registry.
    let grows_left = VerifierRegistry::SIZE.div_ceil(MAX_PERMITTED_DATA_INCREASE) - 2;
    let mut steps: Vec<(Option<&str>, Vec<Instruction>, Vec<&Keypair>)> = steps.to_vec();
    for (n, batch) in (0..grows_left - 1)
        .collect::<Vec<_>>()
        .chunks(14)
        .enumerate()
    {
        // A distinct price per batch keeps the identical batches distinct transactions.
        let mut ixs = vec![ComputeBudgetInstruction::set_compute_unit_price(n as u64)];
        ixs.extend(batch.iter().map(|_| d.grow_registry(&admin_key)));
        steps.push((None, ixs, vec![&admin]));
    }
    steps.extend([
        (
            Some("grow_registry_last"),
            // (The price only keeps it distinct from the first grow's transaction.)
            vec![
                ComputeBudgetInstruction::set_compute_unit_price(1_000_000),
                d.grow_registry(&admin_key),
            ],
            vec![&admin],
        ),
        (
            Some("stake_update_config"),
            vec![d.stake_update_config(&admin_key, stake.tunables())],
            vec![&admin],
        ),
        (
            Some("initialize_config"),
            vec![d.initialize_config(&admin_key, market.clone())],
            vec![&admin],
        ),
        (
            Some("update_config"),
            vec![d.update_config(&admin_key, market)],
            vec![&admin],
        ),
    ]);
    for (instruction, ixs, signers) in steps {
        let what = instruction.unwrap_or("deployer funds, mint, registry growth");
        let mut tx = Transaction::new_with_payer(&ixs, Some(&signers[0].pubkey()));
        tx.try_sign(signers.as_slice(), ctx.last_blockhash)?;
        let processed = ctx
            .banks_client
            .process_transaction_with_metadata(tx)
            .await
            .map_err(assay_testkit::embedded::bank_error)?;
        processed
            .result
            .map_err(|e| Failure(format!("{what}: {}", ChainError::Transaction(e))))?;
        if let Some(instruction) = instruction {
            let logs = processed.metadata.map(|meta| meta.log_messages);
            let units = top_level_compute_units(&logs.unwrap_or_default());
            let sdk_table = ixs
                .iter()
                .find_map(assay_client::compute::instruction_units)
                .unwrap_or(0);
            m.record(
                instruction,
                "",
                "fresh deployment".into(),
                &units,
                sdk_table,
            )?;
        }
    }
    Ok(())
}

/// A verifier joins as the registry's last entry, stakes, unstakes everything (so no
/// later draw picks it) and withdraws after the cooldown.
async fn operator_lifecycle(s: &Stage, w: &mut World, m: &mut Meter) -> Outcome {
    let k = w.chain.new_user(STARTING_TOKENS).await?;
    let (d, key) = (w.chain.deployment, k.pubkey());
    let text = format!(
        "verifier, registry entry {} of {MAX_VERIFIERS}",
        s.verifiers
    );
    let cooldown = LocalSetup::default().stake.unstake_cooldown_slots;
    let chain = &mut w.chain;
    let register = d.register_operator(&key, ROLE_VERIFIER);
    m.measure(chain, "register_operator", "", &text, &[register], &[&k])
        .await?;
    let deposit = d.deposit(&key, OPERATOR_STAKE);
    m.measure(chain, "deposit", "", &text, &[deposit], &[&k])
        .await?;
    let sync = d.sync_verifier(&key);
    m.measure(chain, "sync_verifier", "", &text, &[sync], &[])
        .await?;
    let declare = d.set_capabilities(&key, assay_protocol::capability::ALL);
    m.measure(chain, "set_capabilities", "", &text, &[declare], &[&k])
        .await?;
    let unstake = d.request_unstake(&key, OPERATOR_STAKE);
    m.measure(chain, "request_unstake", "", &text, &[unstake], &[&k])
        .await?;
    chain.warp(cooldown + 1).await?;
    m.measure(chain, "withdraw", "", &text, &[d.withdraw(&key)], &[&k])
        .await?;
    bump_searches_cost_what_the_sdk_adds(w, m).await
}

/// Two registrations whose keys differ only in their PDAs' bumps (one found on the first
/// try, one at least eight steps down): their units differ by exactly what
/// `assay_client::compute::bump_search_units` adds — the cost model the SDK's budgets
/// and this bench's gate rely on, checked on the loaded program.
async fn bump_searches_cost_what_the_sdk_adds(w: &mut World, m: &mut Meter) -> Outcome {
    use assay_client::compute::bump_search_units;
    let d = w.chain.deployment;
    let ground = |wanted: &dyn Fn(u64) -> bool| loop {
        let k = Keypair::new();
        let units = bump_search_units(&d.register_operator(&k.pubkey(), ROLE_VERIFIER));
        if wanted(units) {
            return k;
        }
    };
    let steps = assay_client::compute::BUMP_SEARCH_STEP_UNITS;
    let cases = [
        ("first_try", ground(&|units| units == 0)),
        ("deep_search", ground(&|units| units >= 8 * steps)),
    ];
    let mut measured = vec![];
    for (slug, k) in cases {
        w.chain.airdrop(&k.pubkey(), 1_000_000_000).await?;
        let register = d.register_operator(&k.pubkey(), ROLE_VERIFIER);
        let search = bump_search_units(&register);
        let text = format!(
            "verifier whose PDAs take {} extra search steps",
            search / steps
        );
        m.measure(
            &mut w.chain,
            "register_operator",
            slug,
            text,
            &[register],
            &[&k],
        )
        .await?;
        let units = m.rows.last().map_or(0, |row| row.units);
        measured.push((units, search));
    }
    let [(first, none), (deep, search)] = measured[..] else {
        return Err(Failure("two registrations measured".into()));
    };
    if none != 0 || deep.checked_sub(first) != Some(search) {
        return Err(Failure(format!(
            "register_operator: {deep} − {first} units for {search} units of bump search"
        )));
    }
    Ok(())
}

/// The happy path, every step measured: post, claim, commit, draw, attest.
async fn settled_job(s: &Stage, w: &mut World, m: &mut Meter) -> Outcome {
    let d = w.chain.deployment;
    let (buyer, provider) = (w.buyer().insecure_clone(), w.providers[0].insecure_clone());
    let args = s.job_args(1);
    let job = pda::job(&buyer.pubkey(), args.job_id);
    let post = d.post_job(&buyer.pubkey(), args);
    m.measure(&mut w.chain, "post_job", "", s.terms(), &[post], &[&buyer])
        .await?;
    let claim = d.claim_job(&provider.pubkey(), &job);
    let text = "provider's collateral locked";
    m.measure(&mut w.chain, "claim_job", "", text, &[claim], &[&provider])
        .await?;
    let root = UniformTree::new(s.n_chunks).root();
    let commit = d.commit_result(&provider.pubkey(), &job, root, s.uri());
    let text = format!("{}-byte output URI", s.uri_len);
    m.measure(
        &mut w.chain,
        "commit_result",
        "",
        text,
        &[commit],
        &[&provider],
    )
    .await?;
    let (draw, verifier) = w.draw_instruction(&job).await?;
    let text = "verifier drawn by stake, its bond locked";
    m.measure(&mut w.chain, "draw_challenge", "", text, &[draw], &[])
        .await?;
    let verifier = verifier.ok_or("no verifier was drawn")?;
    let state = w.job(&job).await;
    let v = w.key(&verifier).insecure_clone();
    let attest = d.attest_pass(&verifier, &job, &state).unwrap();
    let text = format!("{}; provider paid, pass window open", s.terms());
    m.measure(&mut w.chain, "attest_pass", "", text, &[attest], &[&v])
        .await?;
    let state = w.job(&job).await;
    let slot = w.chain.slot().await?;
    w.chain.warp(state.step_deadline_slot + 1 - slot).await?;
    let close = d.close_pass(&job, &state).unwrap();
    let text = "window over: verifier fee paid, both stakes unlocked, job closed";
    m.measure(&mut w.chain, "close_pass", "", text, &[close], &[])
        .await?;
    let admin = w.chain.admin.insecure_clone();
    let to = d.token_account(&admin.pubkey());
    let withdraw = d.withdraw_treasury(&admin.pubkey(), &to, 1);
    let text = "protocol fee out of the treasury vault";
    m.measure(
        &mut w.chain,
        "withdraw_treasury",
        "",
        text,
        &[withdraw],
        &[&admin],
    )
    .await
}

/// post → claim → commit → draw, unmeasured: the job, its tree and its verifier.
async fn challenged_job(w: &mut World, args: PostJobArgs, uri: String) -> Outcome<Challenged> {
    let tree = UniformTree::new(args.n_chunks);
    let job = w.post(0, args).await?;
    w.claim(0, &job).await?;
    let p = w.providers[0].insecure_clone();
    let commit = w
        .chain
        .deployment
        .commit_result(&p.pubkey(), &job, tree.root(), uri);
    w.chain.send(&[commit], &[&p]).await?;
    let verifier = w.draw(&job).await?.ok_or("no verifier was drawn")?;
    let verifier = w.key(&verifier).insecure_clone();
    Ok(Challenged {
        job,
        tree,
        verifier,
    })
}

struct Challenged {
    job: Pubkey,
    tree: UniformTree,
    verifier: Keypair,
}

impl Challenged {
    /// A report on the last chunk of the sample (`is_sampled` draws the whole sample to
    /// find it): Mismatch with the provider's leaf and proof, or Unavailable.
    async fn report(&self, w: &mut World, mismatch: bool) -> (Instruction, String) {
        let state = w.job(&self.job).await;
        let sample = sample_indices(&state.seed, state.n_chunks, state.samples.into());
        let index = sample[sample.len() - 1];
        let (evidence, text) = if mismatch {
            let depth = proof_len(index, state.n_chunks);
            (
                self.tree.mismatch(index),
                format!("Mismatch, {depth}-level proof"),
            )
        } else {
            (FaultEvidence::Unavailable, "Unavailable".into())
        };
        let verifier = self.verifier.pubkey();
        let ix = w
            .chain
            .deployment
            .report_fault(&verifier, &self.job, index, evidence);
        let text = format!(
            "{text}, {} chunks, {} samples",
            state.n_chunks, state.samples
        );
        (ix, text)
    }

    async fn send_report(&self, w: &mut World) -> Outcome {
        let (ix, _) = self.report(w, true).await;
        w.chain.send(&[ix], &[&self.verifier]).await?;
        Ok(())
    }

    async fn contest(&self, w: &mut World) -> (Instruction, Keypair) {
        let p = w.providers[0].insecure_clone();
        let state = w.job(&self.job).await;
        (
            w.chain
                .deployment
                .contest_fault(&p.pubkey(), &self.job, &state),
            p,
        )
    }

    /// Contests and draws the committee, unmeasured.
    async fn send_contest(&self, w: &mut World) -> Outcome {
        let (ix, p) = self.contest(w).await;
        w.chain.send(&[ix], &[&p]).await?;
        w.chain.crank_committee(&self.job).await?;
        Ok(())
    }
}

/// Faults reported and answered: upheld and overturned by every committee member,
/// conceded, voided; and the report whose sample draw repeats most (every chunk sampled).
async fn disputes(s: &Stage, w: &mut World, m: &mut Meter) -> Outcome {
    let committee = s.market.committee_size;
    for (job_id, mismatch, verdict) in [
        (5, true, Verdict::UpholdFault),
        (6, false, Verdict::OverturnFault),
    ] {
        let c = challenged_job(w, s.job_args(job_id), s.uri()).await?;
        let (report, text) = c.report(w, mismatch).await;
        let slug = if mismatch { "" } else { "unavailable" };
        m.measure(
            &mut w.chain,
            "report_fault",
            slug,
            text,
            &[report],
            &[&c.verifier],
        )
        .await?;
        if mismatch {
            let (contest, p) = c.contest(w).await;
            let text = "committee draw armed";
            m.measure(&mut w.chain, "contest_fault", "", text, &[contest], &[&p])
                .await?;
            let draw = w.chain.ready_committee(&c.job).await?;
            let text = format!("committee of {committee} drawn from its own seed");
            m.measure(&mut w.chain, "draw_committee", "", text, &[draw], &[])
                .await?;
        } else {
            c.send_contest(w).await?;
        }
        let members = w.job(&c.job).await.committee;
        let resolve = w.resolve_instructions(&c.job, &members, verdict).await;
        let (slug, outcome) = match verdict {
            Verdict::UpholdFault => ("uphold", "upheld: provider slashed"),
            _ => ("overturn", "overturned (chunk reported unavailable): accuser pays the miss penalty, rest of its bond unlocked"),
        };
        let text = format!("{} of {committee} votes, {outcome}", members.len());
        m.measure(&mut w.chain, "resolve_contest", slug, text, &resolve, &[])
            .await?;
    }

    let c = challenged_job(w, s.job_args(7), s.uri()).await?;
    c.send_report(w).await?;
    let p = w.providers[0].insecure_clone();
    let state = w.job(&c.job).await;
    let concede = w
        .chain
        .deployment
        .concede_fault(&p.pubkey(), &c.job, &state)
        .unwrap();
    let text = "provider concedes: slashed, accuser paid";
    m.measure(&mut w.chain, "concede_fault", "", text, &[concede], &[&p])
        .await?;

    let c = challenged_job(w, s.job_args(8), s.uri()).await?;
    c.send_report(w).await?;
    c.send_contest(w).await?;
    w.chain.warp(s.market.vote_window_slots + 1).await?;
    let state = w.job(&c.job).await;
    let void = w.chain.deployment.void_contest(&c.job, &state).unwrap();
    let text = "no majority by the deadline: buyer refunded, provider pays the miss penalty";
    m.measure(&mut w.chain, "void_contest", "", text, &[void], &[])
        .await?;

    // A sample of nearly every chunk (k of k + k/8 + 1): about as dense as the price pays
    // for (sampling all of them is `AuditUnaffordable`).
    let dense = PostJobArgs {
        n_chunks: u32::from(s.samples) * 9 / 8 + 1,
        ..s.job_args(9)
    };
    let shape = format!("{} of {} chunks sampled", dense.samples, dense.n_chunks);
    let c = challenged_job(w, dense, s.uri()).await?;
    let (report, text) = c.report(w, true).await;
    let text = format!("{text}: {shape}");
    m.measure(
        &mut w.chain,
        "report_fault",
        "dense_sample",
        text,
        &[report],
        &[&c.verifier],
    )
    .await
}

/// Passes challenged within their window: upheld (provider and verifier slashed),
/// overturned (challenger slashed, window reopened), voided.
async fn pass_challenges(s: &Stage, w: &mut World, m: &mut Meter) -> Outcome {
    let committee = s.market.committee_size;
    let endings = [
        (20, "uphold"),
        (21, "overturn"),
        (22, "void"),
        (23, "unavailable-uphold"),
        (24, "unavailable-overturn"),
    ];
    for (job_id, ending) in endings {
        let unavailable = ending.starts_with("unavailable");
        let c = challenged_job(w, s.job_args(job_id), s.uri()).await?;
        let state = w.job(&c.job).await;
        let attest = w
            .chain
            .deployment
            .attest_pass(&c.verifier.pubkey(), &c.job, &state)
            .unwrap();
        w.chain.send(&[attest], &[&c.verifier]).await?;
        let passed = w.job(&c.job).await;
        let challenger = w
            .verifiers
            .iter()
            .find(|v| v.pubkey() != c.verifier.pubkey())
            .ok_or("a second verifier")?
            .insecure_clone();
        let sample = sample_indices(&passed.seed, passed.n_chunks, passed.samples.into());
        let index = sample[sample.len() - 1];
        let FaultEvidence::Mismatch {
            provider_leaf,
            proof,
            recomputed_output_hash,
        } = c.tree.mismatch(index)
        else {
            return Err("mismatch evidence".into());
        };
        let depth = proof.len();
        let args = ChallengePassArgs {
            chunk_index: index,
            provider_leaf,
            proof,
            recomputed_output_hash,
        };
        let challenge = if unavailable {
            let last = passed.n_chunks - 1;
            w.chain
                .deployment
                .challenge_availability(&challenger.pubkey(), &c.job, &passed, last)
        } else {
            w.chain
                .deployment
                .challenge_pass(&challenger.pubkey(), &c.job, &passed, args)
        };
        if job_id == 23 {
            let text = "any chunk called unavailable, challenger's bond locked, committee armed";
            m.measure(
                &mut w.chain,
                "challenge_availability",
                "",
                text,
                &[challenge],
                &[&challenger],
            )
            .await?;
        } else if job_id == 20 {
            let text = format!("{depth}-level proof, challenger's bond locked, committee armed");
            m.measure(
                &mut w.chain,
                "challenge_pass",
                "",
                text,
                &[challenge],
                &[&challenger],
            )
            .await?;
        } else {
            w.chain.send(&[challenge], &[&challenger]).await?;
        }
        w.chain.crank_committee(&c.job).await?;
        let members = w.job(&c.job).await.committee;
        match ending {
            "void" => {
                let state = w.job(&c.job).await;
                let slot = w.chain.slot().await?;
                w.chain.warp(state.step_deadline_slot + 1 - slot).await?;
                let void = w.chain.deployment.void_challenge(&c.job, &state).unwrap();
                let text = "no majority: challenger pays the miss penalty, window reopened";
                m.measure(&mut w.chain, "void_challenge", "", text, &[void], &[])
                    .await?;
            }
            _ => {
                let (verdict, name, outcome) = match ending {
                    "uphold" => (
                        Verdict::UpholdFault,
                        "uphold_challenge",
                        "provider and verifier slashed, job closed",
                    ),
                    "unavailable-uphold" => (
                        Verdict::UpholdFault,
                        "uphold_challenge",
                        "chunk unavailable: provider slashed, verifier paid its fee, job closed",
                    ),
                    "unavailable-overturn" => (
                        Verdict::OverturnFault,
                        "overturn_challenge",
                        "chunk served: challenger pays the miss penalty, window reopened",
                    ),
                    _ => (
                        Verdict::OverturnFault,
                        "overturn_challenge",
                        "challenger slashed, window reopened",
                    ),
                };
                let slug = if unavailable { "unavailable" } else { "" };
                let resolve = w.resolve_instructions(&c.job, &members, verdict).await;
                let text = format!("{} of {committee} votes, {outcome}", members.len());
                m.measure(&mut w.chain, name, slug, text, &resolve, &[])
                    .await?;
            }
        }
    }
    Ok(())
}

/// A buyer cancels an open job.
async fn cancelled_job(s: &Stage, w: &mut World, m: &mut Meter) -> Outcome {
    let buyer = w.buyer().insecure_clone();
    let args = s.job_args(2);
    let cancel = w.chain.deployment.cancel_job(&buyer.pubkey(), args.job_id);
    w.post(0, args).await?;
    let text = "open job, buyer refunded";
    m.measure(&mut w.chain, "cancel_job", "", text, &[cancel], &[&buyer])
        .await
}

/// An unclaimed job and a claimed one whose provider never commits expire.
async fn expired_jobs(s: &Stage, w: &mut World, m: &mut Meter) -> Outcome {
    let unclaimed = w.post(0, s.job_args(3)).await?;
    let no_show = w.post(0, s.job_args(4)).await?;
    w.claim(0, &no_show).await?;
    let args = s.job_args(0);
    let deadline = args.claim_window_slots.max(args.execution_window_slots);
    w.chain.warp(deadline + 1).await?;
    for (job, slug, text) in [
        (unclaimed, "unclaimed", "unclaimed: buyer refunded"),
        (
            no_show,
            "no_show",
            "claimed, never committed: provider slashed",
        ),
    ] {
        let state = w.job(&job).await;
        let expire = w.chain.deployment.expire_job(&job, &state);
        m.measure(&mut w.chain, "expire_job", slug, text, &[expire], &[])
            .await?;
    }
    Ok(())
}

/// Every verifier misses its window: each round passes the job to the next verifier,
/// then the job is finalized with the last round's verifier penalized.
async fn missed_rounds(s: &Stage, w: &mut World, m: &mut Meter) -> Outcome {
    let c = challenged_job(w, s.job_args(10), s.uri()).await?;
    let d = w.chain.deployment;
    let window = s.market.verdict_window_slots;
    for round in 1..s.market.max_verifier_rounds {
        w.chain.warp(window + 1).await?;
        let state = w.job(&c.job).await;
        let advance = d.advance_round(&c.job, &state).unwrap();
        let text = format!("round {} missed, round {round} armed", round - 1);
        m.measure(
            &mut w.chain,
            "advance_round",
            &round.to_string(),
            text,
            &[advance],
            &[],
        )
        .await?;
        let draw = w.chain.ready_draw(&c.job).await?;
        let text = format!("round {round} drawn from its own seed");
        m.measure(
            &mut w.chain,
            "draw_challenge",
            &format!("round_{round}"),
            text,
            &[draw],
            &[],
        )
        .await?;
    }
    w.chain.warp(window + 1).await?;
    let state = w.job(&c.job).await;
    let finalize = d.finalize(&c.job, &state).unwrap();
    let text = format!(
        "last of {} rounds missed: provider paid, unaudited pass window opened",
        s.market.max_verifier_rounds
    );
    m.measure(&mut w.chain, "finalize", "", text, &[finalize], &[])
        .await
}

/// Draws nobody made in their window: a round's (the provider slashed), a contest's
/// committee (provider and accuser), a challenged pass's committee (provider, verifier
/// and challenger: three slashes, the most any lapse does).
async fn lapses(s: &Stage, w: &mut World, m: &mut Meter) -> Outcome {
    let d = w.chain.deployment;
    let job = w.post(0, s.job_args(30)).await?;
    w.claim(0, &job).await?;
    let p = w.providers[0].insecure_clone();
    let root = UniformTree::new(s.n_chunks).root();
    w.chain
        .send(&[d.commit_result(&p.pubkey(), &job, root, s.uri())], &[&p])
        .await?;
    lapse(w, m, &job, "round", "round draw lapsed: provider slashed").await?;

    let c = challenged_job(w, s.job_args(31), s.uri()).await?;
    c.send_report(w).await?;
    let state = w.job(&c.job).await;
    let contest = d.contest_fault(&p.pubkey(), &c.job, &state);
    w.chain.send(&[contest], &[&p]).await?;
    let text = "contest committee lapsed: provider and accuser slashed";
    lapse(w, m, &c.job, "contest", text).await?;

    let c = challenged_job(w, s.job_args(32), s.uri()).await?;
    let state = w.job(&c.job).await;
    let attest = d.attest_pass(&c.verifier.pubkey(), &c.job, &state).unwrap();
    w.chain.send(&[attest], &[&c.verifier]).await?;
    let passed = w.job(&c.job).await;
    let challenger = w
        .verifiers
        .iter()
        .find(|v| v.pubkey() != c.verifier.pubkey())
        .ok_or("a second verifier")?
        .insecure_clone();
    let index = sample_indices(&passed.seed, passed.n_chunks, passed.samples.into())[0];
    let FaultEvidence::Mismatch {
        provider_leaf,
        proof,
        recomputed_output_hash,
    } = c.tree.mismatch(index)
    else {
        return Err("mismatch evidence".into());
    };
    let args = ChallengePassArgs {
        chunk_index: index,
        provider_leaf,
        proof,
        recomputed_output_hash,
    };
    let challenge = d.challenge_pass(&challenger.pubkey(), &c.job, &passed, args);
    w.chain.send(&[challenge], &[&challenger]).await?;
    let text = "pass-challenge committee lapsed: provider, verifier and challenger slashed";
    lapse(w, m, &c.job, "challenge", text).await?;

    // A drawn verifier whose stake is locked elsewhere forfeits and pays the penalty: its
    // operator account is edited to hold less than the bond unlocked (the bench has no
    // cheaper way to lock stake outside a job).
    let job = w.post(0, s.job_args(33)).await?;
    w.claim(0, &job).await?;
    w.chain
        .send(&[d.commit_result(&p.pubkey(), &job, root, s.uri())], &[&p])
        .await?;
    let ix = w.chain.ready_draw(&job).await?;
    let drawn = w
        .chain
        .predict_draw(&job)
        .await?
        .ok_or("no verifier drawn")?;
    let mut op = w.chain.operator(&drawn).await?.ok_or("drawn operator")?;
    op.locked = op.deposited - s.market.verifier_miss_penalty - 1;
    let mut data = vec![];
    anchor_lang::AccountSerialize::try_serialize(&op, &mut data)?;
    w.chain
        .set_account_data(&pda::operator(&drawn), data)
        .await?;
    let text =
        "drawn verifier short of the bond forfeits: penalty locked and slashed, next round armed";
    m.measure(&mut w.chain, "draw_challenge", "forfeit", text, &[ix], &[])
        .await
}

/// Advances past `job`'s draw window and measures its `lapse_draw`.
async fn lapse(w: &mut World, m: &mut Meter, job: &Pubkey, slug: &str, text: &str) -> Outcome {
    let state = w.job(job).await;
    let slot = w.chain.slot().await?;
    w.chain.warp(state.draw_deadline_slot + 1 - slot).await?;
    let ix = w.chain.deployment.lapse_draw(job, &state);
    m.measure(&mut w.chain, "lapse_draw", slug, text, &[ix.unwrap()], &[])
        .await
}

/// What deploying costs in rent: the registry account and each program's ProgramData
/// account (the upgradeable loader's 45-byte header plus the .so; an upgrade writes the
/// new build to a buffer of the same size first, so it briefly needs that rent twice).
fn print_sizes_and_rent() -> std::io::Result<()> {
    use solana_sdk::rent::Rent;
    const PROGRAMDATA_HEADER: usize = 45;
    const LAMPORTS_PER_SOL: f64 = 1e9;
    let rent = Rent::default();
    let sol = |len: usize| rent.minimum_balance(len) as f64 / LAMPORTS_PER_SOL;
    let dir = assay_client::deploy::sbf_programs_dir();
    let market = std::fs::metadata(dir.join("assay_market.so"))?.len() as usize;
    let stake = std::fs::metadata(dir.join("assay_stake.so"))?.len() as usize;
    let registry = VerifierRegistry::SIZE;
    println!();
    println!("| account | bytes | rent (SOL) |");
    println!("|---|---:|---:|");
    println!(
        "| verifier registry ({MAX_VERIFIERS} verifiers) | {registry} | {:.2} |",
        sol(registry)
    );
    for (name, len) in [("assay_market.so", market), ("assay_stake.so", stake)] {
        let programdata = len + PROGRAMDATA_HEADER;
        println!(
            "| {name} ProgramData | {programdata} | {:.2} |",
            sol(programdata)
        );
    }
    println!();
    println!("registry_bytes: {registry}");
    println!("registry_rent_sol: {:.2}", sol(registry));
    println!("market_so_bytes: {market}");
    println!(
        "market_deploy_rent_sol: {:.2}",
        sol(market + PROGRAMDATA_HEADER)
    );
    println!("stake_so_bytes: {stake}");
    println!(
        "stake_deploy_rent_sol: {:.2}",
        sol(stake + PROGRAMDATA_HEADER)
    );
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let programs = assay_tests::sbf_programs();
    let mut m = Meter::default();
    let mut failures = vec![];
    if let Err(e) = deployment(&mut m, &programs).await {
        failures.push(format!("deployment: {}", e.0));
    }
    for s in Stage::all() {
        m.stage = (s.slug, s.label);
        let mut w = match s.world(&programs).await {
            Ok(w) => w,
            Err(e) => {
                failures.push(format!("{}: starting the bank: {}", s.label, e.0));
                continue;
            }
        };
        let scenes = [
            (
                "operator lifecycle",
                operator_lifecycle(&s, &mut w, &mut m).await,
            ),
            ("settled job", settled_job(&s, &mut w, &mut m).await),
            ("cancelled job", cancelled_job(&s, &mut w, &mut m).await),
            ("expired jobs", expired_jobs(&s, &mut w, &mut m).await),
            ("disputes", disputes(&s, &mut w, &mut m).await),
            ("pass challenges", pass_challenges(&s, &mut w, &mut m).await),
            ("missed rounds", missed_rounds(&s, &mut w, &mut m).await),
            ("lapsed draws", lapses(&s, &mut w, &mut m).await),
        ];
        for (scene, outcome) in scenes {
            if let Err(e) = outcome {
                failures.push(format!("{} ({}): {}", scene, s.label, e.0));
            }
        }
    }
    m.print();
    if let Err(e) = print_sizes_and_rent() {
        failures.push(format!("sizes and rent: {e}"));
    }
    for key in m.over_sdk_table() {
        failures.push(format!(
            "{key}: more than client/sdk/src/compute.rs budgets; raise its table"
        ));
    }
    if !failures.is_empty() {
        eprintln!("compute_units: {} scene(s) failed:", failures.len());
        for failure in &failures {
            eprintln!("  {failure}");
        }
        std::process::exit(1);
    }
}
