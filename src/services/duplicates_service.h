// Finding assets whose audio is the same or a near-same recording (re-uploads,
// re-encodes, a copy with silence added), from the fingerprint stage's current results.
//
// Every fingerprint of the selection is decoded once. Candidates come from an inverted
// index of the fingerprints' frames (the upper 20 bits of each 32-bit Chromaprint frame,
// which survive re-encoding often enough: two takes of the same recording share dozens
// of them, unrelated audio a handful); a key shared by more than kMaxPostings
// assets (silence, a steady tone) is dropped from the index as carrying no information.
// Each candidate pair is then scored with stages::FingerprintSimilarity (best alignment
// within +-80 frames, about 10 s), and pairs at or above the threshold are joined into
// groups (transitively: A~B and B~C put A, B and C in one group).
//
// Cost: memory about 8 bytes per fingerprint frame (8 KB per asset at the stage's
// default 120 s), time linear in the frames plus the candidate pairs scored.
// Fingerprints of another algorithm than the first one seen are counted and skipped.
//
// DuplicatesService is what `reprise assets duplicates` and `GET /api/v1/duplicates`
// call: the report over the caller's assets, and DuplicatesJson its one JSON view.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "core/error.h"
#include "services/caller.h"

namespace reprise::services {

struct DuplicateMember {
  std::string asset_id;
  std::string name;
  std::optional<double> duration_seconds;
};

struct DuplicatePair {
  std::string a;
  std::string b;
  double similarity = 0;
};

struct DuplicateGroup {
  std::vector<DuplicateMember> assets;  // in catalog order (oldest first)
  std::vector<DuplicatePair> pairs;     // the pairs at or above the threshold
};

struct DuplicateReport {
  int64_t fingerprinted = 0;  // assets with a current fingerprint in the selection
  int64_t unreadable = 0;     // fingerprints that did not decode or of another algorithm
  int64_t candidates = 0;     // pairs scored
  double threshold = 0;
  std::vector<DuplicateGroup> groups;  // largest first
};

inline constexpr double kDefaultDuplicateThreshold = 0.8;
inline constexpr size_t kMaxPostings = 1000;

// kInvalidArgument for a threshold outside (0, 1]; the catalog's errors otherwise.
[[nodiscard]] Result<DuplicateReport> FindDuplicates(catalog::Catalog& catalog,
                                                     const catalog::AssetFilter& filter,
                                                     double threshold = kDefaultDuplicateThreshold);

// {threshold, fingerprinted, unreadable, candidates, groups: [{assets: [{id, name,
// duration_seconds}], pairs: [{a, b, similarity}]}]}
nlohmann::json DuplicatesJson(const DuplicateReport& report);

class DuplicatesService final {
 public:
  explicit DuplicatesService(catalog::Catalog& catalog) : catalog_(catalog) {}

  // The groups among the assets `caller` sees (narrowed to `only_owner`).
  // kPermissionDenied for a non-admin naming another owner; kInvalidArgument for a
  // threshold outside (0, 1].
  [[nodiscard]] Result<DuplicateReport> Find(const Caller& caller,
                                             const std::optional<std::string>& only_owner,
                                             double threshold = kDefaultDuplicateThreshold);

 private:
  catalog::Catalog& catalog_;
};

}  // namespace reprise::services
