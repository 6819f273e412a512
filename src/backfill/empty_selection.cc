#include "backfill/empty_selection.h"

#include <array>
#include <functional>
#include <optional>

#include <fmt/format.h>

namespace reprise::backfill {
namespace {

// Owners listed at most when a mistyped owner is diagnosed.
constexpr size_t kMaxOwnersListed = 20;

Result<int64_t> CountSelected(catalog::Catalog& catalog, const Selection& selection) {
  auto filter = selection.ToFilter();
  if (!filter) return Fail(std::move(filter.error()));
  return catalog.CountAssets(*filter);
}

// Counts per value of an enum field: `set` puts one value's name into the selection.
template <class Enum, size_t N>
Result<std::map<std::string, int64_t>> CountEach(catalog::Catalog& catalog, Selection selection,
                                                 const std::array<Enum, N>& values,
                                                 std::optional<std::string> Selection::*field) {
  std::map<std::string, int64_t> counts;
  for (Enum value : values) {
    selection.*field = std::string(catalog::Name(value));
    auto n = CountSelected(catalog, selection);
    if (!n) return Fail(std::move(n.error()));
    if (*n > 0) counts[std::string(catalog::Name(value))] = *n;
  }
  return counts;
}

// Owners the selection (without an owner) selects, with their asset counts: one grouped
// count in the catalog, never a walk over the assets.
Result<std::map<std::string, int64_t>> CountOwners(catalog::Catalog& catalog,
                                                   const Selection& selection) {
  auto filter = selection.ToFilter();
  if (!filter) return Fail(std::move(filter.error()));
  return catalog.CountAssetsByOwner(*filter);
}

std::string Listed(const std::map<std::string, int64_t>& counts) {
  std::string text;
  size_t shown = 0;
  for (const auto& [name, n] : counts) {
    if (shown++ == kMaxOwnersListed) {
      text += fmt::format(", ... ({} more)", counts.size() - kMaxOwnersListed);
      break;
    }
    text += fmt::format("{}{} {}", text.empty() ? "" : ", ", name, n);
  }
  return text;
}

// One filter a user can give: how to tell it is set, drop it, and explain it.
struct Field {
  const char* option;
  std::function<bool(const Selection&)> is_set;
  std::function<void(Selection&)> clear;
  // The cause, given the selection without this filter (which selects something).
  std::function<Result<EmptyCause>(catalog::Catalog&, const Selection& given,
                                   const Selection& without)>
      explain;
};

template <class Enum, size_t N>
Field EnumField(const char* option, std::optional<std::string> Selection::*member,
                const std::array<Enum, N>& values, const char* noun, const char* plural) {
  return {option, [member](const Selection& s) { return (s.*member).has_value(); },
          [member](Selection& s) { (s.*member).reset(); },
          [=](catalog::Catalog& catalog, const Selection& given,
              const Selection& without) -> Result<EmptyCause> {
            auto counts = CountEach(catalog, without, values, member);
            if (!counts) return Fail(std::move(counts.error()));
            EmptyCause cause{option,
                             fmt::format("no asset has {} {} ({} here: {})", noun, *(given.*member),
                                         plural, Listed(*counts)),
                             *counts};
            return cause;
          }};
}

Field OptionField(const char* option, std::optional<std::string> Selection::*member,
                  const char* sentence) {
  return {option, [member](const Selection& s) { return (s.*member).has_value(); },
          [member](Selection& s) { (s.*member).reset(); },
          [=](catalog::Catalog&, const Selection& given, const Selection&) -> Result<EmptyCause> {
            return EmptyCause{option, fmt::format(fmt::runtime(sentence), *(given.*member)), {}};
          }};
}

std::vector<Field> Fields(bool owner_is_scope) {
  std::vector<Field> fields;
  if (!owner_is_scope) {
    fields.push_back({"--owner", [](const Selection& s) { return s.owner.has_value(); },
                      [](Selection& s) { s.owner.reset(); },
                      [](catalog::Catalog& catalog, const Selection& given,
                         const Selection& without) -> Result<EmptyCause> {
                        auto owners = CountOwners(catalog, without);
                        if (!owners) return Fail(std::move(owners.error()));
                        return EmptyCause{"--owner",
                                          fmt::format("owner {} has no assets here (owners: {})",
                                                      *given.owner, Listed(*owners)),
                                          *owners};
                      }});
  }
  Field status =
      EnumField("--status", &Selection::status,
                std::array{catalog::AssetStatus::kPending, catalog::AssetStatus::kProcessing,
                           catalog::AssetStatus::kReady, catalog::AssetStatus::kFailed},
                "status", "statuses");
  // An asset's status is not its derivatives': the derivative modes are what select
  // failed results.
  status.explain = [inner = status.explain](catalog::Catalog& catalog, const Selection& given,
                                            const Selection& without) -> Result<EmptyCause> {
    auto cause = inner(catalog, given, without);
    if (cause && given.status == "failed") {
      cause->message += "; to select failed derivatives use --failed (a backfill mode)";
    }
    return cause;
  };
  fields.push_back(std::move(status));
  fields.push_back(EnumField("--kind", &Selection::kind,
                             std::array{catalog::AssetKind::kVideo, catalog::AssetKind::kAudio,
                                        catalog::AssetKind::kImage, catalog::AssetKind::kUnknown},
                             "kind", "kinds"));
  fields.push_back(
      EnumField("--source", &Selection::source,
                std::array{catalog::AssetSource::kUpload, catalog::AssetSource::kUrl,
                           catalog::AssetSource::kWebhook, catalog::AssetSource::kScan},
                "source", "sources"));
  fields.push_back(
      {"--id", [](const Selection& s) { return !s.ids.empty(); },
       [](Selection& s) { s.ids.clear(); },
       [](catalog::Catalog&, const Selection& given, const Selection&) -> Result<EmptyCause> {
         return EmptyCause{"--id",
                           given.ids.size() == 1 ? "asset " + given.ids[0] + " is not selected here"
                                                 : "none of the given ids is selected here",
                           {}};
       }});
  fields.push_back(OptionField("--created-after", &Selection::created_after,
                               "no asset was created at or after {}"));
  fields.push_back(OptionField("--created-before", &Selection::created_before,
                               "no asset was created before {}"));
  fields.push_back(OptionField("--where", &Selection::where, "no asset matches --where '{}'"));
  return fields;
}

}  // namespace

Result<std::vector<EmptyCause>> ExplainEmptySelection(catalog::Catalog& catalog,
                                                      const Selection& selection,
                                                      const std::string& scope_owner) {
  Selection given = selection;
  if (!scope_owner.empty()) given.owner = scope_owner;
  auto selected = CountSelected(catalog, given);
  if (!selected) return Fail(std::move(selected.error()));
  if (*selected > 0) return std::vector<EmptyCause>{};

  Selection nothing_set;  // selects every asset in scope
  if (!scope_owner.empty()) nothing_set.owner = scope_owner;
  auto total = CountSelected(catalog, nothing_set);
  if (!total) return Fail(std::move(total.error()));
  if (*total == 0) {
    return std::vector<EmptyCause>{
        {"", "the catalog has no assets yet (`reprise ingest` adds some)", {}}};
  }
  const std::vector<Field> fields = Fields(!scope_owner.empty());
  // `alone`: keep only the field (a cause when that selects nothing); otherwise drop
  // only the field (a cause when that selects something).
  auto find_causes = [&](bool alone) -> Result<std::vector<EmptyCause>> {
    std::vector<EmptyCause> causes;
    for (const Field& field : fields) {
      if (!field.is_set(given)) continue;
      Selection without = given;
      field.clear(without);
      Selection probe = without;
      if (alone) {
        probe = given;
        for (const Field& other : fields) {
          if (&other != &field) other.clear(probe);
        }
      }
      auto n = CountSelected(catalog, probe);
      if (!n) return Fail(std::move(n.error()));
      if ((*n > 0) == alone) continue;
      auto cause = field.explain(catalog, given, alone ? nothing_set : without);
      if (!cause) return Fail(std::move(cause.error()));
      causes.push_back(std::move(*cause));
    }
    return causes;
  };
  for (bool alone : {false, true}) {
    auto causes = find_causes(alone);
    if (!causes || !causes->empty()) return causes;
  }
  return std::vector<EmptyCause>{
      {"",
       fmt::format("each filter selects assets, but none of the {} assets here matches them "
                   "all together",
                   *total),
       {}}};
}

nlohmann::json EmptyCausesJson(const std::vector<EmptyCause>& causes) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& cause : causes) {
    out.push_back(
        {{"filter", cause.filter.empty() ? nlohmann::json() : nlohmann::json(cause.filter)},
         {"message", cause.message},
         {"present", cause.present}});
  }
  return out;
}

}  // namespace reprise::backfill
