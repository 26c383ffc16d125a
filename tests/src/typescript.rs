//! A database laid out and filled the way the TypeScript library does it:
//! TEXT ids, no column defaults anywhere, users with UUID ids, sessions
//! whose `token_hash` is the hex SHA-256 of the token's 32 raw bytes,
//! argon2id hashes from another implementation, and the example app's
//! `notes` whose `user_id` holds a user's UUID.

/// The tables, as that library creates them (its example's `notes` included).
pub const LAYOUT: &str = "\
    CREATE TABLE trom_auth_users (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL, \
        created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL); \
    CREATE TABLE trom_auth_sessions (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES trom_auth_users(id), \
        token_hash TEXT NOT NULL, expires_at TIMESTAMPTZ NOT NULL, created_at TIMESTAMPTZ NOT NULL, \
        invalidated_at TIMESTAMPTZ); \
    CREATE TABLE trom_auth_password_resets (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES trom_auth_users(id), \
        token_hash TEXT NOT NULL, expires_at TIMESTAMPTZ NOT NULL, created_at TIMESTAMPTZ NOT NULL, \
        used_at TIMESTAMPTZ); \
    CREATE TABLE notes (id TEXT PRIMARY KEY, title TEXT NOT NULL, content TEXT NOT NULL, user_id TEXT NOT NULL, \
        created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL);";

/// A password and its argon2id hash made by another implementation
/// (argon2-cffi, m=4096 KiB, t=3, p=1: not this library's parameters).
pub const PASSWORD: &str = "typescript horse";
/// See [`PASSWORD`].
pub const PASSWORD_HASH: &str =
    "$argon2id$v=19$m=4096,t=3,p=1$8A15H8H7fxrwtG1wZep2Gw$IfqiiyViY/tMFwI2RfIwl94meAB6V1bta7O556K9Vb4";

/// A user that library registered, with a live session and notes.
#[derive(Debug, Clone)]
pub struct OldUser {
    /// The user's UUID.
    pub id: String,
    /// Their email.
    pub email: String,
    /// The bearer token of their live session (base64url of 32 bytes).
    pub token: String,
    /// Their notes' ids (base62 DbIds), with the titles.
    pub notes: Vec<(String, String)>,
}

/// Lays the tables out on `client`'s database.
pub async fn lay_out(client: &tokio_postgres::Client) {
    client.batch_execute(LAYOUT).await.expect("the TypeScript layout");
}

/// Adds a user the way that library does: UUID id, the hash of
/// [`PASSWORD`], a live session, and `notes` notes.
pub async fn old_user(client: &tokio_postgres::Client, email: &str, notes: usize) -> OldUser {
    use base64::Engine;
    use sha2::Digest;
    let bytes: [u8; 32] = rand::random();
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash: String = sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect();
    let id: String = client
        .query_one(
            "INSERT INTO trom_auth_users (id, email, password_hash, created_at, updated_at) \
             VALUES (gen_random_uuid()::text, $1, $2, now(), now()) RETURNING id",
            &[&email, &PASSWORD_HASH],
        )
        .await
        .expect("an old user")
        .get(0);
    client
        .execute(
            "INSERT INTO trom_auth_sessions (id, user_id, token_hash, expires_at, created_at, invalidated_at) \
             VALUES (gen_random_uuid()::text, $1, $2, now() + interval '30 days', now(), NULL)",
            &[&id, &hash],
        )
        .await
        .expect("an old session");
    let mut made = Vec::new();
    for n in 0..notes {
        let note_id = trombase::DbId::new().to_string();
        let title = format!("old note {n} of {email}");
        client
            .execute(
                "INSERT INTO notes (id, title, content, user_id, created_at, updated_at) \
                 VALUES ($1, $2, 'written by the TypeScript library', $3, now(), now())",
                &[&note_id, &title, &id],
            )
            .await
            .expect("an old note");
        made.push((note_id, title));
    }
    OldUser { id, email: email.to_owned(), token, notes: made }
}
