// The `reprise` command: everything happens in cli::Main so tests can drive it too.
#include "cli/cli.h"

int main(int argc, char** argv) { return reprise::cli::Main(argc, argv); }
