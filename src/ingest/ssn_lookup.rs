//! Finding a portfolio row's consumer by SSN and surname during one file's transaction, and
//! the key sets that let the writer skip look-ups that cannot hit.
//!
//! Three ways, chosen per file by [`SsnLookup::plan`]:
//! - **index**: every SSN is looked up in `consumers_ssn` (a small file into a large system
//!   of record);
//! - **filtered**: a bit set of the SSNs on file skips the look-up of an SSN that cannot be
//!   on file (a file with many rows compared with the consumers on file);
//! - **in memory**: a large file into a system of record with no more consumers than the
//!   file has rows. The index `consumers_ssn` is dropped inside the file's transaction and
//!   rebuilt in one sort by [`SsnLookup::finish`] before the commit; meanwhile the SSNs on
//!   file and those the file adds are held in memory (at most [`MAX_IN_MEMORY`] of them, then
//!   the index is rebuilt at once and the file goes on filtered). Keeping a randomly ordered
//!   index of millions of SSNs up to date row by row was a third of the writer's time.
//!
//! Whatever the way, a look-up answers exactly what `SELECT min(id) FROM consumers WHERE
//! ssn = ? AND surname = ?` answers at that point of the transaction. A rollback (an error,
//! a killed run) restores the index with everything else; only a commit without
//! [`SsnLookup::finish`] could lose it, and the file's writer calls it before committing.
//! This module must not print.

use std::collections::HashMap;
use std::hash::BuildHasher as _;

use rusqlite::{Connection, OptionalExtension, Statement};
use rustc_hash::FxBuildHasher;

use crate::pii::Ssn;

/// Seeks the index `consumers_ssn` on `(CAST(ssn AS INTEGER), surname)`; `?1` is the SSN's
/// text, `?3` the same SSN as an integer. The text is compared as `+ssn`, so that SQLite
/// never substitutes `?1` into `CAST(ssn AS INTEGER)` (constant propagation), which would
/// then no longer match the index (SQLite 3.40 scans every consumer).
pub(super) const CONSUMER_BY_SSN: &str = "SELECT min(id) FROM consumers
    WHERE CAST(ssn AS INTEGER) = ?3 AND surname = ?2 AND +ssn = ?1";

/// The index the in-memory way drops and rebuilds.
const INDEX: &str = "consumers_ssn";

/// At most this many SSNs are held in memory (about 9 bytes each in a table of 2^22 slots,
/// 36 MiB); past it the index is rebuilt and the file goes on filtered.
pub(super) const MAX_IN_MEMORY: usize = 3_500_000;

/// Helper threads SQLite may use to sort the index it rebuilds: the reader thread has
/// finished by then, and its core is free.
const SORT_THREADS: i64 = 2;

/// The page cache while the index is rebuilt, in KiB (SQLite's negative `cache_size`).
/// SQLite's sorter keeps at most this much in memory and sorts it in runs that it then
/// merges: runs of 2 MiB fit the processor's cache, and the 1.15 million keys of a
/// 1,000,000-account portfolio sort in about 0.5 s instead of 1.4 s as one run in a 128 MiB
/// cache. The runs go to SQLite's temporary files, which are owner-only and deleted as they
/// are opened.
const SORT_CACHE_KIB: i64 = -2048;

/// A fixed-size bit set of key hashes (one bit per key, 8 MiB whatever the file size): a
/// key whose bit is clear was never inserted; a set bit (the key, or another key with the
/// same bit) means "maybe". One random memory access per key, no growth.
pub(super) struct HashBits {
    words: Vec<u64>,
    /// Bits set.
    len: usize,
}

/// Bits of a [`HashBits`] (2^26: with 1,000,000 keys, under 2% of absent keys say "maybe").
const HASH_BITS: u32 = 26;

impl HashBits {
    /// An empty set.
    pub(super) fn new() -> HashBits {
        HashBits { words: vec![0; 1 << (HASH_BITS - 6)], len: 0 }
    }

    fn slot(key: &str) -> (usize, u64) {
        let bit = (FxBuildHasher.hash_one(key) >> (64 - HASH_BITS)) as usize;
        (bit >> 6, 1 << (bit & 63))
    }

    /// Sets the key's bit; returns whether it was clear (the key certainly new).
    pub(super) fn insert(&mut self, key: &str) -> bool {
        let (w, b) = Self::slot(key);
        match self.words.get_mut(w) {
            Some(word) if *word & b == 0 => {
                *word |= b;
                self.len += 1;
                true
            }
            _ => false,
        }
    }

    /// Whether the key may have been inserted.
    pub(super) fn may_contain(&self, key: &str) -> bool {
        let (w, b) = Self::slot(key);
        self.words.get(w).is_none_or(|word| word & b != 0)
    }

    /// Keys whose bit was clear when inserted.
    pub(super) fn len(&self) -> usize {
        self.len
    }
}

/// Consumers by SSN, in memory: for each SSN the consumer ids that have (or had, during this
/// file) it. Ids are candidates: a look-up reads each candidate's SSN and surname by id.
struct SsnMap {
    /// SSN (as an integer) to the first consumer id seen with it.
    first: HashMap<u32, u32, FxBuildHasher>,
    /// Further consumers with an SSN in `first` (the same SSN under another surname, or a
    /// consumer that took the SSN in an update). Rare.
    more: HashMap<u32, Vec<u32>, FxBuildHasher>,
    /// Entries in both maps.
    len: usize,
    /// The dropped index's definition (`sqlite_master.sql`), to rebuild it as it was.
    index_sql: String,
}

impl SsnMap {
    /// Adds a candidate; false when the id does not fit (the caller leaves the in-memory
    /// way).
    fn insert(&mut self, ssn: u32, id: i64) -> bool {
        let Ok(id) = u32::try_from(id) else { return false };
        match self.first.get(&ssn) {
            None => {
                self.first.insert(ssn, id);
            }
            Some(&f) if f == id => return true,
            Some(_) => {
                let more = self.more.entry(ssn).or_default();
                if more.contains(&id) {
                    return true;
                }
                more.push(id);
            }
        }
        self.len += 1;
        true
    }

    fn candidates(&self, ssn: u32) -> impl Iterator<Item = u32> + '_ {
        self.first
            .get(&ssn)
            .copied()
            .into_iter()
            .chain(self.more.get(&ssn).into_iter().flatten().copied())
    }
}

enum Way {
    Index,
    Filtered(HashBits),
    InMemory(Box<SsnMap>),
}

/// How this file's writer finds consumers by SSN (see the module documentation).
pub(super) struct SsnLookup<'c> {
    way: Way,
    /// At most this many SSNs in memory ([`MAX_IN_MEMORY`]; smaller in tests).
    pub(super) max_in_memory: usize,
    by_index: Statement<'c>,
    /// `SELECT ssn, surname FROM consumers WHERE id = ?1`: checks an in-memory candidate.
    by_id: Statement<'c>,
}

/// `k` as its nine digits (leading zeros kept), written into `buf` (on the stack: the SSNs
/// of the map are not copied to the heap as text).
fn nine_digits(mut k: u32, buf: &mut [u8; 9]) -> &str {
    for d in buf.iter_mut().rev() {
        *d = b'0' + (k % 10) as u8;
        k /= 10;
    }
    std::str::from_utf8(buf).unwrap_or_default()
}

/// The SSN as the integer the index and the in-memory map are keyed by (nine digits).
fn key(ssn: &Ssn) -> Option<u32> {
    ssn.expose_digits().parse().ok()
}

impl<'c> SsnLookup<'c> {
    /// Looks every SSN up through the index until [`SsnLookup::plan`] says otherwise.
    pub(super) fn new(tx: &'c Connection) -> rusqlite::Result<SsnLookup<'c>> {
        Ok(SsnLookup {
            way: Way::Index,
            max_in_memory: MAX_IN_MEMORY,
            by_index: tx.prepare(CONSUMER_BY_SSN)?,
            by_id: tx.prepare("SELECT ssn, surname FROM consumers WHERE id = ?1")?,
        })
    }

    /// Chooses the way for a file of about `rows` rows. In memory when the file has at
    /// least `bulk_min_rows` rows, no fewer rows than there are consumers on file, and the
    /// consumers on file and the file's rows fit [`MAX_IN_MEMORY`]; filtered when the
    /// consumers on file are at most four times the rows (and at most 2^24); else through the
    /// index, and a small file never pays for reading every SSN on file.
    pub(super) fn plan(
        &mut self,
        tx: &Connection,
        rows: u64,
        bulk_min_rows: u64,
    ) -> rusqlite::Result<()> {
        let on_file: i64 =
            tx.query_row("SELECT coalesce(max(id), 0) FROM consumers", [], |r| r.get(0))?;
        let on_file = u64::try_from(on_file).unwrap_or(u64::MAX);
        let fits =
            usize::try_from(on_file.saturating_add(rows)).is_ok_and(|n| n <= self.max_in_memory);
        if rows >= bulk_min_rows && on_file <= rows && fits {
            return self.defer_index(tx);
        }
        if on_file > rows.saturating_mul(4) || on_file > 1 << 24 {
            return Ok(());
        }
        let mut f = HashBits::new();
        let mut s = tx.prepare("SELECT ssn FROM consumers WHERE ssn IS NOT NULL")?;
        let mut all = s.raw_query();
        while let Some(r) = all.next()? {
            if let rusqlite::types::ValueRef::Text(t) = r.get_ref(0)? {
                f.insert(std::str::from_utf8(t).unwrap_or_default());
            }
        }
        self.way = Way::Filtered(f);
        Ok(())
    }

    /// Drops the index for the rest of the transaction and holds the SSNs on file in memory.
    pub(super) fn defer_index(&mut self, tx: &Connection) -> rusqlite::Result<()> {
        let index_sql: Option<String> = tx
            .query_row(
                "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?1",
                [INDEX],
                |r| r.get(0),
            )
            .optional()?;
        let Some(index_sql) = index_sql else { return Ok(()) };
        let mut map =
            SsnMap { first: HashMap::default(), more: HashMap::default(), len: 0, index_sql };
        {
            let mut s =
                tx.prepare("SELECT id, ssn FROM consumers WHERE ssn IS NOT NULL ORDER BY id")?;
            let mut all = s.raw_query();
            while let Some(r) = all.next()? {
                let id: i64 = r.get(0)?;
                let ssn = match r.get_ref(1)? {
                    rusqlite::types::ValueRef::Text(t) => {
                        std::str::from_utf8(t).ok().and_then(|t| t.parse::<u32>().ok())
                    }
                    _ => None,
                };
                // An id past u32 (never in practice): stay with the index.
                if let Some(ssn) = ssn
                    && !map.insert(ssn, id)
                {
                    return Ok(());
                }
            }
        }
        tx.execute_batch(&format!("DROP INDEX {INDEX}"))?;
        self.way = Way::InMemory(Box::new(map));
        Ok(())
    }

    /// Whether the way in use is the in-memory one (the index is dropped).
    #[cfg(test)]
    pub(super) fn in_memory(&self) -> bool {
        matches!(self.way, Way::InMemory(_))
    }

    /// Whether SSNs are filtered by a bit set.
    #[cfg(test)]
    pub(super) fn filtered(&self) -> bool {
        matches!(self.way, Way::Filtered(_))
    }

    /// The smallest id of a consumer with this SSN and surname.
    pub(super) fn find(&mut self, ssn: &Ssn, surname: &str) -> rusqlite::Result<Option<i64>> {
        let digits = ssn.expose_digits();
        match &self.way {
            Way::Filtered(f) if !f.may_contain(digits) => Ok(None),
            Way::Index | Way::Filtered(_) => {
                let s = &mut self.by_index;
                s.raw_bind_parameter(1, digits)?;
                s.raw_bind_parameter(2, surname)?;
                s.raw_bind_parameter(3, key(ssn))?;
                let mut rows = s.raw_query();
                match rows.next()? {
                    Some(r) => r.get(0),
                    None => Ok(None),
                }
            }
            Way::InMemory(map) => {
                let Some(k) = key(ssn) else { return Ok(None) };
                let mut found: Option<i64> = None;
                for id in map.candidates(k) {
                    let id = i64::from(id);
                    if found.is_some_and(|f| f <= id) {
                        continue;
                    }
                    self.by_id.raw_bind_parameter(1, id)?;
                    let mut rows = self.by_id.raw_query();
                    if let Some(r) = rows.next()? {
                        let same_ssn = matches!(r.get_ref(0)?,
                            rusqlite::types::ValueRef::Text(t) if t == digits.as_bytes());
                        let same_surname = matches!(r.get_ref(1)?,
                            rusqlite::types::ValueRef::Text(t) if t == surname.as_bytes());
                        if same_ssn && same_surname {
                            found = Some(id);
                        }
                    }
                }
                Ok(found)
            }
        }
    }

    /// Records that consumer `id` now has this SSN (created with it, or given it by an
    /// update), so that later look-ups find it.
    pub(super) fn took(&mut self, tx: &Connection, ssn: &Ssn, id: i64) -> rusqlite::Result<()> {
        match &mut self.way {
            Way::Index => Ok(()),
            Way::Filtered(f) => {
                f.insert(ssn.expose_digits());
                Ok(())
            }
            Way::InMemory(map) => {
                let fits = key(ssn).is_some_and(|k| map.insert(k, id));
                if fits && map.len <= self.max_in_memory {
                    return Ok(());
                }
                // Past the memory bound: the rows stored so far are indexed in one sort, and
                // the rest of the file is filtered by the SSNs held so far (every SSN on
                // file, this one included).
                let mut bits = HashBits::new();
                let mut digits = [0u8; 9];
                for &k in map.first.keys() {
                    bits.insert(nine_digits(k, &mut digits));
                }
                digits.fill(0);
                bits.insert(ssn.expose_digits());
                self.rebuild(tx)?;
                self.way = Way::Filtered(bits);
                Ok(())
            }
        }
    }

    /// Rebuilds the index if it was dropped. Must run before the file's commit.
    pub(super) fn finish(&mut self, tx: &Connection) -> rusqlite::Result<()> {
        self.rebuild(tx)?;
        self.way = Way::Index;
        Ok(())
    }

    fn rebuild(&mut self, tx: &Connection) -> rusqlite::Result<()> {
        let Way::InMemory(map) = &self.way else { return Ok(()) };
        let threads: i64 = tx.pragma_query_value(None, "threads", |r| r.get(0))?;
        let cache: i64 = tx.pragma_query_value(None, "cache_size", |r| r.get(0))?;
        tx.pragma_update(None, "threads", SORT_THREADS)?;
        tx.pragma_update(None, "cache_size", SORT_CACHE_KIB)?;
        let built = tx.execute_batch(&map.index_sql);
        let restored = tx
            .pragma_update(None, "cache_size", cache)
            .and_then(|()| tx.pragma_update(None, "threads", threads));
        built.and(restored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nine_digits_keep_leading_zeros() {
        let mut b = [0u8; 9];
        assert_eq!(nine_digits(1_234_567, &mut b), "001234567");
        assert_eq!(nine_digits(987_654_321, &mut b), "987654321");
    }
}
