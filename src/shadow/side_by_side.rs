//! Two states of a plan made at the same time, each read beside the other.

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use super::{ScratchDatabase, load_statements, replay};
use crate::catalog::Catalog;
use crate::error::Result;
use crate::introspect::{self, Purpose};
use crate::migrations::Migration;
use crate::source::Statement;

/// A schema's catalog and the objects in it that schemadiff does not manage yet.
pub type State = (Catalog, BTreeSet<String>);

/// Which of a plan's two states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Current,
    Desired,
}

/// The current state and the desired one, each put here as soon as it is read, wherever it
/// was read: the live database, `generated/` replayed, `schema/` loaded. The one read first
/// is lent to the other's read, so what the two have alike is held once: nearly all of it
/// when they are in sync (at 10,000 tables the second catalog is then a third of the first),
/// and what a 5% change leaves alone.
///
/// The reads take turns. Two at once would each find nothing to share, and hold both
/// their rows at the same time: `check` at 10,000 tables peaked at 260 MB when its two
/// reads overlapped, and at 181 MB taking turns. Nor does overlapping them save time: a
/// read already keeps both cores of a small machine busy.
#[derive(Default)]
pub struct SideBySide {
    current: OnceLock<State>,
    desired: OnceLock<State>,
    reading: tokio::sync::Mutex<()>,
}

impl SideBySide {
    fn cells(&self, side: Side) -> (&OnceLock<State>, &OnceLock<State>) {
        match side {
            Side::Current => (&self.current, &self.desired),
            Side::Desired => (&self.desired, &self.current),
        }
    }

    fn put(&self, side: Side, state: State) {
        let _ = self.cells(side).0.set(state);
    }

    /// `side`'s state, read elsewhere by `read` (the live database's catalog), in its turn.
    pub async fn read_by(
        &self,
        side: Side,
        read: impl std::future::Future<Output = Result<State>>,
    ) -> Result<()> {
        let _turn = self.reading.lock().await;
        self.put(side, read.await?);
        Ok(())
    }

    /// Reads `db` as `side`'s state, in its turn, beside the other side's when that was read
    /// first.
    pub async fn read(&self, side: Side, db: &ScratchDatabase) -> Result<()> {
        let _turn = self.reading.lock().await;
        let beside = self.cells(side).1.get().map(|(catalog, _)| catalog);
        let catalog = db.catalog_for(Purpose::Plan, beside).await?;
        self.put(side, (catalog, introspect::unmanaged(&db.client).await?));
        Ok(())
    }

    /// `migrations` replayed into `db`, then read as `side`'s state. Migrations handed over (a
    /// `Vec`, as `check` does) go once replayed, as `loaded`'s statements do.
    pub async fn replayed(
        &self,
        side: Side,
        db: Arc<ScratchDatabase>,
        migrations: impl AsRef<[Migration]>,
    ) -> Result<()> {
        replay(&db.client, migrations.as_ref()).await?;
        drop(migrations);
        self.read(side, &db).await
    }

    /// `statements` (a schema directory's) loaded into `db`, then read as `side`'s state. The
    /// statements go once loaded: the read is a plan's peak, and they are 12 MB at 10,000 tables.
    pub async fn loaded(
        &self,
        side: Side,
        db: Arc<ScratchDatabase>,
        statements: Vec<Statement>,
    ) -> Result<()> {
        load_statements(&db.client, &statements).await?;
        drop(statements);
        self.read(side, &db).await
    }

    /// The current state and the desired one, once both are read.
    pub fn into_states(self) -> (State, State) {
        let read = "read before the states are taken";
        (self.current.into_inner().expect(read), self.desired.into_inner().expect(read))
    }
}
