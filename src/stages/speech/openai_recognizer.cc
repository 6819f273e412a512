#include "stages/speech/openai_recognizer.h"

#include <algorithm>
#include <cstring>

namespace reprise::stages::speech {
namespace {

void PutLe(std::string& out, uint32_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

// Whisper pads text with spaces and may answer several spaces between words.
std::string Tidy(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string EncodeWav(std::span<const int16_t> samples) {
  const auto data_bytes = static_cast<uint32_t>(samples.size() * sizeof(int16_t));
  std::string out;
  out.reserve(44 + data_bytes);
  out += "RIFF";
  PutLe(out, 36 + data_bytes, 4);
  out += "WAVEfmt ";
  PutLe(out, 16, 4);               // fmt chunk size
  PutLe(out, 1, 2);                // PCM
  PutLe(out, 1, 2);                // mono
  PutLe(out, kSampleRate, 4);      // sample rate
  PutLe(out, kSampleRate * 2, 4);  // byte rate
  PutLe(out, 2, 2);                // block align
  PutLe(out, 16, 2);               // bits per sample
  out += "data";
  PutLe(out, data_bytes, 4);
  for (int16_t sample : samples) PutLe(out, static_cast<uint16_t>(sample), 2);
  return out;
}

Result<std::vector<Segment>> OpenAiRecognizer::Recognize(std::span<const int16_t> samples,
                                                         double start_seconds) {
  ai::TranscribeRequest request;
  request.model = model_;
  request.language = language_;
  request.wav = EncodeWav(samples);
  auto answer = client_.Transcribe(request);
  if (!answer) return Fail(answer.error().Wrap("transcription service"));
  ++requests_;
  if (!answer->language.empty()) detected_language_ = answer->language;
  const double chunk_end =
      start_seconds + static_cast<double>(samples.size()) / static_cast<double>(kSampleRate);
  auto clamp = [&](double offset) {
    return std::clamp(start_seconds + std::max(0.0, offset), start_seconds, chunk_end);
  };
  std::vector<Segment> segments;
  for (const ai::TranscriptSegment& piece : answer->segments) {
    std::string text = Tidy(piece.text);
    if (text.empty()) continue;
    Segment segment;
    segment.start = clamp(piece.start);
    segment.end = std::max(segment.start, clamp(piece.end));
    segment.text = std::move(text);
    segments.push_back(std::move(segment));
  }
  if (segments.empty()) {
    std::string text = Tidy(answer->text);
    if (!text.empty()) segments.push_back(Segment{start_seconds, chunk_end, std::move(text), {}});
  }
  std::stable_sort(segments.begin(), segments.end(),
                   [](const Segment& a, const Segment& b) { return a.start < b.start; });
  return segments;
}

}  // namespace reprise::stages::speech
