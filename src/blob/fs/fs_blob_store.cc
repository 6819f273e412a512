#include "blob/fs/fs_blob_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <filesystem>
#include <optional>
#include <random>
#include <span>
#include <system_error>
#include <utility>
#include <vector>

#include "blob/keys.h"

namespace reprise::blob {

struct FsBlobStore::Dirs {
  Dirs() = default;
  ~Dirs() {
    if (temp_fd >= 0) ::close(temp_fd);
    if (root_fd >= 0) ::close(root_fd);
  }
  Dirs(const Dirs&) = delete;
  Dirs& operator=(const Dirs&) = delete;

  std::string root;
  int root_fd = -1;  // every path is resolved from here, never from `root` again
  int temp_fd = -1;  // <root>/.tmp
};

namespace {

constexpr char kTempDir[] = ".tmp";
constexpr size_t kMaxSegmentBytes = 255;  // NAME_MAX of Linux file systems
// A Commit() whose folder a concurrent Delete() pruned retries; more than a few losses in a
// row means something else is removing folders.
constexpr int kMaxCommitAttempts = 16;

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  int get() const { return fd_; }
  // Hands the descriptor to a new owner (fdopendir).
  int Release() { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

struct DirCloser {
  void operator()(DIR* dir) const { ::closedir(dir); }
};
using DirStream = std::unique_ptr<DIR, DirCloser>;

// Keys have passed ValidateKey() before they reach a message, so they are printable.
std::string Quoted(std::string_view key) { return "\"" + std::string(key) + "\""; }

tl::unexpected<Error> NoBlob(std::string_view key) {
  return Fail(ErrorCode::kNotFound, "no blob " + Quoted(key));
}

Error SymlinkError(std::string_view key) {
  return ErrnoError(ErrorCode::kIo,
                    "blob key " + Quoted(key) +
                        " leads through a symbolic link inside the store; refusing to follow it",
                    ELOOP);
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::vector<std::string> SplitKey(std::string_view key) {
  std::vector<std::string> segments;
  size_t start = 0;
  while (true) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) {
      segments.emplace_back(key.substr(start));
      return segments;
    }
    segments.emplace_back(key.substr(start, end - start));
    start = end + 1;
  }
}

// ValidateKey() plus what this backend cannot store, split into path segments.
Result<std::vector<std::string>> CheckedSegments(std::string_view key) {
  REPRISE_TRY(ValidateKey(key));
  // ValidateKey() refuses dot-segments, so no key can reach the temporary folder.
  std::vector<std::string> segments = SplitKey(key);
  for (const auto& segment : segments) {
    if (segment.size() > kMaxSegmentBytes) {
      return Fail(ErrorCode::kInvalidArgument,
                  "invalid blob key " + Quoted(key) +
                      ": the fs store cannot hold a segment longer than 255 bytes");
    }
  }
  return segments;
}

// After ENOTDIR or ELOOP: tells a planted symlink from a plain file in the way.
bool IsSymlinkAt(int dir, const char* name) {
  struct stat st {};
  return ::fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

int OpenDirAt(int dir, const char* name) {
  return ::openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

// The folders from the root down to a key's parent, each opened without following a
// symlink; the root itself is not in `fds`.
struct ParentChain {
  std::vector<UniqueFd> fds;
  int Parent(int root_fd) const { return fds.empty() ? root_fd : fds.back().get(); }
};

enum class Walk { kRead, kCreate };

// Opens (kCreate: creating as needed) the folders above the key's last segment.
// Errors: kNotFound when one is missing (with kCreate: removed by a concurrent Delete(),
// worth a retry), kConflict when kCreate meets a blob where a folder belongs, kIo for a
// symlink on the way or a storage failure.
Result<ParentChain> OpenParent(int root_fd, const std::vector<std::string>& segments,
                               std::string_view key, Walk mode) {
  ParentChain chain;
  chain.fds.reserve(segments.size() - 1);
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    int dir = chain.Parent(root_fd);
    const char* name = segments[i].c_str();
    bool created = false;
    if (mode == Walk::kCreate) {
      if (::mkdirat(dir, name, 0755) == 0) {
        created = true;
      } else if (errno == ENOENT) {
        return NoBlob(key);
      } else if (errno != EEXIST) {
        return Fail(
            ErrnoError(ErrorCode::kIo, "cannot create a folder for blob " + Quoted(key), errno));
      }
    }
    int fd = OpenDirAt(dir, name);
    if (fd < 0) {
      int err = errno;
      if ((err == ENOTDIR || err == ELOOP) && IsSymlinkAt(dir, name)) {
        return Fail(SymlinkError(key));
      }
      if (err == ENOTDIR && mode == Walk::kCreate) {
        std::string blocker = segments[0];
        for (size_t j = 1; j <= i; ++j) blocker += "/" + segments[j];
        return Fail(ErrnoError(ErrorCode::kConflict,
                               "cannot commit blob " + Quoted(key) + ": the blob " +
                                   Quoted(blocker) + " is where its folder belongs",
                               err));
      }
      if (err == ENOENT || err == ENOTDIR) return NoBlob(key);
      return Fail(ErrnoError(ErrorCode::kIo, "cannot open a folder of blob " + Quoted(key), err));
    }
    chain.fds.emplace_back(fd);
    // The new folder's entry must reach the disk too, or the blob renamed into it could
    // vanish with it after a power loss.
    if (created && ::fsync(dir) != 0) {
      return Fail(
          ErrnoError(ErrorCode::kIo, "cannot flush a folder of blob " + Quoted(key), errno));
    }
  }
  return chain;
}

// Looks at what is stored under a key without following a link; nullopt when there is no
// blob (nothing, or a folder of other blobs).
Result<std::optional<struct stat>> StatKey(const FsBlobStore::Dirs& dirs, std::string_view key) {
  auto segments = CheckedSegments(key);
  if (!segments) return Fail(std::move(segments.error()));
  auto chain = OpenParent(dirs.root_fd, *segments, key, Walk::kRead);
  if (!chain) {
    if (chain.error().code == ErrorCode::kNotFound) return std::optional<struct stat>();
    return Fail(std::move(chain.error()));
  }
  int parent = chain->Parent(dirs.root_fd);
  struct stat st {};
  if (::fstatat(parent, segments->back().c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::optional<struct stat>();
    return Fail(ErrnoError(ErrorCode::kIo, "cannot stat blob " + Quoted(key), errno));
  }
  if (S_ISLNK(st.st_mode)) return Fail(SymlinkError(key));
  if (!S_ISREG(st.st_mode)) return std::optional<struct stat>();
  return std::optional<struct stat>(st);
}

class FsBlobReader final : public ByteReader {
 public:
  FsBlobReader(UniqueFd file, int64_t size, std::string key)
      : file_(std::move(file)), size_(size), key_(std::move(key)) {}

  Result<size_t> Read(std::span<std::byte> buffer) override {
    while (true) {
      ssize_t n = ::read(file_.get(), buffer.data(), buffer.size());
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) {
        return Fail(ErrnoError(ErrorCode::kIo, "cannot read blob " + Quoted(key_), errno));
      }
    }
  }

  Result<void> Seek(int64_t offset) override {
    if (offset < 0) {
      return Fail(ErrorCode::kInvalidArgument,
                  "cannot seek to negative offset in blob " + Quoted(key_));
    }
    if (::lseek(file_.get(), static_cast<off_t>(offset), SEEK_SET) < 0) {
      return Fail(ErrnoError(ErrorCode::kIo, "cannot seek in blob " + Quoted(key_), errno));
    }
    return {};
  }

  int64_t Size() const override { return size_; }
  std::string Name() const override { return key_; }

 private:
  UniqueFd file_;
  int64_t size_;
  std::string key_;
};

class FsBlobWriter final : public BlobWriter {
 public:
  FsBlobWriter(std::shared_ptr<const FsBlobStore::Dirs> dirs, UniqueFd file, std::string temp_name)
      : dirs_(std::move(dirs)), file_(std::move(file)), temp_name_(std::move(temp_name)) {}

  ~FsBlobWriter() override {
    // Best effort: if this fails, the sweep in a later Open() removes the file.
    if (!committed_) ::unlinkat(dirs_->temp_fd, temp_name_.c_str(), 0);
  }
  FsBlobWriter(const FsBlobWriter&) = delete;
  FsBlobWriter& operator=(const FsBlobWriter&) = delete;

  Result<void> Write(std::span<const std::byte> data) override {
    REPRISE_TRY(CheckUsable());
    while (!data.empty()) {
      ssize_t n = ::write(file_.get(), data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        // The file now holds an unknown part of this chunk; it must never be committed.
        failed_ = true;
        return Fail(ErrnoError(ErrorCode::kIo, "cannot write " + TempPath(), errno));
      }
      data = data.subspan(static_cast<size_t>(n));
      bytes_written_ += n;
    }
    StartWriteback();
    return {};
  }

  Result<BlobInfo> Commit(std::string_view key) override {
    auto segments = CheckedSegments(key);
    if (!segments) return Fail(std::move(segments.error()));
    REPRISE_TRY(CheckUsable());
    // The data must be on disk before the name points at it, or a power loss could leave
    // an empty or partial file under the key.
    if (::fsync(file_.get()) != 0) {
      failed_ = true;
      return Fail(ErrnoError(ErrorCode::kIo, "cannot flush " + TempPath(), errno));
    }
    const char* leaf = segments->back().c_str();
    for (int attempt = 1;; ++attempt) {
      auto chain = OpenParent(dirs_->root_fd, *segments, key, Walk::kCreate);
      if (chain) {
        int parent = chain->Parent(dirs_->root_fd);
        if (::renameat(dirs_->temp_fd, temp_name_.c_str(), parent, leaf) == 0) {
          committed_ = true;
          if (::fsync(parent) != 0) {
            return Fail(ErrnoError(
                ErrorCode::kIo,
                "blob " + Quoted(key) + " is committed but its folder cannot be flushed", errno));
          }
          return BlobInfo{std::string(key), bytes_written_};
        }
        int err = errno;
        if (err == EISDIR || err == ENOTEMPTY || err == EEXIST) {
          return Fail(ErrnoError(
              ErrorCode::kConflict,
              "cannot commit blob " + Quoted(key) + ": a folder of other blobs has that name",
              err));
        }
        if (err != ENOENT) {
          return Fail(ErrnoError(ErrorCode::kIo, "cannot commit blob " + Quoted(key), err));
        }
        struct stat st {};
        if (::fstatat(dirs_->temp_fd, temp_name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
          failed_ = true;
          return Fail(ErrnoError(ErrorCode::kIo,
                                 "cannot commit blob " + Quoted(key) + ": " + TempPath() +
                                     " disappeared (swept as stale after an hour idle?)",
                                 err));
        }
      } else if (chain.error().code != ErrorCode::kNotFound) {
        return Fail(std::move(chain.error()));
      }
      // A concurrent Delete() pruned a folder on the key's path after we opened it.
      if (attempt == kMaxCommitAttempts) {
        return Fail(ErrorCode::kIo, "cannot commit blob " + Quoted(key) +
                                        ": its folders keep disappearing while committing");
      }
    }
  }

  int64_t BytesWritten() const override { return bytes_written_; }

 private:
  Result<void> CheckUsable() const {
    if (committed_) return Fail(ErrorCode::kInvalidArgument, "blob writer is already committed");
    if (failed_) {
      return Fail(ErrorCode::kIo, "an earlier write to " + TempPath() + " failed; start over");
    }
    return {};
  }

  std::string TempPath() const { return dirs_->root + "/" + kTempDir + "/" + temp_name_; }

  // Every kWritebackBytes, asks the kernel to start writing what came since, without
  // waiting: the disk works while the caller makes the rest, and the fsync in Commit()
  // finds little left to do (for a large blob, most of its wait). Only a hint: a failure
  // changes nothing, Commit()'s fsync is what makes the data durable.
  void StartWriteback() {
    constexpr int64_t kWritebackBytes = int64_t{4} << 20;
    if (bytes_written_ - writeback_from_ < kWritebackBytes) return;
    ::sync_file_range(file_.get(), writeback_from_, bytes_written_ - writeback_from_,
                      SYNC_FILE_RANGE_WRITE);
    writeback_from_ = bytes_written_;
  }

  std::shared_ptr<const FsBlobStore::Dirs> dirs_;
  UniqueFd file_;
  int64_t writeback_from_ = 0;  // StartWriteback() has covered the bytes before this
  std::string temp_name_;
  int64_t bytes_written_ = 0;
  bool committed_ = false;
  bool failed_ = false;
};

// 128 random bits: unguessable, so no other process can collide with or pre-create it.
std::string RandomTempName(std::random_device& random) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name;
  for (int i = 0; i < 4; ++i) {
    uint32_t word = random();
    for (int j = 0; j < 8; ++j, word >>= 4) name.push_back(kHex[word & 0x0f]);
  }
  return name;
}

// Removes temporaries last modified before `cutoff_micros`. Best effort: a temp that
// cannot be removed now is tried again on the next Open(), and it is never visible.
void SweepStaleTemps(int temp_fd, int64_t cutoff_micros) {
  int fd = OpenDirAt(temp_fd, ".");
  if (fd < 0) return;
  UniqueFd owned(fd);
  DirStream stream(::fdopendir(fd));
  if (!stream) return;
  owned.Release();
  int dir = ::dirfd(stream.get());
  while (const dirent* entry = ::readdir(stream.get())) {
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::fstatat(dir, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(st.st_mode)) continue;
    int64_t mtime_micros =
        static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000 + st.st_mtim.tv_nsec / 1000;
    // ENOENT is fine: another process's Open() swept it first.
    if (mtime_micros < cutoff_micros) ::unlinkat(dir, entry->d_name, 0);
  }
}

// Streams the blobs below one folder in key order. A folder's names are read and sorted
// whole (only the ones that can match the prefix), its subfolders visited one at a time.
class Lister {
 public:
  Lister(std::string_view prefix, const std::function<bool(const BlobInfo&)>& visit)
      : prefix_(prefix), visit_(visit) {}

  // `fd` is a fresh descriptor of the folder whose key path is `path` ("" or "a/b/");
  // returns false once `visit` asked to stop.
  Result<bool> Walk(UniqueFd fd, std::string& path) {
    DirStream stream(::fdopendir(fd.get()));
    if (!stream) return Fail(ErrnoError(ErrorCode::kIo, "cannot list blobs under " + path, errno));
    fd.Release();  // the stream owns and closes it now
    int dir = ::dirfd(stream.get());

    // Folder names carry their '/' so plain string order is key order: "a-b" < "a/x"
    // because '-' < '/', though the folder "a" sorts before the file "a-b".
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* entry = ::readdir(stream.get())) {
      std::string_view name = entry->d_name;
      if (name == "." || name == "..") continue;
      if (path.empty() && name == kTempDir) continue;
      bool is_dir = entry->d_type == DT_DIR;
      bool is_file = entry->d_type == DT_REG;
      if (entry->d_type == DT_UNKNOWN) {
        struct stat st {};
        if (::fstatat(dir, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        is_dir = S_ISDIR(st.st_mode);
        is_file = S_ISREG(st.st_mode);
      }
      // Anything else (symlinks above all) is not a blob and never followed.
      if (!is_dir && !is_file) continue;
      std::string candidate = path + std::string(name) + (is_dir ? "/" : "");
      bool wanted = is_dir ? StartsWith(candidate, prefix_) || StartsWith(prefix_, candidate)
                           : StartsWith(candidate, prefix_);
      if (wanted) names.emplace_back(candidate.substr(path.size()));
      errno = 0;
    }
    if (errno != 0) {
      return Fail(ErrnoError(ErrorCode::kIo, "cannot list blobs under " + path, errno));
    }
    std::sort(names.begin(), names.end());

    for (const auto& name : names) {
      if (name.back() == '/') {
        std::string bare = name.substr(0, name.size() - 1);
        int child = OpenDirAt(dir, bare.c_str());
        if (child < 0) {
          // Pruned or swapped for something else since readdir: nothing to list there.
          if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) continue;
          return Fail(ErrnoError(ErrorCode::kIo, "cannot list blobs under " + path + name, errno));
        }
        size_t length = path.size();
        path += name;
        auto more = Walk(UniqueFd(child), path);
        path.resize(length);
        if (!more) return more;
        if (!*more) return false;
      } else {
        struct stat st {};
        if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
          if (errno == ENOENT) continue;  // deleted since readdir
          return Fail(ErrnoError(ErrorCode::kIo, "cannot stat blob " + Quoted(path + name), errno));
        }
        if (!S_ISREG(st.st_mode)) continue;
        if (!visit_(BlobInfo{path + name, static_cast<int64_t>(st.st_size)})) return false;
      }
    }
    return true;
  }

 private:
  std::string_view prefix_;
  const std::function<bool(const BlobInfo&)>& visit_;
};

}  // namespace

FsBlobStore::FsBlobStore(std::shared_ptr<const Dirs> dirs) : dirs_(std::move(dirs)) {}

FsBlobStore::~FsBlobStore() = default;

Result<std::unique_ptr<BlobStore>> FsBlobStore::Open(std::string root) {
  return Open(std::move(root), FsBlobStoreOptions{});
}

Result<std::unique_ptr<BlobStore>> FsBlobStore::Open(const char* root) {
  return Open(std::string(root), FsBlobStoreOptions{});
}

Result<std::unique_ptr<BlobStore>> FsBlobStore::Open(std::string root,
                                                     const FsBlobStoreOptions& options) {
  if (root.empty()) return Fail(ErrorCode::kInvalidArgument, "blob store root is empty");
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  if (ec) {
    return Fail(ErrnoError(ErrorCode::kIo, "cannot create blob store root " + root, ec.value()));
  }
  auto dirs = std::make_shared<Dirs>();
  dirs->root = root;
  dirs->root_fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirs->root_fd < 0) {
    return Fail(ErrnoError(ErrorCode::kIo, "cannot open blob store root " + root, errno));
  }
  if (::mkdirat(dirs->root_fd, kTempDir, 0755) != 0 && errno != EEXIST) {
    return Fail(ErrnoError(ErrorCode::kIo, "cannot create " + root + "/" + kTempDir, errno));
  }
  // O_NOFOLLOW: a .tmp symlinked elsewhere would make commits write outside the root.
  dirs->temp_fd = OpenDirAt(dirs->root_fd, kTempDir);
  if (dirs->temp_fd < 0) {
    return Fail(ErrnoError(ErrorCode::kIo,
                           "cannot open " + root + "/" + kTempDir + " (it must be a real folder)",
                           errno));
  }
  SystemClock system_clock;
  const Clock& clock = options.clock != nullptr ? *options.clock : system_clock;
  SweepStaleTemps(dirs->temp_fd, clock.NowMicros() - options.stale_temp_age_micros);
  return std::unique_ptr<BlobStore>(new FsBlobStore(std::move(dirs)));
}

std::string FsBlobStore::Describe() const { return "fs:" + dirs_->root; }

Result<std::unique_ptr<BlobWriter>> FsBlobStore::NewWriter() {
  try {
    std::random_device random;
    for (int attempt = 0; attempt < 8; ++attempt) {
      std::string name = RandomTempName(random);
      int fd = ::openat(dirs_->temp_fd, name.c_str(),
                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (fd >= 0) return std::make_unique<FsBlobWriter>(dirs_, UniqueFd(fd), std::move(name));
      if (errno != EEXIST) {
        return Fail(ErrnoError(
            ErrorCode::kIo, "cannot create a temporary in " + dirs_->root + "/" + kTempDir, errno));
      }
    }
    return Fail(ErrorCode::kInternal, "no fresh temporary name after 8 random draws");
  } catch (const std::exception& e) {  // std::random_device without an entropy source
    return Fail(ErrorCode::kInternal, std::string("cannot draw a temporary name: ") + e.what());
  }
}

Result<std::unique_ptr<ByteReader>> FsBlobStore::Open(std::string_view key) {
  auto segments = CheckedSegments(key);
  if (!segments) return Fail(std::move(segments.error()));
  auto chain = OpenParent(dirs_->root_fd, *segments, key, Walk::kRead);
  if (!chain) return Fail(std::move(chain.error()));
  // O_NONBLOCK: a FIFO planted under a key must not hang us; regular files ignore it.
  int fd = ::openat(chain->Parent(dirs_->root_fd), segments->back().c_str(),
                    O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ELOOP) return Fail(SymlinkError(key));
    if (err == ENOENT || err == ENOTDIR) return NoBlob(key);
    return Fail(ErrnoError(ErrorCode::kIo, "cannot open blob " + Quoted(key), err));
  }
  UniqueFd file(fd);
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) {
    return Fail(ErrnoError(ErrorCode::kIo, "cannot stat blob " + Quoted(key), errno));
  }
  if (!S_ISREG(st.st_mode)) return NoBlob(key);
  return std::make_unique<FsBlobReader>(std::move(file), static_cast<int64_t>(st.st_size),
                                        std::string(key));
}

Result<bool> FsBlobStore::Exists(std::string_view key) {
  auto st = StatKey(*dirs_, key);
  if (!st) return Fail(std::move(st.error()));
  return st->has_value();
}

Result<int64_t> FsBlobStore::Size(std::string_view key) {
  auto st = StatKey(*dirs_, key);
  if (!st) return Fail(std::move(st.error()));
  if (!st->has_value()) return NoBlob(key);
  return static_cast<int64_t>((*st)->st_size);
}

Result<void> FsBlobStore::Delete(std::string_view key) {
  auto segments = CheckedSegments(key);
  if (!segments) return Fail(std::move(segments.error()));
  auto chain = OpenParent(dirs_->root_fd, *segments, key, Walk::kRead);
  if (!chain) {
    if (chain.error().code == ErrorCode::kNotFound) return {};
    return Fail(std::move(chain.error()));
  }
  int parent = chain->Parent(dirs_->root_fd);
  if (::unlinkat(parent, segments->back().c_str(), 0) != 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) return {};
    struct stat st {};
    // A folder of other blobs is not a blob: there is nothing to delete under this key.
    if ((err == EISDIR || err == EPERM) &&
        ::fstatat(parent, segments->back().c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISDIR(st.st_mode)) {
      return {};
    }
    return Fail(ErrnoError(ErrorCode::kIo, "cannot delete blob " + Quoted(key), err));
  }
  // Prune folders left empty, deepest first, so deleted assets leave no trail of empty
  // folders for List() to walk. The first that is not empty (or already gone) ends it.
  for (size_t i = chain->fds.size(); i-- > 0;) {
    int above = i == 0 ? dirs_->root_fd : chain->fds[i - 1].get();
    if (::unlinkat(above, (*segments)[i].c_str(), AT_REMOVEDIR) != 0) break;
  }
  return {};
}

Result<void> FsBlobStore::List(std::string_view prefix,
                               const std::function<bool(const BlobInfo&)>& visit) {
  if (!prefix.empty()) {
    // A prefix is a key, a partial key ("originals/a") or a folder ("assets/x/").
    std::string_view as_key = prefix.back() == '/' ? prefix.substr(0, prefix.size() - 1) : prefix;
    REPRISE_TRY(ValidateKey(as_key));
  }
  // Start in the deepest folder the prefix names whole, so listing one asset never reads
  // the names of every other asset.
  size_t slash = prefix.rfind('/');
  std::string path;
  UniqueFd dir(OpenDirAt(dirs_->root_fd, "."));
  if (dir.get() < 0) {
    return Fail(ErrnoError(ErrorCode::kIo, "cannot list blobs in " + dirs_->root, errno));
  }
  if (slash != std::string_view::npos) {
    for (const auto& segment : SplitKey(prefix.substr(0, slash))) {
      if (path.empty() && segment == kTempDir) return {};
      int child = OpenDirAt(dir.get(), segment.c_str());
      if (child < 0) {
        // No such folder, a blob in its place, or a symlink: no blobs under the prefix.
        if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) return {};
        return Fail(ErrnoError(ErrorCode::kIo, "cannot list blobs under " + path + segment, errno));
      }
      dir = UniqueFd(child);
      path += segment + "/";
    }
  }
  Lister lister(prefix, visit);
  auto walked = lister.Walk(std::move(dir), path);
  if (!walked) return Fail(std::move(walked.error()));
  return {};
}

Result<std::optional<std::string>> FsBlobStore::PresignGet(std::string_view key, int64_t signed_at,
                                                           std::chrono::seconds expires_in) {
  REPRISE_TRY(CheckedSegments(key));
  REPRISE_TRY(CheckPresignExpiry(signed_at, expires_in));
  return std::optional<std::string>();
}

Result<std::string> FsBlobStore::ContentType(std::string_view key) {
  auto st = StatKey(*dirs_, key);
  if (!st) return Fail(std::move(st.error()));
  if (!st->has_value()) return NoBlob(key);
  return std::string();
}

}  // namespace reprise::blob
