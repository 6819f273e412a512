#include "media/chunked_audio_encoder.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/samplefmt.h>
}

namespace reprise::media {
namespace {

// Samples copied into one frame for the encoder, and encoded between two looks at the
// stop flag.
constexpr int64_t kBlockSamples = 32 * 1024;
// Chunks shrink toward the expected end, but not under this (the pre- and post-roll are
// a quarter second of extra encoding per chunk).
constexpr double kMinShrunkChunkSeconds = 2;

int64_t RoundUp(int64_t value, int64_t step) { return (value + step - 1) / step * step; }

}  // namespace

struct ChunkedAudioEncoder::Chunk {
  int64_t first_sample = 0;  // pts of samples[c][0]
  // Packets with pts in [keep_from, keep_to) belong to this chunk.
  int64_t keep_from = 0;
  int64_t keep_to = 0;
  std::vector<std::vector<float>> samples;
  std::vector<PacketPtr> packets;
  std::optional<Error> error;
  bool done = false;  // guarded by the encoder's mutex
};

ChunkedAudioEncoder::ChunkedAudioEncoder(AudioEncoderConfig config, PacketFn on_packet)
    : config_(std::move(config)), on_packet_(std::move(on_packet)) {}

Result<std::unique_ptr<ChunkedAudioEncoder>> ChunkedAudioEncoder::Create(
    const AudioEncoderConfig& config, const ChunkingOptions& options, PacketFn on_packet) {
  if (config.sample_rate <= 0 || config.channels <= 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "a chunked audio encode needs a sample rate and a channel count");
  }
  if (!(options.chunk_seconds > 0) || options.pre_roll_frames < 0 || options.threads < 0 ||
      options.expected_samples < 0 || options.worker_nice < 0 || options.worker_nice > 19) {
    return Fail(ErrorCode::kInvalidArgument, "bad chunking options");
  }
  AudioEncoderConfig base = config;
  base.first_pts = 0;
  std::unique_ptr<ChunkedAudioEncoder> encoder(new ChunkedAudioEncoder(base, std::move(on_packet)));
  auto prototype = AudioEncoder::Open(base, [](AVPacket&) -> Result<void> { return {}; });
  if (!prototype) return Fail(prototype.error());
  const AVCodecContext& context = (*prototype)->context();
  encoder->frame_size_ = context.frame_size > 0 ? context.frame_size : 1024;
  encoder->initial_padding_ = std::max(0, context.initial_padding);
  encoder->prototype_ = std::move(*prototype);
  int threads = options.threads;
  if (threads == 0) threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  encoder->threads_ = threads;
  if (threads == 1) {
    auto continuous = AudioEncoder::Open(
        base, [self = encoder.get()](AVPacket& packet) { return self->on_packet_(packet); });
    if (!continuous) return Fail(continuous.error());
    encoder->continuous_ = std::move(*continuous);
    return encoder;
  }
  const int64_t frame = encoder->frame_size_;
  // The first kept packet of a chunk needs the encoder delay before the chunk's start;
  // the pre-roll frames beyond it let the codec's adaptive state settle.
  encoder->pre_roll_ = RoundUp(encoder->initial_padding_, frame) + options.pre_roll_frames * frame;
  encoder->post_roll_ = RoundUp(encoder->initial_padding_, frame) + 2 * frame;
  int64_t chunk = std::llround(options.chunk_seconds * config.sample_rate / frame) * frame;
  encoder->chunk_samples_ = std::max({chunk, frame, encoder->pre_roll_});
  const int64_t shortest =
      RoundUp(std::llround(kMinShrunkChunkSeconds * config.sample_rate), frame);
  encoder->min_chunk_samples_ =
      std::min(encoder->chunk_samples_, std::max({shortest, frame, encoder->pre_roll_}));
  encoder->expected_samples_ = options.expected_samples;
  encoder->worker_nice_ = options.worker_nice;
  encoder->chunk_end_ = encoder->ChunkLength(0);
  encoder->buffer_.resize(static_cast<size_t>(config.channels));
  encoder->StartWorkers();
  return encoder;
}

ChunkedAudioEncoder::~ChunkedAudioEncoder() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  work_ready_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

Result<void> ChunkedAudioEncoder::FillParameters(AVCodecParameters& parameters) const {
  int rc = avcodec_parameters_from_context(&parameters, &prototype_->context());
  if (rc < 0) return Fail(AvError(rc, ErrorCode::kInternal, "cannot describe the audio stream"));
  return {};
}

void ChunkedAudioEncoder::StartWorkers() {
  workers_.reserve(static_cast<size_t>(threads_));
  for (int i = 0; i < threads_; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

int64_t ChunkedAudioEncoder::ChunkLength(int64_t start) const {
  if (expected_samples_ <= 0) return chunk_samples_;
  // Within the last round (a chunk per thread), the rest is shared out evenly, so the
  // threads end close together; each such share is cut the same way again.
  const int64_t remaining = std::max<int64_t>(expected_samples_ - start, 0);
  if (remaining > threads_ * chunk_samples_) return chunk_samples_;
  const int64_t share = RoundUp(remaining / threads_, frame_size_);
  return std::clamp(share, min_chunk_samples_, chunk_samples_);
}

void ChunkedAudioEncoder::WorkerLoop() {
  if (worker_nice_ > 0) {
    // Linux keeps a nice value per thread: this lowers this worker's priority alone.
    // A failure leaves it where it was, which changes only the speed.
    const auto self = static_cast<id_t>(gettid());
    errno = 0;
    const int current = getpriority(PRIO_PROCESS, self);
    if (errno == 0) setpriority(PRIO_PROCESS, self, std::min(19, current + worker_nice_));
  }
  while (true) {
    std::shared_ptr<Chunk> chunk;
    {
      std::unique_lock lock(mutex_);
      work_ready_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      chunk = std::move(queue_.front());
      queue_.pop_front();
    }
    auto encoded = EncodeChunk(*chunk);
    if (!encoded) chunk->error = encoded.error();
    chunk->samples.clear();
    chunk->samples.shrink_to_fit();
    {
      std::lock_guard lock(mutex_);
      chunk->done = true;
    }
    chunk_done_.notify_all();
  }
}

Result<void> ChunkedAudioEncoder::EncodeChunk(Chunk& chunk) {
  AudioEncoderConfig config = config_;
  config.first_pts = chunk.first_sample;
  auto encoder = AudioEncoder::Open(config, [&chunk](AVPacket& packet) -> Result<void> {
    if (packet.pts >= chunk.keep_from && packet.pts < chunk.keep_to) {
      PacketPtr kept = NewPacket();
      av_packet_move_ref(kept.get(), &packet);
      chunk.packets.push_back(std::move(kept));
    }
    return {};
  });
  if (!encoder) return Fail(encoder.error());
  FramePtr block = NewFrame();
  block->format = AV_SAMPLE_FMT_FLTP;
  block->sample_rate = config_.sample_rate;
  block->nb_samples = static_cast<int>(kBlockSamples);
  av_channel_layout_default(&block->ch_layout, config_.channels);
  int rc = av_frame_get_buffer(block.get(), 0);
  if (rc < 0) return Fail(AvError(rc, ErrorCode::kInternal, "cannot allocate an audio frame"));
  const auto total = static_cast<int64_t>(chunk.samples[0].size());
  for (int64_t at = 0; at < total; at += kBlockSamples) {
    if (stop_) return Fail(ErrorCode::kCancelled, "audio encode stopped");
    rc = av_frame_make_writable(block.get());
    if (rc < 0) return Fail(AvError(rc, ErrorCode::kInternal, "cannot reuse an audio frame"));
    block->nb_samples = static_cast<int>(std::min(kBlockSamples, total - at));
    for (size_t c = 0; c < chunk.samples.size(); ++c) {
      std::memcpy(block->extended_data[c], chunk.samples[c].data() + at,
                  static_cast<size_t>(block->nb_samples) * sizeof(float));
    }
    REPRISE_TRY((*encoder)->Encode(*block));
  }
  return (*encoder)->Flush();
}

Result<void> ChunkedAudioEncoder::Add(const AVFrame& frame) {
  if (failed_) return Fail(*failed_);
  if (finished_) return Fail(ErrorCode::kInternal, "ChunkedAudioEncoder::Add after Finish");
  if (frame.format != AV_SAMPLE_FMT_FLTP || frame.sample_rate != config_.sample_rate ||
      frame.ch_layout.nb_channels != config_.channels) {
    return Fail(ErrorCode::kInvalidArgument, "audio for the encoder must be planar float at " +
                                                 std::to_string(config_.sample_rate) + " Hz, " +
                                                 std::to_string(config_.channels) + " channels");
  }
  const auto* const* planes = reinterpret_cast<const float* const*>(frame.extended_data);
  const int64_t count = frame.nb_samples;
  samples_in_ += count;
  Result<void> done;
  if (continuous_) {
    done = continuous_->Encode(frame);
  } else {
    for (int c = 0; c < config_.channels; ++c) {
      buffer_[static_cast<size_t>(c)].insert(buffer_[static_cast<size_t>(c)].end(), planes[c],
                                             planes[c] + count);
    }
    while (done && samples_in_ >= chunk_end_ + post_roll_) {
      done = Submit(/*last=*/false);
    }
    // Hands over what the workers have finished, without waiting.
    if (done) done = Deliver(std::numeric_limits<size_t>::max());
  }
  if (!done) failed_ = done.error();
  return done;
}

Result<void> ChunkedAudioEncoder::Finish() {
  if (failed_) return Fail(*failed_);
  if (finished_) return {};
  finished_ = true;
  Result<void> done;
  if (continuous_) {
    done = continuous_->Flush();
  } else {
    if (samples_in_ > 0) done = Submit(/*last=*/true);
    if (done) done = Deliver(0);
  }
  if (!done) failed_ = done.error();
  return done;
}

Result<void> ChunkedAudioEncoder::Submit(bool last) {
  auto chunk = std::make_shared<Chunk>();
  const int64_t start = chunk_start_;
  const int64_t end = chunk_end_;
  const int64_t through = last ? samples_in_ : end + post_roll_;
  chunk->first_sample = buffer_start_;
  chunk->keep_from = start == 0 ? std::numeric_limits<int64_t>::min() : start - initial_padding_;
  chunk->keep_to = last ? std::numeric_limits<int64_t>::max() : end - initial_padding_;
  const auto take = static_cast<ptrdiff_t>(through - buffer_start_);
  const auto drop = static_cast<ptrdiff_t>(end - pre_roll_ - buffer_start_);
  for (auto& plane : buffer_) {
    chunk->samples.emplace_back(plane.begin(), plane.begin() + take);
    if (!last) plane.erase(plane.begin(), plane.begin() + drop);
  }
  buffer_start_ = end - pre_roll_;
  chunk_start_ = end;
  chunk_end_ = end + ChunkLength(end);
  ++chunks_;
  // Room for one more chunk: the caller blocks here, and only here, when the workers
  // are behind.
  REPRISE_TRY(Deliver(static_cast<size_t>(threads_) + 2));
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(chunk);
    pending_.push_back(std::move(chunk));
  }
  work_ready_.notify_one();
  return {};
}

Result<void> ChunkedAudioEncoder::Deliver(size_t bound) {
  while (true) {
    std::shared_ptr<Chunk> ready;
    {
      std::unique_lock lock(mutex_);
      if (pending_.empty()) return {};
      if (!pending_.front()->done) {
        if (bound > 0 && pending_.size() < bound) return {};
        chunk_done_.wait(lock, [this] { return pending_.front()->done; });
      }
      ready = std::move(pending_.front());
      pending_.pop_front();
    }
    if (ready->error) return Fail(*ready->error);
    for (PacketPtr& packet : ready->packets) REPRISE_TRY(on_packet_(*packet));
  }
}

}  // namespace reprise::media
