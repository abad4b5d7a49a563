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
pub const BLOCK: usize = 8 << 20;

pub struct Reader {
    source: Box<dyn Read + Send>,
    buf: Vec<u8>,
    pub pos: usize,
    pub end: usize,
    /// Absolute offset of `buf[0]`, modulo 2^64 (a block read ahead is installed with room
    /// before it, which may start "before" the file).
    base: u64,
    eof: bool,
    /// Raw (compressed) bytes read so far, for progress.
    pub raw_read: Arc<AtomicU64>,
    /// The next block, read beside the parsing of this one ([`Reader::parse_reading_ahead`]),
    /// and the buffer it is read into (kept between blocks: a fresh one would fault its pages
    /// in again).
    ahead: Option<Ahead>,
    spare: Vec<u8>,
}

/// A block read ahead: `buf[AHEAD_ROOM..end]`, and whether the input ended there.
struct Ahead {
    buf: Vec<u8>,
    end: usize,
    eof: bool,
}

/// Bytes kept free before a block read ahead, for the unread tail of the window before it (a
/// record cut in two): the tail is copied there instead of the block after it.
const AHEAD_ROOM: usize = 64 << 10;

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
            ahead: None,
            spare: Vec::new(),
        }
    }

    pub fn offset(&self) -> u64 {
        self.base.wrapping_add(self.pos as u64)
    }

    pub fn window(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    /// Moves unread bytes to the front and reads more. Returns false when nothing more came
    /// (end of input). The window grows only when a single token does not fit (a huge string
    /// grows it; numbers never do).
    pub fn fill(&mut self) -> Result<bool, LoadErrorKind> {
        if let Some(ahead) = self.ahead.take() {
            return Ok(self.install(ahead));
        }
        // Past the number arrays (strings, locations): the buffer that blocks were read ahead
        // into is not needed, and loading BEFORE runs beside AFTER's peak.
        self.spare = Vec::new();
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.base = self.base.wrapping_add(self.pos as u64);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            let grown = self.buf.len() * 2;
            self.buf.resize(grown, 0);
        }
        let (n, eof) =
            read_full(&mut self.source, &mut self.buf[self.end..]).map_err(LoadErrorKind::Io)?;
        self.end += n;
        self.eof = eof;
        Ok(n > 0)
    }

    /// Runs `parse` on the unread window while the next block of the input is read on another
    /// core; the next [`Reader::fill`] takes that block instead of reading. A plain read copies
    /// the file's pages into the window on one core while the other, having parsed its share,
    /// waits for the next window (under `perf`, the copy was a sixth of a two-core load). `parse`
    /// should not need bytes past the window (it would wait for the block in any case).
    pub fn parse_reading_ahead<T: Send>(
        &mut self,
        parse: impl FnOnce(&[u8]) -> T + Send,
    ) -> Result<T, LoadErrorKind> {
        if self.eof || self.ahead.is_some() {
            return Ok(parse(self.window()));
        }
        let mut spare = std::mem::take(&mut self.spare);
        spare.resize(AHEAD_ROOM + BLOCK, 0);
        let (window, source) = (&self.buf[self.pos..self.end], &mut self.source);
        let (parsed, read) = rayon::join(
            || parse(window),
            || read_full(source, &mut spare[AHEAD_ROOM..]),
        );
        let (filled, eof) = read.map_err(LoadErrorKind::Io)?;
        self.ahead = Some(Ahead {
            buf: spare,
            end: AHEAD_ROOM + filled,
            eof,
        });
        Ok(parsed)
    }

    /// Makes a block read ahead the window, after the unread tail of the current one; returns
    /// whether it brought bytes.
    fn install(&mut self, ahead: Ahead) -> bool {
        let tail = self.end - self.pos;
        let brought = ahead.end > AHEAD_ROOM;
        self.eof = ahead.eof;
        if tail <= AHEAD_ROOM {
            // The tail goes before the block (usually part of one record): no copy of the block.
            let mut buf = ahead.buf;
            let at = AHEAD_ROOM - tail;
            buf[at..AHEAD_ROOM].copy_from_slice(&self.buf[self.pos..self.end]);
            // buf[at] is the byte at the old window's `pos`.
            self.base = self
                .base
                .wrapping_add(self.pos as u64)
                .wrapping_sub(at as u64);
            self.spare = std::mem::replace(&mut self.buf, buf);
            self.pos = at;
            self.end = ahead.end;
        } else {
            // A long tail (a window parsed only in part): append the block to it.
            self.buf.copy_within(self.pos..self.end, 0);
            self.base = self.base.wrapping_add(self.pos as u64);
            self.end = tail;
            self.pos = 0;
            let block = &ahead.buf[AHEAD_ROOM..ahead.end];
            if self.buf.len() < tail + block.len() {
                self.buf.resize(tail + block.len(), 0);
            }
            self.buf[tail..tail + block.len()].copy_from_slice(block);
            self.end = tail + block.len();
            self.spare = ahead.buf;
        }
        brought
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

/// Reads until `out` is full or the input ends: (bytes read, whether it ended).
fn read_full(source: &mut (impl Read + ?Sized), out: &mut [u8]) -> io::Result<(usize, bool)> {
    let mut filled = 0;
    while filled < out.len() {
        match source.read(&mut out[filled..]) {
            Ok(0) => return Ok((filled, true)),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok((filled, false))
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
                let message = read_full(&mut source, &mut chunk).map(|(filled, _)| {
                    chunk.truncate(filled);
                    chunk
                });
                let end = message.as_ref().map_or(true, Vec::is_empty);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `len` bytes, each telling its offset (`offset % 251`), at most `step` per read; an I/O
    /// error once `fail_at` is reached.
    struct Trickle {
        at: usize,
        len: usize,
        step: usize,
        fail_at: Option<usize>,
    }

    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.fail_at.is_some_and(|f| self.at >= f) {
                return Err(io::Error::other("disk gone"));
            }
            let n = out.len().min(self.step).min(self.len - self.at);
            for (i, b) in out[..n].iter_mut().enumerate() {
                *b = ((self.at + i) % 251) as u8;
            }
            self.at += n;
            Ok(n)
        }
    }

    fn reader(len: usize, fail_at: Option<usize>) -> Reader {
        let source = Trickle {
            at: 0,
            len,
            step: 3 << 20,
            fail_at,
        };
        Reader::new(Box::new(source), Arc::default())
    }

    #[test]
    fn blocks_read_ahead_keep_every_byte_at_its_offset() {
        let len = 3 * BLOCK + 12_345;
        let mut r = reader(len, None);
        assert!(r.fill().unwrap());
        let mut consumed = 0;
        // Leaves a short tail (copied before the next block) or a long one (the next block is
        // appended to it) in turn.
        for round in 0.. {
            let offset = r.offset() as usize;
            assert_eq!(offset, consumed);
            let used = r
                .parse_reading_ahead(|w| {
                    for (i, &b) in w.iter().enumerate() {
                        assert_eq!(b, ((offset + i) % 251) as u8, "byte {}", offset + i);
                    }
                    let tail = if round % 2 == 0 { 10 } else { 200_000 };
                    w.len().saturating_sub(tail)
                })
                .unwrap();
            r.pos += used;
            consumed += used;
            if !r.fill().unwrap() {
                consumed += r.end - r.pos;
                break;
            }
        }
        assert_eq!(consumed, len);
    }

    #[test]
    fn a_read_error_ahead_fails_the_load() {
        let mut r = reader(3 * BLOCK, Some(BLOCK + 5));
        assert!(r.fill().unwrap());
        let failed = r.parse_reading_ahead(|w| w.len());
        assert!(
            matches!(failed, Err(LoadErrorKind::Io(ref e)) if e.to_string() == "disk gone"),
            "{failed:?}"
        );
    }
}
