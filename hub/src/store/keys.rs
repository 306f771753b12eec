//! Key layouts. Every index key ends with `time(8) ++ id(16)`, time big-endian, so a
//! prefix scan comes back in time order and a reverse scan newest first. String
//! prefixes end in `0xFF`, a byte that never occurs in UTF-8, so `京A1234` never
//! matches the scan of `京A12345`.

use chrono::{DateTime, TimeZone, Utc};

/// Separator after a string prefix; never part of UTF-8 text.
pub const SEP: u8 = 0xFF;

/// Milliseconds since the epoch as 8 bytes that sort like the instants (sign bit
/// flipped, big-endian).
pub fn time(t: DateTime<Utc>) -> [u8; 8] {
    ((t.timestamp_millis() as u64) ^ (1 << 63)).to_be_bytes()
}

/// Inverse of [`time`].
pub fn time_from(b: &[u8]) -> Option<DateTime<Utc>> {
    let raw: [u8; 8] = b.try_into().ok()?;
    let ms = (u64::from_be_bytes(raw) ^ (1 << 63)) as i64;
    Utc.timestamp_millis_opt(ms).single()
}

/// `text ++ SEP`.
pub fn prefix(text: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(text.len() + 25);
    k.extend_from_slice(text.as_bytes());
    k.push(SEP);
    k
}

/// `prefix ++ time ++ id`.
pub fn timed(prefix: &[u8], t: DateTime<Utc>, id: &[u8; 16]) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + 24);
    k.extend_from_slice(prefix);
    k.extend_from_slice(&time(t));
    k.extend_from_slice(id);
    k
}

/// The first key after every key starting with `prefix` (for range ends).
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut k = prefix.to_vec();
    k.extend_from_slice(&[0xFF; 25]);
    k
}

/// The id at the end of an index key.
pub fn id_of(key: &[u8]) -> Option<[u8; 16]> {
    key.get(key.len().checked_sub(16)?..)?.try_into().ok()
}

/// The `time ++ id` tail of an index key: what a pagination cursor holds.
pub fn tail_of(key: &[u8]) -> Option<[u8; 24]> {
    key.get(key.len().checked_sub(24)?..)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_sort_like_instants() {
        let a = Utc.timestamp_millis_opt(-5).unwrap();
        let b = Utc.timestamp_millis_opt(3).unwrap();
        let c = Utc.timestamp_millis_opt(1_800_000_000_000).unwrap();
        assert!(time(a) < time(b) && time(b) < time(c));
        assert_eq!(time_from(&time(c)), Some(c));
    }

    #[test]
    fn plate_prefixes_do_not_overlap() {
        let id = [7u8; 16];
        let t = Utc::now();
        let long = timed(&prefix("京A12345"), t, &id);
        assert!(!long.starts_with(&prefix("京A1234")));
        assert_eq!(id_of(&long), Some(id));
    }
}
