//! Where `porteiro user import --from-django` reads Django's users from: a `manage.py dumpdata`
//! JSON file, a Django SQLite database file, or a Django PostgreSQL database. Each gives the same
//! records; a source that is not a Django export is refused before anything is written.

use std::path::Path;

use serde_json::Value;
use sqlx::{Connection, Row};

/// Which Django field becomes the Porteiro username.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum UsernameField {
    Username,
    Email,
}

impl UsernameField {
    fn column(self) -> &'static str {
        match self {
            UsernameField::Username => "username",
            UsernameField::Email => "email",
        }
    }
}

/// One Django user as the source gives it; a field it lacks is `None`, and makes the record fail.
#[derive(Debug)]
pub(super) struct Record {
    /// Where it is: `record 3` of a JSON file, `id 17` of a table.
    pub position: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub active: bool,
    /// `is_staff` or `is_superuser`.
    pub staff: bool,
}

/// Reads every user of `from`; `Err` (the whole source refused) when it is not a Django export.
pub(super) async fn read(
    from: &str,
    table: &str,
    field: UsernameField,
) -> Result<Vec<Record>, String> {
    if !table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || table.is_empty() {
        return Err(format!("--table {table:?} is not a table name"));
    }
    let query = format!(
        "SELECT CAST(id AS BIGINT) AS id, password, {column} AS name, is_active, is_staff, \
         is_superuser FROM {table} ORDER BY id",
        column = field.column()
    );
    if from.starts_with("postgres://") || from.starts_with("postgresql://") {
        let mut db = sqlx::PgConnection::connect(from)
            .await
            .map_err(|e| format!("cannot connect to the Django database: {e}"))?;
        let rows = sqlx::query(&query)
            .fetch_all(&mut db)
            .await
            .map_err(|e| not_a_user_table(table, &e))?;
        let _ = db.close().await;
        return rows.iter().map(pg_record).collect();
    }
    let path = Path::new(from.strip_prefix("sqlite://").unwrap_or(from));
    let head = read_head(path)?;
    if head.starts_with(b"SQLite format 3\0") {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(path)
            .read_only(true);
        let mut db = sqlx::SqliteConnection::connect_with(&options)
            .await
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let rows = sqlx::query(&query)
            .fetch_all(&mut db)
            .await
            .map_err(|e| not_a_user_table(table, &e))?;
        let _ = db.close().await;
        return rows.iter().map(sqlite_record).collect();
    }
    let text = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let json: Value = serde_json::from_slice(&text).map_err(|e| {
        format!(
            "{} is neither a Django SQLite database nor a dumpdata JSON file: {e}",
            path.display()
        )
    })?;
    dumpdata_records(json, field, &path.display().to_string())
}

fn read_head(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut head = Vec::with_capacity(16);
    std::fs::File::open(path)
        .and_then(|f| f.take(16).read_to_end(&mut head))
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(head)
}

fn not_a_user_table(table: &str, e: &sqlx::Error) -> String {
    format!("cannot read Django's users from table {table}: {e}")
}

fn sqlite_record(row: &sqlx::sqlite::SqliteRow) -> Result<Record, String> {
    let id: i64 = row.try_get("id").map_err(|e| e.to_string())?;
    let flag = |name: &str| row.try_get::<Option<bool>, _>(name).ok().flatten();
    Ok(Record {
        position: format!("id {id}"),
        username: row.try_get("name").ok().flatten(),
        password: row.try_get("password").ok().flatten(),
        active: flag("is_active").unwrap_or(true),
        staff: flag("is_staff").unwrap_or(false) || flag("is_superuser").unwrap_or(false),
    })
}

fn pg_record(row: &sqlx::postgres::PgRow) -> Result<Record, String> {
    let id: i64 = row.try_get("id").map_err(|e| e.to_string())?;
    let flag = |name: &str| row.try_get::<Option<bool>, _>(name).ok().flatten();
    Ok(Record {
        position: format!("id {id}"),
        username: row.try_get("name").ok().flatten(),
        password: row.try_get("password").ok().flatten(),
        active: flag("is_active").unwrap_or(true),
        staff: flag("is_staff").unwrap_or(false) || flag("is_superuser").unwrap_or(false),
    })
}

/// The records of a dumpdata file: a JSON array of `{"model", "pk", "fields"}` objects. Records
/// of other models (a whole-database dump) are passed over; a user record is one whose fields
/// have a `password`.
fn dumpdata_records(json: Value, field: UsernameField, name: &str) -> Result<Vec<Record>, String> {
    let not_dumpdata =
        || format!("{name} is not a Django dumpdata export (a JSON array of records)");
    let Value::Array(items) = json else {
        return Err(not_dumpdata());
    };
    let mut records = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let (Some(model), Some(fields)) = (
            item.get("model").and_then(Value::as_str),
            item.get("fields").and_then(Value::as_object),
        ) else {
            return Err(format!(
                "{}: record {} has no model and fields",
                not_dumpdata(),
                i + 1
            ));
        };
        if model != "auth.user" && !fields.contains_key("password") {
            continue;
        }
        let text = |key: &str| fields.get(key).and_then(Value::as_str).map(str::to_owned);
        let flag = |key: &str| fields.get(key).and_then(Value::as_bool);
        let pk = item.get("pk").map(Value::to_string).unwrap_or_default();
        records.push(Record {
            position: format!("record {} (pk {pk})", i + 1),
            username: text(field.column()),
            password: text("password"),
            active: flag("is_active").unwrap_or(true),
            staff: flag("is_staff").unwrap_or(false) || flag("is_superuser").unwrap_or(false),
        });
    }
    Ok(records)
}
