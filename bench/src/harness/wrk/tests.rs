use super::*;

const CLEAN: &str = "Running 5s test @ http://127.0.0.1:40001/small
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   582.01us  102.11us   3.21ms   89.00%
    Req/Sec    55.00k     2.00k   60.00k    70.00%
  Latency Distribution
     50%  560.00us
     75%  600.00us
     90%  680.00us
     99%    1.02ms
  275012 requests in 5.00s, 30.00MB read
Requests/sec:  55002.40
Transfer/sec:      6.00MB
";

#[test]
fn parses_a_clean_run() {
    let result = parse(CLEAN).unwrap();
    assert_eq!(result.requests, 275012);
    assert_eq!(result.requests_per_second, 55002.40);
    assert_eq!(result.p50_us, 560.0);
    assert_eq!(result.p99_us, 1020.0);
    assert_eq!(result.failures(), 0);
}

#[test]
fn counts_socket_errors_and_non_success_responses() {
    let output = CLEAN.replace(
        "Requests/sec:",
        "  Socket errors: connect 1, read 2, write 0, timeout 4\n  Non-2xx or 3xx responses: 12\nRequests/sec:",
    );
    let result = parse(&output).unwrap();
    assert_eq!(result.socket_errors, 7);
    assert_eq!(result.non_success, 12);
    assert_eq!(result.failures(), 19);
    assert!(!result.none_succeeded());
}

#[test]
fn a_run_refused_entirely_succeeded_at_nothing() {
    let output = CLEAN.replace(
        "Requests/sec:",
        "  Non-2xx or 3xx responses: 275012\nRequests/sec:",
    );
    assert!(parse(&output).unwrap().none_succeeded());
    assert!(!parse(CLEAN).unwrap().none_succeeded());
}

#[test]
fn reads_latencies_in_every_unit() {
    assert_eq!(parse_latency_us("12.50us").unwrap(), 12.5);
    assert_eq!(parse_latency_us("2.00s").unwrap(), 2_000_000.0);
    assert!(parse_latency_us("3.0parsecs").is_err());
}

#[test]
fn refuses_output_without_a_latency_distribution() {
    assert!(parse("unable to connect to 127.0.0.1:1 Connection refused").is_err());
}

fn endpoint(scheme: Scheme, connections: Connections) -> Endpoint {
    Endpoint {
        scheme,
        address: "127.0.0.1:8443".parse().unwrap(),
        connections,
    }
}

const SETTINGS: LoadSettings = LoadSettings {
    threads: 1,
    connections: 64,
    duration: Duration::from_secs(5),
};

#[test]
fn keep_alive_runs_send_no_connection_header() {
    let endpoint = endpoint(Scheme::Http, Connections::KeepAlive);
    let arguments = arguments(SETTINGS, endpoint, "/small", Path::new("small.lua"));
    assert_eq!(
        arguments,
        [
            "-t1",
            "-c64",
            "-d5s",
            "--latency",
            "-s",
            "small.lua",
            "http://127.0.0.1:8443/small"
        ]
    );
}

#[test]
fn per_request_runs_over_https_ask_the_server_to_close() {
    let endpoint = endpoint(Scheme::Https, Connections::PerRequest);
    let arguments = arguments(SETTINGS, endpoint, "/json", Path::new("json.lua"));
    let header = arguments.iter().position(|a| a == "-H").unwrap();
    assert_eq!(arguments[header + 1], "Connection: close");
    assert_eq!(arguments.last().unwrap(), "https://localhost:8443/json");
}

#[test]
fn reads_the_probed_response_and_ignores_the_rest() {
    let output = "Running 1s test @ https://127.0.0.1:8443/small\n  1 threads and 1 connections\n\
                  probe status 200\nprobe header content-length: 13\n\
                  probe header x-mapped: true\nprobe body Hello, world!\n\
                  1 requests in 1.00s, 187.00B read\n";
    let probed = parse_probe(output).unwrap();
    assert_eq!(probed.status, 200);
    assert_eq!(probed.head, "content-length: 13\nx-mapped: true\n");
    assert_eq!(probed.body, "Hello, world!");
    assert_eq!(parse_probe("unable to connect to 127.0.0.1:8443"), None);
}
