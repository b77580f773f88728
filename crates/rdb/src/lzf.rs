//! LZF compression as liblzf (and so Redis) frames it, with a hash table reused across
//! calls: per-value compression runs millions of times per snapshot, so no per-call
//! allocation or table clearing.

const HLOG: u32 = 14;
const HSIZE: usize = 1 << HLOG;
const MAX_LIT: usize = 1 << 5;
const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);
/// Positions probed without a match before the search starts stepping over input (one
/// more byte per step every this many probes), as LZ4's `skipTrigger`.
const SKIP_TRIGGER: u32 = 5;
/// Input scanned without a single match after which the string is taken to be
/// incompressible: this many bytes, or an eighth of the string if that is more.
const GIVE_UP_AFTER: usize = 128;

/// Reusable LZF compressor.
///
/// Table entries hold `base + position`; bumping `base` past every position of the last
/// input invalidates all entries at once, so the table is never cleared between calls.
pub struct Lzf {
    table: Box<[u32]>,
    base: u32,
}

impl Default for Lzf {
    fn default() -> Self {
        Self::new()
    }
}

impl Lzf {
    pub fn new() -> Self {
        Self {
            table: vec![0u32; HSIZE].into_boxed_slice(),
            base: 1,
        }
    }

    /// Compress `input`, appending to `out`, only if the result is at most `max_out` bytes.
    /// Returns the compressed length, or `None` (with `out` unchanged) when it does not pay.
    ///
    /// Speed matters here (a snapshot spends most of its CPU in this loop): literals are
    /// copied in runs rather than byte by byte, matches are extended eight bytes at a
    /// time, and after a match only its last two positions are hashed, as liblzf does.
    /// Where nothing matches, the search steps over input ever faster (LZ4's acceleration):
    /// random or already-compressed values fail in a third of the probes, while text, which
    /// matches every few bytes, keeps stepping one byte at a time. The decoder cannot tell.
    /// A string with no repeat at all in its first [`GIVE_UP_AFTER`] bytes (or eighth) is
    /// not compressed: random, encrypted or already-compressed data is high-entropy from
    /// its first bytes, and such strings are what a cache is full of.
    pub fn compress(&mut self, input: &[u8], out: &mut Vec<u8>, max_out: usize) -> Option<usize> {
        let n = input.len();
        if n < 4 || max_out == 0 || n > (u32::MAX as usize) / 4 {
            return None;
        }
        if (self.base as u64) + (n as u64) + 1 >= u32::MAX as u64 {
            self.table.fill(0);
            self.base = 1;
        }
        let base = self.base;
        // Positions of this call are base..base+n; anything below base is stale.
        self.base = base + n as u32 + 1;

        let start = out.len();
        let mut lit_start = 0;
        let mut ip = 0;
        let mut misses = 0u32;
        let give_up = GIVE_UP_AFTER.max(n / 8);
        while ip + 2 < n {
            let h = hash(input[ip], input[ip + 1], input[ip + 2]);
            let slot = self.table[h];
            self.table[h] = base + ip as u32;
            if slot >= base {
                let r = (slot - base) as usize;
                let off = ip - r - 1;
                if off < MAX_OFF && input[r..r + 3] == input[ip..ip + 3] {
                    let len = 3 + common_prefix(
                        &input[r + 3..],
                        &input[ip + 3..],
                        (n - ip).min(MAX_REF) - 3,
                    );
                    emit_literals(out, &input[lit_start..ip]);
                    // len bytes match; the format stores len - 2.
                    let enc = len - 2;
                    if enc < 7 {
                        out.push(((off >> 8) as u8) | ((enc as u8) << 5));
                    } else {
                        out.push(((off >> 8) as u8) | (7 << 5));
                        out.push((enc - 7) as u8);
                    }
                    out.push(off as u8);
                    if out.len() - start > max_out {
                        out.truncate(start);
                        return None;
                    }
                    ip += len;
                    lit_start = ip;
                    misses = 0;
                    for p in ip.saturating_sub(2)..ip {
                        if p + 2 < n {
                            self.table[hash(input[p], input[p + 1], input[p + 2])] =
                                base + p as u32;
                        }
                    }
                    continue;
                }
            }
            ip += 1 + (misses >> SKIP_TRIGGER) as usize;
            misses += 1;
            if lit_start == 0 && ip >= give_up {
                return None;
            }
            // Literals cost at least their own length: give up as soon as they cannot fit.
            if out.len() - start + (ip - lit_start) > max_out {
                out.truncate(start);
                return None;
            }
        }
        emit_literals(out, &input[lit_start..]);
        if out.len() - start > max_out {
            out.truncate(start);
            return None;
        }
        Some(out.len() - start)
    }
}

/// Appends literal runs (a control byte `len - 1`, then up to `MAX_LIT` bytes each).
#[inline]
fn emit_literals(out: &mut Vec<u8>, lits: &[u8]) {
    for run in lits.chunks(MAX_LIT) {
        out.push((run.len() - 1) as u8);
        out.extend_from_slice(run);
    }
}

/// How many leading bytes of `a` and `b` agree, up to `max`, compared a word at a time.
#[inline]
fn common_prefix(a: &[u8], b: &[u8], max: usize) -> usize {
    let mut len = 0;
    while len + 8 <= max {
        let x = u64::from_le_bytes(a[len..len + 8].try_into().unwrap())
            ^ u64::from_le_bytes(b[len..len + 8].try_into().unwrap());
        if x != 0 {
            return len + (x.trailing_zeros() / 8) as usize;
        }
        len += 8;
    }
    while len < max && a[len] == b[len] {
        len += 1;
    }
    len
}

#[inline]
fn hash(a: u8, b: u8, c: u8) -> usize {
    let v = ((a as u32) << 16) | ((b as u32) << 8) | c as u32;
    (v.wrapping_mul(2654435761) >> (32 - HLOG)) as usize
}

/// Decompress `input` into `out` (appended), which must come to exactly `expected` bytes.
/// Returns `false` on any malformed input; never reads or writes out of bounds.
pub fn decompress(input: &[u8], expected: usize, out: &mut Vec<u8>) -> bool {
    let start = out.len();
    // `expected` comes from the file: trust it only as far as the input could expand.
    out.reserve(expected.min(input.len().saturating_mul(8) + 64));
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < 32 {
            let len = ctrl + 1;
            if ip + len > input.len() || out.len() - start + len > expected {
                return false;
            }
            out.extend_from_slice(&input[ip..ip + len]);
            ip += len;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                let Some(&b) = input.get(ip) else {
                    return false;
                };
                len += b as usize;
                ip += 1;
            }
            len += 2;
            let Some(&lo) = input.get(ip) else {
                return false;
            };
            ip += 1;
            let back = ((ctrl & 0x1f) << 8) + lo as usize + 1;
            let produced = out.len() - start;
            if back > produced || produced + len > expected {
                return false;
            }
            let from = out.len() - back;
            if back >= len {
                out.extend_from_within(from..from + len);
            } else {
                // Overlapping copy: repeats the last `back` bytes, byte by byte.
                for i in 0..len {
                    let b = out[from + i];
                    out.push(b);
                }
            }
        }
    }
    out.len() - start == expected
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(data: &[u8]) {
        let mut lzf = Lzf::new();
        let mut out = Vec::new();
        if let Some(n) = lzf.compress(data, &mut out, data.len() + 64) {
            assert_eq!(n, out.len());
            let mut back = Vec::new();
            assert!(
                decompress(&out, data.len(), &mut back),
                "len {}",
                data.len()
            );
            assert_eq!(back, data);
        }
    }

    #[test]
    fn roundtrips() {
        roundtrip(b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        roundtrip(b"hello world hello world hello world hello world");
        let v: Vec<u8> = (0..100_000u32)
            .map(|i| (i % 251) as u8 ^ (i / 7) as u8)
            .collect();
        roundtrip(&v);
        let r: Vec<u8> = (0..5000u64)
            .map(|i| (i.wrapping_mul(0x9E3779B97F4A7C15) >> 56) as u8)
            .collect();
        roundtrip(&r);
        for n in 0..80 {
            roundtrip(&vec![b'x'; n]);
        }
    }

    /// Bytes from a 64-bit LCG's top bits: no exploitable repeats.
    fn noise(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9E3779B97F4A7C15) | 1;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 56) as u8
            })
            .collect()
    }

    #[test]
    fn gives_up_on_strings_with_no_repeat_in_their_first_eighth() {
        let mut lzf = Lzf::new();
        let mut out = Vec::new();
        for n in [200, 500, 5000, 100_000] {
            assert_eq!(lzf.compress(&noise(n, 0), &mut out, n - 4), None, "{n}");
            assert!(out.is_empty());
        }
        // A high-entropy head shorter than that does not stop compression of the rest,
        // and literal runs between sparse matches survive the trip.
        let mut data = noise(100, 1);
        data.extend(b"{\"user\":\"name\",\"tags\":[\"a\",\"b\"]}".repeat(20));
        for chunk in 0..20 {
            data.extend(noise(70, chunk));
            data.extend_from_slice(b"0123456789");
        }
        let n = lzf.compress(&data, &mut out, data.len() - 4).unwrap();
        assert!(n < data.len() * 3 / 4, "{n} of {}", data.len());
        let mut back = Vec::new();
        assert!(decompress(&out, data.len(), &mut back));
        assert_eq!(back, data);
    }

    #[test]
    fn compresses_repetitive_data() {
        let mut lzf = Lzf::new();
        let data = vec![b'a'; 1000];
        let mut out = Vec::new();
        let n = lzf.compress(&data, &mut out, 996).unwrap();
        assert!(n < 50, "{n}");
        // reuse: stale table entries from the first call must not be used
        let mut out2 = Vec::new();
        let data2 = b"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz".to_vec();
        lzf.compress(&data2, &mut out2, 100).unwrap();
        let mut back = Vec::new();
        assert!(decompress(&out2, data2.len(), &mut back));
        assert_eq!(back, data2);
    }

    #[test]
    fn incompressible_returns_none() {
        let mut lzf = Lzf::new();
        let data: Vec<u8> = (0..64u8).collect();
        let mut out = vec![7];
        assert!(lzf.compress(&data, &mut out, 60).is_none());
        assert_eq!(out, vec![7]);
    }

    #[test]
    fn decompress_rejects_garbage() {
        let mut out = Vec::new();
        assert!(!decompress(&[0xff, 0x00], 10, &mut out));
        assert!(!decompress(&[5, 1, 2], 6, &mut out));
        out.clear();
        // one literal then an overlapping back reference of 52 bytes at distance 1
        assert!(decompress(&[0, b'a', 0xe0, 0x2b, 0], 53, &mut out));
        assert_eq!(out, vec![b'a'; 53]);
    }
}
