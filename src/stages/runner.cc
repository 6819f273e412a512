#include "stages/runner.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "media/input.h"
#include "media/libav_log.h"
#include "media/probe.h"

namespace reprise::stages {
namespace {

Error Thrown(const Stage& stage, std::string_view where) {
  std::string what;
  try {
    throw;
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "unknown exception";
  }
  return Error{
      ErrorCode::kInternal,
      "stage " + std::string(stage.Name()) + " threw in " + std::string(where) + ": " + what,
      {}};
}

// Adapts a StageRun to the decode pass: exceptions stay on this side, as a failure of
// that one stage, and stop its feeding.
class GuardedRun final : public media::FrameConsumer {
 public:
  GuardedRun(const Stage& stage, std::unique_ptr<StageRun> run)
      : stage_(stage), run_(std::move(run)) {}

  media::Feed OnVideoFrame(const media::VideoFrame& frame) override {
    return Guard("OnVideoFrame", [&] { return run_->OnVideoFrame(frame); });
  }
  media::Feed OnAudio(const media::AudioBuffer& audio) override {
    return Guard("OnAudio", [&] { return run_->OnAudio(audio); });
  }
  media::Feed OnPacket(const media::PacketView& packet) override {
    return Guard("OnPacket", [&] { return run_->OnPacket(packet); });
  }

  StageRun& run() { return *run_; }
  const std::optional<Error>& thrown() const { return thrown_; }

 private:
  template <class Call>
  media::Feed Guard(std::string_view where, Call&& call) {
    try {
      return call();
    } catch (...) {
      thrown_ = Thrown(stage_, where);
      return media::Feed::kDone;
    }
  }

  const Stage& stage_;
  std::unique_ptr<StageRun> run_;
  std::optional<Error> thrown_;
};

bool WantsAnything(const Consumption& wants) {
  return wants.video.has_value() || wants.audio.has_value() || wants.packets;
}

}  // namespace

catalog::DerivativeOutcome ToDerivativeOutcome(StageOutcome outcome,
                                               std::vector<catalog::OutputBlob> blobs) {
  catalog::DerivativeOutcome recorded;
  recorded.state = outcome.state;
  recorded.skip_reason = std::move(outcome.skip_reason);
  recorded.error = std::move(outcome.error);
  recorded.metadata = std::move(outcome.result.metadata);
  recorded.asset_media = std::move(outcome.result.asset_media);
  if (outcome.state == catalog::DerivativeState::kDone) {
    recorded.blobs = std::move(blobs);
    recorded.search = std::move(outcome.result.search);
  }
  return recorded;
}

namespace {

// Each task's wave: 0 when none of its inputs is in the run, else one more than the
// latest wave among them. Registries reject cycles; tasks from elsewhere that form one
// stop growing after as many rounds as there are tasks.
std::vector<int> WavesOf(std::span<const StageTask> tasks) {
  std::vector<int> wave(tasks.size(), 0);
  for (size_t round = 0; round < tasks.size(); ++round) {
    bool changed = false;
    for (size_t i = 0; i < tasks.size(); ++i) {
      for (const auto& input : tasks[i].stage->Inputs()) {
        for (size_t j = 0; j < tasks.size(); ++j) {
          if (tasks[j].stage->Name() == input && wave[j] + 1 > wave[i]) {
            wave[i] = wave[j] + 1;
            changed = true;
          }
        }
      }
    }
    if (!changed) break;
  }
  return wave;
}

// Runs one wave of stages over `input` (nullptr when it could not be opened again for
// this wave: stages that want decoded data then fail with `reopen_error`).
class Wave {
 public:
  Wave(std::span<const StageTask> tasks, std::vector<size_t> members, RunReport& report,
       const RunOptions& options)
      : tasks_(tasks), members_(std::move(members)), report_(report), options_(options) {}

  // Whether some member wants decoded data (so the wave needs a decode pass).
  bool WantsDecoding() const {
    return std::any_of(members_.begin(), members_.end(),
                       [&](size_t i) { return WantsAnything(tasks_[i].stage->Consumes()); });
  }

  void Run(media::Input* input, const std::optional<Error>& reopen_error) {
    StartAll(input == nullptr ? reopen_error : std::nullopt);
    if (!subscriptions_.empty() && input != nullptr) Decode(*input);
    FinishAll();
  }

 private:
  void Fail(size_t i, Error error) {
    StageOutcome& outcome = report_.outcomes[i];
    outcome.state = catalog::DerivativeState::kFailed;
    outcome.error = std::move(error);
    runs_[i].reset();
  }

  // Skips, fails or starts each member; remembers which run feeds from which subscription.
  void StartAll(const std::optional<Error>& cannot_decode) {
    runs_.resize(tasks_.size());
    subscription_of_.assign(tasks_.size(), SIZE_MAX);
    for (size_t i : members_) {
      const Stage& stage = *tasks_[i].stage;
      StageOutcome& outcome = report_.outcomes[i];
      if (auto missing = MissingInput(tasks_[i])) {
        Fail(i, std::move(*missing));
        continue;
      }
      try {
        if (auto reason = stage.SkipReason(report_.info)) {
          outcome.state = catalog::DerivativeState::kSkipped;
          outcome.skip_reason = std::move(*reason);
          continue;
        }
      } catch (...) {
        Fail(i, Thrown(stage, "SkipReason"));
        continue;
      }
      Consumption wants;
      try {
        wants = stage.Consumes();
        if (WantsAnything(wants) && cannot_decode) {
          Fail(i, *cannot_decode);
          continue;
        }
        const bool consumer = !stage.Inputs().empty();  // MissingInput() saw its inputs
        auto run =
            consumer ? stage.StartWith(report_.info, *tasks_[i].inputs) : stage.Start(report_.info);
        if (!run) {
          Fail(i, run.error());
          continue;
        }
        runs_[i] = std::make_unique<GuardedRun>(stage, std::move(*run));
      } catch (...) {
        Fail(i, Thrown(stage, "Start"));
        continue;
      }
      if (WantsAnything(wants)) {
        subscription_of_[i] = subscriptions_.size();
        subscriptions_.push_back(
            media::Subscription{runs_[i].get(), wants.video, wants.audio, wants.packets});
      }
    }
  }

  // Why a consumer cannot start: the first of its inputs without a usable result.
  static std::optional<Error> MissingInput(const StageTask& task) {
    const auto inputs = task.stage->Inputs();
    if (inputs.empty()) return std::nullopt;
    if (task.inputs == nullptr) {
      return Error{ErrorCode::kInternal,
                   "stage " + std::string(task.stage->Name()) + " was run without its inputs",
                   {}};
    }
    for (const auto& input : inputs) {
      auto result = task.inputs->Get(input);
      if (!result) return result.error().Wrap("input " + input);
    }
    return std::nullopt;
  }

  void Decode(media::Input& input) {
    media::PassOptions pass_options = options_;
    if (options_.on_progress) {
      pass_options.on_progress = [&](const media::PassProgress& progress) {
        last_position_ = progress.position_seconds;
        return options_.on_progress(progress);
      };
    }
    pass_ = media::RunDecodePass(input, report_.info, subscriptions_, pass_options);
    report_.stats.packets_read += pass_.stats.packets_read;
    report_.stats.video_frames_decoded += pass_.stats.video_frames_decoded;
    report_.stats.audio_frames_decoded += pass_.stats.audio_frames_decoded;
    report_.stats.corrupt_packets += pass_.stats.corrupt_packets;
    report_.stats.input_ended |= pass_.stats.input_ended;
    if (pass_.demux_error && !report_.demux_error) report_.demux_error = pass_.demux_error;
  }

  void FinishAll() {
    // The runs to finish, with whether their input ended before they said kDone.
    std::vector<std::pair<size_t, bool>> to_finish;
    for (size_t i : members_) {
      if (!runs_[i]) continue;
      bool input_ended = false;
      if (subscription_of_[i] != SIZE_MAX) {
        const media::SubscriptionResult& fed = pass_.results.at(subscription_of_[i]);
        if (runs_[i]->thrown()) {
          Fail(i, *runs_[i]->thrown());
          continue;
        }
        if (fed.end == media::SubscriptionEnd::kAborted) {
          Fail(i, fed.error.value_or(Error{ErrorCode::kInternal, "decode aborted", {}}));
          continue;
        }
        input_ended = fed.end == media::SubscriptionEnd::kInputEnded;
      }
      to_finish.emplace_back(i, input_ended);
    }
    if (to_finish.empty()) return;
    Heartbeat();
    // All at once, a thread each: a Finish() mostly waits (for its encoder threads, for
    // fsync) or publishes files, so one stage's waiting overlaps another's work instead of
    // adding to it. Each touches only its own run, sink and outcome. This thread keeps the
    // heartbeat meanwhile; a thread that cannot be started leaves its stage to this thread.
    std::mutex mutex;
    std::condition_variable one_done;
    size_t done = 0;
    std::vector<std::thread> finishing;
    std::vector<std::pair<size_t, bool>> here;
    media::LibavLogScope* libav_log = media::LibavLogScope::Current();
    for (const auto& [i, input_ended] : to_finish) {
      try {
        finishing.emplace_back([&, i = i, input_ended = input_ended] {
          media::LibavLogScope::Enter scope(libav_log);
          Finish(i, input_ended);
          std::lock_guard lock(mutex);
          ++done;
          one_done.notify_all();
        });
      } catch (const std::system_error&) {
        here.emplace_back(i, input_ended);
      }
    }
    for (const auto& [i, input_ended] : here) Finish(i, input_ended);
    {
      std::unique_lock lock(mutex);
      const auto interval =
          std::chrono::microseconds(std::max<int64_t>(options_.finish_heartbeat_micros, 1000));
      while (!one_done.wait_for(lock, interval, [&] { return done == finishing.size(); })) {
        lock.unlock();
        Heartbeat();
        lock.lock();
      }
    }
    for (std::thread& thread : finishing) thread.join();
  }

  void Finish(size_t i, bool input_ended) {
    StageOutcome& outcome = report_.outcomes[i];
    try {
      auto finished = runs_[i]->run().Finish(*tasks_[i].sink, input_ended);
      if (finished && finished->skip_reason) {
        outcome.state = catalog::DerivativeState::kSkipped;
        outcome.skip_reason = *finished->skip_reason;
        outcome.result = std::move(*finished);
      } else if (finished) {
        outcome.state = catalog::DerivativeState::kDone;
        outcome.result = std::move(*finished);
      } else {
        outcome.state = catalog::DerivativeState::kFailed;
        outcome.error = finished.error();
      }
    } catch (...) {
      outcome.state = catalog::DerivativeState::kFailed;
      outcome.error = Thrown(*tasks_[i].stage, "Finish");
    }
  }

  // Renews the worker's lease: a Finish() may work long without reading input (an encode
  // flushed, files published). Its error is not acted on: a cancel or a lost lease is the
  // caller's to handle after the run, and these stages already had all the input they
  // needed.
  void Heartbeat() {
    if (options_.on_progress) {
      static_cast<void>(
          options_.on_progress({report_.stats, last_position_, report_.info.duration_seconds}));
    }
  }

  std::span<const StageTask> tasks_;
  std::vector<size_t> members_;
  RunReport& report_;
  const RunOptions& options_;
  std::vector<std::unique_ptr<GuardedRun>> runs_;
  std::vector<media::Subscription> subscriptions_;
  std::vector<size_t> subscription_of_;
  media::PassReport pass_;
  double last_position_ = 0;
};

}  // namespace

Result<RunReport> RunStages(ByteReader& original, std::span<const StageTask> tasks,
                            const RunOptions& options) {
  for (const auto& task : tasks) {
    if (task.stage == nullptr || task.sink == nullptr) {
      return Fail(ErrorCode::kInvalidArgument, "RunStages: a task without stage or sink");
    }
  }
  auto opened = media::Input::Open(original);
  if (!opened) return Fail(opened.error());
  std::unique_ptr<media::Input> input = std::move(*opened);

  RunReport report;
  report.info = media::Probe(*input);
  report.outcomes.resize(tasks.size());
  for (size_t i = 0; i < tasks.size(); ++i) report.outcomes[i].stage = tasks[i].stage;

  const std::vector<int> waves = WavesOf(tasks);
  const int last_wave = waves.empty() ? -1 : *std::max_element(waves.begin(), waves.end());
  for (int w = 0; w <= last_wave; ++w) {
    std::vector<size_t> members;
    for (size_t i = 0; i < tasks.size(); ++i) {
      if (waves[i] == w) members.push_back(i);
    }
    Wave wave(tasks, members, report, options);
    std::optional<Error> reopen_error;
    if (w > 0 && wave.WantsDecoding()) {
      // A consumer that also decodes reads the original a second time, after its inputs.
      input.reset();
      auto rewound = original.Seek(0);
      if (rewound) {
        auto again = media::Input::Open(original);
        if (again) {
          input = std::move(*again);
        } else {
          reopen_error = again.error();
        }
      } else {
        reopen_error = rewound.error();
      }
      if (reopen_error) *reopen_error = reopen_error->Wrap("cannot read the original again");
    }
    wave.Run(input.get(), reopen_error);
    if (options.on_outcome) {
      for (size_t i : members) options.on_outcome(i, report.outcomes[i]);
    }
  }
  return report;
}

}  // namespace reprise::stages
