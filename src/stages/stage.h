// Stage: a named, versioned processor that turns one asset into one derivative.
//
// A stage declares its params (defaults merged with `[stages.NAME]` config; they are part
// of its recipe), the other stages whose outputs it consumes, what it needs from the
// single demux/decode pass (container info only, decoded video frames at a requested
// size, decoded audio in a requested format, packets), and whether it applies to an
// input (a skip reason such as "no_video_stream" when it does not).
//
// Stages know nothing of scheduling, the catalog or blob backends: the runner
// (stages/runner.h) opens the input once, feeds every due stage from one decode loop and
// hands each an OutputSink to write its files. Stage objects are immutable after
// construction and may be used from many threads; a StageRun serves one asset.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "blob/blob_store.h"
#include "catalog/types.h"
#include "core/error.h"
#include "core/io.h"
#include "media/media_info.h"

namespace reprise::stages {

// Where a stage run writes its output files. Each Create() names one file of the
// derivative; the sink decides its blob key (assets/{id}/{stage}/{attempt}/{name}, see
// docs/adr/0001).
// Commit() on a writer from Create() publishes under that key: callers pass the file
// name, and a sink may ignore the argument. WriteOutput() is the usual way to do both
// steps for a small file.
class OutputSink {
 public:
  virtual ~OutputSink() = default;
  // A writer for the file `name`; give it the file's media type (SetContentType) before
  // Commit() so stores that keep types serve it right.
  [[nodiscard]] virtual Result<std::unique_ptr<blob::BlobWriter>> Create(std::string_view name) = 0;
  // Records a committed file as part of the derivative's outputs.
  virtual void Add(catalog::OutputBlob blob) = 0;
};

// Writes a small in-memory file through the sink and records it.
Result<catalog::OutputBlob> WriteOutput(OutputSink& sink, std::string_view name,
                                        std::string_view content_type, std::string_view data);

// What a finished run reports; files were already written through the OutputSink.
// A run that finds only at the end that the stage does not apply to the input (the
// transcript stage hearing no speech) sets skip_reason: the runner records the stage as
// skipped with that reason and its metadata, and no files (it should have written none).
struct StageResult {
  nlohmann::json metadata = nlohmann::json::object();
  std::optional<catalog::MediaSummary> asset_media;  // probe only
  std::optional<std::string> skip_reason;            // e.g. "no_speech"
  // Text the run found, for full-text search (catalog::SearchEntry); kept only when done.
  std::vector<catalog::SearchEntry> search;
};

// One input of a consumer stage as it sees it: the input stage's result for this asset
// under today's recipe, built earlier in the same job or found in the catalog.
struct InputResult {
  std::string stage;
  catalog::DerivativeState state = catalog::DerivativeState::kDone;  // kDone or kSkipped
  std::string skip_reason;                                           // kSkipped
  nlohmann::json metadata = nlohmann::json::object();
  std::vector<catalog::OutputBlob> outputs;  // kDone: its files
};

// The inputs of one consumer run (a stage with Inputs()). The runner starts a consumer
// only once every input has a result here; Get() tells why one has none.
class StageInputs {
 public:
  virtual ~StageInputs() = default;
  // The input's result, or why there is none usable: the code and message of its failure
  // in this job, or kUnavailable when it has no result under today's recipe.
  [[nodiscard]] virtual Result<const InputResult*> Get(std::string_view stage) const = 0;
  // Opens the file `name` of an input's outputs; kNotFound when it has no such file.
  [[nodiscard]] virtual Result<std::unique_ptr<ByteReader>> Open(std::string_view stage,
                                                                 std::string_view name) const = 0;
};

// Reads a file of an input whole (JSON, a keyframe): kInvalidArgument when it is larger
// than `max_bytes`, so a consumer's memory stays bounded whatever an input wrote.
Result<std::string> ReadInputFile(const StageInputs& inputs, std::string_view stage,
                                  std::string_view name, int64_t max_bytes);

// What a stage needs from the one decode pass. Scaling/resampling is done once per
// distinct request by the runner, not per stage (see media/decode_pass.h).
using VideoRequest = media::VideoRequest;
using AudioRequest = media::AudioRequest;

struct Consumption {
  std::optional<VideoRequest> video{};  // decoded video frames (or the cover picture)
  std::optional<AudioRequest> audio{};  // decoded audio samples
  bool packets = false;                 // demuxed packets of every stream
};

using Feed = media::Feed;

// A service a stage calls (`[services.NAME]`, core/config.h) and the models it asks it
// for: `reprise doctor` and a backfill's health check call each before work is sent.
struct ServiceUse {
  std::string service;
  std::vector<std::string> models;

  bool operator==(const ServiceUse&) const = default;
};

// One stage working on one asset. The runner calls the On* methods for what the stage
// asked for, in presentation order, until it returns Feed::kDone or the input ends,
// then Finish() exactly once. When the run is abandoned instead (an On* method threw,
// the input became unreadable, the job was cancelled) the StageRun is destroyed without
// Finish(), so nothing it wrote is recorded as a result.
class StageRun {
 public:
  virtual ~StageRun() = default;
  virtual Feed OnVideoFrame(const media::VideoFrame& /*frame*/) { return Feed::kDone; }
  virtual Feed OnAudio(const media::AudioBuffer& /*audio*/) { return Feed::kDone; }
  virtual Feed OnPacket(const media::PacketView& /*packet*/) { return Feed::kDone; }
  // `input_ended` is true when the stream ended before the stage said kDone.
  [[nodiscard]] virtual Result<StageResult> Finish(OutputSink& sink, bool input_ended) = 0;
};

class Stage {
 public:
  virtual ~Stage() = default;
  [[nodiscard]] virtual std::string_view Name() const = 0;
  [[nodiscard]] virtual int Version() const = 0;
  // Effective params (defaults merged with config); part of the recipe.
  [[nodiscard]] virtual const nlohmann::json& Params() const = 0;
  // Names of stages whose outputs this one consumes (their recipes feed its recipe).
  [[nodiscard]] virtual std::vector<std::string> Inputs() const { return {}; }
  // The services its runs call under today's params (none for a stage that works offline).
  [[nodiscard]] virtual std::vector<ServiceUse> Services() const { return {}; }
  [[nodiscard]] virtual Consumption Consumes() const = 0;
  // Why the stage does not apply to this input ("no_video_stream"), or nullopt.
  [[nodiscard]] virtual std::optional<std::string> SkipReason(
      const media::MediaInfo& info) const = 0;
  [[nodiscard]] virtual Result<std::unique_ptr<StageRun>> Start(
      const media::MediaInfo& info) const = 0;
  // How the runner starts a stage with Inputs(), once each input has its result (earlier
  // in the same job or in the catalog); `inputs` outlives the run. The default ignores them.
  [[nodiscard]] virtual Result<std::unique_ptr<StageRun>> StartWith(
      const media::MediaInfo& info, const StageInputs& inputs) const {
    static_cast<void>(inputs);
    return Start(info);
  }
};

}  // namespace reprise::stages
