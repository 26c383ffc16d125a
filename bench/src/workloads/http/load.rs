//! A small HTTP/1.1 load generator (what `wrk` does, for one request per
//! connection): keep-alive connections over loopback, each sending its
//! request, reading the whole answer and sending the next, as fast as the
//! server answers, for a fixed time. It runs in the bench's process, the
//! servers in their own, so the server's CPU time is its own.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::workloads::BoxError;

/// What a run of load did.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    /// Answers read in full, all `200`.
    pub requests: u64,
    /// From the first request sent to the last answer read.
    pub elapsed: Duration,
}

impl Load {
    /// Answers per second.
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

/// A whole HTTP/1.1 request, ready to write.
pub fn post(path: &str, token: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// One keep-alive connection to `addr`.
pub struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Connection {
    /// Connects (no Nagle delay, as wrk).
    pub async fn open(addr: SocketAddr) -> Result<Connection, BoxError> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Connection { stream, buffer: Vec::with_capacity(64 * 1024) })
    }

    /// Sends `request` and reads its answer: the body of a `200`, or an
    /// error naming the status.
    pub async fn exchange(&mut self, request: &[u8]) -> Result<&[u8], BoxError> {
        self.stream.write_all(request).await?;
        self.buffer.clear();
        let head_end = loop {
            if let Some(at) = find(&self.buffer, b"\r\n\r\n") {
                break at + 4;
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buffer[..head_end])?;
        let status = head.split(' ').nth(1).ok_or("an answer without a status line")?.to_owned();
        let length: usize = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse().ok())?
            })
            .ok_or("an answer without a Content-Length")?;
        while self.buffer.len() < head_end + length {
            self.fill().await?;
        }
        let body = &self.buffer[head_end..head_end + length];
        if status != "200" {
            return Err(format!("the server answered {status}: {}", String::from_utf8_lossy(body)).into());
        }
        Ok(body)
    }

    async fn fill(&mut self) -> Result<(), BoxError> {
        let start = self.buffer.len();
        self.buffer.resize(start + 16 * 1024, 0);
        let read = self.stream.read(&mut self.buffer[start..]).await?;
        self.buffer.truncate(start + read);
        if read == 0 {
            return Err("the server closed the connection".into());
        }
        Ok(())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

/// Opens one connection per request in `requests` (connection `k` sends
/// `requests[k]` over and over), then drives them all for `duration`.
pub async fn drive(addr: SocketAddr, requests: &[Vec<u8>], duration: Duration) -> Result<Load, BoxError> {
    let mut connections = Vec::with_capacity(requests.len());
    for _ in requests {
        connections.push(Connection::open(addr).await?);
    }
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = connections
        .into_iter()
        .zip(requests.iter().cloned())
        .map(|(mut connection, request)| {
            let request: Arc<[u8]> = request.into();
            tokio::spawn(async move {
                let mut answered = 0u64;
                while Instant::now() < deadline {
                    connection.exchange(&request).await?;
                    answered += 1;
                }
                Ok::<u64, BoxError>(answered)
            })
        })
        .collect();
    let mut requests_done = 0;
    for task in tasks {
        requests_done += task.await??;
    }
    Ok(Load { requests: requests_done, elapsed: started.elapsed() })
}
