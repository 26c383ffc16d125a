//! A fast seeded hasher for the library's own maps whose keys a client
//! cannot aim at one bucket.

use std::hash::{BuildHasher, Hasher};

/// Hashes a key a word at a time (a multiply and a rotate per word, from a
/// random seed): a lookup costs a tenth of SipHash's. For keys a client
/// cannot aim at one bucket, in maps that stay bounded: read shapes (their
/// words are addresses and small numbers; at most `MAX_SHAPES` of them) and
/// users' turns (ids the server made; idle ones swept).
#[derive(Clone, Copy)]
pub(crate) struct KeyHash {
    seed: u64,
}

impl Default for KeyHash {
    fn default() -> Self {
        KeyHash { seed: rand::random() }
    }
}

impl BuildHasher for KeyHash {
    type Hasher = KeyHasher;

    fn build_hasher(&self) -> KeyHasher {
        KeyHasher { state: self.seed }
    }
}

pub(crate) struct KeyHasher {
    state: u64,
}

impl KeyHasher {
    fn add(&mut self, word: u64) {
        self.state = (self.state.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        for byte in chunks.remainder() {
            self.add(u64::from(*byte));
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        // The last words must reach every bit the map's buckets use.
        let h = self.state;
        (h ^ (h >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9) ^ (h >> 32)
    }
}
