// Configuration: one TOML file (reprise.toml) with environment overrides.
//
// Precedence, lowest first: built-in defaults, the config file, REPRISE_* environment
// variables, command-line flags (applied by the caller after Load()).
//
// The catalog and blob store live under the data directory unless a URL places them
// elsewhere. A data directory given on the command line (--data) or in the environment
// (REPRISE_DATA) is more specific than a config file named by --config, REPRISE_CONFIG
// or found in the working directory, so it beats that file's catalog.url / blob.url (the
// data directory's own reprise.toml is part of that library: its URLs hold). A URL in
// the environment (REPRISE_CATALOG_URL, REPRISE_BLOB_URL) names that one backend
// explicitly and beats any data directory. When a setting loses to another, it is said
// in Config::warnings.
//
// The file is the first of: the explicit path (--config / REPRISE_CONFIG), ./reprise.toml,
// {data_dir}/reprise.toml; none is fine. An explicit path that does not exist is an error.
//
// Environment: REPRISE_DATA, REPRISE_OWNER, REPRISE_LOG_LEVEL, REPRISE_CATALOG_URL,
// REPRISE_BLOB_URL, REPRISE_BLOB_<SETTING> for the rest of [blob], REPRISE_QUEUE_<SETTING> (e.g.
// REPRISE_QUEUE_LEASE_SECONDS=5) for the [queue] table, REPRISE_IMPORT_<SETTING> for [import]
// (REPRISE_IMPORT_ALLOW_PRIVATE_ADDRESSES=1), REPRISE_WEBHOOKS_<SETTING> for [webhooks] (not its
// subscriptions nor sources), REPRISE_SERVER_LISTEN and REPRISE_SERVER_WORKERS for [server], and
// for stage params REPRISE_STAGES_<STAGE>_<PARAM> (e.g. REPRISE_STAGES_THUMBNAIL_WIDTH=480); values
// are read as TOML scalars (480, 1.5, true, or a bare string). Stage names contain no '_', so the
// first '_' after the stage name starts the param name.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/start_rate.h"

namespace reprise {

// The [queue] table: how workers lease, retry and shut down. Durations are seconds
// (fractions allowed) so a test can ask for a one-second lease.
struct QueueConfig {
  int concurrency = 0;           // worker slots per process; 0: one per CPU core
  double lease_seconds = 30;     // how long a claim holds without a heartbeat
  double heartbeat_seconds = 0;  // renew after this much decode progress time; 0: lease / 3
  double poll_seconds = 1;       // idle slots look for work this often
  // Share of a worker's slots that only take live work (priority >= live), so a long
  // backfill never starves new uploads. At least one slot always takes anything.
  double reserved_live_share = 0.25;
  int max_attempts = 5;              // claims of a job before a transient failure becomes final
  double backoff_base_seconds = 2;   // retry delay ceiling doubles from here...
  double backoff_max_seconds = 600;  // ...up to here (full jitter below the ceiling)
  int quarantine_after = 3;          // failures of one content with one recipe before quarantine
  double grace_seconds = 30;         // on SIGTERM, running jobs get this long before release
};

// The [server] table: `reprise serve`.
struct ServerConfig {
  std::string listen = "127.0.0.1:8080";  // HOST:PORT; port 0 picks a free one
  bool workers = true;                    // run a worker pool inside the server
  // HMAC secret of signed blob URLs (at least 32 bytes). Empty: a random one kept in
  // DATA_DIR/url-secret, created on first use; servers sharing a library share this.
  std::string url_secret;
  // GET /api/v1/events sends a comment after this much silence (proxies drop idle
  // connections; a write also finds clients that went away).
  double event_heartbeat_seconds = 15;
};

// [stages.NAME] max_running and rate: global limits on one stage, enforced by the catalog
// for every worker that shares it (catalog/stage_limits.h); REPRISE_STAGES_NAME_MAX_RUNNING
// and REPRISE_STAGES_NAME_RATE in the environment. Kept apart from the stage's params:
// they change no recipe. Every worker of a library should be given the same limits.
struct StageLimitsConfig {
  int max_running = 0;  // jobs holding the stage running at once; 0: no cap
  StartRate rate;       // "60/min": claims of jobs holding it; not limited: no rate
};

// One [[webhooks.subscriptions]] entry: a receiver the operator configured.
struct WebhookSubscriptionConfig {
  std::string url;
  std::string secret;               // "whsec_..."
  std::vector<std::string> events;  // asset.ready, asset.failed, backfill.finished
  std::string owner;                // empty: every owner's events
  std::string description;
};

// The [webhooks] table: outgoing webhooks sent by `reprise serve`.
struct WebhooksConfig {
  std::vector<WebhookSubscriptionConfig> subscriptions;
  int max_attempts = 8;               // then the delivery is failed
  double backoff_base_seconds = 5;    // the first retry's delay ceiling, doubling...
  double backoff_max_seconds = 3600;  // ...up to this (jittered below the ceiling)
  double timeout_seconds = 10;        // one POST, connecting included
  double event_retention_days = 30;   // events older are pruned; 0 keeps them all
  // Lets subscriptions reach loopback, private, link-local (cloud metadata) and other
  // non-public addresses (REPRISE_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES=1): a receiver on the
  // server's own network. Off, such a URL is refused when the subscription is created
  // (an IP literal) or when a delivery connects (a name resolving to one).
  bool allow_private_addresses = false;
};

// The [import] table: downloads of URL imports (net/url_fetcher.h).
struct ImportConfig {
  int64_t max_bytes = int64_t{4} << 30;  // largest download; 0: no limit
  double connect_timeout_seconds = 10;
  double timeout_seconds = 600;  // the whole download, redirects included
  int concurrency = 2;           // downloads at once per server
  // A download that fails for a passing reason (5xx, 429, a timeout, a reset connection,
  // DNS) is tried again after a backoff, up to max_attempts tries in all; a 404, a refused
  // address or a body over max_bytes fails at once.
  int max_attempts = 3;
  double backoff_base_seconds = 5;   // the retry delay's ceiling doubles from here...
  double backoff_max_seconds = 300;  // ...up to here (full jitter below the ceiling)
  // Lets imports reach loopback, private, link-local and other non-public addresses
  // (REPRISE_IMPORT_ALLOW_PRIVATE_ADDRESSES=1); tests and closed networks only.
  bool allow_private_addresses = false;
};

// One [webhooks.sources.NAME] table: a sender whose signed callbacks reprise accepts.
struct WebhookSourceConfig {
  std::vector<std::string> secrets;  // "whsec_..." (`secret`, or a list `secrets` in rotation)
  std::string owner;                 // owner of the assets its callbacks import
};

// The [blob] table beside its url: how an S3 store is reached when the URL leaves it out,
// and how long the blob URLs the API hands out live. Endpoint, region and path_style in
// the URL's query win over these; credentials here win over the AWS_* variables (both the
// access key id and the secret, or neither). REPRISE_BLOB_<SETTING> sets each
// (REPRISE_BLOB_SECRET_ACCESS_KEY=...). The secret and the session token are never logged
// nor described.
struct BlobConfig {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  std::string endpoint;  // "http://127.0.0.1:7480"
  std::string region;
  std::optional<bool> path_style;
  // Presigned S3 GETs and signed /blobs URLs live this long (at least; URLs handed out
  // within the same minute share one expiry). 1 s to 7 days less a minute.
  int64_t url_expiry_seconds = 3600;
};

// [services.NAME]: an OpenAI-compatible HTTP service that stages call (docs/SERVICES.md).
// Deployment, not recipe: pointing a service at another endpoint serving the same model
// outdates nothing; the model and prompt are stage params. The key is read from the
// environment variable api_key_env when the config is loaded and never logged.
struct ServiceSettings {
  std::string base_url;     // "http://127.0.0.1:8080/v1"
  std::string api_key_env;  // "OPENAI_API_KEY"; empty: no key
  std::string api_key;      // its value then (empty when unset)
  double connect_timeout_seconds = 10;
  double timeout_seconds = 300;  // one attempt, upload to last byte
  int max_attempts = 4;
  // Requests at once and per minute, across the stages of a process that use it.
  int max_concurrent = 3;
  int requests_per_minute = 60;
};

struct Config {
  std::string data_dir = "./reprise-data";
  std::string owner = "local";  // owner of assets ingested from the command line
  std::string log_level = "info";
  // Backends chosen by scheme: "sqlite:PATH" (catalog), "fs:PATH" (blob store).
  // Empty means the embedded default under data_dir.
  std::string catalog_url;
  std::string blob_url;
  BlobConfig blob;  // [blob] beside url
  // Largest file `ingest` accepts, in bytes; 0 means no limit.
  int64_t max_ingest_bytes = 0;
  QueueConfig queue;
  ServerConfig server;
  ImportConfig import;
  // [webhooks.sources.NAME]: incoming webhook senders by name ("replicate").
  std::map<std::string, WebhookSourceConfig> webhook_sources;
  // [webhooks] outgoing: delivery settings and [[webhooks.subscriptions]].
  WebhooksConfig webhooks;
  // [services.NAME] by name.
  std::map<std::string, ServiceSettings> services;
  // The [costs] table: per-stage price lists for backfill estimates,
  // {"transcript": {"per_media_minute": 0.006}} (checked by backfill::ParseCostModels).
  nlohmann::json costs = nlohmann::json::object();
  // The [stages] table: {"thumbnail": {"width": 480}}.
  nlohmann::json stages = nlohmann::json::object();
  // [stages.NAME] max_running / rate, by stage (only stages with a limit).
  std::map<std::string, StageLimitsConfig> stage_limits;
  // [pipeline] stages: the built-in stages this library runs, in any order; empty means
  // every one (REPRISE_PIPELINE_STAGES="probe,thumbnail").
  std::vector<std::string> pipeline_stages;
  // The file that was read, empty when none.
  std::string source_file;
  // Where data_dir, catalog_url and blob_url were set ("--data", "REPRISE_DATA",
  // "catalog.url in FILE", ...); empty for the built-in default.
  std::string data_dir_from;
  std::string catalog_url_from;
  std::string blob_url_from;
  // Settings that were given but lost to another (a file's catalog.url to --data), in
  // sentences for the user; the CLI prints them as warnings.
  std::vector<std::string> warnings;

  // Where the catalog / blob store URL came from, for messages: the URL's origin, or the
  // data directory's when the URL is the default under it ("--data").
  [[nodiscard]] std::string CatalogUrlOrigin() const;
  [[nodiscard]] std::string BlobUrlOrigin() const;

  // catalog_url/blob_url with the defaults filled in.
  [[nodiscard]] std::string ResolvedCatalogUrl() const;
  [[nodiscard]] std::string ResolvedBlobUrl() const;
};

struct ConfigSources {
  std::optional<std::string> config_path;  // --config
  std::optional<std::string> data_dir;     // --data (beats the environment)
  std::map<std::string, std::string> env;  // the process environment, injected
};

// Reads the process environment into a map (the only place that calls environ).
std::map<std::string, std::string> ProcessEnvironment();

// kInvalidArgument naming the file, line and key on a bad file or a bad value.
Result<Config> LoadConfig(const ConfigSources& sources);

}  // namespace reprise
