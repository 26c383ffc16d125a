//! Bearer tokens (sessions and password resets): 32 random bytes from the OS
//! generator, handed out as base64url without padding (43 characters), stored
//! only as the SHA-256 of the 32 raw bytes, in lowercase hex: as the
//! TypeScript library stores them, so a token issued by either library works
//! in the other. (Earlier versions of this library hashed the token's text;
//! such hashes are still looked up, so their sessions survive the upgrade.)
//!
//! Parsing is strict: anything that is not exactly the canonical text of 32
//! bytes (empty, other characters, padding, another length, non-zero unused
//! bits) is malformed, and a malformed token never reaches the database.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Random bytes in a token.
const TOKEN_BYTES: usize = 32;

/// Length of a token's text form: `ceil(32 * 4 / 3)`.
pub(crate) const TOKEN_LEN: usize = 43;

/// A freshly minted token: its text (handed out once) and its hash (stored).
pub(crate) struct NewToken {
    pub(crate) text: String,
    pub(crate) hash: TokenHash,
}

/// The SHA-256 of a token's 32 bytes, as lowercase hex: what the database
/// holds; and the hash an earlier version of this library stored for it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct TokenHash {
    hash: String,
    legacy: String,
}

impl TokenHash {
    /// The hex text, for storing.
    pub(crate) fn as_str(&self) -> &str {
        &self.hash
    }

    /// The hash rows are stored with (of the token's bytes).
    pub(crate) fn current(&self) -> &String {
        &self.hash
    }

    /// The hash earlier versions stored (of the token's text).
    pub(crate) fn earlier(&self) -> &String {
        &self.legacy
    }

    /// Whether `stored` (read back from the database) is one of this
    /// token's hashes, compared in constant time.
    pub(crate) fn matches(&self, stored: &str) -> bool {
        let stored = stored.as_bytes();
        bool::from(self.hash.as_bytes().ct_eq(stored) | self.legacy.as_bytes().ct_eq(stored))
    }
}

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenHash(<redacted>)")
    }
}

/// Mints a new token from the OS random number generator.
pub(crate) fn generate() -> NewToken {
    let mut bytes = [0u8; TOKEN_BYTES];
    OsRng.fill_bytes(&mut bytes);
    let text = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_of(&bytes, &text);
    NewToken { text, hash }
}

/// The 32 bytes of a token in canonical form, or `None`.
fn decode(text: &str) -> Option<Vec<u8>> {
    // Length first: it bounds the work done on untrusted input.
    if text.len() != TOKEN_LEN {
        return None;
    }
    // The default engine rejects padding and non-zero trailing bits, so only
    // the canonical text of 32 bytes is accepted.
    URL_SAFE_NO_PAD.decode(text).ok().filter(|bytes| bytes.len() == TOKEN_BYTES)
}

/// Whether `text` is the canonical form of a token.
pub(crate) fn is_well_formed(text: &str) -> bool {
    decode(text).is_some()
}

/// The hashes of a well-formed token, or `None` when `text` is malformed.
pub(crate) fn parse(text: &str) -> Option<TokenHash> {
    decode(text).map(|bytes| hash_of(&bytes, text))
}

/// SHA-256 of the token's bytes (and, for old rows, of its text), lowercase hex.
fn hash_of(bytes: &[u8], text: &str) -> TokenHash {
    TokenHash { hash: to_hex(&Sha256::digest(bytes)), legacy: to_hex(&Sha256::digest(text.as_bytes())) }
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_tokens_are_43_url_safe_characters_and_parse() {
        let token = generate();
        assert_eq!(token.text.len(), TOKEN_LEN);
        assert!(token.text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(parse(&token.text), Some(token.hash.clone()));
        assert_eq!(token.hash.as_str().len(), 64);
        assert!(token.hash.matches(token.hash.as_str()));
        assert_ne!(generate().text, token.text);
    }

    #[test]
    fn the_hash_is_sha256_of_the_bytes_in_hex_as_the_typescript_library_stores_it() {
        // The token of 32 zero bytes; sha256 of 32 zero bytes, and of its text.
        let text = URL_SAFE_NO_PAD.encode([0u8; 32]);
        let hash = parse(&text).unwrap();
        assert_eq!(hash.as_str(), "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925");
        assert_eq!(*hash.earlier(), to_hex(&Sha256::digest(text.as_bytes())), "the earlier form");
        assert!(hash.matches(hash.earlier()), "rows of earlier versions still match");
        // sha256("abc"), from FIPS 180-2: the hex encoding itself.
        assert_eq!(
            to_hex(&Sha256::digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let good = generate().text;
        let cases = [
            String::new(),
            format!("{good}="),                                          // padded
            good[..42].to_owned(),                                       // too short
            format!("{good}A"),                                          // too long
            format!("{}+", &good[..42]),                                 // standard, not url-safe, alphabet
            format!("{}/", &good[..42]),                                 // standard, not url-safe, alphabet
            format!("{} ", &good[..42]),                                 // whitespace
            format!("{}é", &good[..41]),                                 // non-ASCII, 43 bytes
            URL_SAFE_NO_PAD.encode([7u8; 31]),                           // 31 bytes
            base64::engine::general_purpose::URL_SAFE.encode([7u8; 32]), // padded encoding
        ];
        for case in &cases {
            assert!(parse(case).is_none(), "accepted {case:?}");
        }
        // Non-zero unused bits: the last character of 32 bytes carries 4 bits
        // of data; `B` (1) sets an unused one.
        let mut non_canonical = URL_SAFE_NO_PAD.encode([0u8; 32]);
        non_canonical.pop();
        non_canonical.push('B');
        assert!(parse(&non_canonical).is_none());
    }

    #[test]
    fn hashes_compare_in_full() {
        let hash = generate().hash;
        assert!(!hash.matches(&hash.as_str()[..63]));
        assert!(!hash.matches(""));
    }
}
