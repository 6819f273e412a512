#include "cli/backfill_command.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "backfill/driver.h"
#include "cli/common.h"
#include "cli/terminal.h"

namespace reprise::cli {

using catalog::BackfillMode;
using catalog::BackfillState;
using catalog::ItemOutcome;

struct BackfillCommands {
  CLI::App* start = nullptr;
  CLI::App* list = nullptr;
  CLI::App* status = nullptr;
  CLI::App* pause = nullptr;
  CLI::App* resume = nullptr;
  CLI::App* cancel = nullptr;
  CLI::App* diff = nullptr;
  CLI::App* rollback = nullptr;

  // backfill STAGE...
  std::vector<std::string> stages;
  bool all_stages = false;
  bool outdated = false;
  bool missing = false;
  bool failed = false;
  bool all = false;
  bool include_quarantined = false;
  backfill::Selection selection;
  std::optional<std::string> ids_from;
  std::optional<int64_t> limit;
  int concurrency = 0;
  std::optional<std::string> rate;
  double delay = 0;
  int priority = catalog::kBackfillPriority;
  bool skip_reset = false;
  bool dry_run = false;
  bool yes = false;
  bool detach = false;
  int preview = 10;

  // rollback STAGE
  std::string rollback_stage;
  std::string to_recipe;

  // the others
  int64_t id = 0;
  std::optional<std::string> owner;  // scope of status/pause/...
  bool json = false;
};

namespace {

Result<std::vector<std::string>> ReadIds(const std::string& path) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path);
    if (!file) return Fail(ErrorCode::kNotFound, "--ids-from: cannot read " + path);
    in = &file;
  }
  std::vector<std::string> ids;
  std::string line;
  while (std::getline(*in, line)) {
    auto begin = line.find_first_not_of(" \t\r");
    if (begin == std::string::npos || line[begin] == '#') continue;
    auto end = line.find_last_not_of(" \t\r");
    ids.push_back(line.substr(begin, end - begin + 1));
  }
  if (ids.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "--ids-from " + path + " holds no asset id");
  }
  return ids;
}

// Asks for "yes" on a terminal; refuses without one. True to go ahead.
Result<bool> Confirm(const std::string& what) {
  if (!::isatty(STDIN_FILENO) || !::isatty(STDOUT_FILENO)) {
    return Fail(ErrorCode::kInvalidArgument, "not going ahead with " + what +
                                                 " without confirmation: pass --yes (or "
                                                 "--dry-run to see what it would do)");
  }
  fmt::print("Type yes to go ahead with {}: ", what);
  std::fflush(stdout);
  std::string answer;
  return std::getline(std::cin, answer) && answer == "yes";
}

// The command line acts as an admin, narrowed by --owner where a command has one.
services::Caller Cli() { return services::Caller::Admin("cli"); }

Result<services::BackfillSpec> BuildSpec(BackfillCommands& flags) {
  services::BackfillSpec spec;
  spec.stages = flags.stages;
  spec.all_stages = flags.all_stages;
  int modes = int{flags.outdated} + int{flags.missing} + int{flags.failed} + int{flags.all};
  if (modes > 1) {
    return Fail(ErrorCode::kInvalidArgument,
                "choose one of --outdated, --missing, --failed and --all");
  }
  spec.mode = flags.missing  ? BackfillMode::kMissing
              : flags.failed ? BackfillMode::kFailed
              : flags.all    ? BackfillMode::kAll
                             : BackfillMode::kOutdated;
  spec.include_quarantined = flags.include_quarantined;
  spec.selection = flags.selection;
  if (flags.ids_from) {
    auto ids = ReadIds(*flags.ids_from);
    if (!ids) return Fail(std::move(ids.error()));
    spec.selection.ids.insert(spec.selection.ids.end(), ids->begin(), ids->end());
  }
  spec.limit = flags.limit;
  spec.concurrency = flags.concurrency;
  if (flags.rate) {
    auto rate = services::ParseRate(*flags.rate, "--rate");
    if (!rate) return Fail(std::move(rate.error()));
    spec.rate_per_second = *rate;
  }
  spec.delay_seconds = flags.delay;
  spec.priority = flags.priority;
  spec.skip_reset = flags.skip_reset;
  spec.preview = flags.preview;
  return spec;
}

std::string Counts(const std::map<std::string, int64_t>& counts) {
  std::string text;
  for (const auto& [name, n] : counts)
    text += fmt::format("{}{} {}", text.empty() ? "" : ", ", name, n);
  return text.empty() ? "-" : text;
}

std::string Money(double amount) { return fmt::format("{:.2f}", amount); }

// The estimate, with the pacing that bounds it and whose past runs it comes from.
void PrintEstimate(const backfill::PlanReport& plan) {
  std::string pacing;
  if (plan.rate_per_second > 0) pacing += fmt::format(", --rate {:.2f}/s", plan.rate_per_second);
  if (plan.delay_seconds > 0) pacing += fmt::format(", --delay {:.2f} s", plan.delay_seconds);
  if (!pacing.empty()) {
    pacing += fmt::format(" (the pacing alone takes {})", HumanSeconds(plan.pacing_seconds));
  }
  fmt::print("Estimate: {} at concurrency {}{}; {} of work in {} job(s); cost {}, storage {}\n",
             HumanSeconds(plan.estimated_seconds), plan.concurrency, pacing,
             HumanSeconds(plan.work_seconds), plan.assets_selected, Money(plan.estimated_cost),
             HumanBytes(static_cast<int64_t>(plan.estimated_bytes)));
  std::string basis;
  for (const auto& stage : plan.stages) {
    std::string runs = fmt::format("{} past run(s) of ", stage.history.samples);
    switch (stage.history_source) {
      case backfill::HistorySource::kRecipe:
        runs += "today's recipe";
        break;
      case backfill::HistorySource::kOtherRecipes:
        runs += "other recipes (today's has none yet)";
        break;
      case backfill::HistorySource::kNone:
        runs = "no past runs (its time is not counted)";
        break;
    }
    if (stage.history_alone) runs += " (the stage alone in its pass)";
    basis += fmt::format("{}{}: {}", basis.empty() ? "" : "; ", stage.stage, runs);
  }
  fmt::print("  based on {}\n", basis);
}

void PrintPlan(const backfill::PlanReport& plan, bool dry_run) {
  fmt::print("Backfill plan{}\n", dry_run ? " (dry run: nothing was changed)" : "");
  fmt::print("  {} asset(s) looked at, {} selected{}, {} item(s) to process\n", plan.assets_seen,
             plan.assets_selected, plan.limited ? " (limit reached)" : "", plan.items);
  Table table({"STAGE", "PROCESS", "WHY", "LEAVE", "WHY NOT"});
  for (const auto& stage : plan.stages) {
    std::string why = Counts(stage.selected_by_reason);
    for (const auto& [recipe, n] : stage.outdated_from) {
      why += fmt::format(" [{} from recipe {} to {}]", n, recipe, stage.recipe);
    }
    int64_t left = 0;
    std::map<std::string, int64_t> other = stage.left_by_reason;
    for (const auto& [reason, n] : stage.left_by_reason) left += n;
    for (const auto& [reason, n] : stage.not_applicable) {
      if ((other[reason] -= n) <= 0) other.erase(reason);
    }
    std::string why_not = other.empty() ? "" : Counts(other);
    if (!stage.not_applicable.empty()) {
      why_not +=
          (why_not.empty() ? "" : "; ") + ("not applicable: " + Counts(stage.not_applicable));
    }
    table.AddRow({stage.input_only ? stage.stage + " (input)" : stage.stage,
                  std::to_string(stage.selected), why, std::to_string(left),
                  why_not.empty() ? "-" : why_not});
  }
  table.Print(stdout);
  PrintEstimate(plan);
  if (!plan.first_items.empty()) {
    fmt::print("First {} item(s):\n", plan.first_items.size());
    Table items({"ASSET", "STAGE", "REASON", "FROM RECIPE"});
    for (const auto& item : plan.first_items) {
      items.AddRow({item.asset_id, item.stage, item.reason,
                    item.from_recipe.empty() ? "-" : item.from_recipe});
    }
    items.Print(stdout);
  }
}

// "completed_with_failures" -> "completed with failures".
std::string StateWords(BackfillState state) {
  std::string words(catalog::Name(state));
  std::replace(words.begin(), words.end(), '_', ' ');
  return words;
}

void PrintSummary(const backfill::Status& status) {
  const auto& counts = status.counts;
  const auto& backfill = status.backfill;
  if (catalog::IsFinal(backfill.state)) {
    fmt::print("Backfill {} {} in {}\n", backfill.id, StateWords(backfill.state),
               HumanSeconds(status.elapsed_seconds));
  } else if (backfill.started_at == 0) {
    fmt::print("Backfill {} {}, not started\n", backfill.id, StateWords(backfill.state));
  } else {
    fmt::print("Backfill {} {}, started {} ago\n", backfill.id, StateWords(backfill.state),
               HumanSeconds(status.elapsed_seconds));
  }
  if (!status.backfill.stop_reason.empty()) fmt::print("  ({})\n", status.backfill.stop_reason);
  Table table({"OUTCOME", "ITEMS", "DETAIL"});
  table.AddRow({"processed", std::to_string(counts.Count(ItemOutcome::kProcessed)), ""});
  table.AddRow({"skipped", std::to_string(counts.Count(ItemOutcome::kSkipped)),
                Counts(counts.skipped_by_reason)});
  std::string failed;
  for (const auto& [code, n] : counts.failed_by_code) {
    auto examples = counts.failed_examples.find(code);
    failed += fmt::format(
        "{}{} {} (e.g. {})", failed.empty() ? "" : "; ", code, n,
        examples == counts.failed_examples.end() ? std::string("-") : JoinNames(examples->second));
  }
  table.AddRow({"failed", std::to_string(counts.Count(ItemOutcome::kFailed)), failed});
  table.AddRow({"cancelled", std::to_string(counts.Count(ItemOutcome::kCancelled)), ""});
  int64_t waiting = counts.Count(ItemOutcome::kPending) + counts.Count(ItemOutcome::kQueued);
  if (waiting > 0) table.AddRow({"not done yet", std::to_string(waiting), ""});
  table.AddRow({"total", std::to_string(counts.total), ""});
  table.Print(stdout);
}

// 1 when some item failed, or the backfill ended otherwise than succeeded (cancelled,
// failed, completed with failures); 0 while it goes on without failures or succeeded.
int ExitCodeFor(const backfill::Status& status) {
  if (status.counts.Count(ItemOutcome::kFailed) > 0) return kExitFailures;
  const BackfillState state = status.backfill.state;
  return !catalog::IsFinal(state) || state == BackfillState::kSucceeded ? kExitOk : kExitFailures;
}

// Drives the backfill in this process with a worker pool of its own until it needs no
// driver, showing progress; SIGINT/SIGTERM stop this process, not the backfill (any
// `reprise worker` or `backfill resume` takes it up again).
int Drive(app::App& app, int64_t id, const BackfillCommands& flags,
          queue::ShutdownSignals& signals) {
  auto& service = app.backfill_service();
  auto options = app.WorkerDefaults();
  if (flags.concurrency > 0) options.concurrency = flags.concurrency;
  // This pool serves the backfill the user is watching; live work has its own workers.
  options.reserved_live_share = 0;
  auto worker = app.NewWorker(options);
  if (auto started = worker->Start(); !started) return ReportError(started.error());
  backfill::Driver driver(app.catalog(), app.clock(), app.log(), options.worker_id + "/driver", id,
                          options.lease_micros);

  ProgressBar bar(stdout, app.log());
  const int64_t started_at = app.clock().MonotonicMicros();
  int64_t last_status = 0;
  bool interrupted = false;
  Result<backfill::StepResult> step = backfill::StepResult{};
  while (true) {
    step = driver.Step();
    if (!step) break;
    if (step->dispatched_jobs > 0) worker->Wake();
    const int64_t now = app.clock().MonotonicMicros();
    if (!flags.json && (now - last_status >= 250'000 || !step->driving)) {
      last_status = now;
      if (auto status = service.GetStatus(Cli(), id); status) {
        const int64_t done = status->counts.Ended();
        const double seconds = static_cast<double>(now - started_at) / 1e6;
        const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
        auto left = backfill::RemainingSeconds(done, status->counts.total, seconds);
        std::string eta = left ? HumanSeconds(*left) : "-";
        bar.Update(
            done, status->counts.total,
            fmt::format("{} {:.1f}/s ETA {} failed {}", catalog::Name(status->backfill.state), rate,
                        eta, status->counts.Count(ItemOutcome::kFailed)));
      }
    }
    if (!step->driving) break;
    const int64_t wait = driver.MicrosUntilNextStart();
    if (signals.Wait(wait > 0 ? std::min(wait, backfill::kForegroundPollMicros)
                              : backfill::kForegroundPollMicros) != 0) {
      interrupted = true;
      break;
    }
  }
  bar.Clear();
  driver.Release();
  worker->Shutdown([&] { return signals.Wait(0) != 0; });
  if (!step) return ReportError(step.error());

  auto status = service.GetStatus(Cli(), id);
  if (!status) return ReportError(status.error());
  if (flags.json) {
    PrintJson(backfill::StatusJson(*status));
  } else {
    PrintSummary(*status);
  }
  if (interrupted) {
    fmt::print(stderr,
               "interrupted: backfill {} is still {}; any `reprise worker` or `reprise serve` "
               "carries it on, or `reprise backfill resume {}`\n",
               id, catalog::Name(status->backfill.state), id);
    return kExitFailures;
  }
  return ExitCodeFor(*status);
}

int RunStart(app::App& app, BackfillCommands& flags, queue::ShutdownSignals* signals) {
  auto spec = BuildSpec(flags);
  if (!spec) return ReportError(spec.error());
  auto& service = app.backfill_service();
  auto planned = service.Plan(Cli(), *spec);
  if (!planned) return ReportError(planned.error());
  const backfill::PlanReport* plan = &planned->report;
  if (!planned->empty_because.empty() && !flags.json) {
    fmt::print("{}\n", EmptyCausesText("Nothing selected", planned->empty_because));
  }
  if (flags.dry_run) {
    if (flags.json) {
      PrintJson(services::PlanJson(*planned));
    } else {
      PrintPlan(*plan, true);
    }
    return kExitOk;
  }
  if (plan->items == 0) {
    if (flags.json) {
      PrintJson({{"backfill", nullptr}, {"plan", services::PlanJson(*planned)}});
    } else {
      PrintPlan(*plan, false);
      fmt::print(
          "Nothing to do: every selected pair is current or left out for the reason "
          "shown.\n");
    }
    return kExitOk;
  }
  if (!flags.yes) {
    if (::isatty(STDOUT_FILENO)) PrintPlan(*plan, false);
    auto go = Confirm("a backfill of " + std::to_string(plan->items) + " item(s)");
    if (!go) return ReportError(go.error());
    if (!*go) {
      fmt::print("Not started.\n");
      return kExitFailures;
    }
  }
  auto backfill = service.Start(Cli(), *planned);
  if (!backfill) return ReportError(backfill.error());
  if (flags.detach) {
    if (flags.json) {
      PrintJson(backfill::BackfillJson(*backfill));
    } else {
      fmt::print(
          "Backfill {} started with {} item(s); `reprise worker` or `reprise serve` runs "
          "it. Watch it with `reprise backfill status {}`.\n",
          backfill->id, plan->items, backfill->id);
    }
    return kExitOk;
  }
  if (!flags.json) fmt::print("Backfill {}: {} item(s)\n", backfill->id, plan->items);
  return Drive(app, backfill->id, flags, *signals);
}

// After pause, resume --detach or cancel: the state the backfill is in now, in words.
int PrintBackfill(const Result<catalog::Backfill>& backfill, bool json) {
  if (!backfill) return ReportError(backfill.error());
  if (json) {
    PrintJson(backfill::BackfillJson(*backfill));
    return kExitOk;
  }
  const int64_t id = backfill->id;
  switch (backfill->state) {
    case BackfillState::kPaused:
      fmt::print(
          "Backfill {} paused: nothing new starts, jobs not started yet went back to its plan "
          "and running ones finish; `reprise backfill resume {}` carries on.\n",
          id, id);
      break;
    case BackfillState::kRunning:
      fmt::print("Backfill {} running; any `reprise worker` or `reprise serve` drives it.\n", id);
      break;
    case BackfillState::kCancelling:
      fmt::print(
          "Backfill {} cancelling: its waiting items are cancelled and its running jobs stop at "
          "their next heartbeat.\n",
          id);
      break;
    default:
      fmt::print("Backfill {} {}.\n", id, StateWords(backfill->state));
      break;
  }
  return kExitOk;
}

// `backfill list` shows the newest ones.
constexpr int kListLimit = 100;

int RunList(app::App& app, const BackfillCommands& flags) {
  catalog::PageRequest page;
  page.limit = kListLimit;
  auto listed = app.backfill_service().List(Cli(), flags.owner, page);
  if (!listed) return ReportError(listed.error());
  if (flags.json) {
    PrintJson(services::StatusListJson(*listed));
    return kExitOk;
  }
  // DONE counts processed and skipped items; failed and cancelled ones are apart.
  Table table({"ID", "STATE", "MODE", "STAGES", "DONE", "FAILED", "CANCELLED", "CREATED"});
  for (const auto& status : listed->items) {
    const auto& backfill = status.backfill;
    const auto& counts = status.counts;
    std::vector<std::string> stages;
    for (const auto& stage : backfill.stages) stages.push_back(stage.stage);
    table.AddRow({std::to_string(backfill.id), std::string(catalog::Name(backfill.state)),
                  std::string(catalog::Name(backfill.mode)), JoinNames(stages),
                  fmt::format("{}/{}", counts.Done(), counts.total),
                  std::to_string(counts.Count(ItemOutcome::kFailed)),
                  std::to_string(counts.Count(ItemOutcome::kCancelled)),
                  FormatRfc3339(backfill.created_at)});
  }
  if (table.empty()) {
    fmt::print("No backfills yet.\n");
  } else {
    table.Print(stdout);
  }
  return kExitOk;
}

int RunStatus(app::App& app, const BackfillCommands& flags) {
  auto status = app.backfill_service().GetStatus(Cli(), flags.id, flags.owner);
  if (!status) return ReportError(status.error());
  if (flags.json) {
    PrintJson(backfill::StatusJson(*status));
  } else {
    PrintSummary(*status);
    if (auto note = backfill::DriverNote(*status); !note.empty()) fmt::print("  {}\n", note);
  }
  return ExitCodeFor(*status);
}

int RunDiff(app::App& app, const BackfillCommands& flags) {
  auto diff = app.backfill_service().GetDiff(Cli(), flags.id, flags.owner);
  if (!diff) return ReportError(diff.error());
  if (flags.json) {
    PrintJson(backfill::DiffJson(*diff));
    return kExitOk;
  }
  fmt::print("Backfill {}: {} item(s) frozen in its plan; the same filters select {} now\n",
             flags.id, diff->frozen, diff->live);
  fmt::print("  selected now, not in the plan  {}\n", diff->only_live);
  fmt::print("  in the plan, not selected now  {}\n", diff->only_frozen);
  for (const auto& item : diff->examples) {
    fmt::print("  + {} {} ({})\n", item.asset_id, item.stage, item.reason);
  }
  return kExitOk;
}

void AddSelectionOptions(CLI::App& command, BackfillCommands& flags) {
  auto& s = flags.selection;
  command.add_option("--status", s.status,
                     "Only assets in this status (pending, processing, "
                     "ready, failed)");
  command.add_option("--owner", s.owner, "Only this owner's assets")->type_name("ID");
  command.add_option("--kind", s.kind, "video, audio or image");
  command.add_option("--id", s.ids, "This asset (repeatable)")->type_name("ID");
  command.add_option("--ids-from", flags.ids_from, "Asset ids, one per line ('-': stdin)")
      ->type_name("FILE");
  command.add_option("--source", s.source, "upload, url, webhook or scan");
  command.add_option("--created-after", s.created_after, "Created at or after (RFC 3339 or date)")
      ->type_name("TIME");
  command.add_option("--created-before", s.created_before, "Created before (RFC 3339 or date)")
      ->type_name("TIME");
  command
      .add_option("--where", s.where,
                  "Probe metadata and tags, e.g. 'duration > 60 and codec = \"h264\"' "
                  "(docs/WHERE.md)")
      ->type_name("EXPR");
}

void PrintRollback(const backfill::RollbackReport& result, const std::string& stage, bool dry_run) {
  fmt::print(
      "Rollback of {}{}: {} of {} asset(s){}; {} without a current result, {} without an "
      "earlier one\n",
      stage, dry_run ? " (dry run: nothing was changed)" : "", result.rolled_back, result.assets,
      dry_run ? " would go back" : " went back", result.no_current, result.no_earlier);
  if (std::string warning = backfill::RollbackWarning(result, dry_run); !warning.empty()) {
    fmt::print("Note: {}.\n", warning);
  }
  if (result.items.empty()) return;
  Table table({"ASSET", "FROM RECIPE", "TO RECIPE"});
  for (const auto& item : result.items) {
    table.AddRow({item.asset_id, item.from_recipe, item.to_recipe});
  }
  table.Print(stdout);
}

int RunRollback(app::App& app, BackfillCommands& flags) {
  services::RollbackSpec spec;
  spec.stage = flags.rollback_stage;
  spec.selection = flags.selection;
  spec.to_recipe = flags.to_recipe;
  spec.preview = flags.preview;
  if (flags.ids_from) {
    auto ids = ReadIds(*flags.ids_from);
    if (!ids) return ReportError(ids.error());
    spec.selection.ids.insert(spec.selection.ids.end(), ids->begin(), ids->end());
  }
  auto& service = app.backfill_service();
  spec.dry_run = true;
  auto plan = service.Rollback(Cli(), spec);
  if (!plan) return ReportError(plan.error());
  if (flags.dry_run || plan->rolled_back == 0) {
    if (flags.json) {
      PrintJson(backfill::RollbackJson(*plan, true));
    } else {
      PrintRollback(*plan, flags.rollback_stage, true);
    }
    return kExitOk;
  }
  if (!flags.yes) {
    PrintRollback(*plan, flags.rollback_stage, true);
    auto go = Confirm(fmt::format("rolling back {} result(s)", plan->rolled_back));
    if (!go) return ReportError(go.error());
    if (!*go) {
      fmt::print("Nothing changed.\n");
      return kExitFailures;
    }
  }
  spec.dry_run = false;
  auto done = service.Rollback(Cli(), spec);
  if (!done) return ReportError(done.error());
  if (flags.json) {
    PrintJson(backfill::RollbackJson(*done, false));
  } else {
    PrintRollback(*done, flags.rollback_stage, false);
  }
  return kExitOk;
}

}  // namespace

std::shared_ptr<BackfillCommands> AddBackfillCommands(CLI::App& cli) {
  auto flags = std::make_shared<BackfillCommands>();
  BackfillCommands& f = *flags;
  auto* cmd = cli.add_subcommand(
      "backfill", "Build or rebuild derivatives over a selection of the library, safely");
  f.start = cmd;
  cmd->require_subcommand(0, 1);
  cmd->add_option("stages", f.stages, "Stages to backfill")->type_name("STAGE...");
  cmd->add_flag("--all-stages", f.all_stages, "Every registered stage");
  cmd->add_flag("--outdated", f.outdated,
                "Missing, or built by another recipe than today's (the default)");
  cmd->add_flag("--missing", f.missing, "Only pairs with no result at all");
  cmd->add_flag("--failed", f.failed, "Only pairs whose last attempt failed");
  cmd->add_flag("--all", f.all, "Everything selected, current results rebuilt");
  cmd->add_flag("--include-quarantined", f.include_quarantined,
                "Also select content quarantined for repeated failures");
  AddSelectionOptions(*cmd, f);
  cmd->add_option("--limit", f.limit, "At most N assets")->check(CLI::PositiveNumber);
  cmd->add_option("--concurrency", f.concurrency,
                  "Jobs of this backfill at once (and worker slots here) [default: one per "
                  "core]")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--rate", f.rate, "Start at most R assets per second or minute: 5/s, 300/m")
      ->type_name("R/s|R/m");
  cmd->add_option("--delay", f.delay, "Seconds to wait between starts")
      ->check(CLI::Range(0.0, 86400.0))
      ->type_name("SECONDS");
  cmd->add_option("--priority", f.priority, "Job priority (live work is 100)");
  cmd->add_flag("--skip-reset", f.skip_reset,
                "Keep assets' status until their new results are in (default: processing)");
  cmd->add_flag("--dry-run", f.dry_run, "Show the plan and estimates; change nothing");
  cmd->add_flag("--yes", f.yes, "Start without asking");
  cmd->add_flag("--detach", f.detach, "Start it and return; workers run it");
  cmd->add_option("--preview", f.preview, "Items shown in the plan")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--json", f.json, "Print JSON");

  auto add_id_command = [&](const char* name, const char* help) {
    auto* sub = cmd->add_subcommand(name, help);
    sub->add_option("id", f.id, "Backfill id")->required();
    sub->add_option("--owner", f.owner, "Only if it belongs to this owner")->type_name("ID");
    sub->add_flag("--json", f.json, "Print JSON");
    return sub;
  };
  f.list = cmd->add_subcommand("list", "Backfills, newest first, with progress");
  f.list->add_option("--owner", f.owner, "Only this owner's backfills")->type_name("ID");
  f.list->add_flag("--json", f.json, "Print JSON");
  f.status = add_id_command("status", "Progress, outcomes, skip reasons and errors of a backfill");
  f.pause = add_id_command("pause", "Start nothing new; queued jobs go back to the plan");
  f.resume = add_id_command("resume", "Carry on a paused or undriven backfill (here, watching)");
  f.resume->add_flag("--detach", f.detach, "Resume it and return; workers run it");
  f.resume->add_option("--concurrency", f.concurrency, "Worker slots here")
      ->check(CLI::PositiveNumber);
  f.cancel = add_id_command("cancel", "Cancel: nothing new starts, queued jobs are cancelled");
  f.diff = add_id_command("diff", "Compare the frozen plan with what its filters select now");

  f.rollback = cli.add_subcommand(
      "rollback", "Make an earlier result of a stage current again on the selected assets");
  f.rollback->add_option("stage", f.rollback_stage, "The stage")->required();
  f.rollback
      ->add_option("--to-recipe", f.to_recipe,
                   "Go back to this recipe's newest result [default: the result before "
                   "the current one, of another recipe]")
      ->type_name("RECIPE");
  AddSelectionOptions(*f.rollback, f);
  f.rollback->add_flag("--dry-run", f.dry_run, "Show what would change; change nothing");
  f.rollback->add_flag("--yes", f.yes, "Go ahead without asking");
  f.rollback->add_option("--preview", f.preview, "Items shown")->check(CLI::NonNegativeNumber);
  f.rollback->add_flag("--json", f.json, "Print JSON");
  return flags;
}

bool RunsWork(const BackfillCommands& commands) {
  bool start = commands.start->parsed() && commands.start->get_subcommands().empty();
  return (start && !commands.dry_run && !commands.detach) ||
         (commands.resume->parsed() && !commands.detach);
}

bool StartsBackfill(const BackfillCommands& commands) {
  return commands.start->parsed() && commands.start->get_subcommands().empty() && !commands.dry_run;
}

std::optional<int> RunBackfillCommands(app::App& app, BackfillCommands& commands,
                                       queue::ShutdownSignals* signals) {
  if (commands.rollback->parsed()) return RunRollback(app, commands);
  if (!commands.start->parsed()) return std::nullopt;
  if (commands.list->parsed()) return RunList(app, commands);
  if (commands.status->parsed()) return RunStatus(app, commands);
  if (commands.diff->parsed()) return RunDiff(app, commands);
  auto& service = app.backfill_service();
  if (commands.pause->parsed()) {
    return PrintBackfill(service.Pause(Cli(), commands.id, commands.owner), commands.json);
  }
  if (commands.cancel->parsed()) {
    return PrintBackfill(service.Cancel(Cli(), commands.id, commands.owner), commands.json);
  }
  if (commands.resume->parsed()) {
    auto resumed = service.Resume(Cli(), commands.id, commands.owner);
    if (commands.detach || !resumed) return PrintBackfill(resumed, commands.json);
    if (!commands.json) fmt::print("Backfill {} resumed\n", commands.id);
    return Drive(app, commands.id, commands, *signals);
  }
  return RunStart(app, commands, signals);
}

}  // namespace reprise::cli
