//! Configuration: a TOML file, overridden by command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assay_client::flags::ConnectionFlags;
use clap::Parser;
use serde::Deserialize;

/// Everything the daemon needs (after merging file and flags).
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub url: String,
    /// Websocket for the market program subscription; `None`: `url`'s port + 1.
    pub ws_url: Option<String>,
    pub keypair: PathBuf,
    pub store: String,
    /// Vote on contests and relay quorums (through the blob store's vote board).
    pub committee: bool,
    pub journal: PathBuf,
    pub metrics_addr: Option<SocketAddr>,
    pub poll_interval: Duration,
    pub max_backoff: Duration,
    pub crank: bool,
    /// Share (0–1) of other verifiers' passes to re-check, challenging wrong ones; 0: off.
    pub fisherman_rate: f64,
    pub audit_retry: Duration,
    pub rpc_timeout: Duration,
    pub rpc_attempts: u32,
    /// Priority fee on every transaction, in micro-lamports per compute unit (0: none).
    pub priority_fee: u64,
    /// What to declare on chain as this verifier's capabilities at start.
    pub capabilities: Capabilities,
}

/// The capabilities a verifier declares at start (`--capabilities`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capabilities {
    /// Whatever this machine's GPU adapter can run (the default).
    Auto,
    /// These `assay_protocol::capability` bits.
    Declared(u8),
}

impl std::str::FromStr for Capabilities {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        if text.trim() == "auto" {
            return Ok(Self::Auto);
        }
        assay_protocol::capability::parse(text).map(Self::Declared)
    }
}

/// The TOML file: every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub url: Option<String>,
    pub ws_url: Option<String>,
    pub keypair: Option<PathBuf>,
    /// The blob store (`blob_store`, its old name, is still read).
    #[serde(alias = "blob_store")]
    pub store: Option<String>,
    pub committee: Option<bool>,
    pub journal: Option<PathBuf>,
    pub metrics_addr: Option<SocketAddr>,
    pub poll_interval_ms: Option<u64>,
    pub max_backoff_ms: Option<u64>,
    pub crank: Option<bool>,
    pub fisherman: Option<bool>,
    pub fisherman_rate: Option<f64>,
    pub audit_retry_ms: Option<u64>,
    pub rpc_timeout_ms: Option<u64>,
    pub rpc_attempts: Option<u32>,
    pub priority_fee: Option<u64>,
    pub capabilities: Option<String>,
}

/// `assay-verifier`: audits Assay jobs this operator is drawn for, votes in committees
/// and cranks time-outs. Flags override the config file.
#[derive(Debug, Parser, Default)]
#[command(name = "assay-verifier", version)]
pub struct Flags {
    /// TOML config file.
    #[arg(long, short = 'c')]
    pub config: Option<PathBuf>,
    /// --url, --ws-url, --keypair (the verifier operator's; it pays fees), --store,
    /// --priority-fee: the same flags as `assay`'s (`assay_client::flags`).
    #[command(flatten)]
    pub connection: ConnectionFlags,
    /// Do not sit on committees: never vote on contests or relay their quorums (votes
    /// otherwise travel through the blob store, under `votes/`).
    #[arg(long)]
    pub no_committee: bool,
    /// Journal file (redb).
    #[arg(long)]
    pub journal: Option<PathBuf>,
    /// Address for the Prometheus `/metrics` endpoint.
    #[arg(long)]
    pub metrics_addr: Option<SocketAddr>,
    /// How often to re-read the market when no websocket event wakes the daemon, in
    /// milliseconds (default 2000).
    #[arg(long)]
    pub poll_interval_ms: Option<u64>,
    /// The longest wait between retries of a failing chain call or audit, in
    /// milliseconds (default 30000; the wait doubles up to it).
    #[arg(long)]
    pub max_backoff_ms: Option<u64>,
    /// Disable permissionless cranks.
    #[arg(long)]
    pub no_crank: bool,
    /// Do not re-check other verifiers' passes (the daemon is a fisherman by default: see
    /// --fisherman-rate).
    #[arg(long)]
    pub no_fisherman: bool,
    /// Share (0–1) of other verifiers' passes this daemon re-checks while their window is
    /// open (at most two per poll, after its own assignments and seats; which passes, a
    /// private draw from its key), challenging one whose sampled chunk is wrong. A
    /// challenge bonds the market's `verifier_bond` of this operator's stake: lost if the
    /// committee overturns it, returned with the finder share of the provider's collateral
    /// and the verifier's bond if it upholds. Default 0.1 (docs/economics.md).
    #[arg(long, value_name = "SHARE")]
    pub fisherman_rate: Option<f64>,
    /// First wait before retrying an audit whose inputs or outputs could not be read,
    /// in milliseconds (default 2000).
    #[arg(long)]
    pub audit_retry_ms: Option<u64>,
    /// Timeout of one JSON-RPC request, in milliseconds (default 10000).
    #[arg(long)]
    pub rpc_timeout_ms: Option<u64>,
    /// Attempts of a JSON-RPC request the transport failed (default 8).
    #[arg(long)]
    pub rpc_attempts: Option<u32>,
    /// Capabilities to declare on chain at start, so the draws give this verifier only
    /// jobs it can run: `auto` (default: what this machine's GPU adapter has), `none`
    /// (portable jobs only), or names such as `shader-f16,subgroups,extended-limits`.
    #[arg(long)]
    pub capabilities: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, String),
    #[error("{0}: {1}")]
    Parse(PathBuf, String),
    #[error("cannot resolve the endpoint and keypair: {0}")]
    Endpoint(String),
    #[error("capabilities: {0}")]
    Capabilities(String),
    #[error("--fisherman-rate {0} is not a share between 0 and 1")]
    FishermanRate(f64),
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Read(path.to_path_buf(), e.to_string()))?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse(path.to_path_buf(), e.to_string()))
    }
}

impl Config {
    /// Merges `flags` over `file` over the defaults.
    pub fn merge(file: FileConfig, flags: &Flags) -> Result<Self, ConfigError> {
        let ms = Duration::from_millis;
        let connection = &flags.connection;
        let store = connection.store_or(file.store);
        let endpoint = connection
            .endpoint_or(file.url.as_deref(), file.keypair.as_deref())
            .map_err(|e| ConfigError::Endpoint(e.to_string()))?;
        Ok(Self {
            url: endpoint.url,
            ws_url: connection.ws_url.clone().or(file.ws_url),
            keypair: endpoint.keypair_path,
            store,
            committee: !flags.no_committee && file.committee.unwrap_or(true),
            journal: flags
                .journal
                .clone()
                .or(file.journal)
                .unwrap_or_else(|| "assay-verifier.redb".into()),
            metrics_addr: flags.metrics_addr.or(file.metrics_addr),
            poll_interval: ms(flags
                .poll_interval_ms
                .or(file.poll_interval_ms)
                .unwrap_or(2_000)),
            max_backoff: ms(flags
                .max_backoff_ms
                .or(file.max_backoff_ms)
                .unwrap_or(30_000)),
            crank: !flags.no_crank && file.crank.unwrap_or(true),
            fisherman_rate: if flags.no_fisherman || file.fisherman == Some(false) {
                0.0
            } else {
                let rate = flags
                    .fisherman_rate
                    .or(file.fisherman_rate)
                    .unwrap_or(assay_node::daemon::DEFAULT_FISHERMAN_RATE);
                if !(0.0..=1.0).contains(&rate) {
                    return Err(ConfigError::FishermanRate(rate));
                }
                rate
            },
            audit_retry: ms(flags
                .audit_retry_ms
                .or(file.audit_retry_ms)
                .unwrap_or(2_000)),
            rpc_timeout: ms(flags
                .rpc_timeout_ms
                .or(file.rpc_timeout_ms)
                .unwrap_or(10_000)),
            rpc_attempts: flags.rpc_attempts.or(file.rpc_attempts).unwrap_or(8),
            priority_fee: connection.priority_fee.or(file.priority_fee).unwrap_or(0),
            capabilities: flags
                .capabilities
                .as_deref()
                .or(file.capabilities.as_deref())
                .unwrap_or("auto")
                .parse()
                .map_err(ConfigError::Capabilities)?,
        })
    }

    /// Reads the file named by `--config` (if any) and merges the flags over it.
    pub fn from_flags(flags: &Flags) -> Result<Self, ConfigError> {
        let file = match &flags.config {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        };
        Self::merge(file, flags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file_and_defaults_fill_the_rest() {
        let file: FileConfig = toml::from_str(
            r#"
            url = "http://rpc.example:8899"
            keypair = "/etc/assay/verifier.json"
            blob_store = "/var/lib/assay/blobs"
            poll_interval_ms = 500
            crank = true
            priority_fee = 5000
            "#,
        )
        .unwrap();
        let flags = Flags::parse_from([
            "assay-verifier",
            "--url",
            "http://127.0.0.1:9000",
            "--no-crank",
        ]);
        let c = Config::merge(file, &flags).unwrap();
        assert_eq!(c.url, "http://127.0.0.1:9000");
        assert_eq!(c.keypair, PathBuf::from("/etc/assay/verifier.json"));
        assert_eq!(c.poll_interval, Duration::from_millis(500));
        assert!(!c.crank);
        assert_eq!(
            c.fisherman_rate,
            assay_node::daemon::DEFAULT_FISHERMAN_RATE,
            "a fisherman unless told not to"
        );
        assert_eq!(
            c.capabilities,
            Capabilities::Auto,
            "the adapter's unless told"
        );
        let told = Flags::parse_from(["assay-verifier", "--capabilities", "subgroups,shader-f16"]);
        assert_eq!(
            Config::merge(FileConfig::default(), &told)
                .unwrap()
                .capabilities,
            Capabilities::Declared(
                assay_protocol::capability::SUBGROUPS | assay_protocol::capability::SHADER_F16
            )
        );
        let wrong = Flags::parse_from(["assay-verifier", "--capabilities", "raytracing"]);
        assert!(matches!(
            Config::merge(FileConfig::default(), &wrong),
            Err(ConfigError::Capabilities(m)) if m.contains("raytracing")
        ));
        let off = Flags::parse_from(["assay-verifier", "--no-fisherman"]);
        assert_eq!(
            Config::merge(FileConfig::default(), &off)
                .unwrap()
                .fisherman_rate,
            0.0
        );
        let all = Flags::parse_from(["assay-verifier", "--fisherman-rate", "1"]);
        assert_eq!(
            Config::merge(FileConfig::default(), &all)
                .unwrap()
                .fisherman_rate,
            1.0
        );
        let wrong = Flags::parse_from(["assay-verifier", "--fisherman-rate", "2"]);
        assert!(matches!(
            Config::merge(FileConfig::default(), &wrong),
            Err(ConfigError::FishermanRate(_))
        ));
        assert!(c.committee, "votes through the store unless told not to");
        let aside = Flags::parse_from(["assay-verifier", "--no-committee"]);
        assert!(
            !Config::merge(FileConfig::default(), &aside)
                .unwrap()
                .committee
        );
        assert_eq!(
            c.store, "/var/lib/assay/blobs",
            "the old key `blob_store` still reads"
        );
        assert_eq!(c.rpc_attempts, 8);
        assert_eq!(c.priority_fee, 5_000);
        assert!(toml::from_str::<FileConfig>("bogus = 1").is_err());
    }

    /// `assay` and `assay-verifier` share one vocabulary: `--store` (the old
    /// `--blob-store` still parses), `ASSAY_STORE`, and the same default store.
    #[test]
    fn the_store_flag_and_its_default_match_the_assay_cli() {
        for flag in ["--store", "--blob-store"] {
            let flags = Flags::parse_from(["assay-verifier", flag, "s3://bucket/blobs"]);
            let c = Config::merge(FileConfig::default(), &flags).unwrap();
            assert_eq!(c.store, "s3://bucket/blobs");
            assert!(c.committee, "votes travel through any store, remote too");
        }
        let flags = Flags::parse_from(["assay-verifier", "--keypair", "/k.json"]);
        let c = Config::merge(FileConfig::default(), &flags).unwrap();
        assert_eq!(c.store, assay_client::keys::default_store());
        assert!(toml::from_str::<FileConfig>("store = \"/b\"").is_ok());
    }
}
