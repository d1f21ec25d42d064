//! moto's S3-compatible server for tests (from PyPI, installed by
//! `scripts/install-deps.sh` into `~/.cache/assay-moto`; `ASSAY_MOTO_SERVER` names another
//! `moto_server`): started on a free port, killed on drop.

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assay_gpu::BlobStore;

pub struct Moto {
    pub child: Child,
    pub endpoint: String,
}

impl Moto {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// A server with moto's own settings `env` (e.g. `INITIAL_NO_AUTH_ACTION_COUNT=0`:
    /// check every request's credentials).
    pub fn start_with(env: &[(&str, &str)]) -> Self {
        let bin = std::env::var("ASSAY_MOTO_SERVER").unwrap_or_else(|_| {
            format!(
                "{}/.cache/assay-moto/bin/moto_server",
                std::env::var("HOME").unwrap_or_default()
            )
        });
        assert!(
            std::path::Path::new(&bin).exists(),
            "moto_server not found at {bin}: run ./scripts/install-deps.sh"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        let moto = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        // Ready once it answers a request (ListBuckets), not merely once it listens.
        let deadline = Instant::now() + Duration::from_secs(60);
        while moto.request("GET", "/").is_none() {
            assert!(Instant::now() < deadline, "moto_server did not answer");
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// One plain HTTP/1.1 request; `None` when the connection fails or is reset (a
    /// server that listens may not answer yet).
    fn request(&self, method: &str, path: &str) -> Option<String> {
        use std::io::{Read, Write};
        let host = self.endpoint.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(host).ok()?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        (!response.is_empty()).then_some(response)
    }

    /// Creates `bucket` (S3's CreateBucket: a path-style PUT, which moto accepts unsigned).
    pub fn create_bucket(&self, bucket: &str) {
        let response = self
            .request("PUT", &format!("/{bucket}"))
            .expect("moto answers once ready");
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    }

    /// The URL of the store in `bucket` every participant uses.
    pub fn url(bucket: &str) -> String {
        format!("s3://{bucket}/assay")
    }

    /// The store [`Self::url`] on this server.
    pub fn store(&self, bucket: &str) -> BlobStore {
        BlobStore::open_s3(
            &Self::url(bucket),
            &[
                ("aws_endpoint", &self.endpoint),
                ("aws_allow_http", "true"),
                ("aws_access_key_id", "assay"),
                ("aws_secret_access_key", "assay"),
                ("aws_region", "us-east-1"),
            ],
        )
        .unwrap()
    }

    /// The environment an `assay` or `assay-verifier` process needs to reach
    /// `s3://<bucket>/…` on this server (object_store reads `AWS_*`).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_ACCESS_KEY_ID", "assay".into()),
            ("AWS_SECRET_ACCESS_KEY", "assay".into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
