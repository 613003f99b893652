//! The sandbox's HTTP side: one axum server on loopback serving Centra's GraphQL endpoint at
//! `/graphql` and OrderWise's OWAPI under `/owapi`, with the real systems' transport rules: bearer
//! tokens (403 for Centra, 401 for OrderWise), Centra's request and mutation buckets with 429 and
//! `Retry-After`, OrderWise token expiry, 1,000-row export pages and 204 for an empty page. Seeded
//! fault injection adds 429s, 5xx and expired tokens at a chosen rate.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::centra::{self, CentraSchema, RateLimit, RateLimitInterval, RateLimitType};
use super::malformed::{self, Malformed};
use super::orderwise;
use super::world::World;
use crate::clock::Clock;

/// The Centra token the sandbox accepts.
pub const CENTRA_TOKEN: &str = "sandbox-centra-token";
/// The OrderWise API user the sandbox accepts.
pub const ORDERWISE_USER: &str = "tally";
/// The OrderWise API password the sandbox accepts.
pub const ORDERWISE_PASSWORD: &str = "sandbox";

/// Centra's rate-limit plan, per 10 seconds (the hourly quota is 360 times that).
#[derive(Debug, Clone, Copy)]
pub struct RatePlan {
    pub requests: u32,
    pub mutations: u32,
}

impl RatePlan {
    /// Centra's published default plan.
    pub const DEFAULT: RatePlan = RatePlan {
        requests: 60,
        mutations: 20,
    };
    /// The largest published plan; the demo's default so it is quick.
    pub const LARGE: RatePlan = RatePlan {
        requests: 1500,
        mutations: 200,
    };
}

/// How the sandbox behaves on the wire.
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// Fraction of requests (0..1) answered with an injected fault.
    pub fault_rate: f64,
    /// Seed of the fault sequence.
    pub fault_seed: u64,
    pub plan: RatePlan,
    /// How long an OrderWise token lives.
    pub token_ttl: Duration,
    /// Fraction of writes (Centra mutations, OrderWise order posts) that succeed on the server but
    /// whose response is lost (answered 502), seeded like the other faults.
    pub lost_write_rate: f64,
    /// How many calls an OrderWise token serves before it expires (tests use it to make expiry
    /// happen at a known point rather than after a time).
    pub token_max_uses: Option<u64>,
    /// Break one Centra orders page this way (see [`Malformed`]).
    pub malformed: Option<Malformed>,
    /// An export definition saved from an older statement: this column is missing from every
    /// row of every export that has it (`tally doctor` must name it). Rows then pass through
    /// `serde_json::Value`, so money loses its exact text: for the column check only.
    pub missing_export_column: Option<&'static str>,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            fault_rate: 0.0,
            fault_seed: 0,
            plan: RatePlan::LARGE,
            token_ttl: Duration::from_secs(600),
            token_max_uses: None,
            lost_write_rate: 0.0,
            malformed: None,
            missing_export_column: None,
        }
    }
}

/// What the sandbox saw a client do after a 429: how long it was asked to wait, and how long it
/// was until the next Centra request arrived. A client that honours `Retry-After` always waits at
/// least what it was asked.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleGap {
    pub asked: Duration,
    pub waited: Duration,
}

/// The 429 waiting for the client's next request, and the gaps seen so far.
#[derive(Debug, Default)]
struct ThrottleLog {
    pending: Option<(Instant, Duration)>,
    gaps: Vec<ThrottleGap>,
}

/// Counters a test or the demo can read to see what the clients went through.
#[derive(Debug, Default)]
pub struct Stats {
    pub centra_requests: AtomicU64,
    pub orderwise_requests: AtomicU64,
    pub throttled: AtomicU64,
    pub faults: AtomicU64,
    pub tokens_minted: AtomicU64,
    pub lost_writes: AtomicU64,
    pub orders_posted: AtomicU64,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    used: u32,
}

#[derive(Debug)]
struct Bucket {
    kind: RateLimitType,
    ten: Window,
    hour: Window,
    quota: u32,
}

impl Bucket {
    fn new(kind: RateLimitType, quota: u32) -> Self {
        let w = Window {
            started: Instant::now(),
            used: 0,
        };
        Bucket {
            kind,
            ten: w,
            hour: w,
            quota,
        }
    }
    fn roll(&mut self) {
        let now = Instant::now();
        if now - self.ten.started >= Duration::from_secs(10) {
            self.ten = Window {
                started: now,
                used: 0,
            };
        }
        if now - self.hour.started >= Duration::from_secs(3600) {
            self.hour = Window {
                started: now,
                used: 0,
            };
        }
    }
    /// Takes `n` units, or says how long until the window that is full resets.
    fn take(&mut self, n: u32) -> Result<(), Duration> {
        self.roll();
        if self.ten.used + n > self.quota {
            return Err(Duration::from_secs(10).saturating_sub(self.ten.started.elapsed()));
        }
        if self.hour.used + n > self.quota * 360 {
            return Err(Duration::from_secs(3600).saturating_sub(self.hour.started.elapsed()));
        }
        self.ten.used += n;
        self.hour.used += n;
        Ok(())
    }
}

struct Token {
    issued: Instant,
    uses: u64,
}

/// State shared by every handler and resolver.
pub struct Shared {
    pub world: RwLock<World>,
    /// The sandbox's time: it starts at the world's `now` and runs on from there, so what it writes
    /// (posted orders, completed shipments) is stamped consistently with what it generated.
    pub clock: Clock,
    pub behaviour: Behaviour,
    pub stats: Stats,
    buckets: Mutex<Vec<Bucket>>,
    faults: Mutex<ChaCha8Rng>,
    tokens: Mutex<HashMap<String, Token>>,
    retry_after_style: AtomicU64,
    throttle_log: Mutex<ThrottleLog>,
    /// Orders pages served so far, and the first one's `endCursor` (for [`Malformed`]).
    orders_pages: Mutex<(u64, Option<String>)>,
    /// What a live sandbox changed, in order (see [`super::live`]).
    pub live: Mutex<super::live::LiveState>,
}

/// An injected fault.
enum Fault {
    Throttle,
    ServerError(StatusCode),
    ExpireToken,
}

impl Shared {
    pub fn new(world: World, behaviour: Behaviour) -> Arc<Shared> {
        Arc::new(Shared {
            clock: Clock::starting_at(world.now),
            world: RwLock::new(world),
            buckets: Mutex::new(vec![
                Bucket::new(RateLimitType::RequestCount, behaviour.plan.requests),
                Bucket::new(
                    RateLimitType::QueryComplexity,
                    behaviour.plan.requests * 1000,
                ),
                Bucket::new(RateLimitType::MutationCount, behaviour.plan.mutations),
            ]),
            faults: Mutex::new(ChaCha8Rng::seed_from_u64(behaviour.fault_seed)),
            behaviour,
            stats: Stats::default(),
            tokens: Mutex::new(HashMap::new()),
            retry_after_style: AtomicU64::new(0),
            throttle_log: Mutex::new(ThrottleLog::default()),
            orders_pages: Mutex::new((0, None)),
            live: Mutex::new(Default::default()),
        })
    }

    /// Switches the tenant to another rate-limit plan (a test moving to Centra's default plan).
    pub fn set_plan(&self, plan: RatePlan) {
        let mut buckets = self.buckets.lock().expect("bucket lock");
        for b in buckets.iter_mut() {
            b.quota = match b.kind {
                RateLimitType::RequestCount => plan.requests,
                RateLimitType::QueryComplexity => plan.requests * 1000,
                RateLimitType::MutationCount => plan.mutations,
            };
        }
    }

    /// Whether this write's response is lost (the write itself has happened).
    fn lose_write(&self) -> bool {
        if self.behaviour.lost_write_rate <= 0.0 {
            return false;
        }
        let lost = self
            .faults
            .lock()
            .expect("fault lock")
            .random_bool(self.behaviour.lost_write_rate.min(1.0));
        if lost {
            self.stats.lost_writes.fetch_add(1, Ordering::Relaxed);
        }
        lost
    }

    /// What `rateLimits` reports.
    pub fn rate_limits(&self) -> Vec<RateLimit> {
        let mut buckets = self.buckets.lock().expect("bucket lock");
        let mut out = Vec::new();
        for b in buckets.iter_mut() {
            b.roll();
            for (interval, w, quota) in [
                (RateLimitInterval::TenSeconds, b.ten, b.quota),
                (RateLimitInterval::OneHour, b.hour, b.quota * 360),
            ] {
                out.push(RateLimit {
                    kind: b.kind,
                    interval_seconds: interval,
                    quota: quota as i32,
                    used_quota: w.used as i32,
                    remaining_quota: quota.saturating_sub(w.used) as i32,
                });
            }
        }
        out
    }

    fn take(&self, kind: RateLimitType, n: u32) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().expect("bucket lock");
        buckets
            .iter_mut()
            .find(|b| b.kind == kind)
            .expect("every kind has a bucket")
            .take(n)
    }

    fn draw_fault(&self, centra: bool) -> Option<Fault> {
        if self.behaviour.fault_rate <= 0.0 {
            return None;
        }
        let mut rng = self.faults.lock().expect("fault lock");
        if !rng.random_bool(self.behaviour.fault_rate.min(1.0)) {
            return None;
        }
        self.stats.faults.fetch_add(1, Ordering::Relaxed);
        Some(match rng.random_range(0..4) {
            0 if centra => Fault::Throttle,
            0 => Fault::ExpireToken,
            1 => Fault::ServerError(StatusCode::INTERNAL_SERVER_ERROR),
            2 => Fault::ServerError(StatusCode::BAD_GATEWAY),
            _ if centra => Fault::Throttle,
            _ => Fault::ExpireToken,
        })
    }

    /// The gap after each 429 this sandbox sent, up to the next Centra request.
    pub fn throttle_gaps(&self) -> Vec<ThrottleGap> {
        self.throttle_log.lock().expect("throttle log").gaps.clone()
    }

    /// Notes a Centra request's arrival, closing the gap after a 429 if one is open.
    fn centra_request_arrived(&self) {
        let mut log = self.throttle_log.lock().expect("throttle log");
        if let Some((sent, asked)) = log.pending.take() {
            log.gaps.push(ThrottleGap {
                asked,
                waited: sent.elapsed(),
            });
        }
    }

    /// A 429 with `Retry-After` in one of the three formats the contract names, in turn.
    fn throttled(&self, wait: Duration) -> Response {
        self.stats.throttled.fetch_add(1, Ordering::Relaxed);
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let secs = secs.max(1);
        self.throttle_log.lock().expect("throttle log").pending =
            Some((Instant::now(), Duration::from_secs(secs)));
        let at = SystemTime::now() + Duration::from_secs(secs);
        let value = match self.retry_after_style.fetch_add(1, Ordering::Relaxed) % 3 {
            0 => secs.to_string(),
            1 => httpdate::fmt_http_date(at + Duration::from_secs(1)),
            _ => (at.duration_since(UNIX_EPOCH).expect("after 1970").as_secs() + 1).to_string(),
        };
        let mut r = graphql_error(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests",
            "throttled",
        );
        r.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_str(&value).expect("ascii"),
        );
        r
    }
}

fn graphql_error(status: StatusCode, message: &str, category: &str) -> Response {
    let body =
        serde_json::json!({"errors": [{"message": message, "extensions": {"category": category}}]});
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

/// The router serving both APIs.
pub fn router(shared: Arc<Shared>) -> Router {
    let schema = centra::schema(shared.clone());
    Router::new()
        .route("/graphql", post(centra_endpoint))
        .route("/owapi/token/gettoken", get(orderwise_token))
        .route("/owapi/sales/order", post(orderwise_post_order))
        .route(
            "/owapi/system/export-definition/{id}",
            post(orderwise_export),
        )
        .with_state((shared, schema))
}

type AppState = State<(Arc<Shared>, CentraSchema)>;

async fn centra_endpoint(
    State((shared, schema)): AppState,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.stats.centra_requests.fetch_add(1, Ordering::Relaxed);
    shared.centra_request_arrived();
    if bearer(&headers) != Some(CENTRA_TOKEN) {
        return graphql_error(
            StatusCode::FORBIDDEN,
            "Access denied: invalid or expired token",
            "authorization",
        );
    }
    match shared.draw_fault(true) {
        Some(Fault::Throttle) => return shared.throttled(Duration::from_secs(1)),
        Some(Fault::ServerError(code)) => return graphql_error(code, "Internal error", "internal"),
        _ => {}
    }
    if let Err(wait) = shared.take(RateLimitType::RequestCount, 1) {
        return shared.throttled(wait);
    }
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return graphql_error(
                StatusCode::BAD_REQUEST,
                &format!("Bad JSON: {e}"),
                "request",
            );
        }
    };
    let orders_page = request.query.contains("orderConnection");
    let mutations = count_mutations(&request.query);
    if mutations > 0
        && let Err(wait) = shared.take(RateLimitType::MutationCount, mutations)
    {
        return shared.throttled(wait);
    }
    let response = schema.execute(request).await;
    if mutations > 0 && shared.lose_write() {
        return graphql_error(StatusCode::BAD_GATEWAY, "Bad gateway", "internal");
    }
    let body = serde_json::to_string(&response).expect("a GraphQL response serialises");
    if orders_page && let Some(mode) = shared.behaviour.malformed {
        let mut pages = shared.orders_pages.lock().expect("orders pages");
        pages.0 += 1;
        if pages.0 == 1 {
            pages.1 = malformed::end_cursor(&body);
        }
        if pages.0 == mode.page() {
            let (content_type, bytes) = mode.corrupt(body, pages.1.as_deref());
            return (
                StatusCode::OK,
                [(header::CONTENT_TYPE, content_type)],
                bytes,
            )
                .into_response();
        }
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// How many mutation fields a document runs: each counts once against the mutation bucket.
fn count_mutations(query: &str) -> u32 {
    use async_graphql::parser::types::OperationType;
    let Ok(doc) = async_graphql::parser::parse_query(query) else {
        return 0;
    };
    doc.operations
        .iter()
        .filter(|(_, op)| op.node.ty == OperationType::Mutation)
        .map(|(_, op)| op.node.selection_set.node.items.len() as u32)
        .sum()
}

fn ow_message(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "message": message });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn orderwise_token(State((shared, _)): AppState, headers: HeaderMap) -> Response {
    shared
        .stats
        .orderwise_requests
        .fetch_add(1, Ordering::Relaxed);
    let expected = base64::engine::general_purpose::STANDARD
        .encode(format!("{ORDERWISE_USER}:{ORDERWISE_PASSWORD}"));
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "));
    if given != Some(expected.as_str()) {
        return ow_message(
            StatusCode::UNAUTHORIZED,
            "Authorization has been denied for this request.",
        );
    }
    let n = shared.stats.tokens_minted.fetch_add(1, Ordering::Relaxed);
    let token = format!("owtok-{:08x}{n:04x}", rand::random::<u32>());
    shared.tokens.lock().expect("token lock").insert(
        token.clone(),
        Token {
            issued: Instant::now(),
            uses: 0,
        },
    );
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string(&token).expect("string"),
    )
        .into_response()
}

/// Checks an OrderWise bearer token and injected faults; `Err` is the response to send.
fn orderwise_gate(shared: &Shared, headers: &HeaderMap) -> Result<(), Box<Response>> {
    shared
        .stats
        .orderwise_requests
        .fetch_add(1, Ordering::Relaxed);
    let fault = shared.draw_fault(false);
    let mut tokens = shared.tokens.lock().expect("token lock");
    let denied = || {
        ow_message(
            StatusCode::UNAUTHORIZED,
            "Authorization has been denied for this request.",
        )
    };
    let Some(token) = bearer(headers) else {
        return Err(Box::new(denied()));
    };
    let ttl = shared.behaviour.token_ttl;
    let Some(state) = tokens.get_mut(token) else {
        return Err(Box::new(denied()));
    };
    let used_up = shared
        .behaviour
        .token_max_uses
        .is_some_and(|max| state.uses >= max);
    if state.issued.elapsed() > ttl || used_up {
        tokens.remove(token);
        return Err(Box::new(denied()));
    }
    state.uses += 1;
    match fault {
        // A token is only expired by a fault after more uses than one call's retries: a real
        // instance does not expire a token it has just minted, and the client treats a second
        // 401 within one call as fatal.
        Some(Fault::ExpireToken) if state.uses > 10 => {
            tokens.remove(token);
            Err(Box::new(denied()))
        }
        Some(Fault::ServerError(code)) => Err(Box::new(ow_message(code, "An error has occurred."))),
        _ => Ok(()),
    }
}

async fn orderwise_export(
    State((shared, _)): AppState,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = orderwise_gate(&shared, &headers) {
        return *r;
    }
    let Ok(id) = id.parse::<u32>() else {
        return ow_message(StatusCode::NOT_FOUND, "No export definition with that id.");
    };
    let world = shared.world.read().expect("world lock");
    match orderwise::export(&world, id, &body) {
        Ok(rows) if rows.is_empty() => StatusCode::NO_CONTENT.into_response(),
        Ok(rows) if shared.behaviour.missing_export_column.is_some() => {
            let column = shared.behaviour.missing_export_column.unwrap_or_default();
            let rows: Vec<serde_json::Value> = rows
                .iter()
                .filter_map(|r| serde_json::from_str::<serde_json::Value>(r).ok())
                .map(|mut r| {
                    if let Some(o) = r.as_object_mut() {
                        o.remove(column);
                    }
                    r
                })
                .collect();
            axum::Json(rows).into_response()
        }
        Ok(rows) => {
            let mut out =
                String::with_capacity(rows.iter().map(|r| r.len() + 1).sum::<usize>() + 2);
            out.push('[');
            out.push_str(&rows.join(","));
            out.push(']');
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                out,
            )
                .into_response()
        }
        Err((status, message)) => ow_message(status, &message),
    }
}

/// Query of the order post: the session the order goes through.
#[derive(serde::Deserialize)]
struct SessionQuery {
    session_id: i64,
}

async fn orderwise_post_order(
    State((shared, _)): AppState,
    axum::extract::Query(q): axum::extract::Query<SessionQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = orderwise_gate(&shared, &headers) {
        return *r;
    }
    let (status, body) = orderwise::post_order(
        &mut shared.world.write().expect("world lock"),
        q.session_id,
        &body,
        shared.clock.now(),
    );
    if status == StatusCode::CREATED {
        shared.stats.orders_posted.fetch_add(1, Ordering::Relaxed);
        if shared.lose_write() {
            return ow_message(StatusCode::BAD_GATEWAY, "The gateway timed out.");
        }
    }
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}
