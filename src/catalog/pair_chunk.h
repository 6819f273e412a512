// How both catalog backends turn a plan scan's lookups into StagePairs (ScanStagePairs,
// CreateBackfill). A backend reads the assets of the filter in plan order into a
// PairChunk, a chunk at a time; for each chunk it looks up, once per table and with the
// chunk's keys sorted (Keys), every derivative row of its assets, their active job
// stages and the quarantine entries of their content, and hands each row to the chunk
// (AddDerivative, MarkActive, MarkQuarantined) under the key's position. A backend that
// reads each asset's derivative rows joined to it hands them over as they come instead
// (AddDerivativeOfLast), cutting chunks between assets. Visit then
// gives the visitor every (asset, stage) pair of the chunk in plan order and stage
// order, as the StageStatus rule of types.h needs it: C the current row whatever its
// state, R the finished attempt (done, failed, skipped) with the highest id of any
// recipe, L the same among today's recipe's. Memory is bounded by the chunk; no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/backfill_types.h"
#include "catalog/catalog.h"
#include "core/error.h"

namespace reprise::catalog {

class PairChunk final {
 public:
  // Assets per chunk: a lookup descends its index once per asset, with the keys sorted
  // so neighbouring descents share pages (docs/PERFORMANCE.md, backfill planning).
  static constexpr size_t kAssets = 4096;

  struct Asset {
    std::string id;
    int64_t created_at = 0;
    std::optional<double> duration_seconds;
    std::string sha256;
  };

  // The distinct keys of one lookup, sorted, as a JSON array of strings (`json`); the
  // chunk positions of the assets with key n are order[runs[n]] .. order[runs[n+1] - 1].
  struct Keys {
    std::string json;
    std::vector<size_t> order;
    std::vector<size_t> runs;
  };

  // `capacity`: assets per chunk (kAssets unless a backend has a reason for another).
  explicit PairChunk(const std::vector<StageRecipe>& stages, size_t capacity = kAssets)
      : stages_(stages), capacity_(capacity) {}

  void Add(Asset asset) {
    assets_.push_back(std::move(asset));
    slots_.resize(assets_.size() * stages_.size());
  }
  [[nodiscard]] bool Full() const { return assets_.size() >= capacity_; }
  [[nodiscard]] bool Empty() const { return assets_.empty(); }

  // The lookup keys: asset ids (derivatives, job stages) or contents (quarantine).
  [[nodiscard]] Keys AssetIds() const { return Sort(&Asset::id); }
  [[nodiscard]] Keys Contents() const { return Sort(&Asset::sha256); }

  // The columns of a derivative row that count only when the row may be a pair's
  // latest result: read on demand, so the many rows that cannot be cost no reads.
  class Details {
   public:
    virtual ~Details() = default;
    [[nodiscard]] virtual std::string_view State() const = 0;
    [[nodiscard]] virtual std::string_view SkipReason() const = 0;
    [[nodiscard]] virtual std::string_view ErrorCode() const = 0;
  };

  // Rows of a lookup, for the assets at key position `key` of `keys` (0-based), of a
  // stage named `stage` (a row of a stage not asked for is ignored). kInternal for a
  // key position out of range, kInvalidArgument for an unknown derivative state.
  [[nodiscard]] Result<void> AddDerivative(const Keys& keys, size_t key, std::string_view stage,
                                           int64_t id, std::string_view recipe, bool is_current,
                                           const Details& details);
  [[nodiscard]] Result<void> AddDerivative(const Keys& keys, size_t key, std::string_view stage,
                                           int64_t id, std::string_view recipe, bool is_current,
                                           std::string_view state, std::string_view skip_reason,
                                           std::string_view error_code);
  // A derivative row of the asset added last, for a scan that reads each asset's rows
  // with it (joined, in plan order) rather than looking them up by key; kInternal when
  // the chunk is empty.
  [[nodiscard]] Result<void> AddDerivativeOfLast(std::string_view stage, int64_t id,
                                                 std::string_view recipe, bool is_current,
                                                 std::string_view state,
                                                 std::string_view skip_reason,
                                                 std::string_view error_code);
  [[nodiscard]] Result<void> MarkActive(const Keys& keys, size_t key, std::string_view stage);
  [[nodiscard]] Result<void> MarkQuarantined(const Keys& keys, size_t key, std::string_view stage,
                                             std::string_view recipe);

  // Visits the chunk's pairs in plan order, then empties it; false when the visitor
  // stopped.
  bool Visit(const Catalog::PairVisitor& visit);

 private:
  // What the lookups found for one pair; turned into a StagePair when visited.
  struct Slot {
    static constexpr int kNone = -1;
    static constexpr int kTodays = -2;
    int current = kNone;  // kTodays, or an index into other_recipes_
    int result = kNone;   // the same, for the latest result of any recipe
    int64_t result_id = 0;
    std::optional<DerivativeState> latest;
    int64_t latest_id = 0;
    std::string latest_skip_reason;
    std::string latest_error_code;
    bool quarantined = false;
    bool active = false;
  };

  [[nodiscard]] Keys Sort(std::string Asset::*key) const;
  // Calls apply(slot, stage index) for every asked stage named `stage` (a stage may be
  // asked twice) of every asset with key position `key`.
  template <class Apply>
  Result<void> ForSlots(const Keys& keys, size_t key, std::string_view stage, Apply&& apply);
  // The same for the asset at chunk position `position`.
  template <class Apply>
  Result<void> ForAsset(size_t position, std::string_view stage, Apply&& apply);
  // Counts one derivative row into the pair's slot (stage index `s`).
  Result<void> Derive(Slot& slot, size_t s, int64_t id, std::string_view recipe, bool is_current,
                      const Details& details);
  void AssignRecipe(std::string& recipe, int ref, size_t stage) const;

  const std::vector<StageRecipe>& stages_;
  size_t capacity_;
  std::vector<Asset> assets_;
  std::vector<Slot> slots_;                 // assets_.size() x stages_.size(), asset-major
  std::vector<std::string> other_recipes_;  // C's and R's recipes other than today's
  StagePair visiting_;                      // reused: its strings keep their buffers
};

}  // namespace reprise::catalog
