// The command-line front end: parses arguments, calls the app's services, prints human
// output (tables, progress bars on a terminal) or JSON with --json.
//
// Exit codes: 0 everything handled, 1 some item failed, 2 bad usage, 3 the environment
// is broken (catalog or blob store cannot be opened).
#pragma once

namespace reprise::cli {

int Main(int argc, char** argv);

}  // namespace reprise::cli
