//! gRPC through the gateway: a tonic server behind an `h2c` upstream, a tonic client on the
//! gateway's plain listener (HTTP/2 with prior knowledge). Unary calls, server and client
//! streaming, and an error status carried in trailers all pass unchanged.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::uri::PathAndQuery;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio_stream::StreamExt;
use tonic::{Code, Request, Response, Status, Streaming};
use tonic_prost::ProstCodec;
use wasmgate_tests::TestGateway;

/// The one message of the test service.
#[derive(Clone, PartialEq, prost::Message)]
struct Note {
    #[prost(string, tag = "1")]
    text: String,
    #[prost(uint32, tag = "2")]
    count: u32,
}

fn note(text: &str, count: u32) -> Note {
    Note {
        text: text.to_owned(),
        count,
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// `Say` (unary): `hello <text>`, or NOT_FOUND for `missing`.
#[derive(Clone)]
struct Say;

impl tower_service::Service<Request<Note>> for Say {
    type Response = Response<Note>;
    type Error = Status;
    type Future = BoxFuture<Result<Response<Note>, Status>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Status>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Note>) -> Self::Future {
        Box::pin(async move {
            let text = request.into_inner().text;
            if text == "missing" {
                return Err(Status::not_found("no note called missing"));
            }
            Ok(Response::new(note(&format!("hello {text}"), 1)))
        })
    }
}

type NoteStream = Pin<Box<dyn tokio_stream::Stream<Item = Result<Note, Status>> + Send>>;

/// `Count` (server streaming): `count` notes numbered from 1.
#[derive(Clone)]
struct Count;

impl tower_service::Service<Request<Note>> for Count {
    type Response = Response<NoteStream>;
    type Error = Status;
    type Future = BoxFuture<Result<Response<NoteStream>, Status>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Status>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Note>) -> Self::Future {
        Box::pin(async move {
            let asked = request.into_inner();
            let notes = (1..=asked.count).map(move |n| Ok(note(&asked.text, n)));
            let stream: NoteStream = Box::pin(tokio_stream::iter(notes));
            Ok(Response::new(stream))
        })
    }
}

/// `Collect` (client streaming): the texts joined, and how many notes came.
#[derive(Clone)]
struct Collect;

impl tower_service::Service<Request<Streaming<Note>>> for Collect {
    type Response = Response<Note>;
    type Error = Status;
    type Future = BoxFuture<Result<Response<Note>, Status>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Status>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Streaming<Note>>) -> Self::Future {
        Box::pin(async move {
            let mut notes = request.into_inner();
            let (mut texts, mut count) = (Vec::new(), 0);
            while let Some(note) = notes.next().await {
                texts.push(note?.text);
                count += 1;
            }
            Ok(Response::new(note(&texts.join(" "), count)))
        })
    }
}

/// The tonic server: routes by path as generated code does, over HTTP/2 without TLS.
async fn grpc_server() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let service = hyper::service::service_fn(
                |request: http::Request<hyper::body::Incoming>| async move {
                    let mut grpc = tonic::server::Grpc::new(ProstCodec::<Note, Note>::default());
                    let response = match request.uri().path() {
                        "/notes.Notes/Say" => grpc.unary(Say, request).await,
                        "/notes.Notes/Count" => grpc.server_streaming(Count, request).await,
                        "/notes.Notes/Collect" => grpc.client_streaming(Collect, request).await,
                        _ => Status::unimplemented("no such method").into_http(),
                    };
                    Ok::<_, Infallible>(response)
                },
            );
            tokio::spawn(async move {
                let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (url, task)
}

type Channel = Client<hyper_util::client::legacy::connect::HttpConnector, tonic::body::Body>;

/// A tonic client on the gateway: HTTP/2 with prior knowledge to its plain listener.
fn grpc_client(gateway: &TestGateway) -> tonic::client::Grpc<Channel> {
    let channel = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http();
    let origin = gateway.url("").trim_end_matches('/').parse().unwrap();
    tonic::client::Grpc::with_origin(channel, origin)
}

fn codec() -> ProstCodec<Note, Note> {
    ProstCodec::default()
}

#[tokio::test]
async fn grpc_calls_pass_through_an_h2c_upstream_with_their_statuses() {
    let (server, task) = grpc_server().await;
    let gateway = TestGateway::start(&format!(
        "[upstreams.notes]\nurl = \"{server}\"\nprotocol = \"h2c\"\n\
         [[routes]]\nmethods = [\"POST\"]\npath = \"/notes.Notes/{{method}}\"\n\
         integration = {{ type = \"http\", upstream = \"notes\" }}\n"
    ))
    .await;
    let mut client = grpc_client(&gateway);

    client.ready().await.unwrap();
    let said = client
        .unary(
            Request::new(note("world", 0)),
            PathAndQuery::from_static("/notes.Notes/Say"),
            codec(),
        )
        .await
        .unwrap();
    assert_eq!(said.into_inner().text, "hello world");

    client.ready().await.unwrap();
    let missing = client
        .unary(
            Request::new(note("missing", 0)),
            PathAndQuery::from_static("/notes.Notes/Say"),
            codec(),
        )
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    assert_eq!(missing.message(), "no note called missing");

    client.ready().await.unwrap();
    let counted = client
        .server_streaming(
            Request::new(note("tick", 5)),
            PathAndQuery::from_static("/notes.Notes/Count"),
            codec(),
        )
        .await
        .unwrap();
    let mut stream = counted.into_inner();
    let mut numbers = Vec::new();
    while let Some(note) = stream.message().await.unwrap() {
        assert_eq!(note.text, "tick");
        numbers.push(note.count);
    }
    assert_eq!(numbers, [1, 2, 3, 4, 5]);

    client.ready().await.unwrap();
    let words = ["one", "two", "three"].map(|w| note(w, 0));
    let collected = client
        .client_streaming(
            Request::new(tokio_stream::iter(words)),
            PathAndQuery::from_static("/notes.Notes/Collect"),
            codec(),
        )
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (collected.text.as_str(), collected.count),
        ("one two three", 3)
    );

    client.ready().await.unwrap();
    let unknown = client
        .unary(
            Request::new(note("x", 0)),
            PathAndQuery::from_static("/notes.Notes/Nope"),
            codec(),
        )
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::Unimplemented);
    task.abort();
}
