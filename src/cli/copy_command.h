// `reprise catalog copy` and `reprise blobs copy`: move a library between backends
// (services/copy_service.h). Both take --from and --to URLs of any registered scheme and
// need no configured library, so they run before one is opened.
//
//   reprise catalog copy --from sqlite:PATH --to postgres://... [--verify-only] [--json]
//   reprise blobs copy --from fs:DIR --to s3://bucket/prefix [--verify] [--json]
//
// Progress goes to stderr; the summary (a table, or JSON with --json) to stdout. Exit 0
// when everything matches, 1 when a table or blob does not, 2 for bad usage, and 3 when
// a catalog or store cannot be opened or the copy is refused.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace reprise::cli {

struct CopyFlags {
  CLI::App* catalog_copy = nullptr;
  CLI::App* blobs_copy = nullptr;
  std::string from;
  std::string to;
  bool verify_only = false;
  bool verify = false;
  int batch_rows = 1000;
  std::string prefix;
  bool json = false;
};

// Adds `catalog copy` and `blobs copy` to `cli`; `flags` must outlive parsing.
void AddCopyCommands(CLI::App& cli, CopyFlags& flags);
// Whether one of them was parsed.
bool CopyChosen(const CopyFlags& flags);
// Runs the one that was parsed.
int RunCopy(const CopyFlags& flags);

}  // namespace reprise::cli
