//! Content-addressed blob store: a blob's key is the sha256 of its bytes.
//!
//! Invariant: [`BlobStore::get`] never returns bytes whose sha256 differs from the key
//! asked for — a corrupted or substituted blob is an error, not data.
//!
//! Backed by [`object_store`]: a local directory by default, or any URL object_store
//! understands (`file://`; `http(s)://` with the `http-store` feature; `s3://` with the
//! `s3-store` feature). Blobs live under `<root>/blobs/<hex sha256>`; self-authenticating
//! records found by name (committee votes) under other prefixes ([`BlobStore::put_record`]).

use std::sync::Arc;

use object_store::{path::Path as ObjectPath, ObjectStore, PutPayload};

use crate::{Digest, Hash};

/// Blob store failures.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob {0} not found")]
    NotFound(Digest),
    #[error("blob {expected} is corrupted: its bytes hash to {actual}")]
    HashMismatch { expected: Digest, actual: Digest },
    #[error("unsupported blob store URL `{url}`: {reason}")]
    UnsupportedUrl { url: String, reason: String },
    #[error("blob store I/O: {0}")]
    Io(String),
}

/// A content-addressed store over any [`ObjectStore`].
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
    /// Always `Some` until drop (taken there to shut it down without blocking).
    runtime: Option<tokio::runtime::Runtime>,
    description: String,
}

impl Drop for BlobStore {
    fn drop(&mut self) {
        // A runtime may not be dropped (a blocking shutdown) inside another runtime.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlobStore({})", self.description)
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, BlobError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| BlobError::Io(e.to_string()))
}

impl BlobStore {
    /// A store in local directory `dir` (created if missing).
    pub fn local(dir: impl AsRef<std::path::Path>) -> Result<Self, BlobError> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir)
            .map_err(|e| BlobError::Io(format!("{}: {e}", dir.display())))?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| BlobError::Io(e.to_string()))?;
        Ok(Self {
            store: Arc::new(fs),
            prefix: ObjectPath::default(),
            runtime: Some(runtime()?),
            description: dir.display().to_string(),
        })
    }

    /// A store at `url` (`file:///…`, `http(s)://…`, `s3://bucket/prefix`), or a plain
    /// path for a local directory. Credentials for remote stores come from the
    /// environment as object_store reads them.
    pub fn open(url: &str) -> Result<Self, BlobError> {
        let parsed = match url::Url::parse(url) {
            Ok(u) if u.scheme().len() > 1 => u,
            _ => return Self::local(url),
        };
        if parsed.scheme() == "file" {
            let path = parsed
                .to_file_path()
                .map_err(|_| BlobError::UnsupportedUrl {
                    url: url.into(),
                    reason: "not a local file path".into(),
                })?;
            return Self::local(path);
        }
        #[cfg(feature = "s3-store")]
        if parsed.scheme() == "s3" {
            return Self::open_s3(url, &[]);
        }
        let env: Vec<(String, String)> = std::env::vars()
            .filter(|(k, _)| k.starts_with("AWS_") || k.starts_with("OBJECT_STORE_"))
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        let (store, prefix) =
            object_store::parse_url_opts(&parsed, env).map_err(|e| BlobError::UnsupportedUrl {
                url: url.into(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            store: Arc::from(store),
            prefix,
            runtime: Some(runtime()?),
            description: url.into(),
        })
    }

    /// An `s3://bucket/prefix` store: credentials, region and endpoint from the `AWS_*`
    /// environment as object_store reads them, then `options` (object_store's
    /// `AmazonS3ConfigKey` names, e.g. `aws_endpoint`, `aws_allow_http`). Retries are
    /// bounded (4 tries within 20 s, with backoff), so an unreachable server is an error
    /// in seconds rather than minutes: a daemon's tick must not stall past its windows.
    #[cfg(feature = "s3-store")]
    pub fn open_s3(url: &str, options: &[(&str, &str)]) -> Result<Self, BlobError> {
        use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
        use object_store::{BackoffConfig, RetryConfig};
        let unsupported = |reason: String| BlobError::UnsupportedUrl {
            url: url.into(),
            reason,
        };
        let parsed = url::Url::parse(url).map_err(|e| unsupported(e.to_string()))?;
        let mut builder = AmazonS3Builder::from_env()
            .with_url(url)
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 4,
                retry_timeout: std::time::Duration::from_secs(20),
            });
        for (key, value) in options {
            let key: AmazonS3ConfigKey = key
                .parse()
                .map_err(|e: object_store::Error| unsupported(e.to_string()))?;
            builder = builder.with_config(key, *value);
        }
        let store = builder.build().map_err(|e| unsupported(e.to_string()))?;
        let prefix =
            ObjectPath::from_url_path(parsed.path()).map_err(|e| unsupported(e.to_string()))?;
        Ok(Self {
            store: Arc::new(store),
            prefix,
            runtime: Some(runtime()?),
            description: url.into(),
        })
    }

    /// Without the `http-store` feature no mirror can be read: every URL is refused.
    #[cfg(not(feature = "http-store"))]
    pub fn open_mirror(url: &str) -> Result<Self, BlobError> {
        Err(BlobError::UnsupportedUrl {
            url: url.into(),
            reason: "this build reads no HTTP mirror (assay-gpu feature http-store)".into(),
        })
    }

    /// A read-only view of a store someone else names (a provider's mirror, read from
    /// an `output_uri` on chain): `http(s)://` (plain HTTP allowed, since every blob is
    /// hash-checked) with short timeouts and few retries, so an unreachable or stalling
    /// mirror costs seconds, not the reader's deadline. Other schemes are refused: a
    /// location on chain must not point a reader at its own filesystem.
    #[cfg(feature = "http-store")]
    pub fn open_mirror(url: &str) -> Result<Self, BlobError> {
        use object_store::{BackoffConfig, ClientConfigKey, RetryConfig};
        let unsupported = |reason: &str| BlobError::UnsupportedUrl {
            url: url.into(),
            reason: reason.into(),
        };
        let parsed = url::Url::parse(url).map_err(|e| unsupported(&e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(unsupported("a mirror must be an http:// or https:// URL"));
        }
        let store = object_store::http::HttpBuilder::new()
            .with_url(&parsed[..url::Position::BeforePath])
            .with_config(ClientConfigKey::AllowHttp, "true")
            .with_config(ClientConfigKey::ConnectTimeout, "5s")
            .with_config(ClientConfigKey::Timeout, "30s")
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 2,
                retry_timeout: std::time::Duration::from_secs(10),
            })
            .build()
            .map_err(|e| unsupported(&e.to_string()))?;
        let prefix =
            ObjectPath::from_url_path(parsed.path()).map_err(|e| unsupported(&e.to_string()))?;
        Ok(Self {
            store: Arc::new(store),
            prefix,
            runtime: Some(runtime()?),
            description: url.into(),
        })
    }

    /// Runs an object-store future to completion on the store's own runtime. Callers may
    /// themselves be inside a tokio runtime (a daemon, the CLI): there a nested `block_on`
    /// would panic, so the future is driven from a scoped helper thread instead.
    fn block<T: Send>(&self, fut: impl std::future::Future<Output = T> + Send) -> T {
        let runtime = self.runtime.as_ref().expect("runtime lives until drop");
        if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|scope| {
                scope
                    .spawn(|| runtime.block_on(fut))
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
        } else {
            runtime.block_on(fut)
        }
    }

    fn key(&self, hash: &Hash) -> ObjectPath {
        self.prefix.child("blobs").child(hex::encode(hash))
    }

    /// Stores `bytes` and returns their sha256 (the key). Idempotent.
    pub fn put(&self, bytes: &[u8]) -> Result<Hash, BlobError> {
        let hash = Digest::of(bytes).0;
        let key = self.key(&hash);
        let payload = PutPayload::from(bytes.to_vec());
        self.block(self.store.put(&key, payload))
            .map_err(|e| BlobError::Io(e.to_string()))?;
        tracing::debug!(hash = %hex::encode(hash), bytes = bytes.len(), "blob stored");
        Ok(hash)
    }

    /// Fetches the blob keyed `hash`, verifying that its bytes hash to `hash`.
    pub fn get(&self, hash: &Hash) -> Result<Vec<u8>, BlobError> {
        let key = self.key(hash);
        let bytes = self.block(async {
            let got = self.store.get(&key).await?;
            got.bytes().await
        });
        let bytes = match bytes {
            Ok(b) => b.to_vec(),
            Err(object_store::Error::NotFound { .. }) => {
                return Err(BlobError::NotFound(Digest(*hash)))
            }
            Err(e) => return Err(BlobError::Io(e.to_string())),
        };
        let actual = Digest::of(&bytes);
        if actual.0 != *hash {
            tracing::warn!(expected = %hex::encode(hash), actual = %actual, "corrupted blob rejected");
            return Err(BlobError::HashMismatch {
                expected: Digest(*hash),
                actual,
            });
        }
        Ok(bytes)
    }

    /// The path of a named record: `<root>/<parts[0]>/<parts[1]>/…`, outside `blobs/`.
    fn record_path(&self, parts: &[&str]) -> ObjectPath {
        parts
            .iter()
            .fold(self.prefix.clone(), |path, part| path.child(*part))
    }

    /// Writes `bytes` under the name `parts` (overwriting): for records that authenticate
    /// themselves (signed committee votes) and that readers find by a name they can
    /// compute, where a content address would not do. Names are never trusted: a reader
    /// checks every record it lists.
    pub fn put_record(&self, parts: &[&str], bytes: &[u8]) -> Result<(), BlobError> {
        let path = self.record_path(parts);
        self.block(self.store.put(&path, PutPayload::from(bytes.to_vec())))
            .map_err(|e| BlobError::Io(e.to_string()))?;
        Ok(())
    }

    /// The bytes of every record directly under `parts` (none when nothing was written
    /// there), unverified; records that vanish while being listed are skipped.
    pub fn records(&self, parts: &[&str]) -> Result<Vec<Vec<u8>>, BlobError> {
        let dir = self.record_path(parts);
        self.block(async {
            let listed = match self.store.list_with_delimiter(Some(&dir)).await {
                Ok(listed) => listed,
                Err(object_store::Error::NotFound { .. }) => return Ok(vec![]),
                Err(e) => return Err(BlobError::Io(e.to_string())),
            };
            let mut out = Vec::with_capacity(listed.objects.len());
            for meta in listed.objects {
                match self.store.get(&meta.location).await {
                    Ok(got) => match got.bytes().await {
                        Ok(bytes) => out.push(bytes.to_vec()),
                        Err(object_store::Error::NotFound { .. }) => {}
                        Err(e) => return Err(BlobError::Io(e.to_string())),
                    },
                    Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(BlobError::Io(e.to_string())),
                }
            }
            Ok(out)
        })
    }

    /// Whether a blob keyed `hash` exists (its content is not verified).
    pub fn contains(&self, hash: &Hash) -> Result<bool, BlobError> {
        match self.block(self.store.head(&self.key(hash))) {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(BlobError::Io(e.to_string())),
        }
    }
}
