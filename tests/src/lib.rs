//! A small market world on the embedded bank for protocol tests: a buyer, staked
//! providers and verifiers, and helpers that drive a job through its states.

pub mod mints;

use assay_client::Chain;
use std::collections::HashMap;

use anchor_lang::prelude::Pubkey;
use assay_client::pda;
use assay_market::instructions::{ChallengePassArgs, PostJobArgs};
use assay_market::state::{Job, JobState, COMPARISON_EXACT};
use assay_protocol::{leaf_hash, MerkleTree, Verdict};
use assay_stake::constants::{ROLE_PROVIDER, ROLE_VERIFIER};
use assay_testkit::embedded::{ChainError, LocalChain, LocalSetup};
use solana_sdk::instruction::Instruction;
use solana_sdk::signature::{Keypair, Signer};

/// The SBF programs the benches run, from [`assay_client::deploy::sbf_programs_dir`].
pub fn sbf_programs() -> assay_testkit::embedded::ProgramMode {
    assay_testkit::embedded::ProgramMode::Sbf(assay_client::deploy::sbf_programs_dir())
}

/// Tokens each participant starts with (base units).
pub const STARTING_TOKENS: u64 = 10_000_000_000;
/// Stake each operator deposits: at the shipped terms the bond of a `job_args` job is 50
/// verifier fees of 4.25 tokens (212.5 tokens), so each verifier can bond four at once.
pub const OPERATOR_STAKE: u64 = 1_000_000_000;

/// What a [`World::job_args`] job moves at the shipped terms (`LocalSetup::default()`),
/// base units; `tests/tests/economics.rs` checks these against `JobTerms::of`.
pub mod terms {
    /// The job's price.
    pub const PRICE: u64 = 10_000_000;
    /// Its collateral: the floor, 3.2 × the price.
    pub const COLLATERAL: u64 = 32_000_000;
    /// The verifier's fee: 5 % of the price plus its sampled 3/8 (3 of 8 chunks).
    pub const VERIFIER_FEE: u64 = 500_000 + 3_750_000;
    /// The treasury's 1 % of the price.
    pub const PROTOCOL_FEE: u64 = 100_000;
    /// What the provider is paid at the pass: the price less both fees.
    pub const PROVIDER_PAY: u64 = PRICE - VERIFIER_FEE - PROTOCOL_FEE;
    /// Locked from the drawn verifier: 50 verifier fees.
    pub const BOND: u64 = 50 * VERIFIER_FEE;
    /// Locked from a challenger of a pass: the market's base bond.
    pub const CHALLENGER_BOND: u64 = 1_000_000;
    /// Slashed for a missed window, a forfeited draw or a void exit.
    pub const MISS_PENALTY: u64 = 250_000;

    /// The reporter's share of a slash `amount` (20 %).
    pub const fn finder_share(amount: u64) -> u64 {
        amount / 5
    }

    /// The treasury's share of a slash `amount` (10 %).
    pub const fn treasury_share(amount: u64) -> u64 {
        amount / 10
    }

    /// What the wronged party keeps of a slash `amount` reported by a finder (70 %).
    pub const fn victim_share(amount: u64) -> u64 {
        amount - finder_share(amount) - treasury_share(amount)
    }
}

pub struct World {
    pub chain: LocalChain,
    pub buyers: Vec<Keypair>,
    pub providers: Vec<Keypair>,
    pub verifiers: Vec<Keypair>,
    /// Every participant's keypair by public key.
    keys: HashMap<Pubkey, Keypair>,
    /// Tokens minted so far (base units): the conservation reference.
    pub minted: u64,
    /// An outsider with SOL and a token account who sends tokens where nobody asked.
    pub donor: Keypair,
    decimals: u8,
}

fn signing_key(k: &Keypair) -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(k.secret_bytes())
}

/// The outputs a provider computes for a job of `n` chunks (honest or not, the tree is
/// what it commits).
pub fn fake_outputs(job: &Pubkey, n: u32, salt: u8) -> (MerkleTree, Vec<Vec<u8>>) {
    let outputs: Vec<Vec<u8>> = (0..n).map(|i| vec![salt; 8 + (i as usize % 5)]).collect();
    let leaves = outputs
        .iter()
        .enumerate()
        .map(|(i, o)| leaf_hash(&job.to_bytes(), i as u32, o))
        .collect();
    (MerkleTree::from_leaves(leaves).expect("n > 0"), outputs)
}

impl World {
    pub async fn new(
        setup: LocalSetup,
        buyers: usize,
        providers: usize,
        verifiers: usize,
    ) -> Result<Self, ChainError> {
        let decimals = setup.decimals;
        let chain = LocalChain::start(setup).await?;
        Self::populate(chain, decimals, buyers, providers, verifiers).await
    }

    /// The same world on an already initialized `chain` (say, one whose payment mint was
    /// created by the test) whose mint has `decimals`.
    pub async fn populate(
        chain: LocalChain,
        decimals: u8,
        buyers: usize,
        providers: usize,
        verifiers: usize,
    ) -> Result<Self, ChainError> {
        let mut world = Self {
            chain,
            buyers: vec![],
            providers: vec![],
            verifiers: vec![],
            keys: HashMap::new(),
            minted: 0,
            donor: Keypair::new(),
            decimals,
        };
        world.donor = world.user().await?;
        let treasury_owner = world.chain.admin.pubkey();
        world
            .keys
            .insert(treasury_owner, world.chain.admin.insecure_clone());
        for _ in 0..buyers {
            let k = world.user().await?;
            world.buyers.push(k);
        }
        for _ in 0..providers {
            let k = world.operator(ROLE_PROVIDER).await?;
            world.providers.push(k);
        }
        for _ in 0..verifiers {
            let k = world.operator(ROLE_VERIFIER).await?;
            world.verifiers.push(k);
        }
        // Stake reaches the draws at the next epoch boundary.
        world.chain.next_epoch().await?;
        Ok(world)
    }

    async fn user(&mut self) -> Result<Keypair, ChainError> {
        let k = self.chain.new_user(STARTING_TOKENS).await?;
        self.minted += STARTING_TOKENS;
        self.keys.insert(k.pubkey(), k.insecure_clone());
        Ok(k)
    }

    /// A registered operator with `OPERATOR_STAKE` deposited.
    pub async fn operator(&mut self, roles: u8) -> Result<Keypair, ChainError> {
        self.registered(roles, OPERATOR_STAKE).await
    }

    /// A registered operator with `stake` deposited (none for 0).
    pub async fn registered(&mut self, roles: u8, stake: u64) -> Result<Keypair, ChainError> {
        let k = self.user().await?;
        let d = self.chain.deployment;
        let mut ixs = vec![d.register_operator(&k.pubkey(), roles)];
        if stake > 0 {
            ixs.push(d.deposit(&k.pubkey(), stake));
        }
        self.chain.send(&ixs, &[&k]).await?;
        Ok(k)
    }

    /// `count` more staked verifiers (`stake` each), registered `batch` to a transaction:
    /// the way to fill a large registry quickly. Their stake reaches the draws at the next
    /// epoch.
    pub async fn add_verifiers(&mut self, count: usize, stake: u64) -> Result<(), ChainError> {
        const BATCH: usize = 4;
        let d = self.chain.deployment;
        let admin = self.chain.admin.insecure_clone();
        let payer = self.chain.payer().pubkey();
        let mut left = count;
        while left > 0 {
            let keys: Vec<Keypair> = (0..left.min(BATCH)).map(|_| Keypair::new()).collect();
            left -= keys.len();
            let mut fund = vec![];
            let mut stake_ixs = vec![];
            for k in &keys {
                // Rent for its operator and stake vault, and fees.
                fund.push(anchor_lang::solana_program::system_instruction::transfer(
                    &payer,
                    &k.pubkey(),
                    10_000_000,
                ));
                // The bank's payer funds the token account (the admin only mints).
                let mut mint = d.mint_to(&admin.pubkey(), &k.pubkey(), stake);
                mint[0] = d.create_token_account(&payer, &k.pubkey());
                fund.extend(mint);
                stake_ixs.push(d.register_operator(&k.pubkey(), ROLE_VERIFIER));
                stake_ixs.push(d.deposit(&k.pubkey(), stake));
            }
            self.chain.send(&fund, &[&admin]).await?;
            let signers: Vec<&Keypair> = keys.iter().collect();
            self.chain.send(&stake_ixs, &signers).await?;
            self.minted += stake * keys.len() as u64;
            for k in keys {
                self.keys.insert(k.pubkey(), k.insecure_clone());
                self.verifiers.push(k);
            }
        }
        Ok(())
    }

    /// The donor sends `amount` freshly minted tokens (counted in `minted`) straight to
    /// the token account `to`, as anyone may.
    pub async fn donate_tokens(&mut self, to: &Pubkey, amount: u64) -> Result<(), ChainError> {
        let donor = self.donor.insecure_clone();
        self.chain.mint_to(&donor.pubkey(), amount).await?;
        self.minted += amount;
        let d = self.chain.deployment;
        let ix = anchor_spl::token_2022::spl_token_2022::instruction::transfer_checked(
            &d.token_program,
            &d.token_account(&donor.pubkey()),
            &d.mint,
            to,
            &donor.pubkey(),
            &[],
            amount,
            self.decimals,
        )
        .map_err(|e| ChainError::Client(e.to_string()))?;
        self.chain.send(&[ix], &[&donor]).await.map(drop)
    }

    /// Someone sends `lamports` to any address (a PDA, a vault, a job), as anyone may.
    pub async fn donate_lamports(&mut self, to: &Pubkey, lamports: u64) -> Result<(), ChainError> {
        self.chain.airdrop(to, lamports).await.map(drop)
    }

    /// The job's verifier reports its first sampled chunk as unavailable (no tree needed).
    pub async fn report_unavailable(&mut self, job: &Pubkey) -> Result<(), ChainError> {
        let state = self.job(job).await;
        let verifier = state.verifier.expect("a verifier is assigned");
        let index = assay_protocol::sample_indices(&state.seed, state.n_chunks, 1)[0];
        let v = self.key(&verifier).insecure_clone();
        let ix = self.chain.deployment.report_fault(
            &verifier,
            job,
            index,
            assay_market::instructions::FaultEvidence::Unavailable,
        );
        self.chain.send(&[ix], &[&v]).await.map(drop)
    }

    /// The job's provider contests the reported fault and anyone cranks the committee draw
    /// once its seed slot has passed; returns the committee.
    pub async fn contest(&mut self, job: &Pubkey) -> Result<Vec<Pubkey>, ChainError> {
        self.contest_only(job).await?;
        self.chain.crank_committee(job).await
    }

    /// The job's provider contests the reported fault (the committee is not drawn yet).
    pub async fn contest_only(&mut self, job: &Pubkey) -> Result<(), ChainError> {
        let state = self.job(job).await;
        let provider = state.provider.expect("claimed");
        let p = self.key(&provider).insecure_clone();
        let ix = self.chain.deployment.contest_fault(&provider, job, &state);
        self.chain.send(&[ix], &[&p]).await.map(drop)
    }

    pub fn key(&self, pubkey: &Pubkey) -> &Keypair {
        &self.keys[pubkey]
    }

    pub fn buyer(&self) -> &Keypair {
        &self.buyers[0]
    }

    /// Default job terms: 8 chunks, 3 samples, price 10 tokens, collateral 20 tokens.
    pub fn job_args(job_id: u64) -> PostJobArgs {
        PostJobArgs {
            job_id,
            manifest_hash: [1; 32],
            input_root: [2; 32],
            n_chunks: 8,
            samples: 3,
            comparison_rule: COMPARISON_EXACT,
            price: terms::PRICE,
            collateral: terms::COLLATERAL,
            claim_window_slots: 100,
            execution_window_slots: 100,
            needs: 0,
        }
    }

    pub async fn post(&mut self, buyer: usize, args: PostJobArgs) -> Result<Pubkey, ChainError> {
        let b = self.buyers[buyer].insecure_clone();
        let job = pda::job(&b.pubkey(), args.job_id);
        let ix = self.chain.deployment.post_job(&b.pubkey(), args);
        self.chain.send(&[ix], &[&b]).await?;
        Ok(job)
    }

    pub async fn job(&mut self, job: &Pubkey) -> Job {
        self.chain
            .job(job)
            .await
            .expect("bank answers")
            .expect("job exists")
    }

    pub async fn claim(&mut self, provider: usize, job: &Pubkey) -> Result<(), ChainError> {
        let p = self.providers[provider].insecure_clone();
        let ix = self.chain.deployment.claim_job(&p.pubkey(), job);
        self.chain.send(&[ix], &[&p]).await.map(drop)
    }

    /// Commits the tree of `fake_outputs(job, n, salt)`; returns it.
    pub async fn commit(
        &mut self,
        provider: usize,
        job: &Pubkey,
        salt: u8,
    ) -> Result<MerkleTree, ChainError> {
        let n = self.job(job).await.n_chunks;
        let (tree, _) = fake_outputs(job, n, salt);
        let p = self.providers[provider].insecure_clone();
        let ix = self.chain.deployment.commit_result(
            &p.pubkey(),
            job,
            tree.root(),
            format!("file:///blobs/{job}"),
        );
        self.chain.send(&[ix], &[&p]).await?;
        Ok(tree)
    }

    /// Waits out the challenge delay and draws; returns the assigned verifier.
    pub async fn draw(&mut self, job: &Pubkey) -> Result<Option<Pubkey>, ChainError> {
        let (ix, drawn) = self.draw_instruction(job).await?;
        self.chain.send(&[ix], &[]).await?;
        Ok(drawn)
    }

    /// Waits out the seed slot (re-arming if the draw's epoch ends); returns the
    /// `draw_challenge` instruction and the verifier it will assign in this slot.
    pub async fn draw_instruction(
        &mut self,
        job: &Pubkey,
    ) -> Result<(Instruction, Option<Pubkey>), ChainError> {
        let ix = self.chain.ready_draw(job).await?;
        let drawn = self.chain.predict_draw(job).await?;
        Ok((ix, drawn))
    }

    /// post → claim → commit → draw; returns (job, tree, assigned verifier).
    pub async fn challenged_job(
        &mut self,
        job_id: u64,
    ) -> Result<(Pubkey, MerkleTree, Option<Pubkey>), ChainError> {
        let job = self.post(0, Self::job_args(job_id)).await?;
        self.claim(0, &job).await?;
        let tree = self.commit(0, &job, 7).await?;
        let verifier = self.draw(&job).await?;
        Ok((job, tree, verifier))
    }

    /// The job's assigned verifier attests a pass (the pass window opens).
    pub async fn pass(&mut self, job: &Pubkey) -> Result<(), ChainError> {
        let state = self.job(job).await;
        let verifier = state.verifier.expect("a verifier is assigned");
        let v = self.key(&verifier).insecure_clone();
        let ix = self.chain.deployment.attest_pass(&verifier, job, &state);
        self.chain.send(&[ix.unwrap()], &[&v]).await.map(drop)
    }

    /// A job whose drawn verifier attested a pass of `fake_outputs(job, 8, 7)`: it is
    /// Passed, its window open. Returns the job, its committed tree and the verifier.
    pub async fn passed_job(
        &mut self,
        job_id: u64,
    ) -> Result<(Pubkey, MerkleTree, Pubkey), ChainError> {
        let (job, tree, verifier) = self.challenged_job(job_id).await?;
        self.pass(&job).await?;
        Ok((job, tree, verifier.expect("a verifier was drawn")))
    }

    /// `challenger` challenges `job`'s pass at sampled chunk `index` of the committed
    /// `tree`, claiming the chunk's output hashes to `recomputed`.
    pub async fn challenge_pass(
        &mut self,
        challenger: &Pubkey,
        job: &Pubkey,
        tree: &MerkleTree,
        index: u32,
        recomputed: [u8; 32],
    ) -> Result<(), ChainError> {
        let state = self.job(job).await;
        let args = ChallengePassArgs {
            chunk_index: index,
            provider_leaf: tree.leaf(index).expect("index in the tree"),
            proof: tree.proof(index).expect("index in the tree"),
            recomputed_output_hash: recomputed,
        };
        let c = self.key(challenger).insecure_clone();
        let ix = self
            .chain
            .deployment
            .challenge_pass(challenger, job, &state, args);
        self.chain.send(&[ix], &[&c]).await.map(drop)
    }

    /// The Ed25519 instruction carrying `voters`' signed `verdict` on the contested job's
    /// current round, followed by the instruction that reads it: `resolve_contest` for a
    /// contested fault, `uphold_challenge` or `overturn_challenge` for a challenged pass.
    pub async fn resolve_instructions(
        &mut self,
        job: &Pubkey,
        voters: &[Pubkey],
        verdict: Verdict,
    ) -> [Instruction; 2] {
        let state = self.job(job).await;
        let votes: Vec<_> = voters
            .iter()
            .map(|v| {
                let message = assay_client::ix::vote_message(job, &state, verdict);
                (signing_key(self.key(v)), message)
            })
            .collect();
        let d = &self.chain.deployment;
        let resolve = match (state.state, verdict) {
            (JobState::PassChallenged, Verdict::UpholdFault) => d.uphold_challenge(job, &state),
            (JobState::PassChallenged, _) => d.overturn_challenge(job, &state),
            _ => d.resolve_contest(job, &state),
        }
        .unwrap();
        [assay_client::ix::vote_instruction(&votes), resolve]
    }

    /// Sum of every token balance the world can hold: participants, the treasury vault,
    /// job and stake vaults. Must always equal `minted`.
    pub async fn total_tokens(&mut self, jobs: &[Pubkey]) -> Result<u64, ChainError> {
        let owners: Vec<Pubkey> = self.keys.keys().copied().collect();
        let mut total = 0;
        for owner in owners {
            total += self.chain.balance_of(&owner).await?;
            total += self
                .chain
                .token_balance(&pda::stake_vault(&pda::operator(&owner)))
                .await?;
        }
        for job in jobs {
            total += self.chain.token_balance(&pda::job_vault(job)).await?;
        }
        total += self.chain.token_balance(&pda::treasury()).await?;
        Ok(total)
    }

    /// Tokens in the treasury vault (protocol fees and slash shares), base units.
    pub async fn treasury_balance(&mut self) -> u64 {
        self.chain
            .token_balance(&pda::treasury())
            .await
            .expect("bank answers")
    }
}

/// The committee (drawn now) votes as `verdict` and a relayer submits the votes.
pub async fn committee_decides(w: &mut World, job: &Pubkey, verdict: Verdict) {
    let committee = w.chain.crank_committee(job).await.unwrap();
    assert!(!committee.is_empty(), "a committee was drawn");
    let ixs = w.resolve_instructions(job, &committee, verdict).await;
    w.chain.send(&ixs, &[]).await.unwrap();
}

/// Token balances and locked stake of the parties, to compare before and after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Books {
    pub buyer: u64,
    pub provider: u64,
    pub verifier: u64,
    pub challenger: u64,
    pub treasury: u64,
    pub provider_deposit: u64,
    pub verifier_deposit: u64,
    pub challenger_deposit: u64,
    pub locked: [u64; 3],
}

/// The books of the job's buyer, `providers[0]`, `verifier` and `challenger`.
pub async fn books(w: &mut World, verifier: &Pubkey, challenger: &Pubkey) -> Books {
    let buyer = w.buyer().pubkey();
    let provider = w.providers[0].pubkey();
    let mut deposits = [0; 3];
    let mut locked = [0; 3];
    for (i, who) in [provider, *verifier, *challenger].iter().enumerate() {
        let op = w.chain.operator(who).await.unwrap().expect("an operator");
        deposits[i] = op.deposited;
        locked[i] = op.locked;
    }
    Books {
        buyer: w.chain.balance_of(&buyer).await.unwrap(),
        provider: w.chain.balance_of(&provider).await.unwrap(),
        verifier: w.chain.balance_of(verifier).await.unwrap(),
        challenger: w.chain.balance_of(challenger).await.unwrap(),
        treasury: w.treasury_balance().await,
        provider_deposit: deposits[0],
        verifier_deposit: deposits[1],
        challenger_deposit: deposits[2],
        locked,
    }
}
