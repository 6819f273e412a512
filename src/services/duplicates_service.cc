#include "services/duplicates_service.h"

#include <algorithm>
#include <numeric>
#include <unordered_map>
#include <utility>

#include "stages/fingerprint_stage.h"

namespace reprise::services {
namespace {

constexpr int kKeyShift = 12;  // the index keeps a frame's upper 20 bits
constexpr size_t kMinSharedKeys = 3;

// Disjoint sets over asset indexes.
class Groups {
 public:
  explicit Groups(size_t size) : parent_(size) {
    std::iota(parent_.begin(), parent_.end(), size_t{0});
  }
  size_t Find(size_t x) {
    while (parent_[x] != x) x = parent_[x] = parent_[parent_[x]];
    return x;
  }
  void Join(size_t x, size_t y) {
    x = Find(x);
    y = Find(y);
    if (x != y) parent_[std::max(x, y)] = std::min(x, y);
  }

 private:
  std::vector<size_t> parent_;
};

}  // namespace

Result<DuplicateReport> FindDuplicates(catalog::Catalog& catalog,
                                       const catalog::AssetFilter& filter, double threshold) {
  if (!(threshold > 0 && threshold <= 1)) {
    return Fail(ErrorCode::kInvalidArgument, "the similarity threshold must lie in (0, 1]");
  }
  DuplicateReport report;
  report.threshold = threshold;
  std::vector<DuplicateMember> members;
  std::vector<stages::RawFingerprint> prints;
  std::optional<int> algorithm;
  REPRISE_TRY(catalog.ScanCurrentResults(
      stages::FingerprintStage::kName, filter, [&](const catalog::CurrentResult& result) {
        ++report.fingerprinted;
        auto text = result.metadata.find("fingerprint");
        if (text == result.metadata.end() || !text->is_string()) {
          ++report.unreadable;
          return true;
        }
        auto raw = stages::DecodeFingerprint(text->get<std::string>());
        if (!raw || raw->algorithm != algorithm.value_or(raw->algorithm)) {
          ++report.unreadable;
          return true;
        }
        algorithm = raw->algorithm;
        members.push_back({result.asset_id, result.asset_name, result.duration_seconds});
        prints.push_back(std::move(*raw));
        return true;
      }));

  // Candidates: each asset against the earlier ones sharing enough index keys.
  std::unordered_map<uint32_t, std::vector<uint32_t>> postings;
  std::unordered_map<uint32_t, uint32_t> shared;
  std::vector<uint32_t> keys;
  Groups groups(members.size());
  std::vector<DuplicatePair> pairs;
  for (size_t i = 0; i < prints.size(); ++i) {
    keys.clear();
    for (uint32_t frame : prints[i].frames) keys.push_back(frame >> kKeyShift);
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    shared.clear();
    for (uint32_t key : keys) {
      auto& list = postings[key];
      if (list.size() > kMaxPostings) continue;  // a stop word
      for (uint32_t other : list) ++shared[other];
      list.push_back(static_cast<uint32_t>(i));
    }
    for (const auto& [other, count] : shared) {
      if (count < kMinSharedKeys) continue;
      ++report.candidates;
      auto similarity = stages::FingerprintSimilarity(prints[other], prints[i]);
      if (!similarity || *similarity < threshold) continue;
      pairs.push_back({members[other].asset_id, members[i].asset_id, *similarity});
      groups.Join(other, i);
    }
  }

  // Groups of two or more, members in catalog order, pairs by the group's first member.
  std::unordered_map<size_t, size_t> group_of_root;
  std::vector<size_t> root_of(members.size());
  for (size_t i = 0; i < members.size(); ++i) root_of[i] = groups.Find(i);
  std::unordered_map<std::string, size_t> index_of;
  for (size_t i = 0; i < members.size(); ++i) index_of.emplace(members[i].asset_id, i);
  for (const auto& pair : pairs) {
    size_t root = root_of[index_of.at(pair.a)];
    auto [it, added] = group_of_root.emplace(root, report.groups.size());
    if (added) report.groups.emplace_back();
    report.groups[it->second].pairs.push_back(pair);
  }
  for (size_t i = 0; i < members.size(); ++i) {
    auto it = group_of_root.find(root_of[i]);
    if (it != group_of_root.end()) report.groups[it->second].assets.push_back(members[i]);
  }
  std::stable_sort(report.groups.begin(), report.groups.end(),
                   [](const DuplicateGroup& x, const DuplicateGroup& y) {
                     return x.assets.size() > y.assets.size();
                   });
  return report;
}

nlohmann::json DuplicatesJson(const DuplicateReport& report) {
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& group : report.groups) {
    nlohmann::json assets = nlohmann::json::array();
    for (const auto& asset : group.assets) {
      assets.push_back(
          {{"id", asset.asset_id},
           {"name", asset.name},
           {"duration_seconds", asset.duration_seconds ? nlohmann::json(*asset.duration_seconds)
                                                       : nlohmann::json(nullptr)}});
    }
    nlohmann::json pairs = nlohmann::json::array();
    for (const auto& pair : group.pairs) {
      pairs.push_back({{"a", pair.a}, {"b", pair.b}, {"similarity", pair.similarity}});
    }
    groups.push_back({{"assets", assets}, {"pairs", pairs}});
  }
  return {{"threshold", report.threshold},
          {"fingerprinted", report.fingerprinted},
          {"unreadable", report.unreadable},
          {"candidates", report.candidates},
          {"groups", groups}};
}

Result<DuplicateReport> DuplicatesService::Find(const Caller& caller,
                                                const std::optional<std::string>& only_owner,
                                                double threshold) {
  auto scope = caller.Scope(only_owner);
  if (!scope) return Fail(scope.error());
  return FindDuplicates(catalog_, *scope, threshold);
}

}  // namespace reprise::services
