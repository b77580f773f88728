//! Fuzzes the RESP request parser with arbitrary bytes fed in arbitrary chunks: it must
//! never panic, never loop, and must frame the same commands however the bytes arrive.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use snapkv_protocol::RequestParser;

fn parse(chunks: &[&[u8]]) -> (Vec<Vec<bytes::Bytes>>, bool) {
    let mut p = RequestParser::default();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match p.next(&mut buf, true) {
                Ok(Some(cmd)) => out.push(cmd),
                Ok(None) => break,
                Err(_) => return (out, true),
            }
        }
    }
    (out, false)
}

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    // First byte picks a chunk size, so splits land everywhere.
    let step = (data[0] as usize % 17) + 1;
    let body = &data[1..];
    let whole = parse(&[body]);
    let chunks: Vec<&[u8]> = body.chunks(step).collect();
    let split = parse(&chunks);
    if !whole.1 && !split.1 {
        assert_eq!(whole.0, split.0);
    }
});
