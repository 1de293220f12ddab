//! Configuration presets. The defaults tests start from are
//! [`Config::for_tests`] (a random loopback port, flood limits lifted);
//! [`unlimited`] also lifts the stream limits, for load. Each is defined
//! once: [`unlimited_args`] derives the real binary's flags from
//! [`unlimited`].

use natter::config::Config;

/// Event streams one member may hold under [`unlimited`].
const STREAMS_PER_MEMBER: usize = 10_000;

/// Event streams an instance may hold under [`unlimited`].
const STREAMS: usize = 100_000;

/// Lifts every limit that could get in a load test's way: the flood
/// limits as [`Config::for_tests`] lifts them, and the stream limits.
pub fn unlimited(config: &mut Config) {
    let lifted = Config::for_tests(String::new());
    config.post_burst = lifted.post_burst;
    config.post_rate = lifted.post_rate;
    config.join_burst = lifted.join_burst;
    config.join_rate = lifted.join_rate;
    config.max_streams_per_member = STREAMS_PER_MEMBER;
    config.max_streams = STREAMS;
}

/// The same limits as command-line flags, for the real `natter` binary.
pub fn unlimited_args() -> Vec<String> {
    let mut config = Config::for_tests(String::new());
    unlimited(&mut config);
    [
        ("--post-burst", config.post_burst.to_string()),
        ("--post-rate", config.post_rate.to_string()),
        ("--join-burst", config.join_burst.to_string()),
        ("--join-rate", config.join_rate.to_string()),
        (
            "--max-streams-per-member",
            config.max_streams_per_member.to_string(),
        ),
        ("--max-streams", config.max_streams.to_string()),
    ]
    .into_iter()
    .flat_map(|(flag, value)| [flag.to_owned(), value])
    .collect()
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn the_binary_flags_say_what_the_preset_says() {
        let parsed =
            Config::try_parse_from(std::iter::once("natter".to_owned()).chain(unlimited_args()))
                .expect("the flags parse");
        let mut expected = Config::for_tests(String::new());
        unlimited(&mut expected);
        assert_eq!(parsed.post_burst, expected.post_burst);
        assert_eq!(parsed.post_rate, expected.post_rate);
        assert_eq!(parsed.join_burst, expected.join_burst);
        assert_eq!(parsed.join_rate, expected.join_rate);
        assert_eq!(
            parsed.max_streams_per_member,
            expected.max_streams_per_member
        );
        assert_eq!(parsed.max_streams, expected.max_streams);
    }
}
