// How catalog types are stored in table rows, the same on every SQL backend: the JSON
// text of the structured columns (blobs, refs, stages, params), the stored form of an
// error, and readers that turn a selected row into a catalog type.
//
// A reader takes any row type with the accessors of CatalogRow (SQLite's Statement has
// them; another backend adapts its result row) and reads the columns of the matching
// k*Columns list, in that order. The column lists name plain columns of the common
// schema, valid in any SQL dialect. Booleans are read as integers (non-zero is true).
//
// Decoders fail with kInternal: a stored value that does not parse means the store was
// written by something else or is corrupt, never that the caller erred. Encoders never
// fail; strings from media files (tags, titles) that are not valid UTF-8 have the bad
// bytes replaced rather than failing the write.
#pragma once

#include <concepts>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/backfill_types.h"
#include "catalog/event_types.h"
#include "catalog/import_types.h"
#include "catalog/token_types.h"
#include "catalog/types.h"
#include "core/error.h"

namespace reprise::catalog {

// ---- JSON columns ---------------------------------------------------------------------

// Compact JSON with invalid UTF-8 replaced.
std::string DumpJson(const nlohmann::json& value);
// `column` names the column in the error ("derivatives.params").
[[nodiscard]] Result<nlohmann::json> ParseJson(std::string_view text, std::string_view column);

// [{"name", "key", "size", "content_type"}, ...]
std::string BlobsToJson(const std::vector<OutputBlob>& blobs);
[[nodiscard]] Result<std::vector<OutputBlob>> BlobsFromJson(std::string_view text);
// {"name": "value", ...}
std::string RefsToJson(const std::map<std::string, std::string>& refs);
[[nodiscard]] Result<std::map<std::string, std::string>> RefsFromJson(std::string_view text);
// A backfill's stages as [[stage, recipe], ...].
nlohmann::json StagesJson(const std::vector<StageRecipe>& stages);
[[nodiscard]] Result<std::vector<StageRecipe>> StagesFromJson(std::string_view text);
// A subscription's event types as a JSON array of strings.
[[nodiscard]] Result<std::vector<std::string>> EventTypesFromJson(std::string_view text);

// The stored form of an error: its code name, and its message with the library's code
// ("... (sqlite:19)"); two empty strings for no error.
std::pair<std::string, std::string> ErrorColumns(const std::optional<Error>& error);

[[nodiscard]] Result<DeliveryState> ParseDeliveryState(std::string_view text);

// ---- Rows -----------------------------------------------------------------------------

template <typename R>
concept CatalogRow = requires(const R& row, int column) {
  { row.Text(column) } -> std::convertible_to<std::string>;
  { row.Int64(column) } -> std::convertible_to<int64_t>;
  { row.OptionalText(column) } -> std::convertible_to<std::optional<std::string>>;
  { row.OptionalInt64(column) } -> std::convertible_to<std::optional<int64_t>>;
  { row.OptionalDouble(column) } -> std::convertible_to<std::optional<double>>;
};

// Over alias `a` (assets a).
inline constexpr std::string_view kAssetColumns =
    "a.id, a.owner, a.source, a.sha256, a.cid, a.size_bytes, a.original_key, a.original_name,"
    " a.source_uri, a.status, a.kind, a.container, a.duration_seconds, a.width, a.height,"
    " a.parent_id, a.refs, a.created_at, a.updated_at, a.revision";

template <CatalogRow Row>
Result<Asset> ReadAsset(const Row& row) {
  Asset asset;
  asset.id = row.Text(0);
  asset.owner = row.Text(1);
  auto source = ParseAssetSource(row.Text(2));
  if (!source) return Fail(source.error().Wrap("asset " + asset.id));
  asset.source = *source;
  asset.sha256_hex = row.Text(3);
  asset.cid = row.Text(4);
  asset.size_bytes = row.Int64(5);
  asset.original_key = row.Text(6);
  asset.original_name = row.Text(7);
  asset.source_uri = row.Text(8);
  auto status = ParseAssetStatus(row.Text(9));
  if (!status) return Fail(status.error().Wrap("asset " + asset.id));
  asset.status = *status;
  auto kind = ParseAssetKind(row.Text(10));
  if (!kind) return Fail(kind.error().Wrap("asset " + asset.id));
  asset.media.kind = *kind;
  asset.media.container = row.Text(11);
  asset.media.duration_seconds = row.OptionalDouble(12);
  if (auto width = row.OptionalInt64(13)) asset.media.width = static_cast<int>(*width);
  if (auto height = row.OptionalInt64(14)) asset.media.height = static_cast<int>(*height);
  asset.parent_id = row.OptionalText(15);
  auto refs = RefsFromJson(row.Text(16));
  if (!refs) return Fail(refs.error().Wrap("asset " + asset.id));
  asset.refs = std::move(*refs);
  asset.created_at = row.Int64(17);
  asset.updated_at = row.Int64(18);
  asset.revision = row.Int64(19);
  return asset;
}

inline constexpr std::string_view kDerivativeColumns =
    "id, asset_id, stage, stage_version, recipe, params, state, skip_reason, error_code,"
    " error_message, attempts, metadata, blobs, bytes, is_current, created_at, started_at,"
    " finished_at";

template <CatalogRow Row>
Result<Derivative> ReadDerivative(const Row& row) {
  Derivative d;
  d.id = row.Int64(0);
  d.asset_id = row.Text(1);
  d.stage = row.Text(2);
  d.stage_version = static_cast<int>(row.Int64(3));
  d.recipe = row.Text(4);
  const std::string context = "derivative " + std::to_string(d.id);
  auto params = ParseJson(row.Text(5), "derivatives.params");
  if (!params) return Fail(params.error().Wrap(context));
  d.params = std::move(*params);
  auto state = ParseDerivativeState(row.Text(6));
  if (!state) return Fail(state.error().Wrap(context));
  d.state = *state;
  d.skip_reason = row.Text(7);
  d.error_code = row.Text(8);
  d.error_message = row.Text(9);
  d.attempts = static_cast<int>(row.Int64(10));
  auto metadata = ParseJson(row.Text(11), "derivatives.metadata");
  if (!metadata) return Fail(metadata.error().Wrap(context));
  d.metadata = std::move(*metadata);
  auto blobs = BlobsFromJson(row.Text(12));
  if (!blobs) return Fail(blobs.error().Wrap(context));
  d.blobs = std::move(*blobs);
  d.bytes = row.Int64(13);
  d.current = row.Int64(14) != 0;
  d.created_at = row.Int64(15);
  d.started_at = row.OptionalInt64(16).value_or(0);
  d.finished_at = row.OptionalInt64(17).value_or(0);
  return d;
}

// Over `jobs j JOIN assets a ON a.id = j.asset_id`; the job's stages are read apart.
inline constexpr std::string_view kJobColumns =
    "j.id, j.asset_id, a.owner, j.priority, j.state, j.attempts, j.max_attempts, j.run_after,"
    " j.lease_owner, j.lease_expires_at, j.cancel_requested, j.backfill_id, j.last_error_code,"
    " j.last_error_message, j.created_at, j.updated_at, j.started_at, j.finished_at, j.keep_status";

template <CatalogRow Row>
Result<Job> ReadJob(const Row& row) {
  Job job;
  job.id = row.Int64(0);
  job.asset_id = row.Text(1);
  job.owner = row.Text(2);
  job.priority = static_cast<int>(row.Int64(3));
  auto state = ParseJobState(row.Text(4));
  if (!state) return Fail(state.error().Wrap("job " + std::to_string(job.id)));
  job.state = *state;
  job.attempts = static_cast<int>(row.Int64(5));
  job.max_attempts = static_cast<int>(row.Int64(6));
  job.run_after = row.Int64(7);
  job.lease_owner = row.OptionalText(8).value_or("");
  job.lease_expires_at = row.OptionalInt64(9).value_or(0);
  job.cancel_requested = row.Int64(10) != 0;
  job.backfill_id = row.OptionalInt64(11);
  job.last_error_code = row.Text(12);
  job.last_error_message = row.Text(13);
  job.created_at = row.Int64(14);
  job.updated_at = row.Int64(15);
  job.started_at = row.OptionalInt64(16).value_or(0);
  job.finished_at = row.OptionalInt64(17).value_or(0);
  job.keep_status = row.Int64(18) != 0;
  return job;
}

inline constexpr std::string_view kBackfillColumns =
    "id, owner, stages, mode, filter, options, plan, state, stop_reason, driver,"
    " driver_expires_at, created_at, updated_at, started_at, finished_at";

template <CatalogRow Row>
Result<Backfill> ReadBackfill(const Row& row) {
  Backfill backfill;
  backfill.id = row.Int64(0);
  const std::string context = "backfill " + std::to_string(backfill.id);
  backfill.owner = row.OptionalText(1).value_or("");
  auto stages = StagesFromJson(row.Text(2));
  if (!stages) return Fail(stages.error().Wrap(context));
  backfill.stages = std::move(*stages);
  auto mode = ParseBackfillMode(row.Text(3));
  if (!mode) return Fail(mode.error().Wrap(context));
  backfill.mode = *mode;
  for (auto [column, field, what] : {std::tuple{4, &backfill.filter, "backfills.filter"},
                                     std::tuple{5, &backfill.options, "backfills.options"},
                                     std::tuple{6, &backfill.plan, "backfills.plan"}}) {
    auto doc = ParseJson(row.Text(column), what);
    if (!doc) return Fail(doc.error().Wrap(context));
    *field = std::move(*doc);
  }
  auto state = ParseBackfillState(row.Text(7));
  if (!state) return Fail(state.error().Wrap(context));
  backfill.state = *state;
  backfill.stop_reason = row.Text(8);
  backfill.driver = row.OptionalText(9).value_or("");
  backfill.driver_expires_at = row.OptionalInt64(10).value_or(0);
  backfill.created_at = row.Int64(11);
  backfill.updated_at = row.Int64(12);
  backfill.started_at = row.OptionalInt64(13).value_or(0);
  backfill.finished_at = row.OptionalInt64(14).value_or(0);
  return backfill;
}

inline constexpr std::string_view kEventColumns =
    "id, type, owner, asset_id, job_id, backfill_id, data, created_at";

template <CatalogRow Row>
Result<Event> ReadEvent(const Row& row) {
  Event event;
  event.id = row.Int64(0);
  event.type = row.Text(1);
  event.owner = row.Text(2);
  event.asset_id = row.OptionalText(3);
  event.job_id = row.OptionalInt64(4);
  event.backfill_id = row.OptionalInt64(5);
  auto data = ParseJson(row.Text(6), "events.data");
  if (!data) return Fail(data.error().Wrap("event " + std::to_string(event.id)));
  event.data = std::move(*data);
  event.created_at = row.Int64(7);
  return event;
}

inline constexpr std::string_view kSubscriptionColumns =
    "id, owner, url, secret, events, description, origin, created_at, updated_at";

template <CatalogRow Row>
Result<WebhookSubscription> ReadSubscription(const Row& row) {
  WebhookSubscription subscription;
  subscription.id = row.Int64(0);
  subscription.owner = row.Text(1);
  subscription.url = row.Text(2);
  subscription.secret = row.Text(3);
  auto events = EventTypesFromJson(row.Text(4));
  if (!events) {
    return Fail(events.error().Wrap("webhook subscription " + std::to_string(subscription.id)));
  }
  subscription.events = std::move(*events);
  subscription.description = row.Text(5);
  subscription.origin = row.Text(6);
  subscription.created_at = row.Int64(7);
  subscription.updated_at = row.Int64(8);
  return subscription;
}

inline constexpr std::string_view kDeliveryColumns =
    "id, subscription_id, event_id, event_type, payload, state, attempts, next_attempt_at,"
    " last_status, last_error, created_at, updated_at, finished_at";

template <CatalogRow Row>
Result<WebhookDelivery> ReadDelivery(const Row& row) {
  WebhookDelivery delivery;
  delivery.id = row.Int64(0);
  delivery.subscription_id = row.Int64(1);
  delivery.event_id = row.Int64(2);
  delivery.event_type = row.Text(3);
  delivery.payload = row.Text(4);
  auto state = ParseDeliveryState(row.Text(5));
  if (!state) return Fail(std::move(state.error()));
  delivery.state = *state;
  delivery.attempts = static_cast<int>(row.Int64(6));
  delivery.next_attempt_at = row.Int64(7);
  if (auto status = row.OptionalInt64(8)) delivery.last_status = static_cast<int>(*status);
  delivery.last_error = row.Text(9);
  delivery.created_at = row.Int64(10);
  delivery.updated_at = row.Int64(11);
  delivery.finished_at = row.OptionalInt64(12).value_or(0);
  return delivery;
}

inline constexpr std::string_view kTokenColumns =
    "id, name, owner, admin, token_sha256, created_at, last_used_at, revoked_at";

template <CatalogRow Row>
ApiToken ReadToken(const Row& row) {
  ApiToken token;
  token.id = row.Int64(0);
  token.name = row.Text(1);
  token.owner = row.Text(2);
  token.admin = row.Int64(3) != 0;
  token.sha256_hex = row.Text(4);
  token.created_at = row.Int64(5);
  token.last_used_at = row.OptionalInt64(6).value_or(0);
  token.revoked_at = row.OptionalInt64(7).value_or(0);
  return token;
}

inline constexpr std::string_view kImportColumns =
    "id, owner, source, url, name, kind, metadata, parent_id, state, bytes, error_code,"
    " error_message, asset_id, attempts, lease_owner, lease_expires_at, created_at, updated_at,"
    " retry_at";

template <CatalogRow Row>
Result<Import> ReadImport(const Row& row) {
  Import import;
  import.id = row.Text(0);
  const std::string context = "import " + import.id;
  import.owner = row.Text(1);
  auto source = ParseAssetSource(row.Text(2));
  if (!source) return Fail(source.error().Wrap(context));
  import.source = *source;
  import.url = row.Text(3);
  import.name = row.Text(4);
  import.kind = row.Text(5);
  auto metadata = ParseJson(row.Text(6), "imports.metadata");
  if (!metadata) return Fail(metadata.error().Wrap(context));
  import.metadata = std::move(*metadata);
  import.parent_id = row.OptionalText(7);
  auto state = ParseImportState(row.Text(8));
  if (!state) return Fail(state.error().Wrap(context));
  import.state = *state;
  import.bytes = row.Int64(9);
  import.error_code = row.Text(10);
  import.error_message = row.Text(11);
  import.asset_id = row.OptionalText(12);
  import.attempts = static_cast<int>(row.Int64(13));
  import.lease_owner = row.OptionalText(14).value_or("");
  import.lease_expires_at = row.OptionalInt64(15).value_or(0);
  import.created_at = row.Int64(16);
  import.updated_at = row.Int64(17);
  import.retry_at = row.OptionalInt64(18).value_or(0);
  return import;
}

}  // namespace reprise::catalog
