// The backends this build of `reprise` can open, registered by URL scheme in one place:
// catalogs "sqlite:PATH" (and plain paths) and "postgres://..." / "postgresql://...", blob
// stores "fs:DIR" (and plain directories).
// A new backend is one line in BuiltinBackends() and its library in this folder's
// CMake dependencies; nothing else in the program names a backend class.
//
// Opening, per backend: with target.create a missing store (and its parent folder) is
// made; without, a missing store is kNotFound naming the path and the setting it came
// from, so a mistyped path is not taken for an empty library.
#pragma once

#include "app/backend_registry.h"

namespace reprise::app {

BackendRegistry BuiltinBackends();

}  // namespace reprise::app
