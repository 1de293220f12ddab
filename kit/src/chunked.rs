//! An incremental decoder of `Transfer-Encoding: chunked`, for readers
//! over raw sockets: the kit's [`crate::Sse`] and the bench's client. It
//! moves bytes from one buffer to another and never waits, so it costs a
//! stream next to nothing.

use bytes::{Buf, BytesMut};

/// An incremental decoder of `Transfer-Encoding: chunked`.
#[derive(Debug, Default)]
pub struct Chunked {
    /// Data bytes left in the current chunk.
    remaining: usize,
    /// The CRLF after a chunk's data is still to be read.
    crlf: bool,
    /// The last chunk was read: only trailers and an empty line remain.
    trailers: bool,
}

impl Chunked {
    /// Moves decoded bytes from `raw` to `out`; true once the last chunk
    /// and the empty line after it have been read. Leaves an incomplete
    /// size line in `raw`. An error if a size line is not one.
    pub fn feed(&mut self, raw: &mut BytesMut, out: &mut Vec<u8>) -> std::io::Result<bool> {
        loop {
            if self.remaining > 0 {
                let n = self.remaining.min(raw.len());
                out.extend_from_slice(&raw[..n]);
                raw.advance(n);
                self.remaining -= n;
                if self.remaining > 0 {
                    return Ok(false);
                }
                self.crlf = true;
            }
            if self.crlf {
                if raw.len() < 2 {
                    return Ok(false);
                }
                raw.advance(2);
                self.crlf = false;
            }
            let Some(end) = find(raw, b"\r\n") else {
                return Ok(false);
            };
            if self.trailers {
                raw.advance(end + 2);
                if end == 0 {
                    return Ok(true);
                }
                continue;
            }
            let size = std::str::from_utf8(&raw[..end])
                .ok()
                .and_then(|line| line.split(';').next())
                .and_then(|size| usize::from_str_radix(size.trim(), 16).ok())
                .ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::InvalidData, "bad chunk size")
                })?;
            raw.advance(end + 2);
            if size == 0 {
                self.trailers = true;
                continue;
            }
            self.remaining = size;
        }
    }
}

/// The first position of `needle` in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_decode_across_any_split() {
        let raw = b"5\r\nhello\r\n7;x=y\r\n, world\r\n0\r\n\r\n";
        for split in 0..raw.len() {
            let mut decoder = Chunked::default();
            let mut buf = BytesMut::from(&raw[..split]);
            let mut out = Vec::new();
            let mut done = decoder.feed(&mut buf, &mut out).expect("decodes");
            buf.extend_from_slice(&raw[split..]);
            done |= decoder.feed(&mut buf, &mut out).expect("decodes");
            assert!(done, "split at {split}");
            assert_eq!(out, b"hello, world");
            assert!(buf.is_empty(), "the trailer's empty line is consumed");
        }
    }

    #[test]
    fn a_bad_size_line_is_an_error() {
        let mut buf = BytesMut::from(&b"zz\r\n"[..]);
        assert!(Chunked::default().feed(&mut buf, &mut Vec::new()).is_err());
    }
}
