//! File-system rules every output obeys: owner-only permissions (0600), atomic publication
//! (temp file in the target directory, fsync, rename, fsync of the directory) and content
//! hashes for idempotent ingest.
//!
//! No module writes an output file any other way: a reader (a bureau pickup job, a collector
//! tool) never sees a partial file, and a run killed at any point leaves either the old file
//! or the new one.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::Context;
use sha2::{Digest, Sha256};

/// Creates `dir` (and parents) with mode 0700 where it does not exist yet.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.exists() {
        return Ok(());
    }
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

use std::os::unix::fs::DirBuilderExt;

/// Writes a file atomically with mode 0600: `write` fills a buffered temp file created in the
/// same directory; on success it is flushed, fsynced and renamed over `path`, then the
/// directory is fsynced. On error the temp file is removed and `path` is untouched.
pub fn write_atomic<F>(path: &Path, write: F) -> anyhow::Result<()>
where
    F: FnOnce(&mut BufWriter<&File>) -> anyhow::Result<()>,
{
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    ensure_private_dir(dir).with_context(|| format!("creating directory {}", dir.display()))?;
    // tempfile creates the file with mode 0600.
    let tmp = tempfile::Builder::new()
        .prefix(".skiptrace-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    {
        let mut w = BufWriter::with_capacity(1 << 16, tmp.as_file());
        write(&mut w)?;
        w.flush().with_context(|| format!("writing {}", path.display()))?;
    }
    tmp.as_file().sync_all().with_context(|| format!("syncing {}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("publishing {}", path.display()))?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
        .with_context(|| format!("setting permissions of {}", path.display()))?;
    if let Ok(d) = File::open(dir) {
        // Best effort: some file systems refuse fsync on directories; the rename itself has
        // already happened, so a failure here loses nothing.
        d.sync_all().ok();
    }
    Ok(())
}

/// Creates (or truncates) a file with mode 0600 for streaming output that is not published
/// atomically (for example a log). Prefer [`write_atomic`] for anything a reader picks up.
pub fn create_private(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)
}

/// SHA-256 of a file's bytes, as lower-case hex. Streams the file.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut r = HashingReader::new(File::open(path)?);
    r.finish()
}

/// A reader that computes the SHA-256 of every byte read through it, so that a file is
/// hashed in the same pass that parses it (the hash names exactly the bytes that were read).
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        HashingReader { inner, hasher: Sha256::new() }
    }

    /// Reads what is left (a parser may stop early) and returns the hash of all the bytes, as
    /// lower-case hex.
    pub fn finish(&mut self) -> io::Result<String> {
        io::copy(self, &mut io::sink())?;
        Ok(hex(&std::mem::take(&mut self.hasher).finalize()))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(buf.get(..n).unwrap_or_default());
        Ok(n)
    }
}

/// SHA-256 of bytes, as lower-case hex.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashing_reader_hashes_what_a_parser_left_unread_too() {
        let data = b"line one\nline two\nline three\n";
        let mut r = HashingReader::new(&data[..]);
        let mut first = [0u8; 5];
        r.read_exact(&mut first).unwrap();
        assert_eq!(&first, b"line ");
        assert_eq!(r.finish().unwrap(), sha256_bytes(data));
    }

    #[test]
    fn atomic_write_is_private_and_all_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out/file.txt");
        write_atomic(&p, |w| {
            w.write_all(b"hello")?;
            Ok(())
        })
        .unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "hello");
        assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        // A failing writer leaves the previous content and no temp file behind.
        let r = write_atomic(&p, |w| {
            w.write_all(b"partial")?;
            anyhow::bail!("disk full")
        });
        assert!(r.is_err());
        assert_eq!(fs::read_to_string(&p).unwrap(), "hello");
        let leftovers: Vec<_> = fs::read_dir(p.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1);
    }

    #[test]
    fn hashes() {
        assert_eq!(
            sha256_bytes(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
