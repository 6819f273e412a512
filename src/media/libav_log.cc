#include "media/libav_log.h"

#include <cstdarg>
#include <mutex>
#include <string_view>
#include <utility>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/log.h>
}

namespace reprise::media {
namespace {

thread_local LibavLogScope* current_scope = nullptr;

// The logger libav's lines go to: process-wide because libav's callback is.
struct Route {
  std::mutex mutex;
  Logger log;
};

Route& TheRoute() {
  static Route route;
  return route;
}

Logger RoutedLogger() {
  Route& route = TheRoute();
  std::lock_guard lock(route.mutex);
  return route.log;
}

// The scope of a line: this thread's, else the one a decoder was opened in (its frame
// threads log through a copy of its context, opaque included).
LibavLogScope* ScopeOf(void* avcl) {
  if (current_scope != nullptr) return current_scope;
  if (avcl == nullptr) return nullptr;
  const AVClass* cls = *static_cast<const AVClass* const*>(avcl);
  if (cls != avcodec_get_class()) return nullptr;
  return static_cast<LibavLogScope*>(static_cast<AVCodecContext*>(avcl)->opaque);
}

// Whether a line may be about the input's data. The scaler, the resampler and encoders
// warn about how reprise drives them (swscale's "deprecated pixel format used" for every
// JPEG-range picture of a clean file), which says nothing about the asset: those lines
// are logged but not counted. Demuxers, decoders, parsers, bitstream filters and muxers
// (a remux meets the input's packets) are counted.
bool AboutTheInput(void* avcl) {
  if (avcl == nullptr) return true;
  const AVClass* cls = *static_cast<const AVClass* const*>(avcl);
  if (cls == nullptr) return true;
  AVClassCategory category = cls->get_category != nullptr ? cls->get_category(avcl) : cls->category;
  return category != AV_CLASS_CATEGORY_SWSCALER && category != AV_CLASS_CATEGORY_SWRESAMPLER &&
         category != AV_CLASS_CATEGORY_ENCODER;
}

void OnLibavLog(void* avcl, int level, const char* format, va_list args) {
  if (level > AV_LOG_WARNING || level > av_log_get_level()) return;
  LibavLogScope* scope = ScopeOf(avcl);
  if (scope != nullptr && AboutTheInput(avcl)) scope->Count();
  Logger log = RoutedLogger();
  if (!log || !log->should_log(spdlog::level::debug)) return;
  char line[1024];
  int print_prefix = 1;
  av_log_format_line2(avcl, level, format, args, line, sizeof line, &print_prefix);
  std::string_view text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  if (text.empty()) return;
  if (scope != nullptr) {
    log->debug("libav ({}): {}", scope->context(), text);
  } else {
    log->debug("libav: {}", text);
  }
}

}  // namespace

void RouteLibavLog(Logger log) {
  Route& route = TheRoute();
  std::lock_guard lock(route.mutex);
  route.log = std::move(log);
}

void InstallLibavLogCallback() { av_log_set_callback(&OnLibavLog); }

LibavLogScope::LibavLogScope(std::string context)
    : context_(std::move(context)), previous_(current_scope) {
  current_scope = this;
}

LibavLogScope::~LibavLogScope() { current_scope = previous_; }

LibavLogScope* LibavLogScope::Current() { return current_scope; }

LibavLogScope::Enter::Enter(LibavLogScope* scope) : previous_(current_scope) {
  current_scope = scope;
}

LibavLogScope::Enter::~Enter() { current_scope = previous_; }

void AttachLibavLogScope(AVCodecContext& context) { context.opaque = LibavLogScope::Current(); }

}  // namespace reprise::media
