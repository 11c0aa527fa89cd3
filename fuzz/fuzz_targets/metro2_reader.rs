//! Fuzz target: any bytes given to the Metro 2 reader must give records and findings or a
//! clean error, never a panic; whatever parses must be writable again and read back equal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use skiptrace::metro2::codec::TextMode;
use skiptrace::metro2::reader::{Item, Reader, parse_record};
use skiptrace::metro2::writer::{Writer, WriterOptions};

fuzz_target!(|data: &[u8]| {
    let mut findings = Vec::new();
    let _ = parse_record(data, &mut findings);
    let Ok(items) = Reader::new(data).items(&mut findings) else { return };
    let Some(Item::Header(h, _)) = items.first() else { return };
    let opts = WriterOptions { text: TextMode::Preserve, ..Default::default() };
    let Ok(mut w) = Writer::new(Vec::new(), h, opts) else { return };
    let mut written = Vec::new();
    for it in &items {
        if let Item::Data(r, _) = it {
            if w.write(r).is_ok() {
                written.push(r.clone());
            }
        }
    }
    let Ok((_, bytes)) = w.finish() else { return };
    let mut f2 = Vec::new();
    let back = Reader::new(bytes.as_slice()).items(&mut f2).expect("re-read");
    let data_back: Vec<_> = back
        .into_iter()
        .filter_map(|i| if let Item::Data(r, _) = i { Some(r) } else { None })
        .collect();
    assert_eq!(data_back, written);
});
