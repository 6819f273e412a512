// A backend seen through a CatalogWrapper that overrides nothing: Wrapped(backend) is
// `backend` with every call going through CatalogWrapper's forwards. The contract suites
// instantiate it once each ("Wrapper/..."), so a forward that dropped, swapped or
// defaulted an argument fails a contract test.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "catalog/catalog_wrapper.h"
#include "tests/support/catalog_backends.h"

namespace reprise::catalog {

struct Owned {
  std::unique_ptr<Catalog> owned;
};

// A wrapper that owns what it wraps (Owned comes first, so it is built first).
class OwningWrapper final : private Owned, public CatalogWrapper {
 public:
  explicit OwningWrapper(std::unique_ptr<Catalog> catalog)
      : Owned{std::move(catalog)}, CatalogWrapper(*owned) {}
};

class WrappedEnv final : public CatalogTestEnv {
 public:
  explicit WrappedEnv(std::unique_ptr<CatalogTestEnv> inner) : inner_(std::move(inner)) {}
  Result<std::unique_ptr<Catalog>> Connect(const Clock& clock) override {
    auto catalog = inner_->Connect(clock);
    if (!catalog) return Fail(std::move(catalog.error()));
    return std::unique_ptr<Catalog>(std::make_unique<OwningWrapper>(std::move(*catalog)));
  }
  std::string Url() const override { return inner_->Url(); }

 private:
  std::unique_ptr<CatalogTestEnv> inner_;
};

inline CatalogBackend Wrapped(const CatalogBackend& backend) {
  return {backend.name + "_wrapped",
          [backend] { return std::make_unique<WrappedEnv>(backend.make_env()); }};
}

}  // namespace reprise::catalog
