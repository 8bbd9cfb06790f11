//! The memory budget: the limit in force, `MOAI_MAX_MEMORY` when set (bytes,
//! or a binary size such as `512M` or `1.5GiB`), else 80% of the memory the
//! system reports available (`MemAvailable` in `/proc/meminfo`), else
//! [`FALLBACK_LIMIT`]. It sits on the ground floor so that reading a
//! scenario can refuse a file too costly to parse; [`crate::memory`] models
//! what a run holds and checks that against the same limit.

/// The limit when neither `MOAI_MAX_MEMORY` nor the system says one.
pub const FALLBACK_LIMIT: u64 = 8 << 30;

/// The limit in force, and where it comes from; an unreadable
/// `MOAI_MAX_MEMORY` is an error.
pub fn limit() -> Result<(u64, &'static str), String> {
    if let Some(value) = std::env::var_os("MOAI_MAX_MEMORY") {
        let text = value.to_string_lossy();
        let bytes = parse_size(&text).map_err(|why| {
            format!(
                "MOAI_MAX_MEMORY: '{}' {why}; give bytes (1000000) or a size such as 512M, 512MiB, 1G or 1.5GiB",
                text.escape_debug()
            )
        })?;
        return Ok((bytes, "MOAI_MAX_MEMORY"));
    }
    Ok(match available() {
        Some(bytes) => (bytes / 5 * 4, "80% of the memory available"),
        None => (FALLBACK_LIMIT, "the fallback limit"),
    })
}

/// Checks that parsing a file, estimated at `bytes`, fits in the limit; the
/// error says both.
pub fn check_parse(bytes: u64) -> Result<(), String> {
    let (limit, source) = limit()?;
    if bytes > limit {
        return Err(format!(
            "parsing this file needs about {} of memory, more than {} ({source}); \
             use a smaller file, or set MOAI_MAX_MEMORY",
            human(bytes),
            human(limit)
        ));
    }
    Ok(())
}

/// `MemAvailable` from `/proc/meminfo`, in bytes.
fn available() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// A size in bytes: whole bytes (`1000000`), or a number with a binary
/// unit `K`, `M`, `G` or `T`, alone or followed by `iB` (`512M`, `512MiB`,
/// `1.5GiB`; letters in either case, a fraction rounded down to a byte).
/// Anything else (`abc`, `-1`, `0`, `1MB`) is refused with the reason.
fn parse_size(text: &str) -> Result<u64, &'static str> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" => 0,
        "k" | "kib" => 10,
        "m" | "mib" => 20,
        "g" | "gib" => 30,
        "t" | "tib" => 40,
        _ => return Err("is not a size"),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) {
        return Err("is not a size");
    }
    if number.contains('.') && (shift == 0 || fraction.is_empty()) {
        return Err("is not a size (a fraction needs a unit, as in 1.5G)");
    }
    let too_large = "is too large";
    let whole: u64 = whole.parse().map_err(|_| too_large)?;
    let mut bytes = whole.checked_mul(1 << shift).ok_or(too_large)?;
    // The fraction's digits, one at a time: exact, and never overflowing.
    let mut scale: u64 = 1 << shift;
    for d in fraction.bytes().take(19) {
        bytes = bytes.saturating_add(u64::from(d - b'0') * scale / 10);
        scale /= 10;
        // Rounding down each digit's share loses less than a byte per digit.
        if scale == 0 {
            break;
        }
    }
    if bytes == 0 {
        return Err("is no memory at all");
    }
    Ok(bytes)
}

/// `3.0 GiB`, `12.5 MiB`, `900 bytes`.
pub fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / f64::from(1 << 30)),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1 << 20)),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("123"), Ok(123));
        assert_eq!(parse_size("64K"), Ok(64 << 10));
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("0.5k"), Ok(512));
        assert_eq!(parse_size(" 2gib "), Ok(2 << 30));
        for bad in [
            "abc",
            "-1",
            "",
            "M",
            "1MB",
            "1.5",
            "1.G",
            ".5G",
            "1 G",
            "0",
            "0M",
            "1e9",
            "99999999999999999999",
            "20000000000T",
        ] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_size("99999999999999999999"), Err("is too large"));
    }

    #[test]
    fn sizes_print_in_binary_units() {
        assert_eq!(human(3 << 30), "3.0 GiB");
        assert_eq!(human(25 << 19), "12.5 MiB");
        assert_eq!(human(900), "900 bytes");
    }
}
