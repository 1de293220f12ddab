//! A minimal HTTP/1.1 client over a raw `TcpStream`: enough for joins,
//! posts and pages on keep-alive connections, and for the head of an event
//! stream. No per-connection client library, so ten thousand of them cost
//! a socket and a small buffer each.

use std::net::SocketAddr;

use anyhow::{anyhow, bail, Context, Result};
use bytes::{Buf, BytesMut};
use natter_kit::chunked::{find, Chunked};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The longest response head accepted.
const MAX_HEAD: usize = 64 * 1024;

/// A response's status line and headers (names lowercased).
#[derive(Debug)]
pub struct Head {
    pub status: u16,
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first header with this (lowercase) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn chunked(&self) -> bool {
        self.header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    }
}

/// One keep-alive connection and the bytes read past the last response.
pub struct Conn {
    pub stream: TcpStream,
    pub buf: BytesMut,
}

/// Builds a request with a `Host`, optional extra headers and body.
pub fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + body.len());
    out.extend_from_slice(format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n").as_bytes());
    for (name, value) in headers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    if !body.is_empty() || method == "POST" {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

impl Conn {
    /// Connects with `TCP_NODELAY` (requests are written in one piece).
    pub async fn connect(addr: SocketAddr) -> Result<Self> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connect {addr}"))?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buf: BytesMut::with_capacity(4096),
        })
    }

    /// Sends a request and reads the whole response.
    pub async fn roundtrip(&mut self, request: &[u8]) -> Result<(Head, Vec<u8>)> {
        self.stream.write_all(request).await?;
        let head = self.read_head().await?;
        let body = self.read_body(&head).await?;
        Ok((head, body))
    }

    /// Reads more bytes into the buffer; an error at end of stream.
    pub async fn fill(&mut self) -> Result<()> {
        if self.buf.capacity() - self.buf.len() < 1024 {
            self.buf.reserve(4096);
        }
        if self.stream.read_buf(&mut self.buf).await? == 0 {
            bail!("connection closed by the server");
        }
        Ok(())
    }

    /// Reads and parses a response head, leaving any body bytes buffered.
    pub async fn read_head(&mut self) -> Result<Head> {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                let text = String::from_utf8_lossy(&self.buf[..end]).into_owned();
                self.buf.advance(end + 4);
                return parse_head(&text);
            }
            if self.buf.len() > MAX_HEAD {
                bail!("response head too long");
            }
            self.fill().await?;
        }
    }

    /// Reads a body by `Content-Length` or chunked encoding.
    pub async fn read_body(&mut self, head: &Head) -> Result<Vec<u8>> {
        if head.chunked() {
            let mut decoder = Chunked::default();
            let mut body = Vec::new();
            loop {
                if decoder.feed(&mut self.buf, &mut body)? {
                    return Ok(body);
                }
                self.fill().await?;
            }
        }
        let length: usize = match head.header("content-length") {
            Some(value) => value.trim().parse().context("bad content-length")?,
            None => 0,
        };
        while self.buf.len() < length {
            self.fill().await?;
        }
        Ok(self.buf.split_to(length).to_vec())
    }
}

fn parse_head(text: &str) -> Result<Head> {
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| anyhow!("bad status line {status_line:?}"))?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Ok(Head { status, headers })
}

/// `application/x-www-form-urlencoded` for one value.
pub fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
