//! A synthetic schema of `tables` tables with every kind of object a schema of that size
//! holds, and the same schema with about 5% of its objects changed.

use std::fmt::Write;

/// The schema's SQL; `changed` gives the variant with about one object in twenty changed.
pub fn generate(tables: usize, changed: bool) -> String {
    let mut sql = String::with_capacity(tables * 1400);
    let groups = tables.div_ceil(100);
    sql.push_str("CREATE SCHEMA app;\nCREATE SCHEMA reporting;\n");
    sql.push_str("CREATE EXTENSION IF NOT EXISTS pgcrypto;\n");
    sql.push_str("CREATE SEQUENCE app.ticket_number START 1000;\n");
    sql.push_str("CREATE DOMAIN app.email AS text CHECK (VALUE ~ '^[^@]+@[^@]+$');\n");
    sql.push_str("CREATE TYPE app.money_range AS RANGE (subtype = numeric);\n");
    sql.push_str("CREATE TYPE app.address AS (street text, city text, zip text);\n");
    for g in 0..groups {
        // One enum in twenty gains a value, as other kinds change one in twenty: its down takes
        // the value out again, which rewrites every table of the group.
        let extra = if changed && g % 20 == 0 { ", 'archived'" } else { "" };
        writeln!(sql, "CREATE TYPE app.status_{g} AS ENUM ('new', 'active', 'closed'{extra});")
            .unwrap();
    }
    sql.push_str(
        "CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$\n\
         BEGIN\n  NEW.updated_at := now();\n  RETURN NEW;\nEND\n$$;\n",
    );
    for i in 0..tables {
        let g = i / 100;
        // One object in twenty changes, each kind at its own offset.
        let touched = |offset: usize| changed && i % 20 == offset;
        let parent = match i % 100 {
            0 => String::new(),
            _ => format!(",\n  parent_id bigint REFERENCES app.t{} (id) ON DELETE SET NULL", i - 1),
        };
        let note = if touched(1) { ",\n  note text" } else { "" };
        let limit = if touched(2) { 1_000_000 } else { 100_000 };
        let email = if touched(3) { ",\n  contact app.email" } else { "" };
        writeln!(
            sql,
            "CREATE TABLE app.t{i} (\n  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n  \
             name text NOT NULL,\n  status app.status_{g} NOT NULL DEFAULT 'new',\n  \
             payload jsonb NOT NULL DEFAULT '{{}}',\n  amount numeric(12,2) NOT NULL DEFAULT 0 \
             CONSTRAINT t{i}_amount_range CHECK (amount >= 0 AND amount < {limit}),\n  \
             created_at timestamptz NOT NULL DEFAULT now(),\n  \
             updated_at timestamptz NOT NULL DEFAULT now(){parent}{note}{email}\n);"
        )
        .unwrap();
        writeln!(sql, "CREATE UNIQUE INDEX t{i}_name_key ON app.t{i} (lower(name));").unwrap();
        let partial = if touched(4) { "status <> 'closed'" } else { "status = 'active'" };
        writeln!(sql, "CREATE INDEX t{i}_active ON app.t{i} (created_at) WHERE {partial};")
            .unwrap();
        if touched(5) {
            writeln!(sql, "CREATE INDEX t{i}_payload ON app.t{i} USING gin (payload);").unwrap();
        }
        writeln!(
            sql,
            "CREATE TRIGGER t{i}_touch BEFORE UPDATE ON app.t{i} FOR EACH ROW EXECUTE FUNCTION app.touch();"
        )
        .unwrap();
        let comment = if touched(6) { "changed" } else { "kept" };
        writeln!(sql, "COMMENT ON TABLE app.t{i} IS 'table {i}, {comment}';").unwrap();
        if i % 10 == 9 {
            let filter = if changed && i % 200 == 9 { "<> 'closed'" } else { "= 'active'" };
            writeln!(
                sql,
                "CREATE VIEW reporting.v{i} AS\n  SELECT c.id, c.name, p.name AS parent_name, c.amount\n  \
                 FROM app.t{i} c LEFT JOIN app.t{} p ON p.id = c.parent_id\n  WHERE c.status {filter};",
                i - 1
            )
            .unwrap();
            let factor = if changed && i % 200 == 19 { 2 } else { 1 };
            writeln!(
                sql,
                "CREATE FUNCTION app.total_{i}(min_amount numeric) RETURNS numeric LANGUAGE sql STABLE\n  \
                 RETURN (SELECT coalesce(sum(amount), 0) * {factor} FROM app.t{i} WHERE amount >= min_amount);"
            )
            .unwrap();
        }
    }
    if changed {
        // A few new tables too, as a feature branch adds them.
        for k in 0..tables.div_ceil(100) {
            writeln!(
                sql,
                "CREATE TABLE app.added_{k} (\n  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n  \
                 t0_id bigint NOT NULL REFERENCES app.t0 (id),\n  body text\n);"
            )
            .unwrap();
        }
    }
    sql
}
