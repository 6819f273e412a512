// A stage for worker tests whose runs the test steers: it reads every packet of the
// input (so the decode pass calls the worker's progress hook after each one), can stop
// at its first packet until the test opens a gate, and can fail with a chosen error.
// Runs are numbered from 1 in the order they start.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "core/error.h"
#include "stages/stage.h"

namespace reprise::queue {

class StageScript {
 public:
  // Runs that stop at their first packet until Open(); every run when block_all.
  void BlockRuns(std::set<int> runs) {
    std::lock_guard lock(mutex_);
    blocked_runs_ = std::move(runs);
  }
  void BlockAll() {
    std::lock_guard lock(mutex_);
    block_all_ = true;
  }
  void Open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    changed_.notify_all();
  }
  // Every run fails with `code` in Finish (unset: succeeds).
  void FailWith(std::optional<ErrorCode> code) {
    std::lock_guard lock(mutex_);
    fail_with_ = code;
  }

  int runs() {
    std::lock_guard lock(mutex_);
    return runs_;
  }
  // Waits (up to `timeout`) until `count` runs are stopped at the gate.
  bool WaitBlocked(int count, std::chrono::seconds timeout = std::chrono::seconds(30)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return blocked_ >= count; });
  }
  int blocked() {
    std::lock_guard lock(mutex_);
    return blocked_;
  }

  // For the stage.
  int StartRun() {
    std::lock_guard lock(mutex_);
    return ++runs_;
  }
  void Gate(int run) {
    std::unique_lock lock(mutex_);
    if (!block_all_ && blocked_runs_.count(run) == 0) return;
    ++blocked_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
  }
  std::optional<ErrorCode> failure() {
    std::lock_guard lock(mutex_);
    return fail_with_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::set<int> blocked_runs_;
  bool block_all_ = false;
  bool open_ = false;
  int blocked_ = 0;
  int runs_ = 0;
  std::optional<ErrorCode> fail_with_;
};

class ScriptedStage final : public stages::Stage {
 public:
  ScriptedStage(std::string name, int version, StageScript& script)
      : name_(std::move(name)), version_(version), script_(script) {}

  std::string_view Name() const override { return name_; }
  int Version() const override { return version_; }
  const nlohmann::json& Params() const override { return params_; }
  stages::Consumption Consumes() const override {
    stages::Consumption wants;
    wants.packets = true;
    return wants;
  }
  std::optional<std::string> SkipReason(const media::MediaInfo& /*info*/) const override {
    return std::nullopt;
  }
  Result<std::unique_ptr<stages::StageRun>> Start(const media::MediaInfo& /*info*/) const override {
    return std::unique_ptr<stages::StageRun>(std::make_unique<Run>(script_, script_.StartRun()));
  }

 private:
  class Run final : public stages::StageRun {
   public:
    Run(StageScript& script, int number) : script_(script), number_(number) {}
    stages::Feed OnPacket(const media::PacketView& /*packet*/) override {
      if (packets_++ == 0) script_.Gate(number_);
      return stages::Feed::kMore;
    }
    Result<stages::StageResult> Finish(stages::OutputSink& sink, bool /*input_ended*/) override {
      auto written = stages::WriteOutput(sink, "run.txt", "text/plain", std::to_string(number_));
      if (!written) return Fail(written.error());
      if (auto code = script_.failure()) {
        return Fail(*code, "scripted failure of run " + std::to_string(number_));
      }
      stages::StageResult result;
      result.metadata = {{"run", number_}, {"packets", packets_}};
      return result;
    }

   private:
    StageScript& script_;
    int number_;
    int64_t packets_ = 0;
  };

  std::string name_;
  int version_;
  StageScript& script_;
  nlohmann::json params_ = nlohmann::json::object();
};

}  // namespace reprise::queue
