//! A static web server over a provider's mirror directory, for tests (shared by the
//! verifier's and the CLI's tests through `#[path]`).

/// Serves `<dir>/blobs/<hex>` over plain HTTP/1.1 (GET only), as any static web server
/// over a provider's mirror directory would; stops when dropped.
pub struct StaticBlobServer {
    pub url: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StaticBlobServer {
    pub fn start(dir: &std::path::Path) -> Self {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (dir, halt) = (dir.to_path_buf(), stop.clone());
        let thread =
            std::thread::spawn(move || {
                while !halt.load(std::sync::atomic::Ordering::Relaxed) {
                    let mut stream = match listener.accept() {
                        Ok((stream, _)) => stream,
                        Err(_) => {
                            std::thread::sleep(std::time::Duration::from_millis(5));
                            continue;
                        }
                    };
                    stream.set_nonblocking(false).unwrap();
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut request = String::new();
                    reader.read_line(&mut request).unwrap_or_default();
                    let mut header = String::new();
                    while reader.read_line(&mut header).unwrap_or(0) > 2 {
                        header.clear();
                    }
                    let path = request.split_whitespace().nth(1).unwrap_or("/");
                    let file = dir.join(path.trim_start_matches('/'));
                    let response = match std::fs::read(&file) {
                    Ok(body) if !path.contains("..") => {
                        let mut r = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        r.extend(body);
                        r
                    }
                    _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_vec(),
                };
                    let _ = stream.write_all(&response);
                }
            });
        Self {
            url,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for StaticBlobServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
