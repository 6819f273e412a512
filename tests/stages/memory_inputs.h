// StageInputs kept in memory, for tests of consumer stages: results recorded from a
// run's outcomes (as the executor records them from the catalog's rows) or put in
// beforehand, as if found in the catalog. Header-only: the stages test binary has no
// support library.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/io.h"
#include "stages/runner.h"
#include "stages/stage.h"
#include "tests/stages/memory_sink.h"

namespace reprise::stages {

class MemoryInputs final : public StageInputs {
 public:
  void Put(const std::string& stage, InputResult result,
           std::map<std::string, std::string> files = {}) {
    result.stage = stage;
    results_[stage] = std::move(result);
    files_[stage] = std::move(files);
  }
  void Record(const StageOutcome& outcome, const MemorySink& sink) {
    std::string stage(outcome.stage->Name());
    if (outcome.state == catalog::DerivativeState::kFailed) {
      failures_.insert_or_assign(stage, *outcome.error);
      return;
    }
    Put(stage, InputResult{stage, outcome.state, outcome.skip_reason, outcome.result.metadata, {}},
        sink.files);
  }

  Result<const InputResult*> Get(std::string_view stage) const override {
    if (auto failed = failures_.find(std::string(stage)); failed != failures_.end()) {
      return Fail(failed->second.code, "failed: " + failed->second.message);
    }
    auto it = results_.find(std::string(stage));
    if (it == results_.end()) return Fail(ErrorCode::kUnavailable, "has no result");
    return &it->second;
  }
  Result<std::unique_ptr<ByteReader>> Open(std::string_view stage,
                                           std::string_view name) const override {
    auto files = files_.find(std::string(stage));
    if (files == files_.end()) return Fail(ErrorCode::kNotFound, "no files");
    auto file = files->second.find(std::string(name));
    if (file == files->second.end()) return Fail(ErrorCode::kNotFound, "no such file");
    return OpenMemoryReader(file->second, std::string(name));
  }

 private:
  std::map<std::string, InputResult> results_;
  std::map<std::string, std::map<std::string, std::string>> files_;
  std::map<std::string, Error> failures_;
};

}  // namespace reprise::stages
