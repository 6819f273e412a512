// An OutputSink that keeps committed files in memory, for stage tests that do not need
// a real blob store. Header-only: the stages test binary has no support library.
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "stages/runner.h"
#include "stages/stage.h"
#include "tests/media/media_test_util.h"

namespace reprise::stages {

class MemorySink final : public OutputSink {
 public:
  Result<std::unique_ptr<blob::BlobWriter>> Create(std::string_view name) override {
    return std::unique_ptr<blob::BlobWriter>(std::make_unique<Writer>(*this, std::string(name)));
  }
  void Add(catalog::OutputBlob blob) override { blobs.push_back(std::move(blob)); }

  std::map<std::string, std::string> files;  // committed, by file name
  std::vector<catalog::OutputBlob> blobs;    // as recorded through Add()

 private:
  class Writer final : public blob::BlobWriter {
   public:
    Writer(MemorySink& sink, std::string name) : sink_(sink), name_(std::move(name)) {}
    Result<void> Write(std::span<const std::byte> data) override {
      data_.append(reinterpret_cast<const char*>(data.data()), data.size());
      return {};
    }
    Result<blob::BlobInfo> Commit(std::string_view /*key*/) override {
      sink_.files[name_] = data_;
      return blob::BlobInfo{"memory/" + name_, static_cast<int64_t>(data_.size())};
    }
    int64_t BytesWritten() const override { return static_cast<int64_t>(data_.size()); }

   private:
    MemorySink& sink_;
    std::string name_;
    std::string data_;
  };
};

// Runs `stage` alone on the file at `path`, writing into `sink`; its outcome (an empty
// one, with a test failure, when the run itself fails).
inline StageOutcome RunAlone(const Stage& stage, const std::string& path, MemorySink& sink) {
  auto reader = testing::OpenOrDie(path);
  StageTask task{&stage, &sink};
  auto report = RunStages(*reader, std::span(&task, 1));
  EXPECT_TRUE(report.has_value()) << (report ? "" : report.error().ToString());
  if (!report) return {};
  return report->outcomes[0];
}

}  // namespace reprise::stages
