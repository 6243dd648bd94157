//! Proof before writing: the current state, then up, then down, replayed in a scratch
//! database, each result compared with the catalog it must equal.

use std::path::Path;

use crate::catalog::{Catalog, Manage};
use crate::error::{Error, Result};
use crate::migrations::Migration;
use crate::shadow::Shadow;
use crate::{apply, introspect, plan, render, shadow};

/// Where the current state comes from.
#[derive(Clone, Copy)]
pub enum Current<'a> {
    /// A live database: rebuilt in the shadow from its catalog.
    Live,
    /// `generated/`, replayed.
    Replayed(&'a [Migration]),
}

/// Replays the current state, then up and down, in a scratch database, checking each result.
pub async fn verify(
    shadow: &Shadow,
    from: Current<'_>,
    current: &Catalog,
    desired: &Catalog,
    up_sql: &str,
    down_sql: &str,
    manage: Manage,
) -> Result<()> {
    let planned = Path::new("<planned>");
    shadow::in_scratch(shadow, "verify", |db| async move {
        let client = &db.client;
        if let Current::Replayed(existing) = from {
            shadow::replay(client, existing).await?;
        } else {
            // Rebuild the live schema from its catalog: the same renderer, from an empty
            // database, each extension at the version the database has.
            let empty = read(client, manage).await?;
            let mut live = current.clone();
            let installed = live.extensions.keys().cloned().collect();
            live.pin_extensions(&installed);
            let setup = plan::plan(&empty, &live)?;
            let sql = render::migration_file("current schema", &setup, &Default::default());
            apply::run_sql_file(client, &sql, Path::new("<current schema>")).await?;
            compare(
                "rebuilding the current schema in the shadow",
                &read(client, manage).await?,
                current,
            )?;
        }
        apply::run_sql_file(client, up_sql, &planned.join("up.sql")).await.map_err(|e| {
            Error::Verification { phase: "up fails to run".into(), residual: e.to_string() }
        })?;
        compare("up does not reach schema/", &read(client, manage).await?, desired)?;
        apply::run_sql_file(client, down_sql, &planned.join("down.sql")).await.map_err(|e| {
            Error::Verification { phase: "down fails to run".into(), residual: e.to_string() }
        })?;
        compare("down does not return to the current schema", &read(client, manage).await?, current)
    })
    .await
}

/// Equal catalogs, or the residual difference as a diff of facts.
pub fn compare(phase: &str, got: &Catalog, want: &Catalog) -> Result<()> {
    if got == want {
        return Ok(());
    }
    Err(Error::Verification { phase: phase.to_string(), residual: residual(got, want) })
}

/// `-` lines are what the database has and should not, `+` what it lacks.
pub fn residual(got: &Catalog, want: &Catalog) -> String {
    let (got, want) = (got.facts().join("\n") + "\n", want.facts().join("\n") + "\n");
    let diff = similar::TextDiff::from_lines(&got, &want);
    let mut out = String::new();
    for change in diff.iter_all_changes() {
        let sign = match change.tag() {
            similar::ChangeTag::Delete => "-",
            similar::ChangeTag::Insert => "+",
            similar::ChangeTag::Equal => continue,
        };
        out.push_str(&format!("  {sign} {}", change));
    }
    out
}

/// The shadow's catalog, restricted as the plan's catalogs are.
async fn read(client: &tokio_postgres::Client, manage: Manage) -> Result<Catalog> {
    let mut catalog = introspect::introspect(client).await?;
    catalog.restrict_to(manage);
    Ok(catalog)
}
