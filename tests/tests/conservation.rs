//! Conservation and liveness under random instruction sequences.
//!
//! Many buyers, providers and verifiers issue random instructions (most of them
//! legitimate, many of them out of order or at the wrong time), and an adversary mixes in
//! moves that play by the rules of the token program, the system program and the admin
//! keys: donations of tokens and lamports to every vault and program account (and to
//! addresses before their accounts exist), admin updates of both programs at any point,
//! re-posts of closed job ids, zero- and low-stake verifier registrations, permissionless
//! registry syncs and treasury withdrawals; and the moves of a party that wants to choose
//! its audit by timing alone: letting time run for a while without cranking anything
//! (past a draw window, past SlotHashes' 512 slots, past draw epochs), a drawn verifier
//! unstaking everything once its draw's seed is public, and spam challenges and contests.
//! After every instruction:
//! - tokens: participants + treasury + stake vaults + live job vaults == tokens minted
//!   (donated tokens are minted first, so they count as entering the system);
//! - every operator's vault holds exactly its `deposited` plus what was donated to it
//!   since its last withdrawal, and `locked + unstaking <= deposited`;
//! - every live job's vault holds exactly its price (after a pass: the verifier's fee)
//!   plus what was donated to it;
//! - every operator's `locked` equals the collateral and bonds its live jobs hold;
//! - every registry entry is a distinct verifier whose weight is its available stake;
//! - every draw made (a round's verifier, a committee) is the one predicted when its seed
//!   first became public, however late it was cranked; a draw nobody made in its window
//!   lapsed instead (`lapse_draw`), never re-rolled.
//!
//! After each sequence every live job is driven to a terminal state with non-admin
//! instructions only (no stuck funds), and all locks must be released.
//!
//! `ASSAY_SEQUENCES` (default 40) and `ASSAY_SEED` choose the run; the documented run is
//! `ASSAY_SEQUENCES=10000 cargo test --release -p assay-tests --test conservation -- --nocapture`.

use assay_client::Chain;
use std::collections::HashMap;

use anchor_lang::prelude::Pubkey;
use assay_client::ix::vote_instruction;
use assay_client::pda;
use assay_market::instructions::{ChallengePassArgs, FaultEvidence, PostJobArgs};
use assay_market::state::{Crank, Job, JobState, JobTerms, MarketParams};
use assay_protocol::{MerkleTree, Verdict};
use assay_stake::constants::{ROLE_PROVIDER, ROLE_VERIFIER};
use assay_stake::instructions::UpdateConfigArgs;
use assay_testkit::embedded::{LocalChain, LocalSetup, TokenFlavor};
use assay_tests::mints::{create_extension_mint, every_accepted_extension};
use assay_tests::{fake_outputs, World};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use solana_sdk::instruction::Instruction;
use solana_sdk::signature::{Keypair, Signer};

/// A verifier's weight in one need's tree: (need, authority, weight).
type NeedWeight = (u8, Pubkey, u64);
/// The instruction a random move built, or the end of the move when the SDK refuses to
/// build it (the job as read lacks a party the instruction names): nothing to send.
macro_rules! built {
    ($ix:expr) => {
        match $ix {
            Ok(ix) => ix,
            Err(_) => return,
        }
    };
}

struct Run {
    w: World,
    rng: StdRng,
    /// Every job ever posted, with the tree its provider committed (if any).
    jobs: Vec<Pubkey>,
    trees: HashMap<Pubkey, MerkleTree>,
    next_id: u64,
    operators: Vec<Pubkey>,
    violations: Vec<String>,
    /// Successful instructions by name: shows the sequences really reach every path.
    landed: std::collections::BTreeMap<&'static str, u64>,
    /// The job most focused steps follow (see `choose`).
    story: Option<Pubkey>,
    /// Refused instructions by name and error: shows why a path is rarely reached.
    refused: std::collections::BTreeMap<(&'static str, String), u64>,
    /// Buyer and id of every job ever posted (for re-posts of closed ids).
    posted: HashMap<Pubkey, (Pubkey, u64)>,
    /// Tokens donated to each live job's vault.
    donated_to_jobs: HashMap<Pubkey, u64>,
    /// Tokens donated to each operator's stake vault since its last withdrawal.
    donated_to_stake: HashMap<Pubkey, u64>,
    /// Adversarial moves made.
    adversarial: u64,
    /// The draw weights of the epoch first seen by a check: (epoch, authority → weight).
    /// Every later check in the same epoch must see exactly these.
    epoch_weights: Option<(u64, Vec<NeedWeight>)>,
    /// The outcome of each pending draw, predicted when its seed first became public.
    timely: HashMap<PendingKey, Expected>,
    /// Draws made, and how many of them were cranked late (after the first slot their
    /// seed was public): all equal to the timely prediction.
    draws_checked: u64,
    draws_late: u64,
}

/// One pending draw of one life of a job: (job, instance, seed slot, round, contest).
type PendingKey = (Pubkey, u64, u64, u8, u32);

/// What a pending draw will make, predicted from the chain the moment its seed exists.
#[derive(Debug, Clone, PartialEq)]
enum Expected {
    /// A verifier round: the seed, and the verifier drawn (bonded or forfeiting).
    Verifier {
        seed: [u8; 32],
        drawn: Option<Pubkey>,
        at_slot: u64,
    },
    /// A committee.
    Committee {
        committee: Vec<Pubkey>,
        at_slot: u64,
    },
}

fn pending_key(key: &Pubkey, job: &Job) -> Option<PendingKey> {
    job.draw_pending()
        .then_some((*key, job.instance, job.seed_slot, job.round, job.contests))
}

/// The name of the Assay instruction in a transaction (the last one, after any Ed25519 votes).
fn instruction_name(ixs: &[solana_sdk::instruction::Instruction]) -> &'static str {
    use anchor_lang::Discriminator;
    let Some(ix) = ixs.last() else { return "none" };
    macro_rules! by_discriminator {
        ($($ty:path => $name:literal),+ $(,)?) => {
            $( if ix.data.starts_with(<$ty>::DISCRIMINATOR) { return $name; } )+
        };
    }
    by_discriminator!(
        assay_market::instruction::PostJob => "post_job",
        assay_market::instruction::CancelJob => "cancel_job",
        assay_market::instruction::ClaimJob => "claim_job",
        assay_market::instruction::CommitResult => "commit_result",
        assay_market::instruction::DrawChallenge => "draw_challenge",
        assay_market::instruction::AttestPass => "attest_pass",
        assay_market::instruction::ReportFault => "report_fault",
        assay_market::instruction::ConcedeFault => "concede_fault",
        assay_market::instruction::ContestFault => "contest_fault",
        assay_market::instruction::DrawCommittee => "draw_committee",
        assay_market::instruction::ResolveContest => "resolve_contest",
        assay_market::instruction::VoidContest => "void_contest",
        assay_market::instruction::AdvanceRound => "advance_round",
        assay_market::instruction::Finalize => "finalize",
        assay_market::instruction::ExpireJob => "expire_job",
        assay_market::instruction::ChallengePass => "challenge_pass",
        assay_market::instruction::ChallengeAvailability => "challenge_availability",
        assay_market::instruction::UpholdChallenge => "uphold_challenge",
        assay_market::instruction::OverturnChallenge => "overturn_challenge",
        assay_market::instruction::VoidChallenge => "void_challenge",
        assay_market::instruction::ClosePass => "close_pass",
        assay_market::instruction::LapseDraw => "lapse_draw",
        assay_stake::instruction::Deposit => "deposit",
        assay_stake::instruction::RequestUnstake => "request_unstake",
        assay_stake::instruction::Withdraw => "withdraw",
        assay_stake::instruction::SyncVerifier => "sync_verifier",
        assay_market::instruction::WithdrawTreasury => "withdraw_treasury",
    );
    // Both programs name it `update_config`, so the discriminators are equal.
    if ix
        .data
        .starts_with(assay_market::instruction::UpdateConfig::DISCRIMINATOR)
    {
        return if ix.program_id == assay_market::ID {
            "market update_config"
        } else {
            "stake update_config"
        };
    }
    "other"
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

impl Run {
    fn new(w: World, seed: u64, operators: Vec<Pubkey>) -> Self {
        Self {
            w,
            rng: StdRng::seed_from_u64(seed),
            jobs: vec![],
            trees: HashMap::new(),
            next_id: 1,
            operators,
            violations: vec![],
            landed: Default::default(),
            refused: Default::default(),
            story: None,
            posted: HashMap::new(),
            donated_to_jobs: HashMap::new(),
            donated_to_stake: HashMap::new(),
            adversarial: 0,
            epoch_weights: None,
            timely: HashMap::new(),
            draws_checked: 0,
            draws_late: 0,
        }
    }

    async fn live_jobs(&mut self) -> Vec<(Pubkey, Job)> {
        let mut live = vec![];
        for key in self.jobs.clone() {
            if let Some(job) = self.w.chain.job(&key).await.unwrap() {
                live.push((key, job));
            }
        }
        live
    }

    fn signer(&self, key: &Pubkey) -> Keypair {
        self.w.key(key).insecure_clone()
    }

    /// Picks an instruction family (the `match` arms of `step`). Mostly the natural next
    /// step of a random live job, so sequences go deep; otherwise anything at all.
    fn choose(&mut self, live: &[(Pubkey, Job)]) -> (u32, Option<(Pubkey, Job)>) {
        let roll = self.rng.gen_range(0..100);
        if roll < 55 && !live.is_empty() {
            // Mostly the job the last focused steps were about, so that a job's story runs
            // deep (to passes, faults, contests and challenges) within a sequence.
            let story = self
                .story
                .and_then(|key| live.iter().find(|(k, _)| *k == key))
                .filter(|_| self.rng.gen_bool(0.75));
            let focus = match story {
                Some(job) => job.clone(),
                None => live[self.rng.gen_range(0..live.len())].clone(),
            };
            self.story = Some(focus.0);
            let state = focus.1.state;
            let next: &[u32] = match state {
                JobState::Open => &[16, 16, 16, 12, 87],
                JobState::Claimed => &[28, 28, 28, 87],
                JobState::Committed => &[40, 40, 90, 106],
                JobState::Challenged => &[50, 50, 57, 57, 81, 84, 90],
                JobState::Disputed => &[64, 69, 69, 90],
                JobState::Contested => &[73, 73, 73, 78, 90, 106],
                JobState::Passed => &[100, 100, 103, 90],
                JobState::PassChallenged => &[73, 73, 78, 105, 90, 106],
                _ => &[0],
            };
            (next[self.rng.gen_range(0..next.len())], Some(focus))
        } else {
            (self.rng.gen_range(0..107), None)
        }
    }

    /// One random instruction; its success or failure does not matter, the invariants do.
    async fn step(&mut self) {
        let d = self.w.chain.deployment;
        let live = self.live_jobs().await;
        if self.rng.gen_range(0..100) < 15 {
            self.adversary(&live).await;
            return;
        }
        let (choice, focus) = self.choose(&live);
        let pick = |rng: &mut StdRng, v: &[(Pubkey, Job)]| {
            focus
                .clone()
                .or_else(|| (!v.is_empty()).then(|| v[rng.gen_range(0..v.len())].clone()))
        };
        let (ixs, signers): (Vec<_>, Vec<Keypair>) = match choice {
            0..=11 => {
                let buyer = self.rng.gen_range(0..self.w.buyers.len());
                let n_chunks = self.rng.gen_range(1..=16u32);
                let samples = self.rng.gen_range(1..=n_chunks.min(6)) as u8;
                let price = self.rng.gen_range(1..=50_000_000);
                // Mostly terms the market accepts (at least its collateral floor for this
                // price, under the parameters of the moment), so that jobs live long
                // enough to reach passes, faults and contests; else anything.
                let params = self.w.chain.market_config().await.unwrap().params;
                let collateral = match JobTerms::of(&params, price, n_chunks, samples) {
                    Ok(terms) if self.rng.gen_bool(0.8) => {
                        terms.min_collateral + self.rng.gen_range(0..=terms.min_collateral / 2)
                    }
                    _ => self.rng.gen_range(0..=40_000_000),
                };
                let args = PostJobArgs {
                    job_id: self.next_id,
                    n_chunks,
                    samples,
                    price,
                    collateral,
                    claim_window_slots: self.rng.gen_range(1..=80),
                    execution_window_slots: self.rng.gen_range(1..=80),
                    // Mostly portable; sometimes needs only some verifiers (or nobody)
                    // cover, which the market must refuse or draw among the capable.
                    needs: if self.rng.gen_bool(0.7) {
                        0
                    } else {
                        self.rng.gen_range(1..=assay_protocol::capability::ALL)
                    },
                    ..World::job_args(self.next_id)
                };
                self.next_id += 1;
                let b = self.w.buyers[buyer].insecure_clone();
                self.track_post(&b.pubkey(), args.job_id);
                (vec![d.post_job(&b.pubkey(), args)], vec![b])
            }
            12..=15 => {
                let Some((_, job)) = pick(&mut self.rng, &live) else {
                    return;
                };
                (
                    vec![d.cancel_job(&job.buyer, job.job_id)],
                    vec![self.signer(&job.buyer)],
                )
            }
            16..=27 => {
                let Some((key, _)) = pick(&mut self.rng, &live) else {
                    return;
                };
                let p = self.w.providers[self.rng.gen_range(0..self.w.providers.len())]
                    .insecure_clone();
                (vec![d.claim_job(&p.pubkey(), &key)], vec![p])
            }
            28..=39 => {
                let Some((key, job)) = pick(&mut self.rng, &live) else {
                    return;
                };
                let Some(provider) = job.provider else { return };
                let (tree, _) = fake_outputs(&key, job.n_chunks, self.rng.gen());
                self.trees.insert(key, tree.clone());
                (
                    vec![d.commit_result(&provider, &key, tree.root(), "file:///x".into())],
                    vec![self.signer(&provider)],
                )
            }
            40..=49 => {
                let Some((key, job)) = pick(&mut self.rng, &live) else {
                    return;
                };
                // Half the time a cranker waits for the seed slot, as the daemons do.
                if job.state == JobState::Committed && self.rng.gen_bool(0.5) {
                    match self.w.chain.ready_draw(&key).await {
                        Ok(ix) => {
                            // The seed is public now: record the timely outcome first.
                            self.check_draws("before a timely draw").await;
                            let ix = match self.impostor() {
                                Some(impostor) => d.draw_challenge(&key, &job, Some(&impostor)),
                                None => ix,
                            };
                            (vec![ix], vec![])
                        }
                        Err(_) => return,
                    }
                } else {
                    // Now and then the cranker names another operator than the one holding
                    // the drawn slot (refused: `check_draws` would see it land).
                    let drawn = match self.impostor() {
                        Some(impostor) => Some(impostor),
                        None => self.w.chain.predict_draw(&key).await.ok().flatten(),
                    };
                    (vec![d.draw_challenge(&key, &job, drawn.as_ref())], vec![])
                }
            }
            50..=56 => {
                let Some((key, job)) = pick(&mut self.rng, &live) else {
                    return;
                };
                let Some(v) = job.verifier else { return };
                (
                    vec![built!(d.attest_pass(&v, &key, &job))],
                    vec![self.signer(&v)],
                )
            }
            57..=63 => {
                let Some((key, job)) = pick(&mut self.rng, &live) else {
                    return;
                };
                let (Some(v), Some(tree)) = (job.verifier, self.trees.get(&key)) else {
                    return;
                };
                let samples =
                    assay_protocol::sample_indices(&job.seed, job.n_chunks, u32::from(job.samples));
                let Some(&index) = samples.first() else {
                    return;
                };
                let evidence = if self.rng.gen_bool(0.5) {
                    FaultEvidence::Unavailable
                } else {
                    FaultEvidence::Mismatch {
                        provider_leaf: tree.leaf(index).unwrap_or_default(),
                        proof: tree.proof(index).unwrap_or_default(),
                        recomputed_output_hash: [1; 32],
                    }
                };
                (
                    vec![d.report_fault(&v, &key, index, evidence)],
                    vec![self.signer(&v)],
                )
            }
            64..=68 => {
                let Some((key, job)) = pick(&mut self.rng, &live) else {
                    return;
                };
                let caller = if self.rng.gen_bool(0.5) {
                    job.provider.unwrap_or(job.buyer)
                } else {
                    job.buyer
                };
                (
                    vec![built!(d.concede_fault(&caller, &key, &job))],
                    vec![self.signer(&caller)],
                )
            }
            69..=72 => {
                let Some((key, job)) = pick(&mut self.rng, &live) else {
                    return;
                };
                let Some(p) = job.provider else { return };
                (vec![d.contest_fault(&p, &key, &job)], vec![self.signer(&p)])
            }
            73..=77 => {
                let Some((key, job)) = pick(&mut self.rng, &live) else {
                    return;
                };
                if job.committee.is_empty() {
                    return;
                }
                let verdict = if self.rng.gen_bool(0.5) {
                    Verdict::UpholdFault
                } else {
                    Verdict::OverturnFault
                };
                let count = self.rng.gen_range(1..=job.committee.len());
                let votes: Vec<_> = job.committee[..count]
                    .iter()
                    .map(|m| {
                        let msg = assay_client::ix::vote_message(&key, &job, verdict);
                        (
                            ed25519_dalek::SigningKey::from_bytes(self.w.key(m).secret_bytes()),
                            msg,
                        )
                    })
                    .collect();
                let resolve = match (job.state, verdict) {
                    (JobState::PassChallenged, Verdict::UpholdFault) => {
                        d.uphold_challenge(&key, &job)
                    }
                    (JobState::PassChallenged, _) => d.overturn_challenge(&key, &job),
                    _ => d.resolve_contest(&key, &job),
                };
                (vec![vote_instruction(&votes), built!(resolve)], vec![])
            }
            78 => {
                let Some((key, job)) = pick(&mut self.rng, &live) else {
                    return;
                };
                // Half the time a patient cranker waits for the seed slot, so committees
                // really sit and vote.
                let waits = matches!(job.state, JobState::Contested | JobState::PassChallenged)
                    && job.committee.is_empty()
                    && self.rng.gen_bool(0.5);
                let ix = match waits {
                    true => match self.w.chain.ready_committee(&key).await {
                        Ok(ix) => match self.w.chain.predict_committee(&key).await {
                            Ok(Some(seats)) => {
                                d.draw_committee(&key, &job, &self.with_impostor(seats))
                            }
                            _ => ix,
                        },
                        Err(_) => return,
                    },
                    false => {
                        let seats = self.w.chain.predict_committee(&key).await;
                        let seats = seats.ok().flatten().unwrap_or_default();
                        d.draw_committee(&key, &job, &self.with_impostor(seats))
                    }
                };
                (vec![ix], vec![])
            }
            79..=80 => {
                let Some((key, job)) = pick(&mut self.rng, &live) else {
                    return;
                };
                (vec![built!(d.void_contest(&key, &job))], vec![])
            }
            81..=83 => {
                let Some((key, job)) = pick(&mut self.rng, &live) else {
                    return;
                };
                (vec![built!(d.advance_round(&key, &job))], vec![])
            }
            84..=86 => {
                let Some((key, job)) = pick(&mut self.rng, &live) else {
                    return;
                };
                (vec![built!(d.finalize(&key, &job))], vec![])
            }
            87..=89 => {
                let Some((key, job)) = pick(&mut self.rng, &live) else {
                    return;
                };
                (vec![d.expire_job(&key, &job)], vec![])
            }
            90..=95 => {
                let slots = self.rng.gen_range(1..=60);
                self.w.chain.warp(slots).await.unwrap();
                return;
            }
            100..=102 => {
                // Anyone staked (the parties too, who must fail) challenges a pass, on a
                // sampled chunk or any other, claiming some recomputation.
                let Some((key, job)) = pick(&mut self.rng, &live) else {
                    return;
                };
                let Some(tree) = self.trees.get(&key) else {
                    return;
                };
                let samples =
                    assay_protocol::sample_indices(&job.seed, job.n_chunks, u32::from(job.samples));
                let index = if self.rng.gen_bool(0.8) && !samples.is_empty() {
                    samples[self.rng.gen_range(0..samples.len())]
                } else {
                    self.rng.gen_range(0..job.n_chunks)
                };
                let args = ChallengePassArgs {
                    chunk_index: index,
                    provider_leaf: tree.leaf(index).unwrap_or_default(),
                    proof: tree.proof(index).unwrap_or_default(),
                    recomputed_output_hash: self.rng.gen(),
                };
                let challenger = self.operators[self.rng.gen_range(0..self.operators.len())];
                // One in three calls the chunk unavailable instead (any chunk, even one
                // past the end, which must fail).
                let ix = if self.rng.gen_ratio(1, 3) {
                    let index = self.rng.gen_range(0..=job.n_chunks);
                    d.challenge_availability(&challenger, &key, &job, index)
                } else {
                    d.challenge_pass(&challenger, &key, &job, args)
                };
                (vec![ix], vec![self.signer(&challenger)])
            }
            103..=104 => {
                let Some((key, job)) = pick(&mut self.rng, &live) else {
                    return;
                };
                (vec![built!(d.close_pass(&key, &job))], vec![])
            }
            105 => {
                let Some((key, job)) = pick(&mut self.rng, &live) else {
                    return;
                };
                (vec![built!(d.void_challenge(&key, &job))], vec![])
            }
            106 => {
                let Some((key, job)) = pick(&mut self.rng, &live) else {
                    return;
                };
                (vec![built!(d.lapse_draw(&key, &job))], vec![])
            }
            _ => {
                let op = self.operators[self.rng.gen_range(0..self.operators.len())];
                let k = self.signer(&op);
                let amount = self.rng.gen_range(1..=30_000_000);
                let ix = match self.rng.gen_range(0..3) {
                    0 => d.deposit(&op, amount),
                    1 => d.request_unstake(&op, amount),
                    _ => d.withdraw(&op),
                };
                (vec![ix], vec![k])
            }
        };
        self.send(&ixs, &signers).await;
    }

    /// Sends one transaction; counts it by name when it lands. A landed withdrawal pays
    /// out its vault's donations.
    async fn send(&mut self, ixs: &[Instruction], signers: &[Keypair]) -> bool {
        self.send_or_error(ixs, signers).await.is_ok()
    }

    /// A quarter of the time, an operator a cranker names in place of one a draw picked:
    /// the registry names slots and the cranker passes the Operators holding them, so a
    /// cranker may try anyone. A draw that lands must still be its timely outcome
    /// (`check_draws`), whoever was named.
    fn impostor(&mut self) -> Option<Pubkey> {
        self.rng
            .gen_bool(0.25)
            .then(|| self.operators[self.rng.gen_range(0..self.operators.len())])
    }

    /// `seats` with one seat given to an [`impostor`](Self::impostor), when there is one.
    fn with_impostor(&mut self, mut seats: Vec<Pubkey>) -> Vec<Pubkey> {
        if let (false, Some(impostor)) = (seats.is_empty(), self.impostor()) {
            let seat = self.rng.gen_range(0..seats.len());
            seats[seat] = impostor;
        }
        seats
    }

    /// [`send`](Self::send), keeping the error.
    async fn send_or_error(
        &mut self,
        ixs: &[Instruction],
        signers: &[Keypair],
    ) -> Result<(), assay_client::ChainError> {
        let refs: Vec<&Keypair> = signers.iter().collect();
        let name = instruction_name(ixs);
        if let Err(e) = self.w.chain.send(ixs, &refs).await {
            let program = ixs.last().map(|ix| ix.program_id).unwrap_or_default();
            let why: String = e.explain(&program).chars().take(90).collect();
            *self.refused.entry((name, why)).or_default() += 1;
            return Err(e);
        }
        *self.landed.entry(name).or_default() += 1;
        if name == "withdraw" {
            self.donated_to_stake.remove(&signers[0].pubkey());
        }
        Ok(())
    }

    fn track_post(&mut self, buyer: &Pubkey, job_id: u64) {
        let key = pda::job(buyer, job_id);
        if !self.jobs.contains(&key) {
            self.jobs.push(key);
        }
        self.posted.insert(key, (*buyer, job_id));
    }

    /// One move by someone who wants the protocol's money and plays by the rules of the
    /// token program, the system program and the admin keys. Each must leave every
    /// invariant intact; pre-funded creations must still succeed.
    async fn adversary(&mut self, live: &[(Pubkey, Job)]) {
        self.adversarial += 1;
        let d = self.w.chain.deployment;
        let admin = self.w.chain.admin.insecure_clone();
        let focus = (!live.is_empty()).then(|| live[self.rng.gen_range(0..live.len())].clone());
        let operator = self.operators[self.rng.gen_range(0..self.operators.len())];
        match self.rng.gen_range(0..17) {
            0 => {
                let Some((job, _)) = focus else { return };
                let amount = self.rng.gen_range(1..=1_000);
                self.w
                    .donate_tokens(&pda::job_vault(&job), amount)
                    .await
                    .unwrap();
                *self.donated_to_jobs.entry(job).or_default() += amount;
            }
            1 => {
                let amount = self.rng.gen_range(1..=1_000);
                let vault = pda::stake_vault(&pda::operator(&operator));
                self.w.donate_tokens(&vault, amount).await.unwrap();
                *self.donated_to_stake.entry(operator).or_default() += amount;
            }
            2 => {
                let mut targets = vec![
                    pda::stake_config(),
                    pda::verifier_registry(),
                    pda::market_config(),
                    pda::treasury(),
                    pda::operator(&operator),
                    pda::stake_vault(&pda::operator(&operator)),
                ];
                if let Some((job, _)) = focus {
                    targets.extend([job, pda::job_vault(&job)]);
                }
                let target = targets[self.rng.gen_range(0..targets.len())];
                let lamports = self.rng.gen_range(1..=5_000_000);
                self.w.donate_lamports(&target, lamports).await.unwrap();
            }
            3 => {
                // Pre-fund the next job's addresses, then post there: must succeed.
                let b = self.w.buyers[self.rng.gen_range(0..self.w.buyers.len())].insecure_clone();
                let job = pda::job(&b.pubkey(), self.next_id);
                for target in [job, pda::job_vault(&job)] {
                    let lamports = self.rng.gen_range(890_880..=20_000_000);
                    self.w.donate_lamports(&target, lamports).await.unwrap();
                }
                let args = World::job_args(self.next_id);
                self.next_id += 1;
                self.track_post(&b.pubkey(), args.job_id);
                use assay_market::errors::MarketError as M;
                let refusals = [
                    M::NoCapableVerifier,
                    M::AuditUnaffordable,
                    M::CollateralTooLow,
                ]
                .map(|e| Some(e as u32 + anchor_lang::error::ERROR_CODE_OFFSET));
                match self
                    .send_or_error(&[d.post_job(&b.pubkey(), args)], &[b])
                    .await
                {
                    Ok(()) => {}
                    // Refused for what the sequence did to the verifiers (all unstaked,
                    // slashed or below a raised minimum) or to the fee and collateral
                    // terms (the admin's updates), as any post would be now.
                    Err(e) if refusals.contains(&e.custom_code()) => {}
                    Err(e) => self
                        .violations
                        .push(format!("pre-funded job {job} could not be posted: {e}")),
                }
            }
            4 => {
                const MINIMA: [u64; 7] =
                    [0, 1, 500_000, 1_000_000, 5_000_000, 60_000_000, u64::MAX];
                // Cooldowns below the draw epoch must be refused.
                let args = UpdateConfigArgs {
                    unstake_cooldown_slots: self.rng.gen_range(0..=400),
                    min_verifier_stake: MINIMA[self.rng.gen_range(0..MINIMA.len())],
                };
                self.send(&[d.stake_update_config(&admin.pubkey(), args)], &[admin])
                    .await;
            }
            5 => {
                // Zero bonds and penalties, and draw windows longer than SlotHashes or the
                // epoch, must be refused.
                let bond = [0, 500_000, 1_000_000, 2_000_000][self.rng.gen_range(0..4)];
                let params = MarketParams {
                    verifier_fee_bps: self.rng.gen_range(0..=3_000),
                    sample_fee_bps: [0, 5_000, 10_000, 20_000][self.rng.gen_range(0..4)],
                    min_verifier_fee: [0, 10_000, 5_000_000][self.rng.gen_range(0..3)],
                    bond_fee_multiple: [0, 1, 50][self.rng.gen_range(0..3)],
                    min_collateral_bps: [0, 10_000, 32_000][self.rng.gen_range(0..3)],
                    protocol_fee_bps: self.rng.gen_range(0..=3_000),
                    finder_fee_bps: self.rng.gen_range(0..=5_000),
                    treasury_slash_bps: self.rng.gen_range(0..=5_000),
                    verifier_bond: bond,
                    verifier_miss_penalty: self.rng.gen_range(0..=bond),
                    challenge_delay_slots: self.rng.gen_range(1..=10),
                    draw_window_slots: [0, 1, 30, 96, 255, 256, 600][self.rng.gen_range(0..7)],
                    verdict_window_slots: self.rng.gen_range(1..=60),
                    dispute_window_slots: self.rng.gen_range(1..=60),
                    vote_window_slots: self.rng.gen_range(1..=60),
                    pass_window_slots: self.rng.gen_range(1..=60),
                    max_verifier_rounds: self.rng.gen_range(1..=4),
                    committee_size: self.rng.gen_range(1..=7),
                    min_samples: 1,
                };
                self.send(&[d.update_config(&admin.pubkey(), params)], &[admin])
                    .await;
            }
            6 => {
                // Re-post a closed job id.
                let live_keys: Vec<Pubkey> = live.iter().map(|(k, _)| *k).collect();
                let closed: Vec<(Pubkey, u64)> = self
                    .posted
                    .iter()
                    .filter(|(k, _)| !live_keys.contains(k))
                    .map(|(_, v)| *v)
                    .collect();
                if closed.is_empty() {
                    return;
                }
                let (buyer, job_id) = closed[self.rng.gen_range(0..closed.len())];
                let b = self.signer(&buyer);
                self.track_post(&buyer, job_id);
                self.send(&[d.post_job(&buyer, World::job_args(job_id))], &[b])
                    .await;
            }
            7 => {
                // A zero- or low-stake verifier registration.
                if self.operators.len() >= 24 {
                    return;
                }
                let stake = [0, 1, 500_000, 2_000_000][self.rng.gen_range(0..4)];
                let k = self.w.registered(ROLE_VERIFIER, 0).await.unwrap();
                if stake > 0 {
                    self.send(&[d.deposit(&k.pubkey(), stake)], &[k.insecure_clone()])
                        .await;
                }
                self.operators.push(k.pubkey());
            }
            8 => {
                self.send(&[d.sync_verifier(&operator)], &[]).await;
            }
            9 => {
                // An operator unstakes down to a small remainder (below or near the
                // verifier minimum and the bond), so light registry entries are common.
                let op = self.w.chain.operator(&operator).await.unwrap().unwrap();
                let keep = self.rng.gen_range(0..=2_000_000);
                let amount = op.available().saturating_sub(keep);
                if amount == 0 {
                    return;
                }
                let k = self.signer(&operator);
                self.send(&[d.request_unstake(&operator, amount)], &[k])
                    .await;
            }
            10 => {
                // Any operator declares any capabilities (verifier or not, mid-epoch).
                let capabilities = self.rng.gen_range(0..=assay_protocol::capability::ALL);
                let k = self.signer(&operator);
                self.send(&[d.set_capabilities(&operator, capabilities)], &[k])
                    .await;
            }
            12 => {
                // Nobody cranks for a while: past a draw window, past SlotHashes' 512
                // slots, past one or more draw epochs.
                let slots = [40, 97, 300, 513, 700][self.rng.gen_range(0..5)];
                self.w.chain.warp(slots).await.unwrap();
            }
            13 => {
                // A verifier whose draw's seed is public and names it unstakes everything
                // before anyone cranks: it must still be bonded (or pay the penalty).
                let Some((key, job)) = focus else { return };
                if job.state != JobState::Committed {
                    return;
                }
                let Ok(Some(drawn)) = self.w.chain.predict_draw(&key).await else {
                    return;
                };
                let op = self.w.chain.operator(&drawn).await.unwrap().unwrap();
                if op.available() == 0 {
                    return;
                }
                let k = self.signer(&drawn);
                self.send(&[d.request_unstake(&drawn, op.available())], &[k])
                    .await;
            }
            14 => {
                // Spam: an operator challenges a pass with a made-up recomputation (its
                // committee will overturn it, or let it void); or contests or challenges
                // whatever is live, mostly out of turn.
                let Some((key, job)) = focus else { return };
                let Some(tree) = self.trees.get(&key).cloned() else {
                    return;
                };
                let samples =
                    assay_protocol::sample_indices(&job.seed, job.n_chunks, u32::from(job.samples));
                let Some(&index) = samples.first() else {
                    return;
                };
                let args = ChallengePassArgs {
                    chunk_index: index,
                    provider_leaf: tree.leaf(index).unwrap_or_default(),
                    proof: tree.proof(index).unwrap_or_default(),
                    recomputed_output_hash: self.rng.gen(),
                };
                let challenger = self.operators[self.rng.gen_range(0..self.operators.len())];
                let k = self.signer(&challenger);
                self.send(&[d.challenge_pass(&challenger, &key, &job, args)], &[k])
                    .await;
            }
            15 | 16 => {
                // A cranker sends the draw it likes only: the pending draw of a random job,
                // at a random later slot within or past its window.
                let Some((key, job)) = focus else { return };
                if !job.draw_pending() {
                    return;
                }
                // The seed becomes public (its timely outcome is recorded), then time runs.
                let slot = self.w.chain.slot().await.unwrap();
                if slot <= job.seed_slot + 1 {
                    self.w.chain.warp(job.seed_slot + 2 - slot).await.unwrap();
                }
                self.check_draws("when the seed became public").await;
                let slot = self.w.chain.slot().await.unwrap();
                let target =
                    job.seed_slot + self.rng.gen_range(1..=job.params.draw_window_slots + 40);
                if target > slot {
                    self.w.chain.warp(target - slot).await.unwrap();
                }
                // Now and then it also names whom it likes ([`impostor`](Self::impostor)).
                let ix = match job.state {
                    JobState::Committed => {
                        let drawn = match self.impostor() {
                            Some(impostor) => Some(impostor),
                            None => self.w.chain.predict_draw(&key).await.ok().flatten(),
                        };
                        d.draw_challenge(&key, &job, drawn.as_ref())
                    }
                    _ => {
                        let seats = self.w.chain.predict_committee(&key).await;
                        let seats = seats.ok().flatten().unwrap_or_default();
                        d.draw_committee(&key, &job, &self.with_impostor(seats))
                    }
                };
                self.send(&[ix], &[]).await;
            }
            _ => {
                let treasury = self.w.treasury_balance().await;
                if treasury == 0 {
                    return;
                }
                let amount = self.rng.gen_range(1..=treasury);
                let to = d.token_account(&admin.pubkey());
                self.send(
                    &[d.withdraw_treasury(&admin.pubkey(), &to, amount)],
                    &[admin],
                )
                .await;
            }
        }
    }

    /// Records the outcome of every pending draw whose seed is public now (the first time
    /// it is), and checks every draw made since against its record.
    async fn check_draws(&mut self, context: &str) {
        let slot = self.w.chain.slot().await.unwrap();
        let live = self.live_jobs().await;
        // Draws made since the last check: their record is no longer pending.
        let pending: std::collections::HashSet<PendingKey> = live
            .iter()
            .filter_map(|(key, job)| pending_key(key, job))
            .collect();
        let made: Vec<(PendingKey, Expected)> = self
            .timely
            .iter()
            .filter(|(k, _)| !pending.contains(k))
            .map(|(k, e)| (*k, e.clone()))
            .collect();
        for (k, expected) in made {
            self.timely.remove(&k);
            let Some((_, job)) = live
                .iter()
                .find(|(key, j)| *key == k.0 && j.instance == k.1)
            else {
                continue; // closed: a lapse (the named worse ending) or another exit
            };
            let (fine, at_slot) = match &expected {
                Expected::Verifier {
                    seed,
                    drawn,
                    at_slot,
                } => {
                    let who = job.verifier.or(job.past_verifiers.last().copied());
                    let drawn_matches = match drawn {
                        Some(v) => job.verifier == Some(*v) || job.past_verifiers.last() == Some(v),
                        None => job.verifier.is_none() && who == job.past_verifiers.last().copied(),
                    };
                    (job.seed == *seed && drawn_matches, *at_slot)
                }
                Expected::Committee { committee, at_slot } => {
                    (job.committee == *committee, *at_slot)
                }
            };
            self.draws_checked += 1;
            if slot > at_slot + 1 {
                self.draws_late += 1;
            }
            if !fine {
                self.violations.push(format!(
                    "{context}: the draw of {} (seed slot {}) made {:?} / seed {:?}, not the timely {expected:?}",
                    k.0, k.2, job.committee, job.seed
                ));
            }
        }
        for (key, job) in live {
            let Some(k) = pending_key(&key, &job) else {
                continue;
            };
            if self.timely.contains_key(&k) {
                continue;
            }
            let expected = if job.state == JobState::Committed {
                match self.w.chain.draw_outcome(&key).await.unwrap() {
                    assay_client::DrawOutcome::Drawn(drawn) => {
                        let pending = self.w.chain.pending_draw(&key).await.unwrap();
                        let assay_market::state::DrawSeed::Ready(hash) = pending.seed else {
                            continue;
                        };
                        Expected::Verifier {
                            seed: assay_protocol::challenge_seed(
                                &key.to_bytes(),
                                &hash,
                                &job.result_root,
                            ),
                            drawn,
                            at_slot: slot,
                        }
                    }
                    _ => continue,
                }
            } else {
                match self.w.chain.predict_committee(&key).await.unwrap() {
                    Some(committee) => Expected::Committee {
                        committee,
                        at_slot: slot,
                    },
                    None => continue,
                }
            };
            self.timely.insert(k, expected);
        }
    }

    async fn check(&mut self, context: &str) {
        self.check_draws(context).await;
        let jobs = self.jobs.clone();
        let total = self.w.total_tokens(&jobs).await.unwrap();
        if total != self.w.minted {
            self.violations.push(format!(
                "{context}: tokens {total} != minted {}",
                self.w.minted
            ));
        }
        let live = self.live_jobs().await;
        self.donated_to_jobs
            .retain(|job, _| live.iter().any(|(key, _)| key == job));
        for (key, job) in &live {
            let vault = self
                .w
                .chain
                .token_balance(&pda::job_vault(key))
                .await
                .unwrap();
            let donated = self.donated_to_jobs.get(key).copied().unwrap_or(0);
            // After a pass the provider and the treasury are paid; the fee waits.
            let escrowed = match job.state {
                JobState::Passed | JobState::PassChallenged => job.verifier_fee,
                _ => job.price,
            };
            if vault != escrowed + donated {
                self.violations.push(format!(
                    "{context}: job {key} in {:?} vault {vault} != escrowed {escrowed} + donated {donated}",
                    job.state
                ));
            }
        }
        self.check_registry(context).await;
        for op_key in self.operators.clone() {
            let op = self.w.chain.operator(&op_key).await.unwrap().unwrap();
            let vault = self
                .w
                .chain
                .token_balance(&pda::stake_vault(&pda::operator(&op_key)))
                .await
                .unwrap();
            let expected_locked: u64 = live
                .iter()
                .map(|(_, j)| {
                    let mut locked = 0;
                    let holds_collateral = matches!(
                        j.state,
                        JobState::Claimed
                            | JobState::Committed
                            | JobState::Challenged
                            | JobState::Disputed
                            | JobState::Contested
                            | JobState::Passed
                            | JobState::PassChallenged
                    );
                    if holds_collateral && j.provider == Some(op_key) {
                        locked += j.collateral;
                    }
                    let holds_verifier_bond = matches!(
                        j.state,
                        JobState::Challenged | JobState::Passed | JobState::PassChallenged
                    );
                    if holds_verifier_bond && j.verifier == Some(op_key) {
                        locked += j.verifier_bond;
                    }
                    // A fault's accuser is the job's verifier (its bond: the job's); a
                    // pass's challenger locks the market's base bond.
                    if matches!(j.state, JobState::Disputed | JobState::Contested)
                        && j.accuser == Some(op_key)
                    {
                        locked += j.verifier_bond;
                    }
                    if j.state == JobState::PassChallenged && j.accuser == Some(op_key) {
                        locked += j.params.verifier_bond;
                    }
                    locked
                })
                .sum();
            let donated = self.donated_to_stake.get(&op_key).copied().unwrap_or(0);
            if vault != op.deposited + donated
                || op.locked + op.unstaking > op.deposited
                || op.locked != expected_locked
            {
                self.violations.push(format!(
                    "{context}: operator {op_key} vault {vault} deposited {} locked {} (expected {expected_locked}) unstaking {}",
                    op.deposited, op.locked, op.unstaking
                ));
            }
        }
    }

    /// Every registry entry is a distinct verifier whose next weight is its available
    /// stake (or 0, below the minimum at its last sync), no entry is dead (both weights 0),
    /// the registry never exceeds its capacity, and the draw weights of an epoch never
    /// change while it lasts, whatever anyone did.
    async fn check_registry(&mut self, context: &str) {
        let registry = self.w.chain.registry().await.unwrap();
        let entries = registry.entries();
        if entries.len() > assay_stake::constants::MAX_VERIFIERS {
            self.violations
                .push(format!("{context}: registry over capacity"));
        }
        // The registry keeps binding tags; the Operator accounts name the keys.
        let holders = self.w.chain.slot_holders(&registry).await.unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for entry in &entries {
            let authority = holders.get(&entry.slot).copied().unwrap_or_default();
            let op = self.w.chain.operator(&authority).await.unwrap();
            let fine = seen.insert(authority)
                && (entry.weight > 0 || entry.next_weight > 0)
                && op.is_some_and(|op| {
                    op.is_verifier()
                        && registry.slot_of(&op) == Some(entry.slot)
                        && (entry.next_weight == 0 || entry.next_weight == op.available())
                        && (entry.next_weight == 0 || entry.next_capabilities == op.capabilities)
                });
            if !fine {
                self.violations.push(format!(
                    "{context}: registry entry {} (slot {}) weight {} next {} does not match its operator",
                    authority, entry.slot, entry.weight, entry.next_weight
                ));
            }
        }
        let epoch = registry.epoch_of(self.w.chain.slot().await.unwrap());
        // Every need's tree: capability changes, like stake, wait for the next epoch.
        let mut weights: Vec<NeedWeight> = vec![];
        for need in 0..assay_protocol::capability::NEED_CLASSES as u8 {
            let tree = registry
                .weights_at(epoch, need)
                .expect("the registry is never ahead of the clock");
            weights.extend(
                entries
                    .iter()
                    .map(|e| {
                        (
                            need,
                            holders.get(&e.slot).copied().unwrap_or_default(),
                            assay_protocol::sumtree::Weights::value(&tree, e.slot),
                        )
                    })
                    .filter(|&(_, _, w)| w > 0),
            );
        }
        match &self.epoch_weights {
            Some((seen_epoch, seen)) if *seen_epoch == epoch => {
                if *seen != weights {
                    self.violations.push(format!(
                        "{context}: draw weights of epoch {epoch} changed from {seen:?} to {weights:?}"
                    ));
                }
            }
            _ => self.epoch_weights = Some((epoch, weights)),
        }
    }

    /// Buyers pay for settled jobs and operators stake from their wallets: mint fresh
    /// tokens (counted in `minted`) to anyone below 200 tokens, so long runs keep
    /// exercising every path instead of failing on empty wallets.
    async fn top_up(&mut self) {
        let people: Vec<Pubkey> = self
            .w
            .buyers
            .iter()
            .chain(&self.w.providers)
            .chain(&self.w.verifiers)
            .map(|k| k.pubkey())
            .collect();
        for owner in people {
            if self.w.chain.balance_of(&owner).await.unwrap() < 200_000_000 {
                self.w.chain.mint_to(&owner, 1_000_000_000).await.unwrap();
                self.w.minted += 1_000_000_000;
            }
        }
    }

    /// Drives every live job to a terminal state with permissionless instructions.
    async fn drain(&mut self, context: &str) {
        let d = self.w.chain.deployment;
        for _ in 0..12 {
            let live = self.live_jobs().await;
            if live.is_empty() {
                break;
            }
            self.w.chain.warp(200).await.unwrap();
            let slot = self.w.chain.slot().await.unwrap();
            for (key, job) in live {
                // The program's crank table says which exit is due; the SDK builds it.
                let Some(crank) = job.due(slot) else {
                    // Not due yet: a draw whose seed slot moved to the next epoch, up to
                    // twice the draw window away (the stuck check below catches strands).
                    continue;
                };
                let drawn: Vec<Pubkey> = match crank {
                    Crank::DrawChallenge => self
                        .w
                        .chain
                        .predict_draw(&key)
                        .await
                        .unwrap()
                        .into_iter()
                        .collect(),
                    Crank::DrawCommittee => self
                        .w
                        .chain
                        .predict_committee(&key)
                        .await
                        .unwrap()
                        .unwrap_or_default(),
                    _ => vec![],
                };
                let ixs = vec![d.crank(crank, &job.buyer, &key, &job, &drawn).unwrap()];
                let signer = self.signer(&job.buyer);
                match self.w.chain.send(&ixs, &[&signer]).await {
                    Ok(_) => *self.landed.entry(instruction_name(&ixs)).or_default() += 1,
                    Err(e) => self.violations.push(format!(
                        "{context}: exit of {key} in {:?} failed: {e}",
                        job.state
                    )),
                }
            }
            self.check(context).await;
        }
        let stuck = self.live_jobs().await;
        if !stuck.is_empty() {
            self.violations
                .push(format!("{context}: {} jobs stuck", stuck.len()));
        }
        for op_key in self.operators.clone() {
            let op = self.w.chain.operator(&op_key).await.unwrap().unwrap();
            if op.locked != 0 {
                self.violations.push(format!(
                    "{context}: operator {op_key} still has {} locked",
                    op.locked
                ));
            }
        }
    }
}

/// Adds the dual-role operator and runs `sequences` random sequences of `steps` steps in
/// `w`, printing what landed and the summary line; fails on any violation.
async fn run_sequences(mut w: World, label: &str, sequences: u64, seed: u64, steps: u64) {
    // One operator is both provider and verifier: it must never verify its own job.
    let dual = w.operator(ROLE_PROVIDER | ROLE_VERIFIER).await.unwrap();
    w.providers.push(dual.insecure_clone());
    w.verifiers.push(dual);
    let operators = w
        .providers
        .iter()
        .chain(&w.verifiers)
        .map(|k| k.pubkey())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut run = Run::new(w, seed, operators);
    for sequence in 0..sequences {
        run.top_up().await;
        for step in 0..steps {
            run.step().await;
            run.check(&format!("sequence {sequence} step {step}")).await;
            for (_, job) in run.live_jobs().await {
                if job.provider.is_some() && job.verifier == job.provider {
                    run.violations.push(format!(
                        "sequence {sequence}: provider verifies its own job"
                    ));
                }
            }
        }
        run.drain(&format!("sequence {sequence} drain")).await;
        // Closed jobs need not be tracked any more.
        run.jobs.clear();
        run.trees.clear();
        if (sequence + 1) % 1000 == 0 {
            eprintln!(
                "{} sequences, {} violations so far",
                sequence + 1,
                run.violations.len()
            );
        }
    }
    println!("{label} landed: {:?}", run.landed);
    if std::env::var_os("ASSAY_REFUSALS").is_some() {
        for ((name, why), n) in &run.refused {
            println!("{label} refused {n:>4} × {name}: {why}");
        }
    }
    println!(
        "{label} sequences: {sequences}, violations: {}, adversarial actions: {}, draws checked against their timely outcome: {} ({} cranked late)",
        run.violations.len(),
        run.adversarial,
        run.draws_checked,
        run.draws_late
    );
    assert!(run.adversarial > 0 || sequences == 0);
    assert!(run.violations.is_empty(), "{}", run.violations.join("\n"));
}

#[tokio::test(flavor = "current_thread")]
async fn random_instruction_sequences_conserve_tokens_and_never_strand_funds() {
    let sequences = env_u64("ASSAY_SEQUENCES", 40);
    let seed = env_u64("ASSAY_SEED", 0xA55A7);
    let steps = env_u64("ASSAY_STEPS", 30);
    let mut w = World::new(LocalSetup::default(), 3, 2, 3).await.unwrap();
    share_roles(&mut w);
    run_sequences(w, "spl-token:", sequences, seed, steps).await;
}

/// One key may hold several roles of the same job: the second buyer is also a provider
/// and the third also a verifier, so sequences include jobs run, verified or challenged
/// by their own buyer, and every exit must still land for them.
fn share_roles(w: &mut World) {
    w.buyers[1] = w.providers[0].insecure_clone();
    w.buyers[2] = w.verifiers[0].insecure_clone();
}

/// The same adversarial sequences on a Token-2022 payment mint carrying every kind of
/// extension the mint policy accepts (metadata pointer, interest-bearing display,
/// default account state Initialized): vaults created under it, transfers and closes
/// all stay exact. A quarter of `ASSAY_SEQUENCES` (at least one).
#[tokio::test(flavor = "current_thread")]
async fn random_sequences_on_a_token_2022_mint_with_the_accepted_extensions() {
    let sequences = (env_u64("ASSAY_SEQUENCES", 40) / 4).max(1);
    let seed = env_u64("ASSAY_SEED", 0xA55A7) + 1;
    let steps = env_u64("ASSAY_STEPS", 30);
    let setup = LocalSetup {
        flavor: TokenFlavor::Token2022,
        ..LocalSetup::default()
    };
    let mut chain = LocalChain::boot(&setup).await.unwrap();
    chain.deployment.mint = create_extension_mint(&mut chain, &every_accepted_extension())
        .await
        .unwrap();
    // The admin's own token account of this mint, for treasury withdrawals.
    let admin = chain.admin.pubkey();
    chain.mint_to(&admin, 0).await.unwrap();
    chain.initialize(&setup).await.unwrap();
    let mut w = World::populate(chain, setup.decimals, 3, 2, 3)
        .await
        .unwrap();
    share_roles(&mut w);
    run_sequences(w, "token-2022 with extensions:", sequences, seed, steps).await;
}

/// The invariant checker has teeth: tokens appearing outside the protocol, or a lock the
/// jobs do not explain, are reported.
#[tokio::test(flavor = "current_thread")]
async fn conservation_checker_flags_tokens_and_locks_the_protocol_cannot_explain() {
    let w = World::new(LocalSetup::default(), 1, 1, 1).await.unwrap();
    let operators = vec![w.providers[0].pubkey()];
    let mut run = Run::new(w, 1, operators);
    run.check("clean").await;
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    let buyer = run.w.buyers[0].pubkey();
    run.w.chain.mint_to(&buyer, 1).await.unwrap();
    run.check("after an outside mint").await;
    assert_eq!(run.violations.len(), 1, "{:?}", run.violations);
    assert!(run.violations[0].contains("tokens"));
}
