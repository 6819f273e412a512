// RunStages: runs a set of due stages on one original with a single demux/decode pass.
//
// The original is opened once (media::Input) and probed once; each stage is asked for
// its skip reason, then started; the runs that want decoded video, decoded audio or
// packets are fed from one media::RunDecodePass, which converts per distinct request
// and stops reading as soon as no run wants more; then the runs are finished with their
// OutputSinks, all at once (a thread per run, this thread keeping the heartbeat), so one
// stage's waits (its encoder threads, fsync) overlap another's work.
//
// A stage that returns an error or throws (from SkipReason, Start, an On* method or
// Finish) is recorded as failed with that error (kInternal for exceptions); the others
// still complete. When the input becomes unreadable mid-way (kIo) or options.on_progress
// returns an error (cancellation, lost lease), runs still being fed fail with that error
// while runs that already had what they needed still finish. on_progress is also called
// before the Finish() calls and then every finish_heartbeat_micros until they return (a
// heartbeat for work done after the pass, such as an encode flushed); its error there is
// ignored.
//
// Stages that consume other stages of the same run (Stage::Inputs()) run after them, in
// waves: first every stage whose inputs are not in the run, then those whose inputs all
// ran, and so on. A later wave that wants decoded data reads the original again (a
// consumer of results, such as one reading keyframes, does not). options.on_outcome
// hears each outcome as soon as its wave ends, before the next wave starts, so the caller
// can record it and make it an input (StageTask::inputs) of what follows. A consumer is
// started with StartWith() only when StageInputs::Get() has a result for every input;
// otherwise it fails with Get()'s error, prefixed by the input's name.
//
// RunStages returns an error only when the input cannot be opened at all (Input::Open()'s
// errors: kIo, kUnsupportedMedia); callers then fail every stage with it. Thread-safety:
// one call per thread; stages are shared read-only, sinks are per task and each is used
// by one thread at a time (Finish() may run on a thread of its own).
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/io.h"
#include "media/decode_pass.h"
#include "media/media_info.h"
#include "stages/stage.h"

namespace reprise::stages {

struct StageTask {
  const Stage* stage = nullptr;
  OutputSink* sink = nullptr;  // where this stage's files go
  // The results of its inputs, for a stage with Inputs() (required then).
  const StageInputs* inputs = nullptr;
};

struct StageOutcome {
  const Stage* stage = nullptr;
  catalog::DerivativeState state = catalog::DerivativeState::kDone;  // kDone, kFailed, kSkipped
  std::string skip_reason;                                           // kSkipped
  std::optional<Error> error;                                        // kFailed
  StageResult result;  // kDone, or kSkipped by the run's own StageResult::skip_reason
};

// Decoder threads and the progress/cancellation hook of the decode pass.
struct RunOptions : media::PassOptions {
  // While the runs finish, on_progress is called this often too (a heartbeat: an encode
  // flushed or a long publish must not let a job's lease lapse).
  int64_t finish_heartbeat_micros = 1'000'000;
  // Called with each task's final outcome (by index into the tasks) when its wave ends,
  // before any stage of a later wave starts; the report carries the same outcomes.
  std::function<void(size_t task, const StageOutcome& outcome)> on_outcome;
};
// Packets read and frames decoded by the one pass, so callers (and tests) can see that
// the input was read once and how early it stopped.
using RunStats = media::PassStats;

struct RunReport {
  media::MediaInfo info;
  std::vector<StageOutcome> outcomes;  // one per task, same order
  RunStats stats;
  std::optional<Error> demux_error;  // a demuxer error that ended the input early
};

// What the catalog records for an outcome (CompleteDerivative): the run's state, reason,
// error, metadata and asset summary plus the files its sink committed.
catalog::DerivativeOutcome ToDerivativeOutcome(StageOutcome outcome,
                                               std::vector<catalog::OutputBlob> blobs);

[[nodiscard]] Result<RunReport> RunStages(ByteReader& original, std::span<const StageTask> tasks,
                                          const RunOptions& options = {});

}  // namespace reprise::stages
