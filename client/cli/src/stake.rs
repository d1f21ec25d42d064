//! `assay stake`: an operator's stake in the assay-stake program.

use anyhow::{bail, ensure, Context, Result};
use assay_client::rpc::RpcChain;
use assay_client::{Chain, Pubkey};
use assay_stake::constants::{ROLE_PROVIDER, ROLE_VERIFIER};
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;
use solana_sdk::signature::{Keypair, Signer};

use crate::common::{decimals, explain, format_amount, parse_amount, parse_pubkey, Net};
use crate::report::{report, Outcome};

#[derive(Subcommand)]
pub enum StakeCommand {
    /// Deposit tokens as stake, registering the operator first if needed.
    Deposit(DepositArgs),
    /// Ask to withdraw tokens; they are released after the cooldown.
    Unstake(AmountArg),
    /// Withdraw everything whose cooldown has passed.
    Withdraw,
    /// Show an operator's stake and whether it can be drawn as a verifier.
    Show(ShowArgs),
    /// Re-check a verifier's registry entry against the current minimum stake: it joins
    /// if it qualifies and a slot is free, and leaves if it no longer qualifies. Anyone
    /// may run it for any operator.
    Sync(ShowArgs),
    /// Declare what this verifier's GPU can run: `auto` (this machine's adapter), `none`
    /// (portable jobs only) or a list such as `shader-f16,subgroups,extended-limits`.
    /// The draws count it for jobs needing these from the next draw epoch. Declaring
    /// more than the adapter has gets you drawn for jobs you cannot run, and you pay the
    /// miss penalty for each; `assay-verifier` declares `auto` at start.
    Capabilities(CapabilitiesArg),
}

#[derive(Args)]
pub struct CapabilitiesArg {
    /// `auto`, `none`, or a comma-separated list of capability names.
    capabilities: String,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Role {
    Provider,
    Verifier,
}

#[derive(Args)]
pub struct DepositArgs {
    /// Tokens to deposit (e.g. 100 or 2.5).
    amount: String,
    /// Roles to register with, when the operator is new (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "provider")]
    roles: Vec<Role>,
    /// What the verifier's GPU can run, when the operator is new: `auto` (this
    /// machine's adapter), `none`, or names such as `subgroups,shader-f16`.
    #[arg(long, default_value = "none")]
    capabilities: String,
    /// For a verifier: return only once the deposit is in the verifier draws, at the next
    /// draw epoch (stake counts from the epoch after it changed; at most one epoch, 256
    /// slots or about 100 s on `assay localnet`). A job drawn before settles unaudited.
    #[arg(long)]
    wait: bool,
}

#[derive(Args)]
pub struct AmountArg {
    /// Tokens (e.g. 10 or 0.5).
    amount: String,
}

#[derive(Args)]
pub struct ShowArgs {
    /// Operator authority to show. Default: the signer.
    #[arg(long)]
    authority: Option<String>,
}

/// `auto` (this machine's GPU adapter), `none`, or a list of capability names.
pub fn resolve_capabilities(text: &str) -> Result<u8> {
    if text.trim() == "auto" {
        let gpu = assay_gpu::Gpu::new().context("`auto` reads this machine's GPU adapter")?;
        let caps = gpu.capabilities();
        tracing::info!(adapter = %gpu.adapter_info().name, capabilities = %crate::job::needs_text(caps), "adapter capabilities");
        return Ok(caps);
    }
    assay_protocol::capability::parse(text).map_err(anyhow::Error::msg)
}

pub async fn run(command: StakeCommand, net: &Net, json: bool) -> Outcome {
    let (mut chain, signer) = net.connect().await?;
    let dec = decimals(&mut chain).await?;
    let mut session = Session {
        chain,
        signer,
        dec,
        json,
    };
    match command {
        StakeCommand::Deposit(a) => report(session.deposit(a).await?),
        StakeCommand::Unstake(a) => report(session.unstake(a).await?),
        StakeCommand::Withdraw => report(session.withdraw().await?),
        StakeCommand::Sync(a) => report(session.sync(a).await?),
        StakeCommand::Capabilities(a) => report(session.capabilities(a).await?),
        StakeCommand::Show(a) => report(session.show(a).await?),
    }
}

/// `assay stake deposit`: amounts in base units; `drawable_from_slot` is the first slot
/// whose verifier draws count the stake (none outside the draws).
#[derive(Serialize)]
struct Deposited {
    deposited: u64,
    drawable_from_slot: Option<u64>,
    /// `--wait` waited until that slot.
    waited: bool,
    #[serde(skip)]
    decimals: u8,
}

impl std::fmt::Display for Deposited {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let amount = format_amount(self.deposited, self.decimals);
        match self.drawable_from_slot {
            Some(from) => write!(
                f,
                "deposited {amount} tokens; the verifier draws count it from slot {from} (the next draw epoch)"
            )?,
            None => write!(f, "deposited {amount} tokens")?,
        }
        match (self.waited, self.drawable_from_slot) {
            (true, Some(from)) => write!(f, "\nin the verifier draws from slot {from} on"),
            _ => Ok(()),
        }
    }
}

/// `assay stake unstake`: the stake cooling down and the slot it can be withdrawn from.
#[derive(Serialize)]
struct Unstaking {
    unstaking: u64,
    ready_slot: u64,
    #[serde(skip)]
    decimals: u8,
}

impl std::fmt::Display for Unstaking {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(
            f,
            "{} tokens unstaking; withdraw from slot {}",
            format_amount(self.unstaking, self.decimals),
            self.ready_slot
        )
    }
}

/// `assay stake withdraw`: base units paid out.
#[derive(Serialize)]
struct Withdrawn {
    withdrawn: u64,
    #[serde(skip)]
    decimals: u8,
}

impl std::fmt::Display for Withdrawn {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let amount = format_amount(self.withdrawn, self.decimals);
        write!(f, "withdrew {amount} tokens")
    }
}

/// `assay stake sync`: the operator's draw weight from the next draw epoch.
#[derive(Serialize)]
struct Synced {
    authority: String,
    weight: Option<u64>,
    #[serde(skip)]
    decimals: u8,
}

impl std::fmt::Display for Synced {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let who = &self.authority;
        match self.weight {
            Some(w) => write!(
                f,
                "{who} is drawable with weight {} from the next draw epoch",
                format_amount(w, self.decimals)
            ),
            None => write!(
                f,
                "{who} has no registry entry (below the minimum, or not a verifier)"
            ),
        }
    }
}

/// `assay stake capabilities`: the bits declared and their names.
#[derive(Serialize)]
struct Declared {
    capabilities: u8,
    names: Vec<&'static str>,
}

impl std::fmt::Display for Declared {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(
            f,
            "declared {}: counted in the draws from the next draw epoch",
            crate::job::needs_text(self.capabilities)
        )
    }
}

/// `assay stake show`: an operator's stake (base units), registry weight and
/// capabilities.
#[derive(Serialize)]
struct OperatorReport {
    authority: String,
    provider: bool,
    verifier: bool,
    deposited: u64,
    locked: u64,
    unstaking: u64,
    available: u64,
    unstake_ready_slot: u64,
    slashed_total: u64,
    registry_weight: Option<u64>,
    min_verifier_stake: u64,
    capabilities: u8,
    capability_names: Vec<&'static str>,
    #[serde(skip)]
    decimals: u8,
}

impl std::fmt::Display for OperatorReport {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let dec = self.decimals;
        write!(
            f,
            "operator {}  (provider: {}, verifier: {})",
            self.authority, self.provider, self.verifier
        )?;
        for (name, units) in [
            ("deposited", self.deposited),
            ("locked", self.locked),
            ("unstaking", self.unstaking),
            ("available", self.available),
            ("slashed (lifetime)", self.slashed_total),
        ] {
            write!(f, "\n  {name:<20} {}", format_amount(units, dec))?;
        }
        if self.verifier {
            let can_run = crate::job::needs_text(self.capabilities)
                .replace("nothing optional", "portable jobs only");
            write!(f, "\n  {:<20} {can_run}", "can run")?;
            match self.registry_weight {
                Some(w) => write!(f, "\n  {:<20} {}", "drawn with weight", format_amount(w, dec))?,
                None => write!(
                    f,
                    "\n  not in the verifier registry: needs {} available (then `assay stake sync`)",
                    format_amount(self.min_verifier_stake, dec)
                )?,
            }
        }
        Ok(())
    }
}

/// What every stake command works with: the connection, its signer (the operator), the
/// mint's decimals and the output format.
struct Session {
    chain: RpcChain,
    signer: Keypair,
    dec: u8,
    json: bool,
}

impl Session {
    /// Registers the signer as an operator if need be and deposits stake; with `--wait`, waits until the verifier draws count it.
    async fn deposit(&mut self, a: DepositArgs) -> Result<Deposited> {
        let (dec, json, me) = (self.dec, self.json, self.signer.pubkey());
        let (chain, signer) = (&mut self.chain, &self.signer);
        let d = chain.deployment();
        let fail = |e| explain(e, &assay_stake::ID);
        let amount = parse_amount(&a.amount, dec)?;
        ensure!(amount > 0, "the amount must be more than zero");
        let balance = chain.balance_of(&me).await?;
        ensure!(
            balance >= amount,
            "insufficient balance: {me} holds {} tokens, asked to deposit {}",
            format_amount(balance, dec),
            format_amount(amount, dec)
        );
        let mut ixs = vec![];
        if chain.operator(&me).await?.is_none() {
            let roles = a.roles.iter().fold(0u8, |acc, r| {
                acc | match r {
                    Role::Provider => ROLE_PROVIDER,
                    Role::Verifier => ROLE_VERIFIER,
                }
            });
            let capabilities = resolve_capabilities(&a.capabilities)?;
            ixs.push(d.register_operator_with_capabilities(&me, roles, capabilities));
        }
        ixs.push(d.deposit(&me, amount));
        chain.send(&ixs, &[signer]).await.map_err(fail)?;
        let drawable_from = drawable_from(chain, &me).await?;
        if a.wait {
            match drawable_from {
                Some(from) => wait_for_slot(chain, from, json).await?,
                None => bail!(
                    "deposited, but --wait has nothing to wait for: {me} is not in the \
                     verifier draws (registered without the verifier role, or staked below \
                     the verifier minimum)"
                ),
            }
        }
        Ok(Deposited {
            deposited: amount,
            drawable_from_slot: drawable_from,
            waited: a.wait,
            decimals: dec,
        })
    }

    /// Starts the cooldown of stake not locked by a job.
    async fn unstake(&mut self, a: AmountArg) -> Result<Unstaking> {
        let (dec, me) = (self.dec, self.signer.pubkey());
        let (chain, signer) = (&mut self.chain, &self.signer);
        let d = chain.deployment();
        let fail = |e| explain(e, &assay_stake::ID);
        let amount = parse_amount(&a.amount, dec)?;
        let op = chain.operator(&me).await?.with_context(|| {
            format!("{me} is not a registered operator (run `assay stake deposit` first)")
        })?;
        ensure!(
            amount > 0 && amount <= op.available(),
            "can unstake between 0 and {} tokens (deposited {}, locked {}, already unstaking {})",
            format_amount(op.available(), dec),
            format_amount(op.deposited, dec),
            format_amount(op.locked, dec),
            format_amount(op.unstaking, dec)
        );
        chain
            .send(&[d.request_unstake(&me, amount)], &[signer])
            .await
            .map_err(fail)?;
        let op = chain.operator(&me).await?.context("operator vanished")?;
        Ok(Unstaking {
            unstaking: op.unstaking,
            ready_slot: op.unstake_ready_slot,
            decimals: dec,
        })
    }

    /// Withdraws the stake whose cooldown has passed.
    async fn withdraw(&mut self) -> Result<Withdrawn> {
        let (dec, me) = (self.dec, self.signer.pubkey());
        let (chain, signer) = (&mut self.chain, &self.signer);
        let d = chain.deployment();
        let fail = |e| explain(e, &assay_stake::ID);
        let op = chain
            .operator(&me)
            .await?
            .with_context(|| format!("{me} is not a registered operator"))?;
        ensure!(
            op.unstaking > 0,
            "nothing to withdraw: request it first with `assay stake unstake`"
        );
        let slot = chain.slot().await?;
        if slot < op.unstake_ready_slot {
            bail!(
                "{} tokens are still cooling down: withdrawable from slot {} (now {slot})",
                format_amount(op.unstaking, dec),
                op.unstake_ready_slot
            );
        }
        chain
            .send(&[d.withdraw(&me)], &[signer])
            .await
            .map_err(fail)?;
        Ok(Withdrawn {
            withdrawn: op.unstaking,
            decimals: dec,
        })
    }

    /// Updates an operator's registry weight to its available stake.
    async fn sync(&mut self, a: ShowArgs) -> Result<Synced> {
        let (dec, me) = (self.dec, self.signer.pubkey());
        let (chain, signer) = (&mut self.chain, &self.signer);
        let d = chain.deployment();
        let fail = |e| explain(e, &assay_stake::ID);
        let who = a.authority(me)?;
        ensure!(
            chain.operator(&who).await?.is_some(),
            "{who} is not a registered operator"
        );
        chain
            .send(&[d.sync_verifier(&who)], &[signer])
            .await
            .map_err(fail)?;
        Ok(Synced {
            authority: who.to_string(),
            weight: registry_weight(chain, &who).await?,
            decimals: dec,
        })
    }

    /// Declares what this verifier's GPU can run.
    async fn capabilities(&mut self, a: CapabilitiesArg) -> Result<Declared> {
        let me = self.signer.pubkey();
        let (chain, signer) = (&mut self.chain, &self.signer);
        let d = chain.deployment();
        let fail = |e| explain(e, &assay_stake::ID);
        let capabilities = resolve_capabilities(&a.capabilities)?;
        ensure!(
            chain.operator(&me).await?.is_some(),
            "{me} is not a registered operator (run `assay stake deposit --roles verifier` first)"
        );
        chain
            .send(&[d.set_capabilities(&me, capabilities)], &[signer])
            .await
            .map_err(fail)?;
        Ok(Declared {
            capabilities,
            names: assay_protocol::capability::names(capabilities).collect(),
        })
    }

    /// An operator's stake, locks, registry weight and capabilities.
    async fn show(&mut self, a: ShowArgs) -> Result<OperatorReport> {
        let me = self.signer.pubkey();
        let chain = &mut self.chain;
        let who = a.authority(me)?;
        let Some(op) = chain.operator(&who).await? else {
            bail!("{who} is not a registered operator");
        };
        Ok(OperatorReport {
            authority: who.to_string(),
            provider: op.is_provider(),
            verifier: op.is_verifier(),
            deposited: op.deposited,
            locked: op.locked,
            unstaking: op.unstaking,
            available: op.available(),
            unstake_ready_slot: op.unstake_ready_slot,
            slashed_total: op.slashed_total,
            registry_weight: registry_weight(chain, &who).await?,
            min_verifier_stake: chain.stake_config().await?.min_verifier_stake,
            capabilities: op.capabilities,
            capability_names: assay_protocol::capability::names(op.capabilities).collect(),
            decimals: self.dec,
        })
    }
}

impl ShowArgs {
    fn authority(&self, me: Pubkey) -> Result<Pubkey> {
        match &self.authority {
            Some(text) => parse_pubkey(text),
            None => Ok(me),
        }
    }
}

/// `who`'s weight in verifier draws from the next draw epoch on (stake changes take
/// effect at epoch boundaries), if it has a registry entry.
async fn registry_weight(chain: &mut impl Chain, who: &Pubkey) -> Result<Option<u64>> {
    let Some(operator) = chain.operator(who).await? else {
        return Ok(None);
    };
    Ok(chain
        .registry()
        .await?
        .entry(&operator)
        .map(|e| e.next_weight)
        .filter(|&w| w > 0))
}

/// For a verifier with draw weight: the first slot whose draws count the stake it has now
/// (the next draw epoch's first slot). `None` for an operator that is not in the draws.
async fn drawable_from(
    chain: &mut assay_client::rpc::RpcChain,
    who: &Pubkey,
) -> Result<Option<u64>> {
    if registry_weight(chain, who).await?.is_none() {
        return Ok(None);
    }
    let registry = chain.registry().await?;
    let slot = chain.slot().await?;
    Ok(Some(registry.epoch_start(registry.epoch_of(slot) + 1)))
}

/// Waits until the chain reaches `slot`, with a progress bar on a terminal.
async fn wait_for_slot(
    chain: &mut assay_client::rpc::RpcChain,
    slot: u64,
    json: bool,
) -> Result<()> {
    let now = chain.slot().await?;
    let bar = if json {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(slot.saturating_sub(now))
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "waiting for the next draw epoch {bar:30} {pos}/{len} slots [{elapsed}]",
        )
        .expect("static template"),
    );
    loop {
        let now = chain.slot().await?;
        if now >= slot {
            break;
        }
        bar.set_position(bar.length().unwrap_or(0).saturating_sub(slot - now));
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    }
    bar.finish_and_clear();
    Ok(())
}
