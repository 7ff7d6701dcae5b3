//! xorshift64*: random enough for generated test input, needs no crate,
//! and one seed replays a run exactly. Not a test target of its own: the
//! fuzzer (tests/fuzz.rs) and the readers' unit tests
//! (src/input/tests.rs) include it with `#[path]`.

pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}
