//! Catalog rows as they are held until read into a `Catalog`: each row's values copied out
//! of the connection's buffer into one allocation as it arrives.
//!
//! A `tokio_postgres::Row` keeps a range per column (24 bytes each) and a share of the read
//! buffer it came in, which cannot be reused while any row of it lives. At 10,000 tables a
//! catalog read holds some 150,000 rows at once: about 100 MB as `Row`s, a third of that
//! copied out.

use std::sync::Arc;

use futures_util::TryStreamExt;
use tokio_postgres::Client;
use tokio_postgres::types::{FromSql, Type};

use super::Param;
use crate::catalog::Name;

/// One row of a catalog query.
pub struct CatalogRow {
    types: Arc<[Type]>,
    /// Each column as the server sent it: a big-endian length (-1 for NULL), then its bytes.
    values: Box<[u8]>,
}

impl CatalogRow {
    /// The value of column `index`; panics, as `Row::get` does, when the column's type does
    /// not convert to `T` (a catalog query and its reader disagree: a bug, not bad input).
    pub fn get<'a, T: FromSql<'a>>(&'a self, index: usize) -> T {
        let ty = &self.types[index];
        assert!(
            T::accepts(ty),
            "catalog column {index} of type {ty} read as {}",
            std::any::type_name::<T>()
        );
        T::from_sql_nullable(ty, self.raw(index))
            .unwrap_or_else(|e| panic!("catalog column {index} of type {ty}: {e}"))
    }

    /// A name column (`name` or `text`) as a `Name`, without an allocation when it is short.
    pub fn name(&self, index: usize) -> Name {
        Name::from(self.get::<&str>(index))
    }

    pub fn optional_name(&self, index: usize) -> Option<Name> {
        self.get::<Option<&str>>(index).map(Name::from)
    }

    fn raw(&self, index: usize) -> Option<&[u8]> {
        let mut at = 0;
        for column in 0..=index {
            let len = i32::from_be_bytes(self.values[at..at + 4].try_into().expect("4 bytes"));
            at += 4;
            let len = usize::try_from(len).ok();
            if column == index {
                return len.map(|len| &self.values[at..at + len]);
            }
            at += len.unwrap_or(0);
        }
        unreachable!("a column past the row's last")
    }
}

/// Any column's value as sent, to copy it.
struct Raw<'a>(Option<&'a [u8]>);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(Some(raw)))
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(None))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Runs `sql` and copies each row as it arrives, so the connection's buffers are reused.
pub async fn query(
    client: &Client,
    sql: &str,
    params: &[Param<'_>],
) -> Result<Vec<CatalogRow>, tokio_postgres::Error> {
    let mut types: Option<Arc<[Type]>> = None;
    let mut values = Vec::new();
    query_as(client, sql, params, |row| {
        let types =
            types.get_or_insert_with(|| row.columns().iter().map(|c| c.type_().clone()).collect());
        values.clear();
        for index in 0..row.len() {
            match row.get::<_, Raw>(index).0 {
                Some(raw) => {
                    let len = i32::try_from(raw.len()).expect("a value under 2 GB");
                    values.extend_from_slice(&len.to_be_bytes());
                    values.extend_from_slice(raw);
                }
                None => values.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        CatalogRow { types: types.clone(), values: values.as_slice().into() }
    })
    .await
}

/// Runs `sql` and keeps of each row what `read` makes of it, as it arrives: for a result
/// of hundreds of thousands of rows of a fixed shape, a value of that shape is a fraction
/// of a copied row.
pub async fn query_as<T>(
    client: &Client,
    sql: &str,
    params: &[Param<'_>],
    mut read: impl FnMut(&tokio_postgres::Row) -> T,
) -> Result<Vec<T>, tokio_postgres::Error> {
    let stream = client.query_raw(sql, params.iter().copied()).await?;
    futures_util::pin_mut!(stream);
    let mut out = Vec::new();
    while let Some(row) = stream.try_next().await? {
        out.push(read(&row));
    }
    out.shrink_to_fit();
    Ok(out)
}
