//! Proof before writing: the current state, then up, then down, replayed in a scratch
//! database, each result compared with the catalog it must equal.

use std::path::Path;

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::migrations::Migration;
use crate::shadow::Shadow;
use crate::{apply, introspect, plan, render, shadow};

/// Replays the current state, then up and down, in a scratch database, checking each result.
pub async fn verify(
    shadow: &Shadow,
    current_is_live: bool,
    existing: &[Migration],
    current: &Catalog,
    desired: &Catalog,
    up_sql: &str,
    down_sql: &str,
) -> Result<()> {
    let planned = Path::new("<planned>");
    shadow::in_scratch(shadow, "verify", |db| async move {
        let client = &db.client;
        if current_is_live {
            // Rebuild the live schema from its catalog: the same renderer, from an empty database.
            let empty = introspect::introspect(client).await?;
            let setup = plan::plan(&empty, current)?;
            let sql = render::migration_file("current schema", &setup);
            apply::run_in_transaction(client, &sql, Path::new("<current schema>")).await?;
            compare(
                "rebuilding the current schema in the shadow",
                &introspect::introspect(client).await?,
                current,
            )?;
        } else {
            shadow::replay(client, existing).await?;
        }
        apply::run_in_transaction(client, up_sql, &planned.join("up.sql")).await.map_err(|e| {
            Error::Verification { phase: "up fails to run".into(), residual: e.to_string() }
        })?;
        compare("up does not reach schema/", &introspect::introspect(client).await?, desired)?;
        apply::run_in_transaction(client, down_sql, &planned.join("down.sql")).await.map_err(
            |e| Error::Verification { phase: "down fails to run".into(), residual: e.to_string() },
        )?;
        compare(
            "down does not return to the current schema",
            &introspect::introspect(client).await?,
            current,
        )
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
