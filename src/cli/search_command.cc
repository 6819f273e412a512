#include "cli/search_command.h"

#include <fmt/core.h>

#include "cli/common.h"
#include "cli/terminal.h"

namespace reprise::cli {
namespace {

// Table cells stay on one line and readable.
std::string Cell(const std::string& text, size_t max_chars) {
  std::string cell;
  for (char c : text) cell.push_back(c == '\n' || c == '\t' || c == '\r' ? ' ' : c);
  if (cell.size() <= max_chars) return cell;
  size_t cut = max_chars - 3;
  // Never inside a UTF-8 sequence.
  while (cut > 0 && (static_cast<unsigned char>(cell[cut]) & 0xC0) == 0x80) --cut;
  return cell.substr(0, cut) + "...";
}

}  // namespace

CLI::App* AddSearchCommand(CLI::App& cli, SearchFlags& flags) {
  flags.limit = catalog::kSearchDefaultLimit;
  auto* command = cli.add_subcommand(
      "search", "Find words in asset names, transcripts, descriptions, tags and summaries");
  command->add_option("query", flags.query, "Words that must all occur (case ignored)")->required();
  command->add_option("--kind", flags.kinds,
                      "Only entries of this kind: name, transcript, "
                      "description, tag or summary (repeatable)");
  command->add_option("--limit", flags.limit, "At most N hits [20]")
      ->check(CLI::Range(1, catalog::kSearchMaxLimit));
  command->add_option("--cursor", flags.cursor, "Continue after a previous page")
      ->type_name("CURSOR");
  auto& selection = flags.selection;
  command->add_option("--owner", selection.owner, "Only this owner's assets")->type_name("ID");
  command->add_option("--status", selection.status, "pending, processing, ready or failed");
  command->add_option("--where", selection.where, "Probe metadata and tags (docs/WHERE.md)")
      ->type_name("EXPR");
  command->add_flag("--json", flags.json, "Print JSON (as GET /api/v1/search)");
  return command;
}

int RunSearch(app::App& app, const SearchFlags& flags) {
  catalog::SearchQuery query;
  query.text = flags.query;
  query.kinds = flags.kinds;
  query.limit = flags.limit;
  query.cursor = flags.cursor;
  auto page = app.search().Search(services::Caller::Admin("cli"), flags.selection, query);
  if (!page) return ReportError(page.error());
  if (flags.json) {
    PrintJson(services::SearchPageJson(flags.query, *page));
    return kExitOk;
  }
  if (page->hits.empty()) {
    fmt::print("No match for \"{}\".\n", flags.query);
    return kExitOk;
  }
  Table table({"ASSET", "NAME", "AT", "KIND", "TEXT"});
  for (const auto& hit : page->hits) {
    table.AddRow({hit.asset_id, Cell(hit.asset_name, 32), services::SearchOffsetText(hit.start),
                  hit.kind, Cell(hit.text, 72)});
  }
  table.Print(stdout);
  if (!page->next_cursor.empty()) {
    fmt::print("More: reprise search \"{}\" --cursor {}\n", flags.query, page->next_cursor);
  }
  return kExitOk;
}

}  // namespace reprise::cli
