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
  if (outcome.state == catalog::DerivativeState::kDone) recorded.blobs = std::move(blobs);
  return recorded;
}

Result<RunReport> RunStages(ByteReader& original, std::span<const StageTask> tasks,
                            const RunOptions& options) {
  for (const auto& task : tasks) {
    if (task.stage == nullptr || task.sink == nullptr) {
      return Fail(ErrorCode::kInvalidArgument, "RunStages: a task without stage or sink");
    }
  }
  auto input = media::Input::Open(original);
  if (!input) return Fail(input.error());

  RunReport report;
  report.info = media::Probe(**input);
  report.outcomes.resize(tasks.size());

  // Start every applicable stage; remember which run feeds from which subscription.
  std::vector<std::unique_ptr<GuardedRun>> runs(tasks.size());
  std::vector<media::Subscription> subscriptions;
  std::vector<size_t> subscription_of(tasks.size(), SIZE_MAX);
  for (size_t i = 0; i < tasks.size(); ++i) {
    const Stage& stage = *tasks[i].stage;
    StageOutcome& outcome = report.outcomes[i];
    outcome.stage = &stage;
    try {
      if (auto reason = stage.SkipReason(report.info)) {
        outcome.state = catalog::DerivativeState::kSkipped;
        outcome.skip_reason = std::move(*reason);
        continue;
      }
    } catch (...) {
      outcome.state = catalog::DerivativeState::kFailed;
      outcome.error = Thrown(stage, "SkipReason");
      continue;
    }
    Consumption wants;
    try {
      auto run = stage.Start(report.info);
      if (!run) {
        outcome.state = catalog::DerivativeState::kFailed;
        outcome.error = run.error();
        continue;
      }
      runs[i] = std::make_unique<GuardedRun>(stage, std::move(*run));
      wants = stage.Consumes();
    } catch (...) {
      outcome.state = catalog::DerivativeState::kFailed;
      outcome.error = Thrown(stage, "Start");
      runs[i].reset();
      continue;
    }
    if (WantsAnything(wants)) {
      subscription_of[i] = subscriptions.size();
      subscriptions.push_back(
          media::Subscription{runs[i].get(), wants.video, wants.audio, wants.packets});
    }
  }

  double last_position = 0;
  media::PassOptions pass_options = options;
  if (options.on_progress) {
    pass_options.on_progress = [&](const media::PassProgress& progress) {
      last_position = progress.position_seconds;
      return options.on_progress(progress);
    };
  }
  media::PassReport pass = media::RunDecodePass(**input, report.info, subscriptions, pass_options);
  report.stats = pass.stats;
  report.demux_error = std::move(pass.demux_error);

  // The runs to finish, with whether their input ended before they said kDone.
  std::vector<std::pair<size_t, bool>> to_finish;
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (!runs[i]) continue;
    StageOutcome& outcome = report.outcomes[i];
    GuardedRun& run = *runs[i];
    bool input_ended = false;
    if (subscription_of[i] != SIZE_MAX) {
      const media::SubscriptionResult& fed = pass.results[subscription_of[i]];
      if (run.thrown()) {
        outcome.state = catalog::DerivativeState::kFailed;
        outcome.error = run.thrown();
        continue;
      }
      if (fed.end == media::SubscriptionEnd::kAborted) {
        outcome.state = catalog::DerivativeState::kFailed;
        outcome.error = fed.error;
        continue;
      }
      input_ended = fed.end == media::SubscriptionEnd::kInputEnded;
    }
    to_finish.emplace_back(i, input_ended);
  }
  auto heartbeat = [&] {
    // Renews the worker's lease: a Finish() may work long without reading input (an
    // encode flushed, files published). Its error is not acted on: a cancel or a lost
    // lease is the caller's to handle after the run, and these stages already had all the
    // input they needed.
    if (options.on_progress) {
      static_cast<void>(
          options.on_progress({pass.stats, last_position, report.info.duration_seconds}));
    }
  };
  if (!to_finish.empty()) heartbeat();
  auto finish = [&](size_t i, bool input_ended) {
    StageOutcome& outcome = report.outcomes[i];
    try {
      auto finished = runs[i]->run().Finish(*tasks[i].sink, input_ended);
      if (finished) {
        outcome.state = catalog::DerivativeState::kDone;
        outcome.result = std::move(*finished);
      } else {
        outcome.state = catalog::DerivativeState::kFailed;
        outcome.error = finished.error();
      }
    } catch (...) {
      outcome.state = catalog::DerivativeState::kFailed;
      outcome.error = Thrown(*tasks[i].stage, "Finish");
    }
  };
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
        finish(i, input_ended);
        std::lock_guard lock(mutex);
        ++done;
        one_done.notify_all();
      });
    } catch (const std::system_error&) {
      here.emplace_back(i, input_ended);
    }
  }
  for (const auto& [i, input_ended] : here) finish(i, input_ended);
  {
    std::unique_lock lock(mutex);
    const auto interval =
        std::chrono::microseconds(std::max<int64_t>(options.finish_heartbeat_micros, 1000));
    while (!one_done.wait_for(lock, interval, [&] { return done == finishing.size(); })) {
      lock.unlock();
      heartbeat();
      lock.lock();
    }
  }
  for (std::thread& thread : finishing) thread.join();
  return report;
}

}  // namespace reprise::stages
