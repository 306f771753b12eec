//! The one way Kadian's stores commit a sled transaction or flush to disk.
//!
//! sled 0.34 guards every database in the process with one global `RwLock`: a
//! transaction takes its write side, every other operation its read side.
//! `sled::Db::flush` holds the read side while it waits for the log buffer to
//! reach the disk, and the buffer is rolled by sled's background flusher thread,
//! which needs the read side too. `parking_lot` parks new readers as soon as a
//! writer waits, so a transaction that queues behind an unfinished flush parks the
//! flusher, the flush never completes and every sled store in the process stops.
//! The hub's test suite hung this way until CI stopped it (stacks: flushes in
//! `make_stable`, transactions in `stage`, the flusher in `concurrency_control::read`).
//!
//! The gate is a second, process-wide lock taken first: flushes share it,
//! transactions take it alone. A transaction therefore waits here, where it blocks
//! no sled reader, until the flushes in flight have finished; and a flush never
//! starts while a transaction holds sled's lock. Plain reads and writes do not take
//! the gate.
//!
//! Every transaction and flush on a Kadian store goes through [`Gated::transact`]
//! and [`flush`] (`Tree::apply_batch` takes sled's write side too: use a
//! transaction); `clippy.toml` forbids the ungated methods.

use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use sled::transaction::{ConflictableTransactionResult, TransactionResult};
use sled::Transactional;

static GATE: RwLock<()> = RwLock::new(());

// A panic while holding the gate leaves nothing half-done in it (it guards no data),
// so a poisoned gate is still a good gate.
fn shared() -> RwLockReadGuard<'static, ()> {
    GATE.read().unwrap_or_else(|e| e.into_inner())
}

fn exclusive() -> RwLockWriteGuard<'static, ()> {
    GATE.write().unwrap_or_else(|e| e.into_inner())
}

/// Makes everything written to `db` so far durable; the bytes written.
#[allow(clippy::disallowed_methods)]
pub fn flush(db: &sled::Db) -> sled::Result<usize> {
    let _gate = shared();
    db.flush()
}

/// [`sled::Transactional::transaction`] behind the gate.
pub trait Gated<E>: Transactional<E> {
    /// Runs `f` as one sled transaction (retried on conflict, as sled does).
    fn transact<A, F>(&self, f: F) -> TransactionResult<A, E>
    where
        F: Fn(&Self::View) -> ConflictableTransactionResult<A, E>,
    {
        let _gate = exclusive();
        #[allow(clippy::disallowed_methods)]
        self.transaction(f)
    }
}

impl<E, T: Transactional<E> + ?Sized> Gated<E> for T {}

#[cfg(test)]
mod tests {
    use super::*;
    use sled::transaction::ConflictableTransactionError;
    use std::sync::{Arc, Barrier};
    use std::thread;

    /// Many threads each do what a hub request does — a multi-tree transaction
    /// then a flush — on two databases at once (sled's lock is process-wide). It
    /// must finish, and every transaction's check-then-insert must see the others'.
    #[test]
    fn transactions_and_flushes_on_two_databases_finish_and_stay_serial() {
        let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
        let dbs: Vec<sled::Db> = dirs
            .iter()
            .map(|d| sled::Config::new().path(d.path()).open().unwrap())
            .collect();
        let threads = 32;
        let rounds = 200u32;
        let start = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let db = dbs[t % 2].clone();
                let start = start.clone();
                thread::spawn(move || {
                    let (a, b) = (db.open_tree("a").unwrap(), db.open_tree("b").unwrap());
                    start.wait();
                    let mut inserted = 0u32;
                    for i in 0..rounds {
                        // Threads of one database race for the same keys.
                        let key = i.to_be_bytes();
                        let fresh = (&a, &b)
                            .transact(|(a, b)| {
                                if a.get(key)?.is_some() {
                                    return Ok(false);
                                }
                                a.insert(&key, &[1u8; 4096][..])?;
                                b.insert(&key, &[2u8; 512][..])?;
                                Ok::<_, ConflictableTransactionError<()>>(true)
                            })
                            .unwrap();
                        inserted += fresh as u32;
                        flush(&db).unwrap();
                        assert!(a.get(key).unwrap().is_some());
                    }
                    inserted
                })
            })
            .collect();
        let per_db = handles
            .into_iter()
            .enumerate()
            .fold([0u32; 2], |mut n, (t, h)| {
                n[t % 2] += h.join().unwrap();
                n
            });
        // Each key went in exactly once per database, whoever raced for it.
        assert_eq!(per_db, [rounds, rounds]);
        for db in &dbs {
            assert_eq!(db.open_tree("b").unwrap().len(), rounds as usize);
        }
    }
}
