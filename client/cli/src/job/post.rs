//! `assay job post`: a job validated, uploaded to the blob store and posted, its price escrowed.

use anyhow::{ensure, Context, Result};
use assay_client::{pda, Chain};
use assay_market::errors::MarketError;
use assay_market::state::MarketParams;
use assay_protocol::sumtree::Weights;
use clap::Args;
use std::fmt;

use serde::Serialize;
use solana_sdk::signature::Signer;

use crate::common::{
    decimals, explain, format_amount, parse_amount, post_args, upload_job, Net, Offer,
};

use crate::report::{report, Outcome};

use super::seal::load_bundle;
use super::*;

#[derive(Args)]
pub struct PostArgs {
    #[command(flatten)]
    files: JobFiles,
    /// Price escrowed now and paid on settlement, in tokens (e.g. 10 or 2.5).
    #[arg(long)]
    price: String,
    /// Collateral the provider must lock, in tokens. Default: the market's floor for this
    /// price (`min_collateral_bps`; 3.2 × the price at the local terms).
    #[arg(long)]
    collateral: Option<String>,
    /// Chunks the verifier re-executes (k); at most the manifest's chunk count. The
    /// verifier is paid for each (the market's `sample_fee_bps`), so k is the audit's
    /// price tier. Default: the smallest k for which faking any number of chunks is a
    /// losing bet at this price and collateral (`assay economics`), at least the market's
    /// minimum.
    #[arg(long)]
    samples: Option<u32>,
    /// Slots a provider has to claim the job.
    #[arg(long, default_value_t = 1_500)]
    claim_window: u64,
    /// Slots the provider has, after claiming, to commit its result.
    #[arg(long, default_value_t = 1_500)]
    execution_window: u64,
    /// Job id (unique per buyer). Default: the current time in milliseconds.
    #[arg(long)]
    job_id: Option<u64>,
}

pub(super) async fn post(a: PostArgs, net: &Net) -> Outcome {
    let bundle = load_bundle(&a.files)?;
    let n_chunks = bundle.manifest.n_chunks();
    if let Some(k) = a.samples {
        ensure!(k >= 1, "--samples must be at least 1");
        ensure!(
            k <= n_chunks,
            "--samples {k} exceeds the job's {n_chunks} chunks: a verifier cannot sample more chunks than there are"
        );
    }
    let (mut chain, buyer) = net.connect().await?;
    let dec = decimals(&mut chain).await?;
    let price = parse_amount(&a.price, dec)?;
    ensure!(price > 0, "--price must be more than zero");
    let params = chain.market_config().await?.params;
    let floor = assay_market::state::JobTerms::of(&params, price, n_chunks, params.min_samples)
        .map(|t| t.min_collateral)
        .unwrap_or(0);
    let collateral = match &a.collateral {
        Some(c) => parse_amount(c, dec)?,
        None => floor,
    };
    let samples = match a.samples {
        Some(k) => u8::try_from(k).context("--samples must be at most 255")?,
        None => default_samples(&params, n_chunks, price, collateral),
    };
    let balance = chain.balance_of(&buyer.pubkey()).await?;
    ensure!(
        balance >= price,
        "insufficient balance: {} holds {} tokens, the job's price is {}",
        buyer.pubkey(),
        format_amount(balance, dec),
        format_amount(price, dec)
    );
    let job_id = a.job_id.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    });
    let offer = Offer {
        samples,
        price,
        collateral,
        claim_window_slots: a.claim_window,
        execution_window_slots: a.execution_window,
    };
    // Everything the chain will check, before anything is uploaded or sent.
    let args = post_args(&bundle, job_id, &offer)?;
    let terms = args.check(&params).map_err(|e| match e {
        MarketError::InvalidSampleCount => anyhow::anyhow!(
            "--samples {samples}: the market accepts {} to {} samples, and at most the job's {n_chunks} chunks",
            params.min_samples,
            assay_market::constants::MAX_SAMPLES
        ),
        MarketError::InvalidDeadline => anyhow::anyhow!(
            "--claim-window and --execution-window must be 1 to {} slots",
            assay_market::instructions::MAX_WINDOW_SLOTS
        ),
        MarketError::AuditUnaffordable => anyhow::anyhow!(
            "a price of {} cannot pay re-executing {samples} of {n_chunks} chunks: the verifier \
             is paid {} % of the price plus the price of each sampled chunk (at least {}), and \
             the protocol takes {} %. Raise --price or lower --samples (AuditUnaffordable)",
            format_amount(price, dec),
            f64::from(params.verifier_fee_bps) / 100.0,
            format_amount(params.min_verifier_fee, dec),
            f64::from(params.protocol_fee_bps) / 100.0
        ),
        MarketError::CollateralTooLow => anyhow::anyhow!(
            "--collateral {} is below the market's floor of {} for this price ({} % of it): a \
             provider must have more at stake than a fully faked job saves (CollateralTooLow)",
            format_amount(collateral, dec),
            format_amount(floor, dec),
            f64::from(params.min_collateral_bps) / 100.0
        ),
        other => anyhow::anyhow!("the market would reject this job: {other}"),
    })?;
    let capable = capable_stake(&mut chain, args.needs).await?;
    let needs = needs_text(args.needs);
    ensure!(
        capable.auditable,
        "no registered verifier can run this job (it needs {needs}): the market would refuse \
         it (NoCapableVerifier). Ask for less in the manifest's \"requires\", or wait for a \
         verifier that declares it"
    );
    ensure!(
        capable.largest >= terms.verifier_bond,
        "no verifier able to run this job has {} tokens staked, the bond this job locks from its \
         verifier (its fee {} × {}): every draw would pass over them and the job would \
         settle unaudited. Post a smaller job, or wait for a verifier with more stake \
         (largest now: {})",
        format_amount(terms.verifier_bond, dec),
        format_amount(terms.verifier_fee, dec),
        params.bond_fee_multiple,
        format_amount(capable.largest, dec)
    );
    if let Some(from) = capable.drawable_from {
        tracing::warn!(
            drawable_from_slot = from,
            "the verifier stake able to run this job joins the draws at slot {from} (the next \
             draw epoch): if the provider commits before then, the job settles unaudited and \
             the verifier fee is refunded"
        );
    }
    let key = pda::job(&buyer.pubkey(), job_id);
    ensure!(
        chain.account(&key).await?.is_none(),
        "you already have a live job with id {job_id} ({key}); pass another --job-id"
    );
    upload_job(&net.store()?, &bundle, &args)?;
    let args_needs = args.needs;
    let d = chain.deployment();
    chain
        .send(&[d.post_job(&buyer.pubkey(), args)], &[&buyer])
        .await
        .map_err(|e| explain(e, &assay_market::ID))?;
    if let Some(job) = chain.job(&key).await? {
        remember(net, &key, &job);
    }
    report(Posted {
        job: key.to_string(),
        job_id,
        price,
        collateral,
        chunks: n_chunks,
        samples,
        needs: args_needs,
        capable_stake: capable.stake,
        total_verifier_stake: capable.total_stake,
        capable_verifiers: capable.verifiers,
        needs_text: needs,
        decimals: dec,
    })
}

/// `assay job post`'s report: the job's terms (base units) and the verifier stake able to
/// audit it.
#[derive(Serialize)]
pub(super) struct Posted {
    job: String,
    job_id: u64,
    price: u64,
    collateral: u64,
    chunks: u32,
    samples: u8,
    needs: u8,
    capable_stake: u64,
    total_verifier_stake: u64,
    capable_verifiers: usize,
    #[serde(skip)]
    needs_text: String,
    #[serde(skip)]
    decimals: u8,
}

impl fmt::Display for Posted {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let amount = |a| format_amount(a, self.decimals);
        writeln!(f, "posted job {} (id {})", self.job, self.job_id)?;
        writeln!(
            f,
            "  {} chunks, {} sampled, price {} escrowed, collateral {}",
            self.chunks,
            self.samples,
            amount(self.price),
            amount(self.collateral)
        )?;
        writeln!(
            f,
            "  needs {}: verifier stake able to run it {} of {} tokens ({} verifiers)",
            self.needs_text,
            amount(self.capable_stake),
            amount(self.total_verifier_stake),
            self.capable_verifiers
        )?;
        write!(f, "  follow it with: assay job watch {}", self.job)
    }
}

/// Verifier stake that can run a job needing `needs`, in the draws of this epoch or the
/// next (whichever holds more), beside all verifier stake.
pub(super) struct CapableStake {
    /// Whether `post_job` would accept it (the program's own rule).
    auditable: bool,
    stake: u64,
    total_stake: u64,
    verifiers: usize,
    /// The most stake any verifier able to run the job has now or next epoch.
    largest: u64,
    /// When no stake able to run the job is in this draw epoch's weights yet (it was
    /// deposited this epoch): the first slot of the epoch whose draws count it.
    drawable_from: Option<u64>,
}

pub(super) async fn capable_stake(chain: &mut impl Chain, needs: u8) -> Result<CapableStake> {
    let registry = chain.registry().await?;
    let slot = chain.slot().await?;
    let total = |need: u8| {
        let now = registry
            .weights_at(registry.epoch_of(slot), need)
            .map_or(0, |weights| weights.total());
        now.max(registry.capable_weight(need).1)
    };
    let epoch = registry.epoch_of(slot);
    let in_this_epoch = registry
        .weights_at(epoch, needs)
        .map_or(0, |weights| weights.total());
    let capable: Vec<_> = registry
        .entries()
        .into_iter()
        .filter(|e| {
            e.next_weight > 0 && assay_protocol::capability::covers(e.next_capabilities, needs)
        })
        .collect();
    Ok(CapableStake {
        auditable: assay_market::instructions::post_job::is_auditable(&registry, needs, slot),
        stake: total(needs),
        total_stake: total(0),
        verifiers: capable.len(),
        largest: capable
            .iter()
            .map(|e| e.weight.max(e.next_weight))
            .max()
            .unwrap_or(0),
        drawable_from: (in_this_epoch == 0).then(|| registry.epoch_start(epoch + 1)),
    })
}

/// The default sample count of a job of `n_chunks` at `price` and `collateral`: the
/// smallest k (from the market's minimum, at most 64 and the chunk count) for which faking
/// any number of chunks is a losing bet when the drawn verifier re-executes (compute taken
/// as 80 % of what the provider is paid; `assay economics`), and whose audit the price can
/// pay. The market's minimum when none qualifies (the post then explains why).
pub(crate) fn default_samples(
    params: &MarketParams,
    n_chunks: u32,
    price: u64,
    collateral: u64,
) -> u8 {
    let most = n_chunks.min(u32::from(assay_market::constants::MAX_SAMPLES));
    (u32::from(params.min_samples)..=most)
        .filter_map(|k| {
            let k8 = u8::try_from(k).ok()?;
            let terms = assay_market::state::JobTerms::of(params, price, n_chunks, k8).ok()?;
            let payout = price - terms.verifier_fee - terms.protocol_fee;
            let safe = assay_client::economics::Terms {
                n_chunks,
                samples: k,
                price: payout,
                collateral,
                provider_cost: payout / 5 * 4,
            }
            .cheating_never_pays();
            safe.then_some(k8)
        })
        .next()
        .unwrap_or(params.min_samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stake deposited in this draw epoch makes a job postable (the market counts the
    /// next epoch's weights) but is not drawn until the next epoch: `job post` names the
    /// slot it joins the draws (a job committed before it settles unaudited); once the
    /// epoch turns there is nothing to say.
    #[tokio::test(flavor = "current_thread")]
    async fn stake_of_this_epoch_is_drawable_only_from_the_next() {
        use assay_stake::constants::ROLE_VERIFIER;
        use assay_testkit::embedded::{LocalChain, LocalSetup};
        let mut chain = LocalChain::start(LocalSetup::default()).await.unwrap();
        let verifier = chain.new_user(1_000_000_000).await.unwrap();
        let d = chain.deployment;
        chain
            .send(
                &[
                    d.register_operator(&verifier.pubkey(), ROLE_VERIFIER),
                    d.deposit(&verifier.pubkey(), 500_000_000),
                ],
                &[&verifier],
            )
            .await
            .unwrap();
        let fresh = capable_stake(&mut chain, 0).await.unwrap();
        assert!(fresh.auditable, "the market accepts the job");
        let registry = chain.registry().await.unwrap();
        let slot = chain.slot().await.unwrap();
        let next = registry.epoch_start(registry.epoch_of(slot) + 1);
        assert_eq!(fresh.drawable_from, Some(next));
        chain.next_epoch().await.unwrap();
        let settled = capable_stake(&mut chain, 0).await.unwrap();
        assert_eq!(settled.drawable_from, None);
    }
}
