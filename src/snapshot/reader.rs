//! A byte window over a snapshot stream (plain file or gzip), refilled in blocks.
//!
//! The loader never holds the whole file: it slides a window of a few megabytes over the input,
//! so peak memory is the parsed columns, not the text. Offsets in errors are absolute byte
//! offsets in the (decompressed) stream.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::LoadErrorKind;

/// Bytes read per refill. Large enough that the parallel number parser has work for every core,
/// small enough to stay a rounding error next to the parsed columns.
pub const BLOCK: usize = 16 << 20;

pub struct Reader {
    source: Box<dyn Read + Send>,
    buf: Vec<u8>,
    pub pos: usize,
    pub end: usize,
    /// Absolute offset of `buf[0]`.
    base: u64,
    eof: bool,
    /// Raw (compressed) bytes read so far, for progress.
    pub raw_read: Arc<AtomicU64>,
}

/// Counts the bytes the decoder pulls from the file so progress is relative to the file size.
pub struct Counting<R> {
    pub inner: R,
    pub count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl Reader {
    pub fn new(source: Box<dyn Read + Send>, raw_read: Arc<AtomicU64>) -> Reader {
        Reader {
            source,
            buf: vec![0; BLOCK],
            pos: 0,
            end: 0,
            base: 0,
            eof: false,
            raw_read,
        }
    }

    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    pub fn window(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    /// Moves unread bytes to the front and reads more. Returns false when nothing more came
    /// (end of input). The window grows only when a single token does not fit (a huge string
    /// grows it; numbers never do).
    pub fn fill(&mut self) -> Result<bool, LoadErrorKind> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.base += self.pos as u64;
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            let grown = self.buf.len() * 2;
            self.buf.resize(grown, 0);
        }
        let before = self.end;
        while self.end < self.buf.len() {
            match self.source.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(LoadErrorKind::Io(e)),
            }
        }
        Ok(self.end > before)
    }

    /// Ensures at least `n` unread bytes, if the input has them.
    pub fn ensure(&mut self, n: usize) -> Result<bool, LoadErrorKind> {
        while self.end - self.pos < n {
            if !self.fill()? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Next non-whitespace byte, without consuming it; None at end of input.
    pub fn peek(&mut self) -> Result<Option<u8>, LoadErrorKind> {
        loop {
            while self.pos < self.end {
                let b = self.buf[self.pos];
                if !is_ws(b) {
                    return Ok(Some(b));
                }
                self.pos += 1;
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    pub fn bump(&mut self) {
        self.pos += 1;
    }
}

pub fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t')
}

/// Runs a slow source (gzip decompression) on its own thread, a few chunks ahead, so inflating
/// overlaps parsing instead of alternating with it.
pub struct ReadAhead {
    chunks: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    current: Vec<u8>,
    at: usize,
    done: bool,
}

impl ReadAhead {
    const CHUNK: usize = 4 << 20;

    pub fn new(mut source: Box<dyn Read + Send>) -> ReadAhead {
        let (send, chunks) = std::sync::mpsc::sync_channel(4);
        std::thread::spawn(move || {
            loop {
                let mut chunk = vec![0u8; ReadAhead::CHUNK];
                let mut filled = 0;
                let result = loop {
                    match source.read(&mut chunk[filled..]) {
                        Ok(0) => break Ok(()),
                        Ok(n) => {
                            filled += n;
                            if filled == chunk.len() {
                                break Ok(());
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                chunk.truncate(filled);
                let end = filled == 0 || result.is_err();
                let message = result.map(|_| chunk);
                // The reader was dropped (load failed or was cancelled): stop inflating.
                if send.send(message).is_err() || end {
                    return;
                }
            }
        });
        ReadAhead {
            chunks,
            current: Vec::new(),
            at: 0,
            done: false,
        }
    }
}

impl Read for ReadAhead {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at == self.current.len() {
            if self.done {
                return Ok(0);
            }
            match self.chunks.recv() {
                Ok(Ok(chunk)) => {
                    if chunk.is_empty() {
                        self.done = true;
                    }
                    self.current = chunk;
                    self.at = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let n = out.len().min(self.current.len() - self.at);
        out[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}
