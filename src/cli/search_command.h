// `reprise search "QUERY" [--owner ID] [--kind K]... [--limit N] [--cursor C] [filters]
// [--json]`: full-text search over asset names and what stages found (transcripts,
// descriptions, tags, summaries), through services::SearchService. The table shows each
// hit's asset, name, offset (AT, where a player jumps), kind and text; --json prints the
// page as GET /api/v1/search answers it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/app.h"
#include "backfill/service.h"

namespace reprise::cli {

struct SearchFlags {
  std::string query;
  backfill::Selection selection;
  std::vector<std::string> kinds;
  int limit = 0;  // set from catalog::kSearchDefaultLimit
  std::string cursor;
  bool json = false;
};

// Adds the `search` command; `flags` must outlive parsing.
CLI::App* AddSearchCommand(CLI::App& cli, SearchFlags& flags);
int RunSearch(app::App& app, const SearchFlags& flags);

}  // namespace reprise::cli
