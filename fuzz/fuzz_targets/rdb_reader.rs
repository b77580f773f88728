//! Fuzz target: arbitrary bytes as an RDB file and as a DUMP payload must produce values
//! or typed errors, never a panic. Run with `cargo +nightly fuzz run rdb_reader` in fuzz/.
//! CI runs the bounded equivalent in crates/rdb/tests/hostile.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut r) = snapkv_rdb::Reader::new(data) {
        while let Ok(Some(_)) = r.next_event() {}
    }
    // Give the value decoders a payload with a valid footer too.
    let mut payload = data.to_vec();
    payload.extend_from_slice(&10u16.to_le_bytes());
    let crc = snapkv_rdb::crc64(&payload);
    payload.extend_from_slice(&crc.to_le_bytes());
    let _ = snapkv_rdb::parse_dump_payload(&payload);
});
