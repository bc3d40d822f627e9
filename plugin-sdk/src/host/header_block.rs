//! Unpacking the contract's `header-block`: how `headers()` on a request or response crosses
//! into the sandbox, as two lists instead of two strings per header.

/// The headers of a `header-block` (see the WIT): names and values back to back in `bytes`,
/// and in `ends` where each name and each value ends. A block the host got wrong (an offset out
/// of order or out of range, a name not UTF-8) ends the list there rather than trapping the
/// plugin.
pub(crate) fn unpack(bytes: &[u8], ends: &[u32]) -> Vec<(String, Vec<u8>)> {
    let mut headers = Vec::with_capacity(ends.len() / 2);
    let mut start = 0usize;
    for pair in ends.chunks_exact(2) {
        let (name_end, value_end) = (pair[0] as usize, pair[1] as usize);
        let (Some(name), Some(value)) =
            (bytes.get(start..name_end), bytes.get(name_end..value_end))
        else {
            break;
        };
        let Ok(name) = std::str::from_utf8(name) else {
            break;
        };
        headers.push((name.to_owned(), value.to_vec()));
        start = value_end;
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::unpack;

    #[test]
    fn names_and_values_come_back_in_order_with_repeats_and_empty_values() {
        let bytes = b"acceptapplication/jsonx-tagax-tagbx-empty";
        let ends = [6, 22, 27, 28, 33, 34, 41, 41];
        assert_eq!(
            unpack(bytes, &ends),
            [
                ("accept".to_owned(), b"application/json".to_vec()),
                ("x-tag".to_owned(), b"a".to_vec()),
                ("x-tag".to_owned(), b"b".to_vec()),
                ("x-empty".to_owned(), Vec::new()),
            ]
        );
    }

    #[test]
    fn an_empty_block_is_no_headers() {
        assert!(unpack(&[], &[]).is_empty());
    }

    #[test]
    fn a_malformed_block_stops_at_the_first_bad_offset() {
        let bytes = b"hostexample.comx-a1";
        // The second header's value ends before its name does.
        assert_eq!(
            unpack(bytes, &[4, 15, 18, 17]),
            [("host".to_owned(), b"example.com".to_vec())]
        );
        // An offset past the end, and a name that is not UTF-8.
        assert!(unpack(bytes, &[4, 99]).is_empty());
        assert!(unpack(&[0xff, b'v'], &[1, 2]).is_empty());
    }
}
