// What --where selects on every catalog backend, checked against a brute-force
// evaluator over the same rows kept in memory: a few thousand assets made with a seeded
// generator (missing durations and sizes, probe results with and without streams, failed
// attempts that must not count, tags for some), about forty written expressions and a
// few hundred generated ones, each through CountAssets and every page of ListAssets.
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "catalog/where.h"
#include "core/clock.h"
#include "tests/support/catalog_backends.h"

namespace reprise::catalog {
namespace {

constexpr int kAssets = 2500;
constexpr int64_t kStart = 1'700'000'000'000'000;
constexpr int64_t kStep = 1'000'000;  // one asset a second

// What the catalog holds about one asset, as the evaluator sees it.
struct Row {
  Asset asset;
  std::optional<nlohmann::json> probe;  // metadata of the current probe result
  std::optional<nlohmann::json> tags;   // metadata of the current tags result
  std::set<std::string> current;        // stages with a current successful result
};

// ---- The brute-force evaluator ----------------------------------------------------------

using Value = std::variant<double, std::string, bool>;

// Every value the field has for the row: none when missing, several for codec and tag.
std::vector<Value> Values(WhereField field, const Row& row) {
  const Asset& a = row.asset;
  auto number = [](const auto& optional) {
    return optional ? std::vector<Value>{static_cast<double>(*optional)} : std::vector<Value>{};
  };
  auto json_value = [](const nlohmann::json* object, const char* key) -> std::vector<Value> {
    if (object == nullptr || !object->contains(key)) return {};
    const auto& v = (*object)[key];
    if (v.is_string()) return {v.get<std::string>()};
    if (v.is_number()) return {v.get<double>()};
    return {};
  };
  auto first_stream = [&row](const std::string& type) -> const nlohmann::json* {
    if (!row.probe) return nullptr;
    for (const auto& stream : (*row.probe)["streams"]) {
      if (stream["type"] != type) continue;
      if (type == "video" && stream.value("attached_picture", false)) continue;
      return &stream;
    }
    return nullptr;
  };
  switch (field) {
    case WhereField::kDuration:
      return number(a.media.duration_seconds);
    case WhereField::kWidth:
      return number(a.media.width);
    case WhereField::kHeight:
      return number(a.media.height);
    case WhereField::kSize:
      return {static_cast<double>(a.size_bytes)};
    case WhereField::kKind:
      return {std::string(Name(a.media.kind))};
    case WhereField::kContainer:
      return {a.media.container};
    case WhereField::kStatus:
      return {std::string(Name(a.status))};
    case WhereField::kSource:
      return {std::string(Name(a.source))};
    case WhereField::kOwner:
      return {a.owner};
    case WhereField::kName:
      return {a.original_name};
    case WhereField::kId:
      return {a.id};
    case WhereField::kCodec: {
      std::vector<Value> codecs;
      if (row.probe) {
        for (const auto& stream : (*row.probe)["streams"]) {
          if (stream.contains("codec")) codecs.emplace_back(stream["codec"].get<std::string>());
        }
      }
      return codecs;
    }
    case WhereField::kVideoCodec:
      return json_value(first_stream("video"), "codec");
    case WhereField::kAudioCodec:
      return json_value(first_stream("audio"), "codec");
    case WhereField::kSampleRate:
      return json_value(first_stream("audio"), "sample_rate");
    case WhereField::kChannels:
      return json_value(first_stream("audio"), "channels");
    case WhereField::kFrameRate:
      return json_value(first_stream("video"), "frame_rate");
    case WhereField::kBitRate:
      return row.probe ? json_value(&*row.probe, "bit_rate") : std::vector<Value>{};
    case WhereField::kHasVideo:
      if (!row.probe) return {};
      return {first_stream("video") != nullptr};
    case WhereField::kHasAudio:
      if (!row.probe) return {};
      return {first_stream("audio") != nullptr};
    case WhereField::kTag: {
      std::vector<Value> tags;
      if (row.tags && row.tags->contains("tags")) {
        for (const auto& tag : (*row.tags)["tags"]) tags.emplace_back(tag.get<std::string>());
      }
      return tags;
    }
  }
  return {};
}

Value Literal(const WhereValue& value) {
  if (const auto* i = std::get_if<int64_t>(&value)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&value)) return *d;
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  return std::get<bool>(value);
}

bool Holds(const Value& left, WhereOp op, const Value& right) {
  switch (op) {
    case WhereOp::kEq:
      return left == right;
    case WhereOp::kNe:
      return left != right;
    case WhereOp::kLt:
      return left < right;
    case WhereOp::kLe:
      return left <= right;
    case WhereOp::kGt:
      return left > right;
    case WhereOp::kGe:
      return left >= right;
  }
  return false;
}

// Two-valued: a term over a missing value is false, and `not` of it true.
bool Eval(const WhereExpr& expr, const Row& row) {
  switch (expr.kind) {
    case WhereExpr::Kind::kOr:
      return std::any_of(expr.children.begin(), expr.children.end(),
                         [&row](const auto& child) { return Eval(*child, row); });
    case WhereExpr::Kind::kAnd:
      return std::all_of(expr.children.begin(), expr.children.end(),
                         [&row](const auto& child) { return Eval(*child, row); });
    case WhereExpr::Kind::kNot:
      return !Eval(*expr.children[0], row);
    case WhereExpr::Kind::kHas:
      return row.current.count(expr.stage) > 0;
    case WhereExpr::Kind::kCompare:
    case WhereExpr::Kind::kIn:
      for (const Value& value : Values(expr.field, row)) {
        for (const WhereValue& literal : expr.values) {
          WhereOp op = expr.kind == WhereExpr::Kind::kIn ? WhereOp::kEq : expr.op;
          if (Holds(value, op, Literal(literal))) return true;
        }
      }
      return false;
  }
  return false;
}

// ---- The library --------------------------------------------------------------------------

template <class T>
const T& Pick(std::mt19937_64& rng, const std::vector<T>& choices) {
  return choices[std::uniform_int_distribution<size_t>(0, choices.size() - 1)(rng)];
}

bool Chance(std::mt19937_64& rng, double p) { return std::bernoulli_distribution(p)(rng); }

const std::vector<std::string> kVideoCodecs = {"h264", "hevc", "vp9", "av1"};
const std::vector<std::string> kAudioCodecs = {"aac", "mp3", "opus", "pcm_s16le"};
const std::vector<std::string> kPictureCodecs = {"mjpeg", "png"};
const std::vector<std::string> kTags = {"dog", "cat", "beach", "night", "music", "it's"};
const std::vector<std::string> kOwners = {"alice", "bob", "carol"};
const std::vector<std::string> kContainers = {"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "mp3",
                                              "wav", ""};
const std::vector<std::string> kStages = {"probe", "thumbnail", "transcript", "tags", "waveform"};
const std::vector<int> kWidths = {320, 640, 1280, 1920, 3840};
const std::vector<int> kSampleRates = {8000, 44100, 48000};
const std::vector<int> kChannels = {1, 2, 6};
const std::vector<double> kFrameRates = {23.976, 25, 29.97, 30, 60};

nlohmann::json ProbeMetadata(std::mt19937_64& rng) {
  nlohmann::json doc = {{"container", "mov,mp4,m4a,3gp,3g2,mj2"}, {"kind", "video"}};
  if (Chance(rng, 0.8))
    doc["bit_rate"] = std::uniform_int_distribution<int64_t>(8000, 9'000'000)(rng);
  nlohmann::json streams = nlohmann::json::array();
  int count = std::uniform_int_distribution<int>(0, 3)(rng);
  for (int i = 0; i < count; ++i) {
    nlohmann::json s = {{"index", i}};
    int type = std::uniform_int_distribution<int>(0, 9)(rng);
    if (type < 4) {
      bool picture = Chance(rng, 0.25);
      s["type"] = "video";
      s["attached_picture"] = picture;
      if (Chance(rng, 0.95))
        s["codec"] = picture ? Pick(rng, kPictureCodecs) : Pick(rng, kVideoCodecs);
      if (Chance(rng, 0.8)) s["frame_rate"] = Pick(rng, kFrameRates);
    } else if (type < 9) {
      s["type"] = "audio";
      if (Chance(rng, 0.95)) s["codec"] = Pick(rng, kAudioCodecs);
      if (Chance(rng, 0.9)) s["sample_rate"] = Pick(rng, kSampleRates);
      if (Chance(rng, 0.9)) s["channels"] = Pick(rng, kChannels);
    } else {
      s["type"] = "subtitle";
      s["codec"] = "mov_text";
    }
    streams.push_back(std::move(s));
  }
  doc["streams"] = std::move(streams);
  return doc;
}

// One library per backend (SQLite first), built by the backend's first test and shared
// by the rest; the static pointers point into the one the running test is about.
class WhereOracle : public ::testing::TestWithParam<CatalogBackend> {
 protected:
  struct Library {
    std::unique_ptr<CatalogTestEnv> env;
    FakeClock clock{kStart};
    std::unique_ptr<Catalog> catalog;  // after clock, which it uses
    std::vector<Row> rows;
  };

  static void TearDownTestSuite() {
    delete libraries_;
    libraries_ = nullptr;
  }

  void SetUp() override {
    if (libraries_ == nullptr) libraries_ = new std::map<std::string, std::unique_ptr<Library>>();
    std::unique_ptr<Library>& library = (*libraries_)[GetParam().name];
    if (library == nullptr) {
      auto made = std::make_unique<Library>();
      made->env = GetParam().make_env();
      auto opened = made->env->Connect(made->clock);
      ASSERT_TRUE(opened) << opened.error().ToString();
      made->catalog = std::move(*opened);
      library = std::move(made);
      Use(*library);
      std::mt19937_64 rng(20260102);
      for (int i = 0; i < kAssets; ++i) rows_->push_back(MakeAsset(rng, i));
    }
    Use(*library);
  }

  static void Use(Library& library) {
    clock_ = &library.clock;
    catalog_ = library.catalog.get();
    rows_ = &library.rows;
  }

  // Runs a stage on the asset: `done` with metadata, or a failed attempt.
  static void Run(Row& row, const std::string& stage, bool done, const nlohmann::json& metadata) {
    auto id = catalog_->StartDerivative(row.asset.id, stage, 1, stage + "-r1", {});
    ASSERT_TRUE(id) << id.error().ToString();
    DerivativeOutcome outcome;
    if (done) {
      outcome.metadata = metadata;
      // A tags stage reports its tags as search entries, which `tag` reads.
      if (metadata.contains("tags")) {
        for (const auto& tag : metadata["tags"]) {
          outcome.search.push_back({"tag", tag.get<std::string>(), -1, -1, -1});
        }
      }
    } else {
      outcome.state = DerivativeState::kFailed;
      outcome.error = Error{ErrorCode::kUnsupportedMedia, "no", {}};
    }
    auto completed = catalog_->CompleteDerivative(*id, outcome);
    ASSERT_TRUE(completed) << completed.error().ToString();
    if (!done) return;
    row.current.insert(stage);
    if (stage == "probe") row.probe = metadata;
    if (stage == "tags") row.tags = metadata;
  }

  static Row MakeAsset(std::mt19937_64& rng, int i) {
    NewAsset asset;
    asset.id = fmt::format("asset-{:05}", i);
    asset.owner = Pick(rng, kOwners);
    asset.source = static_cast<AssetSource>(std::uniform_int_distribution<int>(0, 3)(rng));
    asset.sha256_hex = fmt::format("{:064x}", i);
    asset.cid = "cid" + std::to_string(i);
    asset.size_bytes = std::uniform_int_distribution<int64_t>(0, 2'000'000'000)(rng);
    asset.original_key = "originals/" + asset.id;
    const std::vector<std::string> names = {"clip.mp4", "it's \"quoted\".mov", "caf\xc3\xa9.wav",
                                            "x'; DROP TABLE assets; --", "song.mp3"};
    asset.original_name = Pick(rng, names);
    asset.source_uri = "/media/" + asset.original_name;
    asset.media.kind = static_cast<AssetKind>(std::uniform_int_distribution<int>(0, 3)(rng));
    asset.media.container = Pick(rng, kContainers);
    if (Chance(rng, 0.85)) {
      asset.media.duration_seconds = std::uniform_int_distribution<int>(0, 30000)(rng) / 100.0;
    }
    if (Chance(rng, 0.8)) {
      asset.media.width = Pick(rng, kWidths);
      asset.media.height = *asset.media.width * 9 / 16;
    }
    clock_->Advance(kStep);
    auto inserted = catalog_->InsertAsset(asset);
    EXPECT_TRUE(inserted) << inserted.error().ToString();
    Row row;
    row.asset = inserted->asset;
    auto status = static_cast<AssetStatus>(std::uniform_int_distribution<int>(0, 3)(rng));
    EXPECT_TRUE(catalog_->SetAssetStatus(asset.id, status));
    row.asset.status = status;

    if (Chance(rng, 0.75)) {
      Run(row, "probe", true, ProbeMetadata(rng));
      // A later failed attempt keeps the result current.
      if (Chance(rng, 0.1)) Run(row, "probe", false, {});
    } else if (Chance(rng, 0.3)) {
      Run(row, "probe", false, {});
    }
    // An older result's tags must not count once a newer one is current.
    if (i % 7 == 0) Run(row, "tags", true, {{"tags", kTags}, {"model", "older"}});
    if (Chance(rng, 0.3)) {
      nlohmann::json tags = nlohmann::json::array();
      for (const auto& tag : kTags) {
        if (Chance(rng, 0.3)) tags.push_back(tag);
      }
      Run(row, "tags", true, {{"tags", tags}, {"model", "builtin"}});
    }
    if (Chance(rng, 0.4)) Run(row, "thumbnail", Chance(rng, 0.8), {{"width", 320}});
    if (Chance(rng, 0.15)) Run(row, "transcript", true, {{"text", "dog"}});
    return row;
  }

  // Checks CountAssets and every page of ListAssets against the evaluator.
  static void Check(const std::string& text, AssetFilter filter = {}) {
    SCOPED_TRACE(text);
    auto parsed = ParseWhere(text);
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(ToString(**ParseWhere(ToString(**parsed))), ToString(**parsed));
    filter.where = *parsed;
    std::vector<std::string> expected;
    for (const Row& row : *rows_) {
      const Asset& a = row.asset;
      if (filter.owner && a.owner != *filter.owner) continue;
      if (filter.created_after && a.created_at < *filter.created_after) continue;
      if (filter.created_before && a.created_at >= *filter.created_before) continue;
      if (Eval(**parsed, row)) expected.push_back(a.id);
    }
    auto count = catalog_->CountAssets(filter);
    ASSERT_TRUE(count) << count.error().ToString();
    EXPECT_EQ(*count, static_cast<int64_t>(expected.size()));

    std::vector<std::string> listed;
    PageRequest page{"", 1000};
    while (true) {
      auto result = catalog_->ListAssets(filter, page);
      ASSERT_TRUE(result) << result.error().ToString();
      for (const auto& asset : result->items) listed.push_back(asset.id);
      if (result->next_cursor.empty()) break;
      page.cursor = result->next_cursor;
    }
    EXPECT_EQ(listed, expected);
    ++checked_;
    if (!expected.empty() && expected.size() < rows_->size()) ++selective_;
  }

  static inline std::map<std::string, std::unique_ptr<Library>>* libraries_ = nullptr;
  static inline FakeClock* clock_ = nullptr;
  static inline Catalog* catalog_ = nullptr;
  static inline std::vector<Row>* rows_ = nullptr;
  static inline int checked_ = 0;
  static inline int selective_ = 0;
};

INSTANTIATE_TEST_SUITE_P(Backends, WhereOracle, ::testing::ValuesIn(CatalogBackends()),
                         BackendName);

TEST_P(WhereOracle, WrittenExpressionsSelectWhatTheEvaluatorSelects) {
  const std::vector<std::string> expressions = {
      "duration > 60",
      "not (duration > 60)",
      "duration <= 60 or not duration <= 60",
      "duration > 60 and width >= 1280",
      "duration = 0",
      "duration != 12.5",
      "width in (1280, 1920)",
      "not width in (1280, 1920)",
      "height < 400.5",
      "size >= 1000000000",
      "size < -1",
      "kind = \"video\"",
      "kind in (\"audio\", \"image\") and status != \"failed\"",
      "status = \"ready\" or source = \"scan\"",
      "owner = \"alice\" and container = \"\"",
      "container = \"mov,mp4,m4a,3gp,3g2,mj2\"",
      "name = \"x'; DROP TABLE assets; --\"",
      R"(name = "it's \"quoted\".mov")",
      "name = \"caf\xc3\xa9.wav\"",
      "id = \"asset-00042\" or id in (\"asset-00007\", \"asset-02000\", \"nope\")",
      "codec = \"h264\"",
      "codec in (\"aac\", \"opus\")",
      "not codec = \"h264\"",
      "codec = \"mjpeg\" and not video_codec = \"mjpeg\"",
      "video_codec = \"hevc\"",
      "video_codec != \"h264\"",
      "audio_codec = \"mp3\" and sample_rate >= 44100",
      "channels > 2",
      "not channels > 2",
      "frame_rate = 23.976",
      "frame_rate >= 29.97 and frame_rate < 60",
      "bit_rate > 4000000",
      "not bit_rate > 4000000",
      "has_video = true",
      "has_video = false and has_audio = true",
      "has_audio != true",
      "tag = \"dog\"",
      "tag in (\"cat\", \"beach\") and not tag = \"night\"",
      "tag = \"it's\"",
      "not tag = \"dog\"",
      "has(probe)",
      "not has(transcript)",
      "has(thumbnail) and not has(probe)",
      "has(waveform) or has(nothing_here)",
      "has(tags) and not tag in (\"dog\", \"cat\", \"beach\", \"night\", \"music\", \"it's\")",
      "(duration > 100 or codec = \"vp9\") and (not has(thumbnail) or status = \"pending\")",
  };
  const int before = selective_;
  for (const auto& text : expressions) Check(text);
  EXPECT_GE(selective_ - before, 40) << "most written expressions should select some but not all";
}

TEST_P(WhereOracle, CreatedWindowsAndOwnerCombineWithWhere) {
  int64_t first = (*rows_)[0].asset.created_at;
  ASSERT_EQ(first, kStart + kStep);
  AssetFilter window;
  window.created_after = first + 100 * kStep;
  window.created_before = first + 900 * kStep;
  Check("duration > 30", window);
  window.owner = "bob";
  Check("has(probe) and not has(thumbnail)", window);

  // [after, before): consecutive windows cover every asset exactly once.
  int64_t total = 0;
  for (int64_t from = first; from < first + kAssets * kStep; from += 777 * kStep) {
    AssetFilter slice;
    slice.created_after = from;
    slice.created_before = from + 777 * kStep;
    auto count = catalog_->CountAssets(slice);
    ASSERT_TRUE(count);
    total += *count;
  }
  EXPECT_EQ(total, kAssets);
  AssetFilter exact;
  exact.created_after = first;
  exact.created_before = first + 1;
  EXPECT_EQ(catalog_->CountAssets(exact).value(), 1);
}

TEST_P(WhereOracle, WhereScopesStageCountsQueueStatsAndQuarantine) {
  AssetFilter filter;
  filter.where = ParseWhere("codec = \"h264\" and not has(transcript)").value();
  int64_t selected = catalog_->CountAssets(filter).value();
  ASSERT_GT(selected, 0);
  auto counts = catalog_->CountStageStatuses({"thumbnail", "thumbnail-r1"}, filter);
  ASSERT_TRUE(counts) << counts.error().ToString();
  EXPECT_EQ(counts->current + counts->outdated + counts->missing + counts->failed +
                counts->skipped + counts->quarantined,
            selected);
  EXPECT_TRUE(catalog_->GetQueueStats(filter)) << "where over jobs j JOIN assets a";
  EXPECT_TRUE(catalog_->ListQuarantine(filter));
  const Row& row = (*rows_)[3];
  filter.where = ParseWhere("id = \"" + row.asset.id + "\"").value();
  EXPECT_TRUE(catalog_->GetAsset(row.asset.id, filter));
  filter.where = ParseWhere("not id = \"" + row.asset.id + "\"").value();
  EXPECT_EQ(catalog_->GetAsset(row.asset.id, filter).error().code, ErrorCode::kNotFound);
}

// Random expressions over the fields, with values drawn from what the rows hold (plus
// some that no row holds), nested up to a few levels.
class ExpressionGenerator {
 public:
  explicit ExpressionGenerator(uint64_t seed) : rng_(seed) {}

  std::string Next(int depth = 0) {
    int choice = std::uniform_int_distribution<int>(0, depth >= 3 ? 5 : 9)(rng_);
    if (choice <= 4) return Leaf();
    if (choice == 5) return "has(" + Pick(rng_, kStages) + ")";
    if (choice == 6) return "not " + Wrap(Next(depth + 1));
    std::string op = choice == 9 ? " or " : " and ";
    return Wrap(Next(depth + 1)) + op + Wrap(Next(depth + 1));
  }

 private:
  // Parentheses or not: the parse decides what it means, and the evaluator follows it.
  std::string Wrap(const std::string& text) { return Chance(rng_, 0.5) ? "(" + text + ")" : text; }

  std::string Number(WhereField field) {
    switch (field) {
      case WhereField::kDuration:
        return fmt::format("{}", std::uniform_int_distribution<int>(-10, 31000)(rng_) / 100.0);
      case WhereField::kWidth:
      case WhereField::kHeight:
        return std::to_string(Pick(rng_, kWidths) * (Chance(rng_, 0.5) ? 1 : 9) /
                              (Chance(rng_, 0.5) ? 1 : 16));
      case WhereField::kSize:
        return std::to_string(std::uniform_int_distribution<int64_t>(0, 2'000'000'000)(rng_));
      case WhereField::kSampleRate:
        return std::to_string(Pick(rng_, kSampleRates));
      case WhereField::kChannels:
        return std::to_string(Pick(rng_, kChannels));
      case WhereField::kFrameRate:
        return fmt::format("{}", Pick(rng_, kFrameRates));
      default:
        return std::to_string(std::uniform_int_distribution<int64_t>(0, 9'000'000)(rng_));
    }
  }

  std::string String(WhereField field) {
    std::vector<std::string> pool;
    switch (field) {
      case WhereField::kKind:
        pool = {"unknown", "video", "audio", "image"};
        break;
      case WhereField::kStatus:
        pool = {"pending", "processing", "ready", "failed"};
        break;
      case WhereField::kSource:
        pool = {"upload", "url", "webhook", "scan"};
        break;
      case WhereField::kContainer:
        pool = kContainers;
        break;
      case WhereField::kOwner:
        pool = kOwners;
        break;
      case WhereField::kName:
        pool = {"clip.mp4", "song.mp3", "x'; DROP TABLE assets; --", "nope"};
        break;
      case WhereField::kId:
        pool = {"asset-00001", "asset-00100", "asset-01234", "missing"};
        break;
      case WhereField::kTag:
        pool = kTags;
        break;
      default:
        pool = kVideoCodecs;
        pool.insert(pool.end(), kAudioCodecs.begin(), kAudioCodecs.end());
        pool.insert(pool.end(), kPictureCodecs.begin(), kPictureCodecs.end());
        pool.push_back("mov_text");
    }
    std::string value = Pick(rng_, pool);
    std::string quoted = "\"";
    for (char c : value) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    return quoted + "\"";
  }

  std::string Leaf() {
    const auto fields = WhereFields();
    const WhereFieldInfo& info =
        fields[std::uniform_int_distribution<size_t>(0, fields.size() - 1)(rng_)];
    std::string name(info.name);
    if (info.type == WhereType::kBool) {
      return name + (Chance(rng_, 0.5) ? " = " : " != ") + (Chance(rng_, 0.5) ? "true" : "false");
    }
    auto value = [&] {
      return info.type == WhereType::kNumber ? Number(info.field) : String(info.field);
    };
    if (Chance(rng_, 0.2)) {
      std::string list = name + " in (" + value();
      int more = std::uniform_int_distribution<int>(0, 3)(rng_);
      for (int i = 0; i < more; ++i) list += ", " + value();
      return list + ")";
    }
    std::vector<std::string> ops = {"="};
    if (!info.many) ops.push_back("!=");
    if (info.type == WhereType::kNumber) ops.insert(ops.end(), {"<", "<=", ">", ">="});
    return name + " " + Pick(rng_, ops) + " " + value();
  }

  std::mt19937_64 rng_;
};

TEST_P(WhereOracle, GeneratedExpressionsSelectWhatTheEvaluatorSelects) {
  ExpressionGenerator generator(4242);
  const int before = checked_;
  for (int i = 0; i < 300; ++i) {
    AssetFilter filter;
    if (i % 7 == 0) filter.owner = kOwners[i % kOwners.size()];
    Check(generator.Next(), filter);
    if (HasFatalFailure()) return;
  }
  EXPECT_EQ(checked_ - before, 300);
}

}  // namespace
}  // namespace reprise::catalog
