// reprise.toml and REPRISE_* values are written by people: any bytes must load as a
// Config or come back as an Error naming the problem, never crash. LoadConfig reads files
// only, so each input is written to one file per process and loaded through the explicit
// path; the same bytes are also given as environment values, which are read as TOML
// scalars.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "core/config.h"

namespace {

std::string& Directory() {
  static std::string path;
  return path;
}

void RemoveDirectory() {
  std::error_code ec;
  std::filesystem::remove_all(Directory(), ec);
}

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void WriteFile(const std::string& path, const char* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data, static_cast<std::streamsize>(size));
  out.close();
  Check(out.good());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  std::string pattern = (std::filesystem::temp_directory_path() / "reprise-config-fuzz-XXXXXX");
  Check(::mkdtemp(pattern.data()) != nullptr);
  Directory() = pattern;
  WriteFile(Directory() + "/empty.toml", "", 0);
  std::atexit(RemoveDirectory);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* text = reinterpret_cast<const char*>(data);
  const std::string file = Directory() + "/reprise.toml";
  WriteFile(file, text, size);
  // A data directory that does not exist: nothing but the given file is read.
  const std::string data_dir = Directory() + "/no-data";

  auto config = reprise::LoadConfig({file, data_dir, {}});
  if (config) Check(config->source_file == file);

  // Environment values end at the first NUL, as in a real environment. Owner and stage
  // params take any text (what is not a TOML scalar stays a string), so this must load.
  std::string_view bytes(text, size);
  std::string value(bytes.substr(0, bytes.find('\0')));
  const std::string empty = Directory() + "/empty.toml";
  auto from_env = reprise::LoadConfig(
      {empty, data_dir, {{"REPRISE_OWNER", value}, {"REPRISE_STAGES_THUMBNAIL_WIDTH", value}}});
  Check(from_env.has_value() && from_env->owner == value &&
        from_env->stages["thumbnail"].contains("width"));

  auto limit = reprise::LoadConfig({empty, data_dir, {{"REPRISE_INGEST_MAX_FILE_BYTES", value}}});
  if (limit) Check(limit->max_ingest_bytes >= 0);
  return 0;
}
