//! Solana CLI conventions: keypair files (a JSON array of 64 bytes) and the CLI config
//! file (`~/.config/solana/cli/config.yml`) for the default URL and keypair.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use solana_sdk::signature::Keypair;

/// The default local endpoint, as for `solana-test-validator` (and `assay localnet`).
pub const LOCALHOST_URL: &str = "http://127.0.0.1:8899";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("keypair file {0} not found (create one with `solana-keygen new -o {0}` or `assay keygen {0}`)")]
    Missing(PathBuf),
    #[error("cannot read keypair file {0}: {1}")]
    Read(PathBuf, String),
    #[error("{0} is not a Solana keypair file (expected a JSON array of 64 bytes): {1}")]
    Format(PathBuf, String),
    #[error("cannot write keypair file {0}: {1}")]
    Write(PathBuf, String),
    #[error("Solana CLI config {0} is malformed: {1}")]
    Config(PathBuf, String),
}

/// Reads a keypair in the Solana CLI JSON format.
pub fn read_keypair(path: &Path) -> Result<Keypair, KeyError> {
    let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => KeyError::Missing(path.to_path_buf()),
        _ => KeyError::Read(path.to_path_buf(), e.to_string()),
    })?;
    let bytes: Vec<u8> = serde_json::from_str(&text)
        .map_err(|e| KeyError::Format(path.to_path_buf(), e.to_string()))?;
    if bytes.len() != 64 {
        return Err(KeyError::Format(
            path.to_path_buf(),
            format!("{} bytes", bytes.len()),
        ));
    }
    Keypair::try_from(bytes.as_slice())
        .map_err(|e| KeyError::Format(path.to_path_buf(), e.to_string()))
}

/// Writes a keypair in the Solana CLI JSON format, readable only by its owner; refuses
/// to overwrite an existing file.
pub fn write_keypair(path: &Path, keypair: &Keypair) -> Result<(), KeyError> {
    use std::io::Write;
    let fail = |e: std::io::Error| KeyError::Write(path.to_path_buf(), e.to_string());
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(fail)?;
    let json = serde_json::to_string(&keypair.to_bytes().to_vec()).expect("bytes serialize");
    file.write_all(json.as_bytes()).map_err(fail)
}

/// The parts of the Solana CLI config Assay reads.
#[derive(Debug, Default, Deserialize)]
pub struct SolanaConfig {
    pub json_rpc_url: Option<String>,
    pub keypair_path: Option<PathBuf>,
}

fn home() -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from)
}

/// Assay's local data: `$ASSAY_HOME`, else `~/.local/share/assay`.
pub fn data_dir() -> PathBuf {
    std::env::var_os("ASSAY_HOME").map_or_else(|| home().join(".local/share/assay"), PathBuf::from)
}

/// The blob store every Assay tool uses when none is named (`--store` / `ASSAY_STORE`):
/// `<data_dir>/blobs`.
pub fn default_store() -> String {
    data_dir().join("blobs").display().to_string()
}

/// `$SOLANA_CONFIG`, else `~/.config/solana/cli/config.yml`.
pub fn solana_config_path() -> PathBuf {
    std::env::var_os("SOLANA_CONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".config/solana/cli/config.yml"))
}

impl SolanaConfig {
    /// The config at `path`; empty when the file does not exist.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_yaml::from_str(&text)
                .map_err(|e| KeyError::Config(path.to_path_buf(), e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(KeyError::Config(path.to_path_buf(), e.to_string())),
        }
    }
}

/// Expands the Solana CLI's URL monikers (`localhost`, `devnet`, `testnet`,
/// `mainnet-beta` and their first letters); anything else is taken as a URL.
pub fn expand_url(url: &str) -> String {
    match url {
        "l" | "localhost" => LOCALHOST_URL.into(),
        "d" | "devnet" => "https://api.devnet.solana.com".into(),
        "t" | "testnet" => "https://api.testnet.solana.com".into(),
        "m" | "mainnet-beta" => "https://api.mainnet-beta.solana.com".into(),
        other => other.into(),
    }
}

/// Where to connect and which keypair signs: flags first, then the Solana CLI config,
/// then the defaults (`http://127.0.0.1:8899`, `~/.config/solana/id.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub url: String,
    pub keypair_path: PathBuf,
}

impl Endpoint {
    pub fn resolve(url: Option<&str>, keypair: Option<&Path>) -> Result<Self, KeyError> {
        let config = SolanaConfig::load(&solana_config_path())?;
        let url = url
            .map(str::to_string)
            .or(config.json_rpc_url)
            .unwrap_or_else(|| LOCALHOST_URL.into());
        let keypair_path = keypair
            .map(Path::to_path_buf)
            .or(config.keypair_path)
            .unwrap_or_else(|| home().join(".config/solana/id.json"));
        Ok(Self {
            url: expand_url(&url),
            keypair_path,
        })
    }
}

/// The public development deployer: the key a build without `ASSAY_DEPLOYER` accepts
/// for initializing both programs (`assay_stake::constants::DEV_DEPLOYER`). Its secret is
/// this well-known seed, so it serves local banks, tests and `assay demo` only; a real
/// deployment is built with `ASSAY_DEPLOYER` set to a key nobody else holds.
pub fn dev_deployer() -> Keypair {
    const SEED: [u8; 32] = [
        35, 96, 122, 69, 143, 242, 216, 91, 85, 217, 15, 218, 162, 180, 127, 73, 100, 154, 161, 89,
        112, 92, 21, 204, 21, 219, 141, 10, 111, 97, 86, 232,
    ];
    Keypair::new_from_array(SEED)
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_sdk::signature::Signer;

    #[test]
    fn the_dev_deployer_is_the_key_programs_built_without_assay_deployer_accept() {
        let dev = assay_stake::constants::DEV_DEPLOYER.parse().unwrap();
        assert_eq!(dev_deployer().pubkey(), dev);
        if std::env::var_os("ASSAY_DEPLOYER").is_none() {
            assert_eq!(assay_stake::constants::DEPLOYER, dev);
        }
    }

    #[test]
    fn keypair_files_round_trip_and_bad_ones_are_named() {
        let dir = std::env::temp_dir().join(format!("assay-keys-{}", std::process::id()));
        let path = dir.join("id.json");
        let _ = std::fs::remove_file(&path);
        let key = Keypair::new();
        write_keypair(&path, &key).unwrap();
        assert_eq!(read_keypair(&path).unwrap().pubkey(), key.pubkey());
        assert!(matches!(
            write_keypair(&path, &key),
            Err(KeyError::Write(..))
        ));
        std::fs::write(&path, "[1,2,3]").unwrap();
        assert!(matches!(read_keypair(&path), Err(KeyError::Format(..))));
        assert!(matches!(
            read_keypair(&dir.join("nope.json")),
            Err(KeyError::Missing(..))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn solana_cli_config_supplies_defaults_and_monikers_expand() {
        let dir = std::env::temp_dir().join(format!("assay-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.yml");
        std::fs::write(
            &path,
            "---\njson_rpc_url: \"devnet\"\nwebsocket_url: \"\"\nkeypair_path: /tmp/k.json\ncommitment: confirmed\n",
        )
        .unwrap();
        let config = SolanaConfig::load(&path).unwrap();
        assert_eq!(config.json_rpc_url.as_deref(), Some("devnet"));
        assert_eq!(config.keypair_path, Some(PathBuf::from("/tmp/k.json")));
        assert_eq!(expand_url("devnet"), "https://api.devnet.solana.com");
        assert_eq!(expand_url("l"), LOCALHOST_URL);
        assert!(SolanaConfig::load(&dir.join("absent.yml"))
            .unwrap()
            .json_rpc_url
            .is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
