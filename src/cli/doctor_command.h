// `reprise doctor [--json]`: checks what a deployment needs before it is trusted with
// work, as seed 000 checked its speech service before sending videos: the config and
// stage params, the catalog (reachable, schema version), the blob store (a write read
// back and removed) and every [services.NAME] (its models list: reachable, latency, the
// models it serves; an unset key variable). Each check says ok, warning or failed with a
// detail; the exit code is 1 when one failed, 0 otherwise. Opens the catalog without
// migrating it.
#pragma once

#include <CLI/CLI.hpp>

#include "core/config.h"

namespace reprise::cli {

struct DoctorFlags {
  bool json = false;
};

CLI::App* AddDoctorCommand(CLI::App& cli, DoctorFlags& flags);
int RunDoctor(const Config& config, const DoctorFlags& flags);

}  // namespace reprise::cli
