//! `assay localnet`, `assay faucet`, `assay balance`, `assay keygen`: a local chain and
//! the small tools around it.

use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use assay_client::keys::{read_keypair, write_keypair};
use assay_client::rpc::{RpcChain, RpcOptions};
use assay_client::Chain;
use assay_localnet::{Surfnet, SurfnetOptions};
use assay_testkit::embedded::{LocalChain, LocalSetup};
use assay_testkit::localnet::{FaultInjection, Localnet, LocalnetOptions};
use clap::Args;
use serde::Serialize;
use solana_sdk::native_token::LAMPORTS_PER_SOL;
use solana_sdk::signature::{Keypair, Signer};

use crate::common::{decimals, explain, format_amount, parse_amount, parse_pubkey, Net};
use crate::provider::shutdown;
use crate::report::{render, report, Outcome};

#[derive(Args)]
pub struct LocalnetArgs {
    /// JSON-RPC port (0: any free port; the URL is printed and written to the ledger
    /// directory).
    #[arg(long, default_value_t = 8899)]
    port: u16,
    /// Websocket (subscriptions) port; default: the JSON-RPC port + 1, or any free port
    /// when --port is 0.
    #[arg(long)]
    ws_port: Option<u16>,
    /// Directory holding assay_stake.so and assay_market.so (scripts/sbf/build.sh).
    /// Default: ASSAY_SBF_DIR, else the target/deploy folder of the cargo target directory
    /// this binary was built in, else ./target/deploy.
    #[arg(long)]
    programs: Option<PathBuf>,
    /// Serve the embedded in-process bank (programs native, a hand-written subset of the
    /// RPC API, no websocket) instead of Surfpool; needed for --fault-rate and --tx-log.
    #[arg(long)]
    embedded: bool,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// Directory for `admin.json` (the mint authority, for `assay faucet`) and `url`.
    #[arg(long, default_value = ".assay-localnet")]
    ledger: PathBuf,
    /// Milliseconds per slot.
    #[arg(long, default_value_t = 400)]
    slot_ms: u64,
    /// Testing (--embedded): fraction of requests to fail (503, late answer, or lost
    /// reply).
    #[arg(long, default_value_t = 0.0)]
    fault_rate: f64,
    /// Testing: how late a late answer is, in milliseconds.
    #[arg(long, default_value_t = 3_000)]
    fault_delay_ms: u64,
    /// Testing (--embedded): append one JSON line per transaction received to this file.
    #[arg(long)]
    tx_log: Option<PathBuf>,
}

pub async fn localnet(a: LocalnetArgs, json: bool) -> Result<()> {
    ensure!(
        (0.0..=1.0).contains(&a.fault_rate),
        "--fault-rate must be between 0 and 1"
    );
    std::fs::create_dir_all(&a.ledger)
        .with_context(|| format!("cannot create {}", a.ledger.display()))?;
    if a.embedded {
        embedded_localnet(a, json).await
    } else {
        ensure!(
            a.fault_rate == 0.0 && a.tx_log.is_none(),
            "--fault-rate and --tx-log need --embedded (Surfpool injects no faults)"
        );
        surfpool_localnet(a, json).await
    }
}

/// Surfpool with both programs as SBF: the standard RPC and websocket APIs.
async fn surfpool_localnet(a: LocalnetArgs, json: bool) -> Result<()> {
    let ws_port = match (a.ws_port, a.port) {
        (Some(port), _) => port,
        (None, 0) => 0,
        (None, port) => port
            .checked_add(1)
            .context("--port 65535 leaves no room for the websocket port; give --ws-port")?,
    };
    let mut options = SurfnetOptions::new();
    options.bind = a.bind.clone();
    options.rpc_port = a.port;
    options.ws_port = ws_port;
    options.slot_ms = a.slot_ms;
    if let Some(dir) = a.programs {
        options.programs = dir;
    }
    let net = Surfnet::start(options).await?;
    let admin_path = write_admin(&a.ledger, &net.admin)?;
    std::fs::write(a.ledger.join("url"), &net.rpc_url)?;
    let d = net.deployment;
    let ready = LocalnetReady {
        url: net.rpc_url.clone(),
        ws_url: Some(net.ws_url.clone()),
        validator: Some("surfpool"),
        programs: Some(net.programs.clone()),
        mint: d.mint.to_string(),
        treasury: d.treasury.to_string(),
        faucet_hint: faucet_hint(&admin_path, &net.rpc_url),
        mint_authority: admin_path,
    };
    render(&ready, json);
    std::io::stdout().flush()?;
    shutdown().await;
    Ok(())
}

/// The mint authority read from `path` and a client of the market at `url`, or why not.
async fn faucet_ready(path: &std::path::Path, url: &str) -> Result<(Keypair, RpcChain)> {
    let authority = read_keypair(path).map_err(|e| {
        let cause = match e {
            assay_client::keys::KeyError::Missing(path) => {
                format!("{} does not exist", path.display())
            }
            other => other.to_string(),
        };
        anyhow::anyhow!(
            "cannot read the mint authority: {cause}.\nOnly the key `assay localnet` wrote into \
             its --ledger directory can mint (a new key cannot): pass --authority \
             LEDGER/admin.json (default {DEFAULT_AUTHORITY})"
        )
    })?;
    let chain = RpcChain::connect(url, authority.insecure_clone(), RpcOptions::default())
        .await
        .map_err(|e| {
            anyhow::anyhow!("no Assay market at {url} ({e}); start one with `assay localnet`")
        })?;
    Ok((authority, chain))
}

/// The faucet command for this chain: `--authority` named unless it is the faucet's default.
fn faucet_hint(admin_path: &std::path::Path, url: &str) -> String {
    let authority = if admin_path == std::path::Path::new(DEFAULT_AUTHORITY) {
        String::new()
    } else {
        format!(" --authority {}", admin_path.display())
    };
    format!("assay faucet <address> --tokens 100 --url {url}{authority}")
}

/// Where `assay localnet` writes the mint authority by default, and where `assay faucet`
/// reads it.
const DEFAULT_AUTHORITY: &str = ".assay-localnet/admin.json";

/// Writes the mint authority to `ledger/admin.json` (replacing an earlier chain's), for
/// `assay faucet`; returns the path.
fn write_admin(ledger: &std::path::Path, admin: &Keypair) -> Result<PathBuf> {
    let path = ledger.join("admin.json");
    let _ = std::fs::remove_file(&path);
    write_keypair(&path, admin)?;
    Ok(path)
}

/// The embedded bank behind the hand-written endpoint (fault injection for tests).
async fn embedded_localnet(a: LocalnetArgs, json: bool) -> Result<()> {
    let mut chain = LocalChain::start(LocalSetup::default()).await?;
    let admin = chain.admin.insecure_clone();
    // The faucet pays rent and fees from the admin's SOL.
    chain
        .airdrop(&admin.pubkey(), 10_000 * LAMPORTS_PER_SOL)
        .await?;
    let deployment = chain.deployment;
    let admin_path = write_admin(&a.ledger, &admin)?;
    let listener = tokio::net::TcpListener::bind((a.bind.as_str(), a.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", a.bind, a.port))?;
    let net = Localnet::serve(
        chain,
        listener,
        LocalnetOptions {
            slot_ms: a.slot_ms,
            faults: FaultInjection {
                rate: a.fault_rate,
                delay: Duration::from_millis(a.fault_delay_ms),
                seed: 0,
            },
            tx_log: a.tx_log.clone(),
        },
    )
    .await?;
    std::fs::write(a.ledger.join("url"), net.url())?;
    let ready = LocalnetReady {
        url: net.url(),
        ws_url: None,
        validator: None,
        programs: None,
        mint: deployment.mint.to_string(),
        treasury: deployment.treasury.to_string(),
        faucet_hint: faucet_hint(&admin_path, &net.url()),
        mint_authority: admin_path,
    };
    render(&ready, json);
    std::io::stdout().flush()?;
    shutdown().await;
    Ok(())
}

#[derive(Args)]
pub struct FaucetArgs {
    /// Address to fund.
    to: String,
    /// Payment tokens to mint to it.
    #[arg(long, default_value = "0")]
    tokens: String,
    /// SOL to send it (for fees and rent).
    #[arg(long, default_value_t = 1.0)]
    sol: f64,
    /// Mint authority keypair: `admin.json` in the `--ledger` directory `assay localnet`
    /// was started with. Only that key can mint; a new key cannot.
    #[arg(long, default_value = DEFAULT_AUTHORITY)]
    authority: PathBuf,
    /// Seconds to wait for the chain to serve an Assay market (a local chain started just
    /// before, with `assay localnet &`, takes a few seconds to deploy); 0: do not wait.
    #[arg(long, default_value_t = 60)]
    wait_s: u64,
}

pub async fn faucet(a: FaucetArgs, net: &Net) -> Outcome {
    let to = parse_pubkey(&a.to)?;
    ensure!(
        a.sol >= 0.0 && a.sol.is_finite(),
        "--sol must be a non-negative number"
    );
    let endpoint = net.endpoint()?;
    // `assay localnet &` just started writes the authority and deploys within seconds.
    let deadline = std::time::Instant::now() + Duration::from_secs(a.wait_s);
    let mut waiting = false;
    let (authority, mut chain) = loop {
        match faucet_ready(&a.authority, &endpoint.url).await {
            Ok(ready) => break ready,
            Err(e) if std::time::Instant::now() < deadline => {
                if !waiting {
                    eprintln!(
                        "waiting for {} to serve an Assay market (up to {} s; --wait-s)…",
                        endpoint.url, a.wait_s
                    );
                    waiting = true;
                }
                tracing::debug!(error = %e, "not ready yet");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => return Err(e),
        }
    };
    let dec = decimals(&mut chain).await?;
    let tokens = parse_amount(&a.tokens, dec)?;
    let lamports = (a.sol * LAMPORTS_PER_SOL as f64) as u64;
    let d = chain.deployment();
    let mut ixs = vec![];
    if lamports > 0 {
        ixs.push(anchor_lang::solana_program::system_instruction::transfer(
            &authority.pubkey(),
            &to,
            lamports,
        ));
    }
    ixs.extend(d.mint_to(&authority.pubkey(), &to, tokens));
    chain
        .send(&ixs, &[&authority])
        .await
        .map_err(|e| explain(e, &d.token_program))?;
    report(Funded {
        to: to.to_string(),
        tokens,
        lamports,
        dec,
    })
}

/// `assay faucet`'s report: what was sent, base units and lamports.
#[derive(Serialize)]
struct Funded {
    to: String,
    tokens: u64,
    lamports: u64,
    #[serde(skip)]
    dec: u8,
}

impl fmt::Display for Funded {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "sent {} tokens and {} SOL to {}",
            format_amount(self.tokens, self.dec),
            self.lamports as f64 / LAMPORTS_PER_SOL as f64,
            self.to
        )
    }
}

#[derive(Args)]
pub struct BalanceArgs {
    /// Address to show (no keypair needed). Default: the signer's address.
    owner: Option<String>,
}

pub async fn balance(a: BalanceArgs, net: &Net) -> Outcome {
    // Reading a balance signs nothing: with an address given, no keypair is read.
    let (mut chain, owner) = match a.owner {
        Some(text) => {
            let owner = parse_pubkey(&text)?;
            (net.connect_paying(&Keypair::new()).await?, owner)
        }
        None => {
            let (chain, signer) = net.connect().await?;
            (chain, signer.pubkey())
        }
    };
    let dec = decimals(&mut chain).await?;
    let tokens = chain.balance_of(&owner).await?;
    let lamports = chain.lamports(&owner).await?;
    report(Holding {
        owner: owner.to_string(),
        tokens,
        lamports,
        dec,
    })
}

/// `assay balance`'s report: an address's payment tokens (base units) and lamports.
#[derive(Serialize)]
struct Holding {
    owner: String,
    tokens: u64,
    lamports: u64,
    #[serde(skip)]
    dec: u8,
}

impl fmt::Display for Holding {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "{}: {} tokens, {} SOL",
            self.owner,
            format_amount(self.tokens, self.dec),
            self.lamports as f64 / LAMPORTS_PER_SOL as f64
        )
    }
}

#[derive(Args)]
pub struct KeygenArgs {
    /// Where to write the new keypair (Solana CLI JSON format); never overwritten.
    out: PathBuf,
}

pub fn keygen(a: KeygenArgs) -> Outcome {
    let key = Keypair::new();
    write_keypair(&a.out, &key)?;
    report(Generated {
        pubkey: key.pubkey().to_string(),
        path: a.out,
    })
}

/// `assay keygen`'s report: the new key's address (alone on its line as text, for
/// `$(assay keygen key.json)`) and where it was written.
#[derive(Serialize)]
struct Generated {
    pubkey: String,
    path: PathBuf,
}

impl fmt::Display for Generated {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}", self.pubkey)
    }
}

/// What `assay localnet` says once its chain serves (then it runs until Ctrl-C): where,
/// which programs, the mint and the key that funds accounts.
#[derive(Serialize)]
struct LocalnetReady {
    url: String,
    /// Surfpool's websocket (the embedded endpoint has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    ws_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    validator: Option<&'static str>,
    /// Where the SBF programs were loaded from (Surfpool; the embedded bank runs them
    /// natively).
    #[serde(skip_serializing_if = "Option::is_none")]
    programs: Option<PathBuf>,
    mint: String,
    treasury: String,
    mint_authority: PathBuf,
    #[serde(skip)]
    faucet_hint: String,
}

impl fmt::Display for LocalnetReady {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match (&self.ws_url, &self.programs) {
            (Some(ws_url), Some(programs)) => writeln!(
                f,
                "Assay localnet (Surfpool): {}  websocket {ws_url}\n  assay-stake and assay-market as SBF from {}, SPL Token, Token-2022, ATA",
                self.url,
                programs.display()
            )?,
            _ => writeln!(
                f,
                "Assay localnet: {}\n  embedded bank with assay-stake and assay-market (native), SPL Token, ATA",
                self.url
            )?,
        }
        write!(
            f,
            "  payment mint {}  treasury {}\n  mint authority {} (fund accounts with `{}`)\n  Ctrl-C stops it; the chain lives in memory only",
            self.mint,
            self.treasury,
            self.mint_authority.display(),
            self.faucet_hint
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faucet_hint_names_the_authority_of_a_ledger_other_than_the_default() {
        let url = "http://127.0.0.1:8899";
        let default = std::path::Path::new(".assay-localnet").join("admin.json");
        assert_eq!(
            faucet_hint(&default, url),
            "assay faucet <address> --tokens 100 --url http://127.0.0.1:8899"
        );
        let other = std::path::Path::new("/tmp/chain").join("admin.json");
        assert!(faucet_hint(&other, url).ends_with("--authority /tmp/chain/admin.json"));
    }
}
